"""Loading the host library: find files, read them in parallel, resample, match SMPL/SOMA, cache.

Steps (SONIC_REFERENCE §6.2, FORMATS.md "Resampling to 50 fps"):

1. Robot PKLs (``motion_file``: one file of many clips, or a directory searched recursively for
   ``*.pkl`` without ``metadata.pkl``) are read with :func:`sonic_data.formats.read_robot_pkl` and
   resampled to ``target_fps``: root translation and joint angles linearly, root rotation by slerp.
2. SMPL files (flat dicts) are matched to clips by basename. ``pose_aa[:3]`` is sampled at the
   robot clip's output times from its own ``fps`` and turned Z up (``smpl_y_up``) and base-free;
   ``smpl_joints`` and ``transl`` are not resampled and must have exactly the robot clip's frame
   count, else the load fails naming the clip.
3. SOMA files (``{name: entry}``) are matched by basename and resampled from their own fps; a
   one-frame difference to the robot clip cuts both to the shorter, a larger one is an error.

Files are read by worker processes (joblib/loky) with a tqdm bar; every bad file is collected and
reported together. The result is cached as an ``.npz`` keyed by the input paths, sizes and
modification times and by the settings that change the arrays, so a second load reads one file.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from joblib import Parallel, delayed
from numpy.typing import NDArray
from tqdm.auto import tqdm

from sonic_data.formats import FormatError, read_robot_pkl, read_smpl_pkl, read_soma_pkl
from sonic_data.formats.frames import BASE_QUAT, smpl_root_quat_z_up, soma_root_quat_z_up
from sonic_data.motion_lib.config import MotionLibConfig
from sonic_data.motion_lib.host import ROBOT_WIDTH, HostClip, HostLibrary
from sonic_data.resample import interpolation_indices, resample_robot
from sonic_data.rotations import axis_angle_to_quat, quat_conjugate, quat_mul, quat_normalize, quat_slerp

__all__ = ["MotionLoadError", "find_pkls", "load_host_library"]

_PARALLEL_MIN_FILES = 128
_TASK_CHUNK = 32


class MotionLoadError(ValueError):
    """One or more clips could not be loaded; the message lists each with its file and reason."""


@dataclass
class _Human:
    joints: NDArray[np.float16]
    root_quat: NDArray[np.float32]


def _indices(num_frames: int, fps: float, target_fps: int, num_out: int) -> tuple[NDArray, NDArray, NDArray]:
    """Blend indices of ``num_out`` frames at ``k / target_fps``: the shared formula's
    (:func:`sonic_data.resample.interpolation_indices`) for the first ``N``, then the last source
    frame (SMPL ``pose_aa`` is read at the robot clip's times, which may reach its end)."""
    i0, i1, w = interpolation_indices(num_frames, fps, target_fps)
    i0, i1, w = i0[:num_out], i1[:num_out], w[:num_out]
    pad = num_out - len(i0)
    if pad > 0:
        last = np.full(pad, num_frames - 1, dtype=np.int64)
        i0, i1, w = np.concatenate((i0, last)), np.concatenate((i1, last)), np.concatenate((w, np.zeros(pad)))
    return i0, i1, w


def _resample(x: NDArray[np.floating], fps: float, target_fps: int, num_out: int) -> NDArray[np.float64]:
    """Linear interpolation of ``x`` ``(T, ...)`` at :func:`_indices`."""
    i0, i1, w = _indices(len(x), fps, target_fps, num_out)
    shape = (-1,) + (1,) * (x.ndim - 1)
    return (1.0 - w.reshape(shape)) * x[i0] + w.reshape(shape) * x[i1]


def _resample_quat(q: NDArray[np.floating], fps: float, target_fps: int, num_out: int) -> NDArray[np.float64]:
    """Slerp of ``(T, 4)`` wxyz quaternions at :func:`_indices`."""
    i0, i1, w = _indices(len(q), fps, target_fps, num_out)
    q64 = torch.from_numpy(np.asarray(q, dtype=np.float64))
    return quat_slerp(q64[i0], q64[i1], torch.from_numpy(w)).numpy()


def find_pkls(path: str | Path, *, what: str) -> list[Path]:
    """``path`` itself if it is a file, else every ``*.pkl`` below it (sorted, ``metadata.pkl`` excluded).

    Raises:
        FileNotFoundError: naming ``what`` (the config key) and the path.
    """
    p = Path(path).expanduser()
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise FileNotFoundError(f"{what}: {p} is neither a file nor a directory")
    files = sorted(f for f in p.rglob("*.pkl") if f.name != "metadata.pkl" and not f.name.startswith("."))
    if not files:
        raise FileNotFoundError(f"{what}: no *.pkl files under {p}")
    return files


def _index_by_stem(files: Sequence[Path]) -> dict[str, Path]:
    index: dict[str, Path] = {}
    for f in files:
        index.setdefault(f.stem, f)
    return index


def _worker_setup() -> None:
    torch.set_num_threads(1)


def _resample_robot_chunk(
    paths: list[str], target_fps: int, zero_root_xy: bool
) -> list[tuple[str, str, NDArray[np.float32]] | tuple[str, str, str]]:
    """Read and resample robot files; each result is ``(name, path, rows)`` or ``(path, "", error)``."""
    _worker_setup()
    out: list[Any] = []
    for path in paths:
        try:
            clips = read_robot_pkl(path)
        except FormatError as exc:
            out.append((path, "", str(exc)))
            continue
        for name, m in clips.items():
            r = resample_robot(m, float(target_fps), interpolate=True)
            rows = np.empty((r.num_frames, ROBOT_WIDTH), dtype=np.float32)
            rows[:, 0:3] = r.root_pos
            rows[:, 3:7] = r.root_quat
            rows[:, 7:] = r.joint_pos
            if zero_root_xy:
                rows[:, 0:2] -= rows[0, 0:2]
            out.append((name, path, rows))
    return out


def _smpl_root_quat(root_aa: NDArray[np.float32], y_up: bool) -> NDArray[np.float32]:
    aa = torch.from_numpy(root_aa.astype(np.float64))
    if y_up:
        q = smpl_root_quat_z_up(aa)
    else:
        base = torch.tensor(BASE_QUAT, dtype=aa.dtype)
        q = quat_mul(axis_angle_to_quat(aa), quat_conjugate(base).expand(*aa.shape[:-1], 4))
    return quat_normalize(q).numpy().astype(np.float32)


def _load_smpl_chunk(
    jobs: list[tuple[str, str, int]], target_fps: int, y_up: bool
) -> list[tuple[str, _Human | str]]:
    """``jobs``: ``(clip name, smpl path, robot frame count)``; result per job: data or an error."""
    _worker_setup()
    out: list[tuple[str, _Human | str]] = []
    for name, path, n in jobs:
        try:
            m = read_smpl_pkl(path)
        except FormatError as exc:
            out.append((name, str(exc)))
            continue
        if m.joints.shape[0] != n:
            out.append(
                (
                    name,
                    f"clip {name!r}: SMPL {path} has {m.joints.shape[0]} smpl_joints/transl frames but the "
                    f"robot clip has {n} at {target_fps} fps (FORMATS.md 'Resampling to 50 fps')",
                )
            )
            continue
        # pose_aa at the robot clip's output times; allow at most one source frame of shortfall.
        need = (n - 1) * m.fps / target_fps
        if need > m.num_frames:
            out.append((name, f"clip {name!r}: SMPL {path} pose_aa has {m.num_frames} frames at {m.fps} fps, "
                        f"too short for {n} frames at {target_fps} fps"))  # fmt: skip
            continue
        if m.num_frames < 2:
            out.append((name, f"clip {name!r}: SMPL {path} pose_aa has {m.num_frames} frame(s), need >= 2"))
            continue
        root = _resample_quat(_smpl_root_quat(m.pose_aa[:, :3], y_up), m.fps, target_fps, n)
        out.append((name, _Human(joints=m.joints.astype(np.float16), root_quat=root.astype(np.float32))))
    return out


def _load_soma_chunk(
    jobs: list[tuple[str, str, int]], target_fps: int, y_up: bool, num_joints: int
) -> list[tuple[str, _Human | str]]:
    """``jobs``: ``(clip name, soma path, robot frame count)``; the result keeps its own length."""
    _worker_setup()
    out: list[tuple[str, _Human | str]] = []
    for name, path, _n in jobs:
        try:
            clips = read_soma_pkl(path)
        except FormatError as exc:
            out.append((name, str(exc)))
            continue
        m = clips.get(name) or (next(iter(clips.values())) if len(clips) == 1 else None)
        if m is None:
            out.append((name, f"clip {name!r}: SOMA {path} holds {sorted(clips)} but not this clip"))
            continue
        if m.joints.shape[1] != num_joints:
            out.append(
                (
                    name,
                    f"clip {name!r}: SOMA {path} has {m.joints.shape[1]} joints, num_soma_joints={num_joints}",
                )
            )
            continue
        if m.num_frames < 2:
            out.append((name, f"clip {name!r}: SOMA {path} has {m.num_frames} frame(s), need >= 2"))
            continue
        k = len(interpolation_indices(m.num_frames, m.fps, target_fps)[0])
        quat = torch.from_numpy(_resample_quat(m.root_quat, m.fps, target_fps, k))
        if y_up:
            quat = soma_root_quat_z_up(quat)
        else:
            quat = quat_mul(quat, torch.tensor(BASE_QUAT, dtype=quat.dtype).expand_as(quat))
        root = quat_normalize(quat).numpy().astype(np.float32)
        joints = _resample(m.joints, m.fps, target_fps, k)
        out.append((name, _Human(joints=joints.astype(np.float16), root_quat=root)))
    return out


def _run(
    fn: Callable[..., list[Any]], chunks: list[Any], args: tuple[Any, ...], workers: int, desc: str
) -> list[Any]:
    """Apply ``fn(chunk, *args)`` to every chunk, in processes when ``workers > 1``, with a bar."""
    results: list[Any] = []
    total = sum(len(c) for c in chunks)
    with tqdm(total=total, desc=desc, unit="file", disable=total < 2, leave=False) as bar:
        if workers <= 1:
            for chunk in chunks:
                results.extend(fn(chunk, *args))
                bar.update(len(chunk))
        else:
            par = Parallel(n_jobs=workers, backend="loky", return_as="generator")
            outputs = par(delayed(fn)(c, *args) for c in chunks)
            assert outputs is not None
            for chunk, res in zip(chunks, outputs, strict=True):
                results.extend(res or [])
                bar.update(len(chunk))
    return results


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _num_workers(cfg: MotionLibConfig, num_files: int) -> int:
    if not cfg.multi_thread or num_files <= _PARALLEL_MIN_FILES:
        return 1
    return cfg.num_workers or min(32, os.cpu_count() or 1)


def _stat_list(files: Sequence[Path]) -> list[tuple[str, int, int]]:
    out = []
    for f in files:
        st = f.stat()
        out.append((str(f.resolve()), st.st_size, st.st_mtime_ns))
    return out


def cache_key(cfg: MotionLibConfig, robot: Sequence[Path], smpl: Sequence[Path], soma: Sequence[Path]) -> str:
    """Hash of the input files (path, size, mtime) and of the settings that change the host arrays."""
    payload = {
        "robot": _stat_list(robot),
        "smpl": _stat_list(smpl),
        "soma": _stat_list(soma),
        "settings": cfg.model_dump(
            include={"target_fps", "smpl_y_up", "soma_y_up", "num_soma_joints", "zero_root_xy", "fix_height"}
        ),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


def _raise_errors(errors: list[str], what: str) -> None:
    if errors:
        shown = "\n  ".join(errors[:20])
        more = f"\n  … and {len(errors) - 20} more" if len(errors) > 20 else ""
        raise MotionLoadError(f"{len(errors)} {what} failed to load:\n  {shown}{more}")


def _load_uncached(
    cfg: MotionLibConfig, robot_files: list[Path], smpl_files: list[Path], soma_files: list[Path]
) -> HostLibrary:
    workers = _num_workers(cfg, len(robot_files))
    robot_out = _run(
        _resample_robot_chunk,
        _chunks([str(p) for p in robot_files], _TASK_CHUNK),
        (cfg.target_fps, cfg.zero_root_xy),
        workers,
        "robot clips",
    )
    errors = [r[2] for r in robot_out if r[1] == ""]
    _raise_errors(errors, "robot files")
    names: list[str] = []
    rows: list[NDArray[np.float32]] = []
    where: dict[str, str] = {}
    for name, path, arr in robot_out:
        if name in where:
            errors.append(f"clip {name!r} appears in {where[name]} and {path}")
            continue
        where[name] = path
        names.append(name)
        rows.append(arr)
    _raise_errors(errors, "clips")
    index = {n: i for i, n in enumerate(names)}
    lengths = [len(r) for r in rows]

    def match(files: list[Path]) -> list[tuple[str, str, int]]:
        by_stem = _index_by_stem(files)
        if len(files) == 1 and len(names) == 1 and names[0] not in by_stem:
            by_stem = {names[0]: files[0]}
        return [(n, str(by_stem[n]), lengths[index[n]]) for n in names if n in by_stem]

    smpl: dict[str, _Human] = {}
    soma: dict[str, _Human] = {}
    for files, fn, args, store, what in (
        (smpl_files, _load_smpl_chunk, (cfg.target_fps, cfg.smpl_y_up), smpl, "SMPL"),
        (soma_files, _load_soma_chunk, (cfg.target_fps, cfg.soma_y_up, cfg.num_soma_joints), soma, "SOMA"),
    ):
        jobs = match(files)
        if not jobs:
            continue
        results = _run(fn, _chunks(jobs, _TASK_CHUNK), args, _num_workers(cfg, len(jobs)), f"{what} clips")
        errs = [r for _, r in results if isinstance(r, str)]
        _raise_errors(errs, f"{what} clips")
        store.update((n, r) for n, r in results if not isinstance(r, str))

    # SOMA length rule: one frame of difference cuts both to the shorter; more is an error.
    for name, h in soma.items():
        i = index[name]
        diff = len(h.joints) - lengths[i]
        if abs(diff) > 1:
            errors.append(
                f"clip {name!r}: SOMA has {len(h.joints)} frames at {cfg.target_fps} fps, robot {lengths[i]}"
            )
        elif diff != 0:
            n = min(len(h.joints), lengths[i])
            if name in smpl and n != lengths[i]:
                smpl[name] = _Human(smpl[name].joints[:n], smpl[name].root_quat[:n])
            rows[i] = rows[i][:n]
            lengths[i] = n
            soma[name] = _Human(h.joints[:n], h.root_quat[:n])
    _raise_errors(errors, "SOMA clips")

    clips = []
    for i, name in enumerate(names):
        r, sm, so = rows[i], smpl.get(name), soma.get(name)
        clips.append(
            HostClip(
                name=name,
                root_pos=r[:, 0:3],
                root_quat=r[:, 3:7],
                joint_pos=r[:, 7:],
                smpl_joints=None if sm is None else sm.joints,
                smpl_root_quat=None if sm is None else sm.root_quat,
                soma_joints=None if so is None else so.joints,
                soma_root_quat=None if so is None else so.root_quat,
            )
        )
    return HostLibrary.from_clips(clips, num_soma_joints=cfg.num_soma_joints)


def load_host_library(cfg: MotionLibConfig) -> HostLibrary:
    """Load every clip named by ``cfg`` onto the host (from the cache when it is current).

    Filtering (``filter_motion_keys``, ``remove_motion_keys``) and ``max_unique_motions`` are
    applied by the caller on the loaded library, so one cache serves every subset.

    Raises:
        FileNotFoundError: a configured path does not exist.
        MotionLoadError: listing every file or clip that failed, with its reason.
    """
    robot_files = find_pkls(cfg.motion_file, what="motion_file")
    smpl_files = [] if cfg.smpl_is_dummy else find_pkls(str(cfg.smpl_motion_file), what="smpl_motion_file")
    soma_files = (
        [] if cfg.soma_motion_file is None else find_pkls(cfg.soma_motion_file, what="soma_motion_file")
    )
    if not cfg.use_cache:
        return _load_uncached(cfg, robot_files, smpl_files, soma_files)
    path = cfg.resolved_cache_dir() / f"{cache_key(cfg, robot_files, smpl_files, soma_files)}.npz"
    if path.is_file():
        try:
            return HostLibrary.load(path)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile):
            path.unlink(missing_ok=True)
    lib = _load_uncached(cfg, robot_files, smpl_files, soma_files)
    lib.save(path)
    return lib
