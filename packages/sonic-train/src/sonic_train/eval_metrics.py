"""SONIC's tracking metrics as pure tensor functions: per-frame errors, per-motion sums, micro-averages.

Definitions follow SONIC's ``im_eval`` callback and SMPLSim's ``compute_metrics_lite`` (SONIC_REFERENCE §5),
all in **millimetres**, on the world positions of the tracked bodies (SONIC's 14, pelvis first):

* ``mpjpe_g``: mean over bodies of ``‖p_gt − p_pred‖``;
* ``mpjpe_l``: the same after subtracting each pose's root body (translation only);
* ``mpjpe_pa``: after root subtraction and a per-frame similarity (scale, rotation, translation)
  Procrustes alignment of the prediction onto the reference (VideoPose3D's ``p_mpjpe``);
* ``vel_dist``: mean over bodies of ``‖Δp_pred − Δp_gt‖`` between consecutive frames (mm per frame, world);
* ``accel_dist``: the same with second differences ``p[t] − 2p[t+1] + p[t+2]``.

Body subsets (key suffixes ``_legs``, ``_vr_3points``, ``_other_upper_bodies``, ``_foot``) are SONIC's:
indices ascending in the tracked-body order, and every metric of a subset is computed *on the subset*, so
its ``mpjpe_l`` is relative to the subset's first body (e.g. ``left_hip_roll_link`` for the legs), as
SONIC's callback does.

Aggregation is SONIC's micro-average: per motion, the sum over its frames of the mean over bodies, and
its frame count; an aggregate is the sum of the sums over the chosen motions divided by the sum of their
frame counts. As in SONIC, ``vel_dist`` and ``accel_dist`` sums (one and two terms fewer) are divided by
the same frame count as the positions.

Frames are batched ``(N, T, J, 3)`` with a validity mask ``(N, T)``: a velocity needs both its frames
valid and an acceleration all three, so a frame excluded by the evaluator (a reset inside the step) never
enters a difference. SONIC keeps those frames; see :mod:`sonic_train.evaluator`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

__all__ = [
    "METRIC_NAMES",
    "SUBSET_ORDER",
    "MotionSums",
    "eval_body_subsets",
    "metric_keys",
    "micro_average",
    "motion_sums",
    "per_frame_errors",
    "procrustes_align",
]

METRIC_NAMES = ("mpjpe_g", "mpjpe_l", "mpjpe_pa", "vel_dist", "accel_dist")
"""``compute_metrics_lite``'s metrics, in its order."""

SUBSET_ORDER = ("legs", "vr_3points", "other_upper_bodies", "foot")
"""SONIC's body subsets, in the order its callback emits them."""

MM = 1000.0


def eval_body_subsets(
    body_names: Sequence[str], vr_bodies: Sequence[str], foot_bodies: Sequence[str] | None = None
) -> dict[str, tuple[int, ...]]:
    """SONIC's eval body subsets as ascending indices into ``body_names``.

    ``legs`` = names containing hip, knee or ankle; ``vr_3points`` = ``vr_bodies``; ``other_upper_bodies``
    = every remaining body (so legs, vr and other partition the list); ``foot`` = ``foot_bodies`` or the
    ankle bodies. A subset of fewer than two bodies is left out (its ``mpjpe_l`` would be identically 0).

    Raises:
        ValueError: a VR or foot body that is not in ``body_names``.
    """
    names = list(body_names)
    missing = [b for b in (*vr_bodies, *(foot_bodies or ())) if b not in names]
    if missing:
        raise ValueError(f"eval body subsets: {missing} are not tracked bodies {names}")
    legs = [i for i, n in enumerate(names) if any(k in n for k in ("hip", "knee", "ankle"))]
    vr = sorted({names.index(b) for b in vr_bodies})
    other = sorted(set(range(len(names))) - set(legs) - set(vr))
    if foot_bodies:
        foot = sorted({names.index(b) for b in foot_bodies})
    else:
        foot = [i for i, n in enumerate(names) if "ankle" in n]
    candidates = {"legs": legs, "vr_3points": vr, "other_upper_bodies": other, "foot": foot}
    return {k: tuple(candidates[k]) for k in SUBSET_ORDER if len(candidates[k]) >= 2}


def metric_keys(subsets: Mapping[str, Sequence[int]]) -> list[str]:
    """Every metric key: the five metrics on all bodies, then on each subset (``<metric>_<subset>``)."""
    return [*METRIC_NAMES, *(f"{m}_{s}" for s in subsets for m in METRIC_NAMES)]


def procrustes_align(pred: Tensor, gt: Tensor, eps: float = 1e-12) -> Tensor:
    """Per frame, the similarity transform of ``pred`` that best fits ``gt`` (least squares), applied.

    VideoPose3D's ``p_mpjpe`` (used by SMPLSim): centre both, scale to unit Frobenius norm, rotation from
    the SVD of the cross-covariance with the reflection removed, scale ``trace · ‖gt‖ / ‖pred‖``.

    Args:
        pred, gt: ``(..., J, 3)``.

    Returns:
        ``(..., J, 3)`` the aligned prediction.
    """
    mu_gt = gt.mean(dim=-2, keepdim=True)
    mu_pred = pred.mean(dim=-2, keepdim=True)
    x0, y0 = gt - mu_gt, pred - mu_pred
    norm_x = x0.square().sum(dim=(-2, -1), keepdim=True).sqrt().clamp_min(eps)
    norm_y = y0.square().sum(dim=(-2, -1), keepdim=True).sqrt().clamp_min(eps)
    x0, y0 = x0 / norm_x, y0 / norm_y
    u, s, vt = torch.linalg.svd(x0.transpose(-2, -1) @ y0)
    v = vt.transpose(-2, -1)
    sign = torch.sign(torch.linalg.det(v @ u.transpose(-2, -1)))
    sign = torch.where(sign == 0, torch.ones_like(sign), sign)
    v = torch.cat([v[..., :, :-1], v[..., :, -1:] * sign[..., None, None]], dim=-1)
    s = torch.cat([s[..., :-1], s[..., -1:] * sign[..., None]], dim=-1)
    rot = v @ u.transpose(-2, -1)
    scale = s.sum(dim=-1)[..., None, None] * norm_x / norm_y
    shift = mu_gt - scale * (mu_pred @ rot)
    return scale * (pred @ rot) + shift


def per_frame_errors(pred: Tensor, gt: Tensor, root_index: int = 0) -> dict[str, Tensor]:
    """SMPLSim's ``compute_metrics_lite`` for trajectories, averaged over bodies, in mm.

    Args:
        pred: ``(..., T, J, 3)`` robot positions (m); gt: the reference, same shape.
        root_index: the body subtracted for ``mpjpe_l`` / ``mpjpe_pa``.

    Returns:
        ``mpjpe_g``, ``mpjpe_l``, ``mpjpe_pa`` each ``(..., T)``; ``vel_dist`` ``(..., T−1)``;
        ``accel_dist`` ``(..., T−2)``.
    """
    if pred.shape != gt.shape or pred.shape[-1] != 3:
        raise ValueError(
            f"pred and gt must both be (..., T, J, 3); got {tuple(pred.shape)} and {tuple(gt.shape)}"
        )
    out = {"mpjpe_g": (pred - gt).norm(dim=-1).mean(dim=-1) * MM}
    vel = (pred[..., 1:, :, :] - pred[..., :-1, :, :]) - (gt[..., 1:, :, :] - gt[..., :-1, :, :])
    out["vel_dist"] = vel.norm(dim=-1).mean(dim=-1) * MM

    def accel(x: Tensor) -> Tensor:
        return x[..., :-2, :, :] - 2.0 * x[..., 1:-1, :, :] + x[..., 2:, :, :]

    out["accel_dist"] = (accel(pred) - accel(gt)).norm(dim=-1).mean(dim=-1) * MM
    pred_l = pred - pred[..., root_index : root_index + 1, :]
    gt_l = gt - gt[..., root_index : root_index + 1, :]
    out["mpjpe_l"] = (pred_l - gt_l).norm(dim=-1).mean(dim=-1) * MM
    out["mpjpe_pa"] = (procrustes_align(pred_l, gt_l) - gt_l).norm(dim=-1).mean(dim=-1) * MM
    return {k: out[k] for k in METRIC_NAMES}


@dataclass(frozen=True)
class MotionSums:
    """Per-motion sums for micro-averaging.

    Attributes:
        sums: ``{metric key: (N,) float64}`` sum over the motion's valid frames of the body-mean error (mm).
        frames: ``(N,)`` int64 valid frames per motion (the denominator of every metric, as SONIC).
    """

    sums: dict[str, Tensor]
    frames: Tensor

    def means(self) -> dict[str, Tensor]:
        """Per-motion means ``(N,)`` (NaN for a motion without frames)."""
        count = self.frames.to(torch.float64)
        return {k: torch.where(count > 0, v / count.clamp_min(1.0), math.nan) for k, v in self.sums.items()}


def motion_sums(
    pred: Tensor, gt: Tensor, valid: Tensor, subsets: Mapping[str, Sequence[int]] | None = None
) -> MotionSums:
    """Sums of every metric over each motion's valid frames.

    Args:
        pred, gt: ``(N, T, J, 3)`` robot and reference positions (m), one motion per row.
        valid: ``(N, T)`` bool, which frames count.
        subsets: body subsets (from :func:`eval_body_subsets`); their metrics get ``_<subset>`` keys.

    Returns:
        :class:`MotionSums` with the keys of :func:`metric_keys`.
    """
    if valid.shape != pred.shape[:2]:
        raise ValueError(f"valid must be (N, T) = {tuple(pred.shape[:2])}, got {tuple(valid.shape)}")
    masks = {
        "pos": valid,
        "vel_dist": valid[:, 1:] & valid[:, :-1],
        "accel_dist": valid[:, 2:] & valid[:, 1:-1] & valid[:, :-2],
    }
    sums: dict[str, Tensor] = {}
    groups: list[tuple[str, Sequence[int] | None]] = [
        ("", None),
        *((f"_{k}", v) for k, v in (subsets or {}).items()),
    ]
    for suffix, index in groups:
        p = pred if index is None else pred[:, :, list(index)]
        g = gt if index is None else gt[:, :, list(index)]
        for name, err in per_frame_errors(p, g).items():
            mask = masks.get(name, masks["pos"])
            sums[name + suffix] = torch.where(mask, err, 0.0).to(torch.float64).sum(dim=-1)
    return MotionSums(sums=sums, frames=valid.sum(dim=-1))


def micro_average(
    sums: Mapping[str, Sequence[float] | Tensor],
    frames: Sequence[int] | Tensor,
    select: Sequence[bool] | Tensor | None = None,
) -> dict[str, float]:
    """SONIC's micro-average: ``Σ sums / Σ frames`` over the selected motions (NaN when there are no frames).

    Args:
        sums: ``{key: (M,)}`` per-motion sums; frames: ``(M,)`` per-motion frame counts.
        select: ``(M,)`` bool, which motions take part (default all), e.g. the successful ones.
    """
    count = torch.as_tensor(frames, dtype=torch.float64)
    chosen = (
        torch.ones_like(count, dtype=torch.bool)
        if select is None
        else torch.as_tensor(select, dtype=torch.bool)
    )
    total = float(count[chosen].sum())
    out = {}
    for key, values in sums.items():
        v = torch.as_tensor(values, dtype=torch.float64)
        out[key] = float(v[chosen].sum()) / total if total > 0 else math.nan
    return out
