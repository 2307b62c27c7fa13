"""Conversion speed of ``sonic-data convert``: Bones-SEED-sized CSVs → robot PKLs, motions per second.

Generates ``--num-motions`` CSVs of ``--seconds`` s at 120 fps (36 columns, smooth synthetic joint
motion; ``--distinct`` different clips copied under distinct names across 10 session folders) in a
temporary directory, then runs the real converter (``--individual``, 120 → 30 fps, compressed PKLs)
with 1 and 2 workers into fresh output folders and prints one JSON line per run. Wall time
includes starting the worker processes (spawn + imports) and the progress bar.

Usage: ``python benchmarks/convert.py [--num-motions 1000] [--workers 1 2]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from sonic_data.convert import convert_csv_tree
from sonic_data.formats import RobotMotion, write_g1_csv
from sonic_data.g1 import DEFAULT_JOINT_POS


def _make_csvs(root: Path, num: int, distinct: int, seconds: float) -> None:
    frames = int(round(seconds * 120)) + 1
    t = np.arange(frames)[:, None] / 120.0
    templates = []
    for i in range(distinct):
        rng = np.random.default_rng(i)
        yaw = rng.uniform(-0.5, 0.5) * t[:, 0]
        quat = np.stack((np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)), axis=1)
        pos = np.array([0.0, 0.0, 0.76]) + t * rng.normal(scale=(0.5, 0.5, 0.0))
        joints = np.asarray(DEFAULT_JOINT_POS) + 0.3 * np.sin(
            t * rng.uniform(1, 6, 29) + rng.uniform(0, 6, 29)
        )
        path = root / f".template_{i}.csv"
        write_g1_csv(path, RobotMotion(pos, quat, joints, 120))
        templates.append(path)
    for k in range(num):
        session = root / f"2401{k % 10:02d}"
        session.mkdir(exist_ok=True)
        shutil.copyfile(templates[k % distinct], session / f"bench_move_{k:05d}__A{k % 500:03d}.csv")
    for p in templates:
        p.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--num-motions", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--distinct", type=int, default=50)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    machine = {
        "cpu": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
    }
    with tempfile.TemporaryDirectory(prefix="sonic_bench_convert_") as tmp:
        src = Path(tmp) / "csv"
        src.mkdir()
        t0 = time.perf_counter()
        _make_csvs(src, args.num_motions, args.distinct, args.seconds)
        gen_s = time.perf_counter() - t0
        for workers in args.workers:
            out = Path(tmp) / f"out_{workers}"
            t0 = time.perf_counter()
            with contextlib.redirect_stderr(io.StringIO()):  # keep the tqdm bar out of the JSON output
                report = convert_csv_tree(
                    src, out, fps=30, fps_source=120, individual=True, num_workers=workers
                )
            wall = time.perf_counter() - t0
            converted = sum(r.status == "converted" for r in report.results)
            print(
                json.dumps(
                    {
                        "benchmark": "convert",
                        "workers": workers,
                        "motions": converted,
                        "failed": len(report.results) - converted,
                        "frames_per_motion_120fps": int(round(args.seconds * 120)) + 1,
                        "wall_s": round(wall, 2),
                        "motions_per_s": round(converted / wall, 1),
                        "motions_per_s_per_worker": round(converted / wall / workers, 1),
                        "csv_generation_s": round(gen_s, 1),
                        "machine": machine,
                    }
                ),
                flush=True,
            )
            shutil.rmtree(out)


if __name__ == "__main__":
    main()
