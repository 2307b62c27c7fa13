"""Time of one PPO learning phase (``Learner.update``) of a preset, eager against CUDA graphs (JSON lines).

The learning phase alone, without the simulator: a random rollout of ``--envs`` envs × 24 steps through the
preset's real network, losses and optimiser (``learn_ops.random_rollout_learner``), then ``--warmup``
untimed and ``--iterations`` timed :meth:`~sonic_train.learner.Learner.update` calls (5 epochs × 4
minibatches for SONIC's presets). Each configuration runs in turn in this process and prints one line:
ms per update (median and min), peak GPU memory, and the mean loss terms of the last update (so eager and
graphed runs can be compared: they start from the same parameters and rollout).

Configurations are ``preset[:tf32][:bf16][:graphs]``, for example ``sonic_release:tf32:bf16:graphs``.

Usage (GPU machine; torch is enough, no simulator)::

    python benchmarks/learn_speed.py --device cuda:0 --envs 4096 \\
        --configs single_gpu:tf32 single_gpu:tf32:graphs sonic_release:tf32:bf16 sonic_release:tf32:bf16:graphs
    .venv/bin/python benchmarks/learn_speed.py --device cpu --envs 8 --iterations 1 --configs small
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from typing import Any

import torch
from learn_ops import random_rollout_learner  # the sibling script (benchmarks/ is on sys.path when run)

FLAGS = ("tf32", "bf16", "graphs")


def _run(spec: str, args: argparse.Namespace) -> dict[str, Any]:
    from sonic_train.config import exp_preset

    exp, *flags = spec.split(":")
    unknown = set(flags) - set(FLAGS)
    if unknown:
        raise SystemExit(f"--configs {spec!r}: unknown flags {sorted(unknown)}, expected some of {FLAGS}")
    cuda = args.device.startswith("cuda")
    torch.backends.cuda.matmul.allow_tf32 = "tf32" in flags
    torch.backends.cudnn.allow_tf32 = "tf32" in flags
    config = exp_preset(exp).model_copy(update={"bf16": "bf16" in flags})
    learner, storage = random_rollout_learner(config, args.envs, args.device, cuda_graphs="graphs" in flags)
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    times = []
    stats = None
    for i in range(args.warmup + args.iterations):
        if cuda:
            torch.cuda.synchronize()
        t0 = time.perf_counter()
        stats = learner.update(storage)
        if cuda:
            torch.cuda.synchronize()
        if i >= args.warmup:
            times.append(time.perf_counter() - t0)
    assert stats is not None
    ppo = config.algo.config
    result = {
        "benchmark": "learn_speed",
        "config": spec,
        "device": torch.cuda.get_device_name() if cuda else args.device,
        "envs": args.envs,
        "minibatches": ppo.num_mini_batches * ppo.num_learning_epochs,
        "parameters": sum(p.numel() for p in learner.policy.parameters()),
        "update_ms_median": round(statistics.median(times) * 1e3, 1),
        "update_ms_min": round(min(times) * 1e3, 1),
        "captures": learner.graphs.captures if learner.graphs is not None else 0,
        "last_update": {
            "surrogate": float(stats.surrogate),
            "value": float(stats.value),
            "kl": float(stats.kl),
            "lr": stats.lr,
            "skipped_steps": stats.skipped_steps,
        },
    }
    if cuda:
        result["peak_gpu_gib"] = round(torch.cuda.max_memory_allocated() / 2**30, 2)
    if args.profile and cuda:
        result["profile"] = _profile(learner, storage, args.profile)
    return result


def _profile(learner: Any, storage: Any, top: int) -> dict[str, Any]:
    """GPU kernel time of one more update (torch profiler): total, kernel count, the ``top`` kernels by time."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        learner.update(storage)
        torch.cuda.synchronize()
    kernels = [e for e in prof.events() or [] if e.device_type.name == "CUDA"]
    by_name: dict[str, list[float]] = {}
    for event in kernels:
        entry = by_name.setdefault(event.name[:90], [0.0, 0])
        entry[0] += event.device_time
        entry[1] += 1
    ranked = sorted(by_name.items(), key=lambda kv: -kv[1][0])[:top]
    return {
        "gpu_kernel_ms": round(sum(e.device_time for e in kernels) / 1e3, 1),
        "kernels": len(kernels),
        "top": [{"name": n, "ms": round(t / 1e3, 1), "count": int(c)} for n, (t, c) in ranked],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="Learning-phase time per update, eager vs CUDA graphs.")
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--envs", type=int, default=4096)
    parser.add_argument("--iterations", type=int, default=5, help="timed updates per configuration")
    parser.add_argument("--warmup", type=int, default=2, help="untimed updates first (capture happens here)")
    parser.add_argument("--configs", nargs="+", default=["single_gpu:tf32", "single_gpu:tf32:graphs"])
    parser.add_argument(
        "--profile", type=int, default=0, help="CUDA: profile one more update, list the N top kernels"
    )
    args = parser.parse_args()
    for spec in args.configs:
        print(json.dumps(_run(spec, args)), flush=True)
        if args.device.startswith("cuda"):
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
