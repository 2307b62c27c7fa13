"""Motion-library figures: load time (cold / cached), host and device bytes per frame, query and redraw time.

Generates ``--num-clips`` robot PKLs of ``--seconds`` s at 30 fps (smooth synthetic motion, written
once into ``--data-dir`` and reused), then prints one JSON line per measurement:

* ``load_cold_s`` / ``load_cached_s``: :func:`load_host_library` with an empty cache, then again;
* ``host_bytes_per_frame``: host arrays / 50 fps frames (robot part: root pose + joints, fp32);
* ``device_bytes_per_resident_frame``: the packed robot row (14 tracked bodies, fp32);
* ``redraw_s``: one :meth:`MotionLibrary.redraw` of ``min(num_envs, 1024)`` clips (FK, velocities);
* ``query_ms``: ``state`` (all parts) + the g1/teleop window (10, skip 5) + the smpl/soma window
  (10, skip 1) for ``--num-envs`` envs, per control step.

Usage: ``python benchmarks/motion_lib.py [--num-clips 10000] [--device cuda]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from joblib import Parallel, delayed

from sonic_data.formats import RobotMotion, write_robot_pkl
from sonic_data.g1 import DEFAULT_JOINT_POS
from sonic_data.motion_lib import MotionLibConfig, MotionLibrary, load_host_library


def _write_chunk(root: str, ids: list[int], frames: int) -> None:
    torch.set_num_threads(1)
    for i in ids:
        rng = np.random.default_rng(i)
        t = np.arange(frames)[:, None] / 30.0
        yaw = rng.uniform(-0.5, 0.5) * t[:, 0]
        quat = np.stack((np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)), axis=1)
        pos = np.array([0.0, 0.0, 0.79]) + t * rng.normal(scale=(0.8, 0.8, 0.0)) + 0.02 * np.sin(6 * t)
        joints = np.asarray(DEFAULT_JOINT_POS) + 0.3 * np.sin(
            t * rng.uniform(1, 6, 29) + rng.uniform(0, 6, 29)
        )
        name = f"bench_{i:06d}"
        write_robot_pkl(
            Path(root) / f"s{i % 100:03d}" / f"{name}.pkl", {name: RobotMotion(pos, quat, joints, 30)}
        )


def generate(root: Path, num_clips: int, seconds: float, workers: int) -> None:
    """Write the synthetic library once (a marker file records it is complete)."""
    marker = root / f".complete_{num_clips}_{seconds}"
    if marker.exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    frames = int(round(seconds * 30)) + 1
    chunks = [list(range(i, min(i + 200, num_clips))) for i in range(0, num_clips, 200)]
    Parallel(n_jobs=workers)(delayed(_write_chunk)(str(root), c, frames) for c in chunks)
    marker.touch()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def emit(machine: dict[str, object], **fields: object) -> None:
    print(json.dumps({"benchmark": "motion_lib", **fields, **machine}), flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--num-clips", type=int, default=10_000)
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--num-envs", type=int, default=4096)
    p.add_argument("--device", default="cpu")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "sonic_bench_motion_lib"))
    p.add_argument("--query-steps", type=int, default=50)
    p.add_argument("--redraws", type=int, default=3)
    args = p.parse_args()

    device = torch.device(args.device)
    machine = {
        "device": str(device),
        "device_name": torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else platform.processor() or "cpu",
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
    }
    data = Path(args.data_dir) / f"{args.num_clips}x{args.seconds:g}s"
    t0 = time.perf_counter()
    generate(data, args.num_clips, args.seconds, args.workers)
    emit(machine, figure="generate_s", value=round(time.perf_counter() - t0, 2), clips=args.num_clips)

    cache = Path(tempfile.mkdtemp(prefix="sonic_ml_cache_"))
    cfg = MotionLibConfig(motion_file=str(data), cache_dir=str(cache), num_workers=args.workers)
    t0 = time.perf_counter()
    host = load_host_library(cfg)
    cold = time.perf_counter() - t0
    t0 = time.perf_counter()
    host = load_host_library(cfg)
    cached = time.perf_counter() - t0
    shutil.rmtree(cache, ignore_errors=True)
    frames = host.num_frames
    emit(
        machine,
        figure="load_cold_s",
        value=round(cold, 2),
        clips=host.num_clips,
        frames=frames,
        workers=args.workers,
    )
    emit(machine, figure="load_cached_s", value=round(cached, 2), clips=host.num_clips, frames=frames)
    emit(machine, figure="host_bytes_per_frame", value=round(host.robot.nbytes / frames, 1), part="robot")
    emit(machine, figure="host_bytes_per_frame_all", value=round(host.nbytes / frames, 1))

    t0 = time.perf_counter()
    lib = MotionLibrary(cfg, num_envs=args.num_envs, device=device, seed=0, host=host)
    _sync(device)
    emit(machine, figure="first_build_s", value=round(time.perf_counter() - t0, 3), resident=lib.num_resident)
    res = lib.resident
    emit(
        machine,
        figure="device_bytes_per_resident_frame",
        value=round(res.robot.element_size() * res.robot.shape[1], 1),
        part="robot",
        teleop_bytes=res.teleop.element_size() * res.teleop.shape[1],
        bodies=res.num_bodies,
        resident_frames=res.num_frames,
        resident_total_mb=round(res.nbytes / 2**20, 1),
    )

    times = []
    for _ in range(args.redraws):
        _sync(device)
        t0 = time.perf_counter()
        lib.redraw()
        _sync(device)
        times.append(time.perf_counter() - t0)
    emit(machine, figure="redraw_s", value=round(float(np.median(times)), 3), resident=lib.num_resident)

    slots, frames_now = lib.sample_starts(args.num_envs)

    def step() -> None:
        lib.state(slots, frames_now)
        lib.future(slots, frames_now, 10, 5)
        lib.future(slots, frames_now, 10, 1, parts=("smpl", "soma"))

    def timed(fn: Callable[[], object], steps: int) -> float:
        for _ in range(5):
            fn()
        _sync(device)
        t0 = time.perf_counter()
        for _ in range(steps):
            fn()
        _sync(device)
        return (time.perf_counter() - t0) / steps * 1e3

    per = timed(step, args.query_steps)
    emit(
        machine,
        figure="query_ms",
        value=round(per, 3),
        num_envs=args.num_envs,
        what="state + 2 future windows",
    )
    parts = {
        "state_all_parts": lambda: lib.state(slots, frames_now),
        "future_10x5_robot": lambda: lib.future(slots, frames_now, 10, 5),
        "future_10x1_robot_smpl_soma": lambda: lib.future(slots, frames_now, 10, 1, parts=("smpl", "soma")),
    }
    for name, fn in parts.items():
        emit(
            machine,
            figure=f"query_ms_{name}",
            value=round(timed(fn, args.query_steps), 3),
            num_envs=args.num_envs,
        )


if __name__ == "__main__":
    main()
