"""A small, deterministic, generated dataset in Bones-SEED's layout, and the pipeline that uses it.

Nothing here comes from Bones-SEED (its licence forbids redistribution): the motions are generated
(:mod:`.motions`), and their SOMA and SMPL forms are derived from the G1 clips by forward kinematics
(:mod:`.skeletons`). :func:`generate_samples` writes the raw dataset::

    <out>/g1/csv/<session>/<motion>.csv          Bones-SEED G1 CSVs, 120 fps
    <out>/soma_uniform/bvh/<session>/<motion>.bvh SOMA-layout BVHs, 120 fps
    <out>/smpl/<session>/<motion>.pkl             SMPL PKLs, fps 50, N50 of the converted clip

and :func:`build_sample_dataset` also runs the real ``convert`` / ``filter`` / ``extract-soma`` code
to produce SONIC's sample-data layout ``<out>/{robot_filtered, smpl_filtered, soma_filtered}``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from sonic_data.cli.batch import JobResult, print_summary
from sonic_data.convert import convert_csv_tree
from sonic_data.extract_soma import extract_soma_tree
from sonic_data.filter import DEFAULT_FILTER_KEYWORDS, plan_filter, run_filter
from sonic_data.formats import RobotMotion, write_bvh, write_g1_csv, write_smpl_pkl
from sonic_data.kinematics import G1Kinematics
from sonic_data.resample import resample_robot
from sonic_data.samples.motions import SAMPLE_MOTIONS, MotionSpec, build_motion, mirror_motion
from sonic_data.samples.skeletons import smpl_from_robot, soma_bvh_from_robot

__all__ = ["MIRRORED", "SAMPLE_MOTIONS", "SampleDataset", "build_sample_dataset", "generate_samples"]

MIRRORED = ("wave_right_hand_001__A003", "walk_forward_slow_001__A011")
"""Clips that also get a left/right mirrored ``_M`` copy, as Bones-SEED has."""


def _clips(fk: G1Kinematics, names: Sequence[str] | None) -> list[tuple[MotionSpec, str, RobotMotion]]:
    out = []
    for spec in SAMPLE_MOTIONS:
        if names is not None and spec.name not in names:
            continue
        m = build_motion(spec, fps=120.0, fk=fk)
        out.append((spec, spec.name, m))
        if spec.name in MIRRORED:
            out.append((spec, spec.name + "_M", mirror_motion(m)))
    return out


def generate_samples(
    out_dir: str | Path, *, fps: float = 30, motions: Sequence[str] | None = None
) -> list[Path]:
    """Write the raw generated dataset under ``out_dir`` and return the files written.

    Args:
        out_dir: dataset root.
        fps: the rate the robot clips will be converted to; SMPL files get the 50 fps frame count
            of that converted clip (FORMATS.md "Resampling to 50 fps").
        motions: names from :data:`SAMPLE_MOTIONS` to generate (default all; tests use a few).
    """
    out = Path(out_dir)
    known = {s.name for s in SAMPLE_MOTIONS}
    unknown = sorted(set(motions or ()) - known)
    if unknown:
        raise ValueError(f"unknown sample motions {unknown}; choose from {sorted(known)}")
    fk = G1Kinematics(dtype=torch.float64)
    written: list[Path] = []
    for spec, name, motion in _clips(fk, motions):
        csv = out / "g1" / "csv" / spec.session / f"{name}.csv"
        write_g1_csv(csv, motion)
        bvh = out / "soma_uniform" / "bvh" / spec.session / f"{name}.bvh"
        write_bvh(bvh, soma_bvh_from_robot(motion, fk))
        smpl = out / "smpl" / spec.session / f"{name}.pkl"
        write_smpl_pkl(smpl, smpl_from_robot(resample_robot(motion, fps), fk))
        written += [csv, bvh, smpl]
    return written


@dataclass(frozen=True)
class SampleDataset:
    """Paths of a built sample dataset (the three folders SONIC's configs point at)."""

    root: Path
    robot_filtered: Path
    smpl_filtered: Path
    soma_filtered: Path


def _check(step: str, results: list[JobResult]) -> None:
    if not print_summary(step, results, stream=sys.stderr):
        raise RuntimeError(f"sample pipeline step {step!r} failed; see the summary above")


def build_sample_dataset(
    out_dir: str | Path, *, fps: float = 30, num_workers: int = 1, motions: Sequence[str] | None = None
) -> SampleDataset:
    """Generate the dataset and run convert → filter, extract-soma → filter, and filter on SMPL.

    Returns the output folders. Raises ``RuntimeError`` if any step reports a failed file.
    """
    out = Path(out_dir)
    generate_samples(out, fps=fps, motions=motions)
    report = convert_csv_tree(
        out / "g1" / "csv", out / "robot", fps=fps, fps_source=120, individual=True, num_workers=num_workers
    )
    _check("convert", report.results)
    _check(
        "extract-soma",
        extract_soma_tree(out / "soma_uniform" / "bvh", out / "soma", fps=fps, num_workers=num_workers),
    )
    for src, dst in (("robot", "robot_filtered"), ("soma", "soma_filtered"), ("smpl", "smpl_filtered")):
        plan = plan_filter(out / src, out / dst, DEFAULT_FILTER_KEYWORDS)
        _check(f"filter {src}", run_filter(plan, workers=num_workers))
    return SampleDataset(out, out / "robot_filtered", out / "smpl_filtered", out / "soma_filtered")
