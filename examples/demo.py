"""SONIC demo on the CPU: sample data -> convert -> filter -> train -> eval -> export, outputs printed.

1. ``sonic_data.samples`` generates a small motion library in SONIC's formats (G1 robot PKLs, matching
   SMPL and SOMA files; synthetic motions, no licensed data), filtered as the guide's pipeline does.
2. ``sonic-train`` trains the ``small`` preset (SONIC's observation layout, narrow layers) on it with
   8 simulated G1s (Isaac Lab on Newton / MuJoCo-Warp), the same code path as a 4096-env GPU run.
3. The run folder holds ``config.yaml``, TensorBoard events and ``last.pt``; the demo loads the policy
   back with sonic-model alone and prints where everything is.
4. ``sonic-eval`` runs the guide's metrics line (every sample motion once, eval terminations, deterministic
   actions; 16 envs instead of 128 on the CPU) and writes ``metrics_eval.json`` + per-motion CSV/JSON.
5. ``sonic-eval`` runs the guide's export line: ONNX files for SONIC's deployment in ``exported/``.

``make demo`` runs it (a few minutes on 2 cores; the first run also compiles Warp's kernels).
``python examples/demo.py --iterations 20 --out /tmp/sonic_demo`` trains longer or elsewhere.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sonic_data.samples import build_sample_dataset
from sonic_model import load_policy
from sonic_train.eval import main as sonic_eval
from sonic_train.train import main as sonic_train


def main() -> int:
    parser = argparse.ArgumentParser(
        description="SONIC demo: sample data -> a few PPO iterations on the CPU."
    )
    parser.add_argument("--out", type=Path, default=Path("demo_output"), help="where data and runs go")
    parser.add_argument("--iterations", type=int, default=5, help="PPO iterations (24 steps x 8 envs each)")
    args = parser.parse_args()

    data = build_sample_dataset(args.out / "data")
    print(f"\nsample data: {data.robot_filtered} (robot), {data.smpl_filtered} (SMPL)\n")

    motion = "++manager_env.commands.motion.motion_lib_cfg"
    status = sonic_train(
        [
            "+exp=small",
            "num_envs=8",
            "headless=True",
            "device=cpu",
            f"{motion}.motion_file={data.robot_filtered}",
            f"{motion}.smpl_motion_file={data.smpl_filtered}",
            f"++algo.config.num_learning_iterations={args.iterations}",
            f"base_dir={args.out / 'logs_rl'}",
        ]
    )
    if status != 0:
        return status

    last = max(
        (args.out / "logs_rl").glob("TRL_G1_Track/small_test-*/last.pt"), key=lambda p: p.stat().st_mtime
    )
    loaded = load_policy(last)
    counts = loaded.policy.parameter_counts()
    print(f"\ncheckpoint: {last.resolve()}")
    print(f"  config:      {(last.parent / 'config.yaml').resolve()}")
    print(f"  TensorBoard: tensorboard --logdir {last.parent.resolve()}")
    print(
        f"  policy: encoders {list(loaded.policy.encoder_names)}, {counts['actor']:,} actor parameters, "
        f"{len(loaded.policy_io.joint_names)} joints at {1 / loaded.policy_io.control_dt_s:.0f} Hz"
    )
    print("  load it with: from sonic_model import load_policy; load_policy(path).policy")

    # The guide's eval line 10 (only num_envs differs: 16 CPU envs hold every sample clip at once).
    print("\nsonic-eval (metrics):", flush=True)
    status = sonic_eval(
        [
            f"+checkpoint={last}",
            "+headless=True",
            "++eval_callbacks=im_eval",
            "++run_eval_loop=False",
            "++num_envs=16",
            "+manager_env/terminations=tracking/eval",
            "++manager_env.commands.motion.motion_lib_cfg.max_unique_motions=512",
        ]
    )
    if status != 0:
        return status
    # The guide's export line 12, unchanged.
    print("\nsonic-eval (export):", flush=True)
    status = sonic_eval([f"+checkpoint={last}", "+headless=True", "++num_envs=1", "+export_onnx_only=true"])
    if status != 0:
        return status

    evaluation = last.parent / "eval" / last.stem
    print("\noutputs:")
    print(f"  sample data (converted, filtered): {data.root.resolve()}")
    print(f"  run folder:     {last.parent.resolve()}")
    print(f"  checkpoint:     {last.resolve()}")
    print(f"  eval metrics:   {(evaluation / 'metrics_eval.json').resolve()}")
    print(f"  per motion:     {(evaluation / 'motions.csv').resolve()} (and motions.json)")
    print(f"  ONNX files:     {(last.parent / 'exported').resolve()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
