"""Where a SONIC env step's time goes: torch.profiler over a few steps, summarised as JSON lines.

On an H200 the full env takes ≈25.6 ms per policy step at 4,096 envs against ≈7–8 ms for the minimal one,
and its ≈900 torch operators at ≈5 µs each explain only ≈4.5 ms of the difference (``env_ops.py``,
``benchmarks/README.md``). This script records ``--steps`` steps with zero actions under
``torch.profiler`` (CPU and, on CUDA, GPU activity) and prints:

* ``wall_ms_per_step`` and the profiled CPU / device time per step;
* the host-device synchronisations per step (``cudaStreamSynchronize``, ``cudaDeviceSynchronize``,
  ``cudaMemcpy*`` that block, ``aten::item`` / ``aten::nonzero`` / ``aten::_local_scalar_dense`` callers) and the
  CPU time spent waiting in them;
* the ``--top`` operators and CUDA runtime calls by CPU self time, and by device time;
* the time per manager call (``record_function`` ranges wrapped around the managers, the scene update, the
  physics step and the resets).

It writes the Chrome trace to ``--trace`` if given (open in https://ui.perfetto.dev).

Usage::

    python benchmarks/env_profile.py --device cuda:0 --num-envs 4096 --steps 20 --trace $OUT/env_trace.json
    .venv/bin/python benchmarks/env_profile.py --device cpu --num-envs 4 --steps 5      # check on the CPU
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import torch
from env_step import env_config, sample_data  # the sibling script (benchmarks/ is on sys.path when run)
from torch.profiler import ProfilerActivity, profile, record_function

SYNC_NAMES = (
    "cudaStreamSynchronize",
    "cudaDeviceSynchronize",
    "cudaEventSynchronize",
    "aten::_local_scalar_dense",
    "aten::item",
    "aten::nonzero",
    "aten::is_nonzero",
)
"""Events that make the CPU wait for the device (or that wrap such a wait)."""


def ranged(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn`` inside a profiler range called ``name``."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with record_function(name):
            return fn(*args, **kwargs)

    return wrapper


def timed(totals: dict[str, float], sync: Callable[[], None]) -> Callable[[str, Callable[..., Any]], Any]:
    """A wrapper factory like :func:`ranged` that adds each call's synchronised wall time (s) to ``totals``."""

    def wrap(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            sync()
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                sync()
                totals[name] = totals.get(name, 0.0) + time.perf_counter() - start

        return wrapper

    return wrap


def instrument(env: Any, wrap: Callable[[str, Callable[..., Any]], Any] = ranged) -> None:
    """Wrap (``wrap(name, fn)``) the managers' per-step calls, the scene and the simulation step.

    With CUDA graphs (``env.step_graphs`` captured) the replayed segments are wrapped instead of the
    managers (a wrapper inside a capture would synchronise there).
    """
    graphs = getattr(env, "step_graphs", None)
    if graphs is not None:
        run = graphs.run

        def run_segment(name: str, fn: Callable[[], Any]) -> Any:
            return wrap(f"sonic/segment.{name}", run)(name, fn)

        graphs.run = run_segment
    else:
        for attr in ("observation_manager", "reward_manager", "termination_manager", "command_manager"):
            manager = getattr(env, attr)
            manager.compute = wrap(f"sonic/{attr}.compute", manager.compute)
    env.action_manager.process_action = wrap("sonic/action.process", env.action_manager.process_action)
    env.action_manager.apply_action = wrap("sonic/action.apply", env.action_manager.apply_action)
    env.event_manager.apply = wrap("sonic/event_manager.apply", env.event_manager.apply)
    env._reset_idx = wrap("sonic/reset", env._reset_idx)  # noqa: SLF001 (Isaac Lab's hook)
    env.scene.update = wrap("sonic/scene.update", env.scene.update)
    env.scene.write_data_to_sim = wrap("sonic/scene.write", env.scene.write_data_to_sim)
    env.sim.step = wrap("sonic/sim.step", env.sim.step)


def summarise(prof: Any, steps: int, top: int, on_cuda: bool) -> list[dict[str, Any]]:
    """JSON-ready rows: syncs, top events by CPU self time and device time, and the sonic/* ranges."""
    events = prof.key_averages()
    rows: list[dict[str, Any]] = []

    def row(kind: str, e: Any) -> dict[str, Any]:
        device_us = getattr(e, "self_device_time_total", 0.0) if on_cuda else 0.0
        return {
            "kind": kind,
            "name": e.key,
            "calls_per_step": round(e.count / steps, 2),
            "cpu_self_ms_per_step": round(e.self_cpu_time_total / 1000 / steps, 3),
            "cpu_total_ms_per_step": round(e.cpu_time_total / 1000 / steps, 3),
            "device_self_ms_per_step": round(device_us / 1000 / steps, 3),
        }

    rows += [row("sync", e) for e in events if e.key in SYNC_NAMES or "Memcpy" in e.key]
    rows += [row("range", e) for e in events if e.key.startswith("sonic/")]
    by_cpu = sorted(
        (e for e in events if not e.key.startswith("sonic/")), key=lambda e: -e.self_cpu_time_total
    )
    rows += [row("top_cpu", e) for e in by_cpu[:top]]
    if on_cuda:
        by_dev = sorted(events, key=lambda e: -getattr(e, "self_device_time_total", 0.0))
        rows += [row("top_device", e) for e in by_dev[:top]]
    return rows


def _sections(env: Any, actions: torch.Tensor, steps: int, sync: Callable[[], None]) -> None:
    """Unprofiled step time, then wall ms per step of each manager call with a sync around it."""
    sync()
    start = time.perf_counter()
    for _ in range(steps):
        env.step(actions)
    sync()
    plain = (time.perf_counter() - start) / steps
    totals: dict[str, float] = {}
    instrument(env.env, timed(totals, sync))
    start = time.perf_counter()
    for _ in range(steps):
        env.step(actions)
    sync()
    synced = (time.perf_counter() - start) / steps
    head = {"benchmark": "env_sections", "ms_per_step": round(1000 * plain, 2)}
    head["ms_per_step_synced"] = round(1000 * synced, 2)
    print(json.dumps(head), flush=True)
    for name, total in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(json.dumps({"kind": "section", "name": name, "ms_per_step": round(1000 * total / steps, 3)}))
    rest = synced - sum(totals.values()) / steps
    print(json.dumps({"kind": "section", "name": "rest of step", "ms_per_step": round(1000 * rest, 3)}))


def _cprofile(
    env: Any, actions: torch.Tensor, steps: int, top: int, sync: Callable[[], None], path: str | None
) -> None:
    """Python functions by own time over ``steps`` steps (cProfile); the stats file to ``path`` if given."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        env.step(actions)
    sync()
    profiler.disable()
    if path:
        profiler.dump_stats(path)
    stats = pstats.Stats(profiler).stats  # pyright: ignore[reportAttributeAccessIssue]
    rows = sorted(stats.items(), key=lambda kv: -kv[1][2])[:top]
    for (file, line, func), (_, calls, own, cumulative, _) in rows:
        where = f"{file.split('site-packages/')[-1]}:{line}:{func}"
        row = {"kind": "python", "name": where, "calls_per_step": round(calls / steps, 1)}
        row |= {
            "own_ms_per_step": round(1000 * own / steps, 3),
            "cum_ms_per_step": round(1000 * cumulative / steps, 3),
        }
        print(json.dumps(row), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="torch.profiler summary of SONIC env steps (JSON lines).")
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--num-envs", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=20, help="profiled steps (after --warmup)")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--terrain", default="plane")
    parser.add_argument("--trace", default=None, help="write the Chrome trace here")
    parser.add_argument("--data", default=None, help="sample dataset folder (default: generated)")
    parser.add_argument(
        "--cuda-graphs", action="store_true", help="EnvConfig.cuda_graphs (replayed manager math)"
    )
    parser.add_argument(
        "--mode",
        choices=("torch", "sections", "cprofile"),
        default="torch",
        help="torch: torch.profiler summary (+ --trace); sections: unprofiled wall time per manager call, "
        "synchronised around each call; cprofile: Python functions by own time (stats to --trace)",
    )
    args = parser.parse_args()
    from sonic_env.env import SonicEnv

    data = sample_data(args.data, "sonic_env_profile_")
    env = SonicEnv(env_config(args.terrain, args.num_envs, args.device, data, args.cuda_graphs))
    env.reset()
    actions = torch.zeros(args.num_envs, len(env.policy_io.joint_names), device=env.device)
    on_cuda = str(env.device).startswith("cuda")

    def sync() -> None:
        if on_cuda:
            torch.cuda.synchronize(env.device)

    for _ in range(args.warmup):
        env.step(actions)
    if args.mode == "sections":
        _sections(env, actions, args.steps, sync)
        return
    if args.mode == "cprofile":
        _cprofile(env, actions, args.steps, args.top, sync, args.trace)
        return
    instrument(env.env)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if on_cuda else [])
    sync()
    start = time.perf_counter()
    with profile(activities=activities) as prof:
        for _ in range(args.steps):
            env.step(actions)
        sync()
    wall = time.perf_counter() - start
    machine = torch.cuda.get_device_name(env.device) if on_cuda else "cpu"
    head = {
        "benchmark": "env_profile",
        "num_envs": args.num_envs,
        "terrain": args.terrain,
        "device": str(env.device),
        "machine": machine,
        "steps": args.steps,
        "wall_ms_per_step_profiled": round(1000 * wall / args.steps, 3),
    }
    print(json.dumps(head), flush=True)
    for line in summarise(prof, args.steps, args.top, on_cuda):
        print(json.dumps(line), flush=True)
    if args.trace:
        prof.export_chrome_trace(args.trace)
    env.close()


if __name__ == "__main__":
    main()
