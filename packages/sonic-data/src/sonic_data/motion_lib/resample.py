"""Resampling clips to the control rate with the one formula of FORMATS.md "Resampling to 50 fps".

A clip of ``T >= 2`` frames at ``fps`` becomes ``N = ceil(target·(T−1)/fps)`` frames at times
``k / target``, ``k = 0 … N−1`` (SONIC's ``arange(0, (T−1)/fps, 1/target)``, end exclusive),
computed in exact rational arithmetic so that ``k·fps < target·(T−1)`` holds without float error.
Positions and angles are interpolated linearly and rotations by slerp (joint angles of hinges: linear
interpolation equals the slerp of their one-axis quaternions for steps below π).
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import torch
from numpy.typing import NDArray

from sonic_data.rotations import quat_slerp

__all__ = ["SampleTimes", "lerp", "num_resampled_frames", "sample_times", "slerp"]


def _fraction(fps: float) -> Fraction:
    if not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be a positive finite number, got {fps}")
    return Fraction(fps).limit_denominator(1_000_000)


def num_resampled_frames(num_frames: int, fps: float, target_fps: int = 50) -> int:
    """``ceil(target·(T−1)/fps)``: frames of a ``T``-frame clip at ``fps`` after resampling.

    Raises:
        ValueError: when ``T < 2`` (a single frame has no duration to resample).
    """
    if num_frames < 2:
        raise ValueError(f"a clip needs at least 2 frames to resample, got {num_frames}")
    return math.ceil(Fraction(target_fps * (num_frames - 1)) / _fraction(fps))


class SampleTimes:
    """Source indices and blend weights of ``n`` output frames at ``k / target`` s.

    Attributes:
        lo: ``(n,)`` int64 index of the source frame at or before each output time.
        hi: ``(n,)`` int64 index of the next source frame, clamped to ``T−1``.
        alpha: ``(n,)`` float64 weight of ``hi`` (``0 <= alpha < 1``).
    """

    def __init__(self, lo: NDArray[np.int64], hi: NDArray[np.int64], alpha: NDArray[np.float64]) -> None:
        self.lo = lo
        self.hi = hi
        self.alpha = alpha


def sample_times(num_frames: int, fps: float, num_out: int, target_fps: int = 50) -> SampleTimes:
    """Blend indices for ``num_out`` output frames at ``k / target_fps`` from a ``fps`` source.

    Output times past the last source frame are clamped to it (used when a SMPL ``pose_aa`` is
    sampled at the robot clip's times).

    Args:
        num_frames: source frame count ``T`` (>= 1).
        fps: source rate.
        num_out: output frame count.
        target_fps: output rate.
    """
    if num_frames < 1:
        raise ValueError(f"cannot sample an empty clip (num_frames={num_frames})")
    f = _fraction(fps)
    # Source position of output k is k·fps/target = k·p/(q·target) for fps = p/q, exact in integers.
    k = np.arange(num_out, dtype=np.int64)
    num = k * f.numerator
    den = f.denominator * target_fps
    lo = num // den
    alpha = (num - lo * den).astype(np.float64) / den
    last = num_frames - 1
    past = lo >= last
    lo = np.minimum(lo, last)
    alpha = np.where(past, 0.0, alpha)
    hi = np.minimum(lo + 1, last)
    return SampleTimes(lo, hi, alpha)


def lerp(x: NDArray[np.floating], times: SampleTimes) -> NDArray[np.float32]:
    """Linear interpolation of ``x`` ``(T, ...)`` at ``times`` → ``(n, ...)`` float32."""
    a = times.alpha.reshape((-1,) + (1,) * (x.ndim - 1))
    lo = x[times.lo].astype(np.float64)
    hi = x[times.hi].astype(np.float64)
    return (lo + a * (hi - lo)).astype(np.float32)


def slerp(q: NDArray[np.floating], times: SampleTimes) -> NDArray[np.float32]:
    """Slerp of unit quaternions ``q`` ``(T, ..., 4)`` (wxyz) at ``times`` → ``(n, ..., 4)`` float32.

    The shorter arc is taken; the output is unit norm.
    """
    qt = torch.from_numpy(np.ascontiguousarray(q, dtype=np.float64))
    lo = qt[torch.from_numpy(times.lo)]
    hi = qt[torch.from_numpy(times.hi)]
    alpha = torch.from_numpy(times.alpha).reshape((-1,) + (1,) * (q.ndim - 2))
    return quat_slerp(lo, hi, alpha).numpy().astype(np.float32)
