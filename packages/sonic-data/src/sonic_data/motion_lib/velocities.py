"""Finite-difference velocities of packed clips, as SONIC's motion library computes them (§6.2).

Clips lie back to back in one tensor of ``F`` frames; ``start``/``end`` give, for every frame, the
first row and one past the last row of its clip, so no difference or filter reaches into a
neighbouring clip. All functions are batched over frames (no loop over clips) and run on any device.

* Body linear velocity: ``np.gradient`` (central difference inside, one-sided at the clip ends)
  divided by ``dt``, then a Gaussian filter with σ = 2 frames.
* Body angular velocity: the rotation vector of ``q[t+1]·q[t]⁻¹`` divided by ``dt`` (a forward
  difference: the mean rate over ``[t, t+1]``), then the same Gaussian filter. The last frame of a
  clip repeats the previous value (SONIC's code leaves it zero; the reference does not say which).
* Joint velocity: forward difference, last value duplicated, no filter.

The Gaussian filter follows ``scipy.ndimage.gaussian_filter1d`` with ``truncate=4`` (radius 8 for
σ = 2) and ``mode="nearest"`` (edge frames repeated), as PHC/SONIC call it. A filter of a linear
signal is exact away from the edges; a sinusoid of angular frequency ω is scaled by
``≈exp(−(ωσ·dt)²/2)``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from sonic_data.rotations import quat_conjugate, quat_mul, quat_to_axis_angle

__all__ = [
    "angular_velocity",
    "clip_bounds",
    "forward_difference",
    "gaussian_kernel",
    "gaussian_smooth",
    "gradient",
]


def clip_bounds(lengths: Tensor) -> tuple[Tensor, Tensor]:
    """Per-frame ``(start, end)`` rows of the clip each packed frame belongs to, each ``(F,)`` int64."""
    ends = torch.cumsum(lengths, 0)
    starts = ends - lengths
    return torch.repeat_interleave(starts, lengths), torch.repeat_interleave(ends, lengths)


def _shape(index: Tensor, x: Tensor) -> Tensor:
    return index.view(-1, *([1] * (x.dim() - 1)))


def gradient(x: Tensor, start: Tensor, end: Tensor, dt: float) -> Tensor:
    """Per-clip ``np.gradient(x, axis=0) / dt`` of packed ``x`` ``(F, ...)``; a 1-frame clip gives 0."""
    j = torch.arange(x.shape[0], device=x.device)
    prev = torch.maximum(j - 1, start)
    nxt = torch.minimum(j + 1, end - 1)
    span = (nxt - prev).clamp_min(1).to(x.dtype) * dt
    return (x[nxt] - x[prev]) / _shape(span, x)


def _forward_pairs(x: Tensor, start: Tensor, end: Tensor) -> tuple[Tensor, Tensor]:
    j = torch.arange(x.shape[0], device=x.device)
    lo = torch.maximum(torch.minimum(j, end - 2), start)
    hi = torch.minimum(lo + 1, end - 1)
    return lo, hi


def forward_difference(x: Tensor, start: Tensor, end: Tensor, dt: float) -> Tensor:
    """``(x[t+1] − x[t]) / dt`` per clip, the last frame repeating the one before; ``(F, ...)``."""
    lo, hi = _forward_pairs(x, start, end)
    return (x[hi] - x[lo]) / dt


def angular_velocity(quat: Tensor, start: Tensor, end: Tensor, dt: float) -> Tensor:
    """World angular velocity ``(F, ..., 3)`` from world orientations ``(F, ..., 4)`` (wxyz).

    The rotation vector of ``q[t+1]·q[t]⁻¹`` over ``dt`` (shortest arc), last frame repeated.
    """
    lo, hi = _forward_pairs(quat, start, end)
    delta = quat_mul(quat[hi], quat_conjugate(quat[lo]))
    return quat_to_axis_angle(delta) / dt


def gaussian_kernel(sigma: float, truncate: float = 4.0, *, dtype: torch.dtype = torch.float32) -> Tensor:
    """Normalised weights ``(2r+1,)`` with ``r = int(truncate·σ + 0.5)`` (scipy's radius)."""
    radius = int(truncate * sigma + 0.5)
    k = torch.arange(-radius, radius + 1, dtype=torch.float64)
    w = torch.exp(-0.5 * (k / sigma) ** 2)
    return (w / w.sum()).to(dtype)


def gaussian_smooth(
    x: Tensor, start: Tensor, end: Tensor, sigma: float = 2.0, truncate: float = 4.0
) -> Tensor:
    """Per-clip Gaussian filter along frames of packed ``x`` ``(F, ...)``, edges repeated (``nearest``)."""
    if sigma <= 0:
        return x.clone()
    weights = gaussian_kernel(sigma, truncate, dtype=x.dtype).to(x.device)
    radius = (len(weights) - 1) // 2
    j = torch.arange(x.shape[0], device=x.device)
    out = torch.zeros_like(x)
    for k in range(-radius, radius + 1):
        src = torch.minimum(torch.maximum(j + k, start), end - 1)
        out += weights[k + radius] * x[src]
    return out
