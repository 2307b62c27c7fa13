"""SONIC demo: what exists so far, run end to end on the CPU."""

from __future__ import annotations

from sonic_data.g1 import BODY_NAMES, ISAACLAB_JOINT_NAMES, JOINT_NAMES, MJCF_PATH


def main() -> None:
    print(f"G1 model: {MJCF_PATH}")
    print(f"{len(JOINT_NAMES)} joints (canonical order): {', '.join(JOINT_NAMES)}")
    print(f"{len(BODY_NAMES)} bodies; policy border order starts {ISAACLAB_JOINT_NAMES[:3]}")


if __name__ == "__main__":
    main()
