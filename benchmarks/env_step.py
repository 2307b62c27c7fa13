"""Env-steps per second of the SONIC G1 env with zero actions (one JSON line per env count).

The env is the full SONIC env (motion command on the generated sample clips, every observation term,
rewards, terminations). Each env count runs in its own process (Isaac Lab allows one simulation per process). A policy
step is ``decimation`` (4) physics steps of 5 ms; env-steps/s = num_envs x policy steps / second.
Warm-up steps (Warp kernel compilation, first contacts) are not timed.

Usage::

    .venv/bin/python benchmarks/env_step.py                      # cpu, 1 / 8 / 64 envs
    .venv/bin/python benchmarks/env_step.py --device cuda:0 --num-envs 1024 4096
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time


def _measure(num_envs: int, device: str, steps: int, warmup: int, data_dir: str) -> dict[str, object]:
    """Build one env playing the sample clips, step it with zero actions, and return the figures."""
    import torch

    from sonic_env.config import EnvConfig
    from sonic_env.env_cfg import make_env

    motion_lib = {
        "motion_file": f"{data_dir}/robot_filtered",
        "smpl_motion_file": f"{data_dir}/smpl_filtered",
        "multi_thread": False,
    }
    config = EnvConfig.model_validate(
        {
            "num_envs": num_envs,
            "device": device,
            "seed": 0,
            "commands": {"motion": {"motion_lib_cfg": motion_lib}},
        }
    )
    start = time.perf_counter()
    env = make_env(config)
    build_s = time.perf_counter() - start
    env.reset()
    actions = torch.zeros(num_envs, env.action_manager.total_action_dim, device=device)
    for _ in range(warmup):
        env.step(actions)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        env.step(actions)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    machine = (
        torch.cuda.get_device_name(device) if device.startswith("cuda") else platform.processor() or "cpu"
    )
    env.close()
    return {
        "benchmark": "env_step",
        "num_envs": num_envs,
        "device": device,
        "policy_steps": steps,
        "env_steps_per_s": round(num_envs * steps / elapsed, 1),
        "ms_per_policy_step": round(1000.0 * elapsed / steps, 2),
        "build_s": round(build_s, 1),
        "machine": f"{machine}, {os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}",
    }


def main() -> None:
    """Run each env count in a child process and print its JSON line."""
    parser = argparse.ArgumentParser(
        description="Env-steps per second of the SONIC G1 env with zero actions."
    )
    parser.add_argument("--num-envs", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=50, help="timed policy steps")
    parser.add_argument("--warmup", type=int, default=10, help="untimed policy steps first")
    parser.add_argument(
        "--data", default=None, help="sample dataset folder (default: generated once into a temp folder)"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = _measure(args.num_envs[0], args.device, args.steps, args.warmup, args.data)
        print("RESULT " + json.dumps(result), flush=True)
        return
    if args.data is None:
        from sonic_data.samples import build_sample_dataset

        args.data = os.path.join(tempfile.mkdtemp(prefix="sonic_bench_env_"), "sample_data")
        build_sample_dataset(args.data)
    failed = False
    for n in args.num_envs:
        cmd = [sys.executable, __file__, "--child", "--num-envs", str(n), "--device", args.device]
        cmd += ["--data", args.data]
        cmd += ["--steps", str(args.steps), "--warmup", str(args.warmup)]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        lines = [ln for ln in (proc.stdout or "").splitlines() if ln.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            failed = True
            print(
                json.dumps({"benchmark": "env_step", "num_envs": n, "error": (proc.stderr or "")[-2000:]}),
                flush=True,
            )
            continue
        print(lines[-1].removeprefix("RESULT "), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
