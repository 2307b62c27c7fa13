"""Changing the frame rate of clips, the way SONIC's data scripts and motion library do.

* Integer ratio ``fps_src / fps_dst = k`` (120 → 30): keep every k-th frame, ``frames[::k]``, as
  SONIC's converters do (no filtering, no interpolation); ``ceil(T / k)`` frames.
* Otherwise: sample times ``j / fps_dst`` for ``j = 0 … N−1`` with ``N = ceil(fps_dst·(T−1)/fps_src)``
  (FORMATS.md "Resampling to 50 fps": SONIC's ``arange(0, (T−1)/fps, 1/fps_dst)``, end exclusive,
  counted exactly with fractions); positions and angles are interpolated linearly, rotations by slerp.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import torch

from sonic_data.formats.containers import RobotMotion, SomaMotion
from sonic_data.rotations import quat_slerp

__all__ = ["integer_stride", "interpolation_indices", "resample_robot", "resample_soma", "resampled_length"]


def _frac(x: float) -> Fraction:
    return Fraction(x).limit_denominator(1_000_000)


def integer_stride(fps_src: float, fps_dst: float) -> int | None:
    """``k`` when ``fps_src / fps_dst`` is a positive integer (to 1e-6), else None."""
    ratio = fps_src / fps_dst
    k = round(ratio)
    return k if k >= 1 and abs(ratio - k) < 1e-6 else None


def resampled_length(num_frames: int, fps_src: float, fps_dst: float) -> int:
    """Frame count ``N = ceil(fps_dst·(T−1)/fps_src)`` of the interpolating resampler (1 if T = 1).

    Exact in rationals: the number of ``j ≥ 0`` with ``j·fps_src < fps_dst·(T−1)``.
    """
    if num_frames < 1:
        raise ValueError(f"resampled_length: need at least one frame, got {num_frames}")
    if num_frames == 1:
        return 1
    return math.ceil(_frac(fps_dst) * (num_frames - 1) / _frac(fps_src))


def interpolation_indices(
    num_frames: int, fps_src: float, fps_dst: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Source frames ``i0``, ``i1`` (N,) int and blend weights ``w`` (N,) for times ``j / fps_dst``.

    A resampled value is ``(1 − w)·x[i0] + w·x[i1]``.
    """
    n = resampled_length(num_frames, fps_src, fps_dst)
    u = np.arange(n, dtype=np.float64) * (fps_src / fps_dst)
    i0 = np.minimum(np.floor(u + 1e-9).astype(np.int64), num_frames - 1)
    i1 = np.minimum(i0 + 1, num_frames - 1)
    w = np.clip(u - i0, 0.0, 1.0)
    return i0, i1, w


def _lerp(x: np.ndarray, i0: np.ndarray, i1: np.ndarray, w: np.ndarray) -> np.ndarray:
    shape = (-1,) + (1,) * (x.ndim - 1)
    return (1.0 - w.reshape(shape)) * x[i0] + w.reshape(shape) * x[i1]


def _slerp(q: np.ndarray, i0: np.ndarray, i1: np.ndarray, w: np.ndarray) -> np.ndarray:
    q64 = torch.from_numpy(q.astype(np.float64))
    return quat_slerp(q64[i0], q64[i1], torch.from_numpy(w)).numpy()


def resample_robot(motion: RobotMotion, fps: float, *, interpolate: bool = False) -> RobotMotion:
    """``motion`` at ``fps``: stride for an integer ratio, else lerp (positions, joints) + slerp (root).

    ``interpolate=True`` always uses the interpolating rule, i.e. the motion library's 50 fps
    frame count ``ceil(fps·(T−1)/fps_src)`` even for equal or integer-ratio rates.
    """
    if not interpolate and abs(motion.fps - fps) < 1e-9:
        return motion
    k = None if interpolate else integer_stride(motion.fps, fps)
    if k is not None:
        return RobotMotion(motion.root_pos[::k], motion.root_quat[::k], motion.joint_pos[::k], fps)
    i0, i1, w = interpolation_indices(motion.num_frames, motion.fps, fps)
    return RobotMotion(
        root_pos=_lerp(motion.root_pos, i0, i1, w),
        root_quat=_slerp(motion.root_quat, i0, i1, w),
        joint_pos=_lerp(motion.joint_pos, i0, i1, w),
        fps=fps,
    )


def resample_soma(motion: SomaMotion, fps: float) -> SomaMotion:
    """``motion`` at ``fps``, with the same rule as :func:`resample_robot` (root quaternion slerped)."""
    if abs(motion.fps - fps) < 1e-9:
        return motion
    k = integer_stride(motion.fps, fps)
    if k is not None:
        return SomaMotion(
            motion.joints[::k], motion.root_quat[::k], motion.transl[::k], fps, motion.joint_names
        )
    i0, i1, w = interpolation_indices(motion.num_frames, motion.fps, fps)
    return SomaMotion(
        joints=_lerp(motion.joints, i0, i1, w),
        root_quat=_slerp(motion.root_quat, i0, i1, w),
        transl=_lerp(motion.transl, i0, i1, w),
        fps=fps,
        joint_names=motion.joint_names,
    )
