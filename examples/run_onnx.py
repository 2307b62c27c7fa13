"""Run an exported SONIC policy with onnxruntime: load it, check its contract, run one control step.

Run: .venv/bin/python examples/run_onnx.py [path/to/model_step_XXXXXX_g1.onnx]
Without a path, a small random-weight policy is exported to a temporary folder first.

What a deployment does each 20 ms step (the numbers come from the file's metadata, not from code):
observations in the contract's layout -> obs_dict -> action -> joint targets
``default_joint_pos + action_scale * clip(action, -action_clip, action_clip)`` for a PD loop (kp, kd).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

import sonic_export
from sonic_model import PolicyIO, UniversalTokenPolicy, policy_checkpoint, preset


def demo_file(folder: Path) -> Path:
    """Export a random-weight `small` policy (SONIC's layout) and return its g1 file."""
    p = preset("small")
    names = p.contract.action_joint_names
    io = PolicyIO(joint_names=names, default_joint_pos=(0.0,) * 29, kp=(40.0,) * 29, kd=(2.0,) * 29,
                  action_scale=(0.25,) * 29, control_dt_s=0.02, action_clip=20.0)  # fmt: skip
    part = policy_checkpoint(UniversalTokenPolicy(p.model, p.contract, with_critic=False), io)["policy"]
    return sonic_export.export(part, folder, "model_step_000000").fp32["g1"]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(sys.argv[1]) if len(sys.argv) > 1 else demo_file(Path(tmp))
        # The contract our observations follow: refuse a file exported for another layout.
        policy = sonic_export.load(path, expected_contract=preset("sonic_release").contract, num_threads=1)
        meta = policy.metadata
        print(f"{path.name}: {meta.file_kind} ({meta.encoder or '-'}), {meta.precision}, contract "
              f"{meta.contract.name} {meta.contract_hash[:12]}, input {meta.input_name} (1, {meta.input_width})")  # fmt: skip
        for slot in meta.input_layout:
            print(f"  [{slot.offset:4d}] {slot.name} ({slot.width})")

        # One step: every input term by its contract name (zeros here: the robot at its default pose).
        observations = {s.name: np.zeros((1, s.width), np.float32) for s in meta.input_layout}
        mode = meta.mode_ids.get("g1") if meta.file_kind == "encoder" else None
        output = policy.run(policy.assemble(observations, mode_id=mode))[0]
        print(f"{meta.output_name}: {np.array2string(output[:6], precision=4)} ... ({output.size} values)")
        if meta.output_name == "action":
            io = meta.policy_io
            clipped = np.clip(output, -io.action_clip, io.action_clip)
            target = np.asarray(io.default_joint_pos) + np.asarray(io.action_scale) * clipped
            print(
                f"joint target for {io.joint_names[0]}: {target[0]:+.4f} rad (kp {io.kp[0]:.1f}, kd {io.kd[0]:.2f})"
            )


if __name__ == "__main__":
    main()
