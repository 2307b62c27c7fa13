"""SONIC demo: what exists so far, run end to end on the CPU.

Prints the G1 description (every joint with its motor, gains, limits and default angle; the total
mass read from the MJCF) and checks the torch forward kinematics against MuJoCo on random poses.
"""

from __future__ import annotations

import mujoco
import numpy as np
import torch

from sonic_data.g1 import (
    BODY_NAMES,
    DEFAULT_JOINT_POS,
    DEFAULT_ROOT_HEIGHT,
    JOINT_LOWER,
    JOINT_MOTORS,
    JOINT_NAMES,
    JOINT_UPPER,
    KD,
    KP,
    MJCF_PATH,
    TOTAL_MASS,
)
from sonic_data.kinematics import G1Kinematics
from sonic_data.rotations import quat_error_angle


def print_description() -> None:
    """One line per joint, canonical order."""
    print(f"G1 model: {MJCF_PATH}")
    print(f"{len(JOINT_NAMES)} joints, {len(BODY_NAMES)} bodies, total mass {TOTAL_MASS:.3f} kg (MJCF)")
    print(f"default pelvis height {DEFAULT_ROOT_HEIGHT} m")
    print(f"{'joint':28s} {'motor':8s} {'kp':>8s} {'kd':>6s} {'lower':>8s} {'upper':>8s} {'default':>8s}")
    for name, motor, kp, kd, lo, hi, q0 in zip(
        JOINT_NAMES, JOINT_MOTORS, KP, KD, JOINT_LOWER, JOINT_UPPER, DEFAULT_JOINT_POS, strict=True
    ):
        print(f"{name:28s} {motor.name:8s} {kp:8.3f} {kd:6.3f} {lo:8.4f} {hi:8.4f} {q0:8.3f}")


def compare_fk_with_mujoco(num_poses: int = 16, seed: int = 0) -> None:
    """Random root poses and joint angles within limits: torch FK (float32) against mj_kinematics."""
    rng = np.random.default_rng(seed)
    root_pos = rng.uniform(-1.0, 1.0, size=(num_poses, 3))
    root_quat = rng.normal(size=(num_poses, 4))
    root_quat /= np.linalg.norm(root_quat, axis=1, keepdims=True)
    joints = rng.uniform(JOINT_LOWER, JOINT_UPPER, size=(num_poses, len(JOINT_NAMES)))

    model = mujoco.MjModel.from_xml_path(str(MJCF_PATH))
    data = mujoco.MjData(model)
    ref_pos, ref_quat = [], []
    for i in range(num_poses):
        data.qpos[:] = np.concatenate((root_pos[i], root_quat[i], joints[i]))
        mujoco.mj_kinematics(model, data)
        ref_pos.append(data.xpos[1:].copy())
        ref_quat.append(data.xquat[1:].copy())

    fk = G1Kinematics(dtype=torch.float32)
    pos, quat = fk(*(torch.from_numpy(a).float() for a in (root_pos, root_quat, joints)))
    pos_err = np.abs(pos.double().numpy() - np.stack(ref_pos)).max()
    ang_err = quat_error_angle(quat.double(), torch.from_numpy(np.stack(ref_quat))).max().item()
    print(
        f"FK vs MuJoCo on {num_poses} random poses: max position error {pos_err:.2e} m, "
        f"max orientation error {ang_err:.2e} rad"
    )


def main() -> None:
    print_description()
    compare_fk_with_mujoco()


if __name__ == "__main__":
    main()
