"""SOMA BVH → SONIC SOMA PKL (``extract_soma_joints_from_bvh``, SONIC_REFERENCE §11.3).

Steps, as SONIC's script: float64 FK of the BVH; keep the 26 joints (:data:`SOMA_JOINT_NAMES`);
centimetres → metres; subtract the Hips position; Y up → Z up ``(x, y, z) → (x, −z, y)``;
resample to ``fps`` (stride ``fps_src / fps`` when it is an integer, as SONIC; interpolation
otherwise); root quaternion = Hips world rotation, ``wxyz``, **kept Y up**; ``soma_transl`` = Hips
world position in metres, Y up. The source rate is ``1 / Frame Time`` rounded to an integer when
within 0.01 (SOMA writes ``0.008333`` for 120 fps). Output ``<out>/<session>/<motion>.pkl``,
``{motion: entry}``, joblib uncompressed. Units are assumed to be centimetres, as in SOMA files.
"""

from __future__ import annotations

from pathlib import Path

import torch

from sonic_data.cli.batch import JobResult, run_jobs
from sonic_data.convert import find_files
from sonic_data.formats import SOMA_JOINT_NAMES, BvhMotion, FormatError, SomaMotion, read_bvh, write_soma_pkl
from sonic_data.formats.frames import y_up_to_z_up
from sonic_data.resample import resample_soma
from sonic_data.rotations import matrix_to_quat

__all__ = ["bvh_source_fps", "extract_one_bvh", "extract_soma_tree", "soma_motion_from_bvh"]


def bvh_source_fps(bvh: BvhMotion) -> float:
    """``1 / frame_time``, snapped to the nearest integer when within 0.01 Hz."""
    fps = bvh.fps
    return float(round(fps)) if abs(fps - round(fps)) < 1e-2 else fps


def soma_motion_from_bvh(bvh: BvhMotion, fps: float, *, path: str | Path = "<bvh>") -> SomaMotion:
    """The SOMA PKL content of one BVH clip at ``fps``.

    Raises:
        FormatError: if the skeleton lacks any of the 26 joints SONIC keeps (all missing ones named).
    """
    names = bvh.joint_names
    missing = [n for n in SOMA_JOINT_NAMES if n not in names]
    if missing:
        raise FormatError(path, f"skeleton lacks the SOMA joints {missing}")
    idx = [names.index(n) for n in SOMA_JOINT_NAMES]
    hips = names.index("Hips")
    pos, rot = bvh.forward_kinematics()
    pos_m = pos / 100.0
    hips_pos = pos_m[:, hips]
    local = torch.from_numpy(pos_m[:, idx] - hips_pos[:, None])
    root_quat = matrix_to_quat(torch.from_numpy(rot[:, hips])).numpy()
    motion = SomaMotion(
        joints=y_up_to_z_up(local).numpy(),
        root_quat=root_quat,
        transl=hips_pos,
        fps=bvh_source_fps(bvh),
        joint_names=SOMA_JOINT_NAMES,
    )
    return resample_soma(motion, fps)


def extract_one_bvh(bvh_path: str, out_path: str, fps: float, skip_existing: bool) -> JobResult:
    """Extract one BVH into ``out_path``; never raises for bad input (returns ``failed``)."""
    if skip_existing and Path(out_path).exists():
        return JobResult(bvh_path, "skipped", "output exists (--skip_existing)", out_path)
    try:
        motion = soma_motion_from_bvh(read_bvh(bvh_path), fps, path=bvh_path)
        write_soma_pkl(out_path, {Path(bvh_path).stem: motion})
        return JobResult(bvh_path, "converted", output=out_path)
    except (FormatError, ValueError, OSError) as exc:
        return JobResult(bvh_path, "failed", str(exc))


def extract_soma_tree(
    input_root: str | Path,
    output: str | Path,
    *,
    fps: float = 30,
    num_workers: int = 4,
    skip_existing: bool = False,
) -> list[JobResult]:
    """Extract every ``*.bvh`` below ``input_root`` into ``output``, mirroring sub-folders."""
    input_root, output = Path(input_root), Path(output)
    files = find_files(input_root, ".bvh")
    base = input_root if input_root.is_dir() else input_root.parent
    jobs = [
        (str(f), str(output / f.relative_to(base).with_suffix(".pkl")), fps, skip_existing) for f in files
    ]
    return run_jobs(extract_one_bvh, jobs, num_workers=num_workers, desc="extract-soma")
