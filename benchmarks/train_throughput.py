"""End-to-end training throughput: collect (24 env steps x num_envs) + PPO update with aux losses.

For each env count, one child process (Isaac Lab allows one simulation per process) builds the real
``sonic_train.trainer.Trainer`` for the chosen experiment preset on the generated sample clips, runs
warm-up iterations, then times ``collect()`` and ``learn()`` separately, and times the env alone
(the same env stepped with zero actions, 24 steps). It prints one JSON line per env count:
env-steps/s end to end, collect and learn ms per iteration, env-only env-steps/s, peak GPU memory.
Physics-only figures come from ``benchmarks/env_step.py --variant minimal``; run both in one device call so
the ratios compare on the same machine.

Usage (GPU machine, after staging the simulator; see benchmarks/README.md)::

    python benchmarks/train_throughput.py --device cuda:0 --num-envs 1024 4096 8192
    python benchmarks/train_throughput.py --device cpu --num-envs 4 --exp small --iterations 1 --warmup 1
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from env_step import sample_data  # the sibling script (benchmarks/ is on sys.path when run)


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _measure(args: argparse.Namespace, num_envs: int) -> dict[str, object]:
    import torch

    from sonic_train.train import resolve_config
    from sonic_train.trainer import Trainer

    overrides = [
        f"tf32={args.tf32}",
        f"bf16={args.bf16}",
        f"+exp={args.exp}",
        f"num_envs={num_envs}",
        "headless=True",
        f"device={args.device}",
        "use_wandb=false",
        f"base_dir={tempfile.mkdtemp(prefix='sonic_bench_train_')}",
        f"++manager_env.commands.motion.motion_lib_cfg.motion_file={args.data}/robot_filtered",
        f"++manager_env.commands.motion.motion_lib_cfg.smpl_motion_file={args.data}/smpl_filtered",
        "++manager_env.commands.motion.motion_lib_cfg.multi_thread=False",
        f"++manager_env.cuda_graphs={args.cuda_graphs}",
        f"++manager_env.compile_terms={args.compile_terms}",
        *args.override,
    ]
    config, start = resolve_config(overrides)
    t0 = time.perf_counter()
    trainer = Trainer(config, console=None, start=start)
    build_s = time.perf_counter() - t0
    device = trainer.device
    steps = trainer.ppo.num_steps_per_env
    for _ in range(args.warmup):
        trainer.collect()
        trainer.learn()
    if device.startswith("cuda"):
        torch.cuda.reset_peak_memory_stats(device)
    collect_s = learn_s = 0.0
    for _ in range(args.iterations):
        _sync(device)
        t0 = time.perf_counter()
        trainer.collect()
        _sync(device)
        t1 = time.perf_counter()
        trainer.learn()
        _sync(device)
        collect_s += t1 - t0
        learn_s += time.perf_counter() - t1
    zeros = torch.zeros(num_envs, trainer.policy.contract.num_actions, device=device)
    _sync(device)
    t0 = time.perf_counter()
    for _ in range(steps * args.iterations):
        trainer.env.step(zeros)
    _sync(device)
    env_s = time.perf_counter() - t0
    it = args.iterations
    result: dict[str, object] = {
        "benchmark": "train_throughput",
        "exp": args.exp,
        "num_envs": num_envs,
        "device": device,
        "tf32": args.tf32,
        "bf16": args.bf16,
        "cuda_graphs": args.cuda_graphs,
        "compile_terms": args.compile_terms,
        "overrides": args.override,
        "iterations": it,
        "env_steps_per_s": round(num_envs * steps * it / (collect_s + learn_s), 1),
        "collect_ms_per_iter": round(1000 * collect_s / it, 1),
        "learn_ms_per_iter": round(1000 * learn_s / it, 1),
        "env_only_env_steps_per_s": round(num_envs * steps * it / env_s, 1),
        "build_s": round(build_s, 1),
        "machine": (
            torch.cuda.get_device_name(device) if device.startswith("cuda") else f"cpu x{os.cpu_count()}"
        ),
    }
    if device.startswith("cuda"):
        result["peak_gpu_mem_gib"] = round(torch.cuda.max_memory_allocated(device) / 2**30, 2)
    trainer.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description="End-to-end SONIC training throughput (collect + learn).")
    parser.add_argument("--num-envs", type=int, nargs="+", default=[1024, 4096, 8192])
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--exp", default="sonic_release", help="experiment preset (+exp=)")
    parser.add_argument("--iterations", type=int, default=3, help="timed iterations")
    parser.add_argument("--warmup", type=int, default=2, help="untimed iterations first")
    parser.add_argument("--tf32", action="store_true", help="tf32=True: allow TF32 matmuls (opt-in)")
    parser.add_argument("--bf16", action="store_true", help="bf16=True: bf16 autocast in learning (opt-in)")
    parser.add_argument("--cuda-graphs", action="store_true", help="manager_env.cuda_graphs=True (opt-in)")
    parser.add_argument(
        "--compile-terms",
        action="store_true",
        help="manager_env.compile_terms=True (opt-in; with --cuda-graphs)",
    )
    parser.add_argument("--data", default=None, help="sample dataset folder (default: generated)")
    parser.add_argument(
        "--override",
        nargs="*",
        default=[],
        help="more sonic-train overrides, e.g. ++manager_env.sim.iterations=10",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("RESULT " + json.dumps(_measure(args, args.num_envs[0])), flush=True)
        return
    args.data = sample_data(args.data, "sonic_bench_train_")
    failed = False
    for n in args.num_envs:
        cmd = [sys.executable, __file__, "--child", "--num-envs", str(n), "--device", args.device]
        cmd += ["--exp", args.exp, "--iterations", str(args.iterations), "--warmup", str(args.warmup)]
        cmd += ["--data", args.data] + (["--tf32"] if args.tf32 else []) + (["--bf16"] if args.bf16 else [])
        cmd += ["--cuda-graphs"] if args.cuda_graphs else []
        cmd += ["--compile-terms"] if args.compile_terms else []
        cmd += ["--override", *args.override] if args.override else []
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            failed = True
            err = {"benchmark": "train_throughput", "num_envs": n, "error": proc.stderr[-2000:]}
            print(json.dumps(err), flush=True)
            continue
        print(lines[-1].removeprefix("RESULT "), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
