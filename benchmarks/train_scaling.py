"""Data-parallel scaling of ``sonic-train``: env-steps/s on N processes (GPUs) and whether ranks stay in sync.

For each N in ``--gpus`` one real training run is launched as a subprocess::

    python -m accelerate.commands.launch --num_processes=N [--multi_gpu] --main_process_port=<free> \\
        -m sonic_train.train +exp=<exp> num_envs=<per rank> headless=True use_wandb=false base_dir=<tmp> \\
        device=<device> check_rank_sync=<k> ++algo.config.num_learning_iterations=<iterations> \\
        <sample motion files> <--extra ...>

(``python -m accelerate.commands.launch`` is ``accelerate launch`` without the console script, which the GPU
machine's bundle lacks; ``--multi_gpu`` for N > 1 on CPUs too, where the processes form a gloo group.)
``num_envs`` is per rank, so N processes simulate N x num_envs envs. The run's full log is kept as
``<out>/train_N<N>.log`` and its ``rank_sync.jsonl`` as ``<out>/rank_sync_N<N>.jsonl``.

From the run folder's TensorBoard scalars (rank 0 writes them), after dropping the first ``--skip``
iterations (warm-up: kernel compilation, CUDA-graph capture), one JSON line per N reports:

* ``env_steps_per_s_median``: median of ``throughput/fps``, which the trainer already logs as the global
  figure (steps per rank x world size / iteration seconds on rank 0);
* ``env_steps_per_s_total``: total steps / total time over the kept iterations (from ``throughput/fps`` and
  ``throughput/iteration_time_s``); the iteration time excludes the rank-sync check and logging;
* when logged: ``collect_s_median`` / ``learn_s_median`` (``throughput/collect_s`` / ``throughput/learn_s``,
  seconds per iteration on rank 0) and ``peak_gpu_gib`` (max of ``memory/peak_gpu_gib``, max over ranks);
* from ``rank_sync.jsonl`` (every ``check_rank_sync`` iterations, digests per group on every rank):
  ``params_in_sync`` (actor, critic, normalizer and std digests equal on all ranks at every check) and
  ``rollouts_differ`` (the rollout digests pairwise different at every check; None for one rank).

A final ``"summary"`` line gives the scaling efficiency fps(N) / (N x fps(1)) for each N, when N = 1 ran in
the same invocation (same machine, same call). A failed launch prints its last 40 log lines to stderr; the
other N still run and the exit status is 1 at the end (also when ranks fell out of sync or rollouts were
identical across ranks).

Usage (GPU machine, after staging the simulator; see benchmarks/README.md)::

    python benchmarks/train_scaling.py --gpus 1 2 4 --iterations 30 --skip 5 --exp sonic_release --num-envs 4096
    .venv/bin/python benchmarks/train_scaling.py --gpus 1 2 --exp small --num-envs 4 --iterations 3 --skip 1 \\
        --device cpu
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

SYNCED_GROUPS = ("actor", "critic", "normalizer", "std")
"""``rank_sync.jsonl`` groups that must be identical on every rank (sonic_train.trainer.Trainer.check_sync)."""
ROLLOUT_GROUP = "rollout"
"""The per-rank group that should differ between ranks (each rank simulates its own envs)."""
FPS, ITERATION_S = "throughput/fps", "throughput/iteration_time_s"
COLLECT_S, LEARN_S, PEAK_GIB = "throughput/collect_s", "throughput/learn_s", "memory/peak_gpu_gib"
LOG_TAIL_LINES = 40


def _kept(series: Sequence[tuple[int, float]], skip: int) -> dict[int, float]:
    """``{step: value}`` for the iterations after the first ``skip`` (TensorBoard step = iterations done)."""
    return {step: value for step, value in series if step > skip}


def summarize_scalars(scalars: Mapping[str, Sequence[tuple[int, float]]], skip: int) -> dict[str, Any]:
    """Throughput figures of one run from its TensorBoard scalars, warm-up iterations dropped.

    Args:
        scalars: ``{name: [(step, value), ...]}`` as :func:`sonic_train.logger.read_scalars` returns.
        skip: number of leading iterations to ignore (steps ``1..skip``).

    Returns:
        ``iterations_kept``, ``env_steps_per_s_median``, ``env_steps_per_s_total`` (None without
        ``throughput/iteration_time_s``), ``iteration_s_median``, and when their scalars exist
        ``collect_s_median``, ``learn_s_median`` and ``peak_gpu_gib``.

    Raises:
        ValueError: no ``throughput/fps`` scalar, or no iteration left after ``skip``.
    """
    if FPS not in scalars:
        raise ValueError(f"no {FPS!r} scalar in the run's TensorBoard events (found: {sorted(scalars)})")
    fps = _kept(scalars[FPS], skip)
    if not fps:
        raise ValueError(f"{len(scalars[FPS])} iteration(s) logged; --skip {skip} leaves none to measure")
    out: dict[str, Any] = {
        "iterations_kept": len(fps),
        "env_steps_per_s_median": statistics.median(fps.values()),
        "env_steps_per_s_total": None,
        "iteration_s_median": None,
    }
    if ITERATION_S in scalars:
        seconds = _kept(scalars[ITERATION_S], skip)
        common = sorted(set(fps) & set(seconds))
        total_s = sum(seconds[s] for s in common)
        if common and total_s > 0:
            out["env_steps_per_s_total"] = sum(fps[s] * seconds[s] for s in common) / total_s
            out["iteration_s_median"] = statistics.median(seconds[s] for s in common)
    for name, key in ((COLLECT_S, "collect_s_median"), (LEARN_S, "learn_s_median")):
        kept = _kept(scalars.get(name, ()), skip)
        if kept:
            out[key] = statistics.median(kept.values())
    peak = _kept(scalars.get(PEAK_GIB, ()), skip)
    if peak:
        out["peak_gpu_gib"] = max(peak.values())
    return out


def summarize_rank_sync(checks: Sequence[Mapping[str, Any]], world_size: int) -> dict[str, Any]:
    """Whether synced state agreed and rollouts differed across ranks at every ``check_rank_sync`` check.

    Args:
        checks: the lines of ``rank_sync.jsonl``: ``{"iteration": i, "actor": [digest per rank], ...}``.
        world_size: number of ranks the run had.

    Returns:
        ``rank_sync_checks`` (count), ``rank_sync_iterations``, ``params_in_sync`` (None when no check ran),
        ``rollouts_differ`` (None when no check ran or for one rank; True when every pair of ranks had
        different rollout digests at every check).

    Raises:
        ValueError: a line lacks a group or has a digest count other than ``world_size``.
    """
    in_sync = differ = True
    for check in checks:
        for group in (*SYNCED_GROUPS, ROLLOUT_GROUP):
            digests = check.get(group)
            if not isinstance(digests, list) or len(digests) != world_size:
                raise ValueError(
                    f"rank_sync.jsonl iteration {check.get('iteration')}: key {group!r} should be a list of "
                    f"{world_size} digests, got {digests!r}"
                )
        in_sync &= all(len(set(check[g])) == 1 for g in SYNCED_GROUPS)
        differ &= len(set(check[ROLLOUT_GROUP])) == world_size
    ran = bool(checks)
    return {
        "rank_sync_checks": len(checks),
        "rank_sync_iterations": [c.get("iteration") for c in checks],
        "params_in_sync": in_sync if ran else None,
        "rollouts_differ": differ if ran and world_size > 1 else None,
    }


def scaling_summary(results: Mapping[int, Mapping[str, Any]]) -> dict[str, Any]:
    """The final line: figures per N and efficiency fps(N) / (N x fps(1)) when N = 1 succeeded.

    Args:
        results: ``{N: that run's JSON line}``; a failed run carries ``"error"``.
    """
    ok = {n: r for n, r in results.items() if "error" not in r}
    median = {str(n): r["env_steps_per_s_median"] for n, r in ok.items()}
    total = {str(n): r["env_steps_per_s_total"] for n, r in ok.items()}
    summary: dict[str, Any] = {
        "benchmark": "train_scaling",
        "summary": True,
        "gpus": sorted(results),
        "failed": sorted(n for n, r in results.items() if not r.get("ok", False)),
        "env_steps_per_s_median": median,
        "env_steps_per_s_total": total,
        "efficiency": None,
        "efficiency_total": None,
        "ranks_in_sync": all(r.get("params_in_sync") is not False for r in ok.values()) and bool(ok),
    }
    if 1 in ok:
        base = ok[1]
        summary["efficiency"] = {
            str(n): r["env_steps_per_s_median"] / (n * base["env_steps_per_s_median"]) for n, r in ok.items()
        }
        if all(r["env_steps_per_s_total"] is not None for r in ok.values()):
            summary["efficiency_total"] = {
                str(n): r["env_steps_per_s_total"] / (n * base["env_steps_per_s_total"])
                for n, r in ok.items()
            }
    return summary


def rounded(value: Any) -> Any:
    """``value`` with every float cut to 6 significant digits (for readable JSON lines)."""
    if isinstance(value, float):
        return float(f"{value:.6g}")
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_command(args: argparse.Namespace, n: int, base_dir: Path) -> list[str]:
    """The ``accelerate launch`` command line of the run on ``n`` processes."""
    motion = "++manager_env.commands.motion.motion_lib_cfg"
    check_every = args.check_rank_sync if args.check_rank_sync is not None else min(10, args.iterations)
    return [
        sys.executable, "-m", "accelerate.commands.launch",
        f"--num_processes={n}", "--num_machines=1", "--mixed_precision=no", "--dynamo_backend=no",
        *(["--multi_gpu"] if n > 1 else []),
        f"--main_process_port={_free_port()}",
        "-m", "sonic_train.train",
        f"+exp={args.exp}", f"num_envs={args.num_envs}", "headless=True", "use_wandb=false",
        f"base_dir={base_dir}", f"device={args.device}", f"check_rank_sync={check_every}",
        f"++algo.config.num_learning_iterations={args.iterations}",
        f"{motion}.motion_file={args.data}/robot_filtered",
        f"{motion}.smpl_motion_file={args.data}/smpl_filtered",
        f"{motion}.multi_thread=False",
        *args.extra,
    ]  # fmt: skip


def _run_dir(base_dir: Path) -> Path:
    """The one run folder under ``base_dir`` (the one holding TensorBoard events)."""
    found = sorted({p.parent for p in base_dir.rglob("events.out.tfevents.*")})
    if len(found) != 1:
        raise FileNotFoundError(
            f"expected one run folder with TensorBoard events under {base_dir}, found {found}"
        )
    return found[0]


def _execute(cmd: list[str], log_path: Path, timeout_s: float | None) -> tuple[int, float]:
    """Run ``cmd`` in its own process group, stdout+stderr to ``log_path``; returns (exit status, wall s)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    t0 = time.perf_counter()
    with open(log_path, "w") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            _stop(proc)
            log.write(f"\ntrain_scaling: killed after --timeout {timeout_s} s\n")
            rc = 124
        except BaseException:
            _stop(proc)  # this script was interrupted: leave no ranks holding GPUs behind
            raise
    return rc, time.perf_counter() - t0


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the launch's process group (accelerate and its ranks), then kill it if it lingers."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    except ProcessLookupError:  # the group is already gone
        proc.wait()


def run_one(args: argparse.Namespace, n: int, out: Path, base_root: Path) -> dict[str, Any]:
    """Launch the run on ``n`` processes and summarise it (a dict with ``"error"`` if it failed)."""
    from sonic_train.logger import read_scalars

    result: dict[str, Any] = {
        "benchmark": "train_scaling",
        "gpus": n,
        "exp": args.exp,
        "num_envs_per_rank": args.num_envs,
        "iterations": args.iterations,
        "skip": args.skip,
        "device": args.device,
        "machine": _machine(args.device),
    }
    log_path = out / f"train_N{n}.log"
    result["log"] = str(log_path)
    base_dir = base_root / f"N{n}"
    visible = _cuda_count() if args.device != "cpu" else 0
    if 0 < visible < n:
        result |= {"ok": False, "error": f"N={n} processes need {n} GPUs; {visible} visible"}
        print(f"--- train_scaling: {result['error']}", file=sys.stderr, flush=True)
        return result
    rc, wall_s = _execute(launch_command(args, n, base_dir), log_path, args.timeout)
    result |= {"exit_status": rc, "wall_s": round(wall_s, 1)}
    try:
        run_dir = _run_dir(base_dir)
        result |= summarize_scalars(read_scalars(run_dir), args.skip)
        sync_file = run_dir / "rank_sync.jsonl"
        lines = sync_file.read_text().splitlines() if sync_file.exists() else []
        if sync_file.exists():
            shutil.copyfile(sync_file, out / f"rank_sync_N{n}.jsonl")
        result |= summarize_rank_sync([json.loads(line) for line in lines if line.strip()], n)
    except (OSError, ValueError) as err:
        result["error"] = f"{type(err).__name__}: {err}"
    if rc != 0:
        result["error"] = f"launch exited with status {rc}" + (
            f"; {result['error']}" if "error" in result else ""
        )
    result["ok"] = (
        "error" not in result
        and result["params_in_sync"] is not False
        and result["rollouts_differ"] is not False
    )
    if "error" in result:
        tail = log_path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
        print(f"--- train_scaling: N={n} failed; last {len(tail)} lines of {log_path}:", file=sys.stderr)
        print("\n".join(tail), file=sys.stderr, flush=True)
    return result


def _cuda_count() -> int:
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def _machine(device: str) -> str:
    import torch

    if device != "cpu" and torch.cuda.is_available():
        return f"{torch.cuda.device_count()} x {torch.cuda.get_device_name(0)}"
    return f"cpu x{os.cpu_count()}"


def _sample_data(out_root: Path) -> str:
    """Generate the sample motions once (``sonic-data make-samples --pipeline``); returns the folder."""
    data = out_root / "sample_data"
    cmd = [sys.executable, "-m", "sonic_data.cli", "make-samples", "--output", str(data), "--pipeline"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0 or not (data / "robot_filtered").is_dir():
        raise SystemExit(f"train_scaling: {' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return str(data)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(
        description="Data-parallel scaling of sonic-train (env-steps/s, rank sync)."
    )
    parser.add_argument("--gpus", type=int, nargs="+", default=[1, 2, 4], help="process counts N to run")
    parser.add_argument("--iterations", type=int, default=30, help="PPO iterations per run")
    parser.add_argument("--skip", type=int, default=5, help="leading iterations left out of the figures")
    parser.add_argument("--exp", default="sonic_release", help="experiment preset (+exp=)")
    parser.add_argument("--num-envs", type=int, default=4096, help="envs per rank (num_envs=)")
    parser.add_argument("--device", default="auto", help="device= passed through (auto: cuda:<local rank>)")
    parser.add_argument("--data", default=None, help="sample dataset folder (default: generated once)")
    parser.add_argument(
        "--check-rank-sync", type=int, default=None, help="check_rank_sync= (default: min(10, iterations))"
    )
    parser.add_argument("--timeout", type=float, default=None, help="seconds before a run is killed")
    parser.add_argument(
        "--extra", nargs="*", default=[], metavar="OVERRIDE", help="more sonic-train overrides"
    )
    parser.add_argument("--out", default="device_out", help="folder for the logs (default ./device_out)")
    args = parser.parse_args(argv)
    if args.iterations <= args.skip:
        parser.error(f"--iterations {args.iterations} must exceed --skip {args.skip}")
    if min(args.gpus) < 1:
        parser.error(f"--gpus takes process counts >= 1, got {args.gpus}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run every N, print one JSON line each and the summary; returns the exit status."""
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))  # stops the running launch
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="sonic_train_scaling_"))
    results: dict[int, dict[str, Any]] = {}
    try:
        if args.data is None:
            args.data = _sample_data(scratch)
        for n in dict.fromkeys(args.gpus):
            results[n] = run_one(args, n, out, scratch)
            print(json.dumps(rounded(results[n])), flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    summary = scaling_summary(results)
    print(json.dumps(rounded(summary)), flush=True)
    return 1 if summary["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
