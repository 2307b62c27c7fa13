"""Augmentation at resident-set build time, expressed as row plans into the host arrays (§6.3).

An augmented clip is never stored: each resident slot gets, for every output frame, the host row
its root and legs come from and the host row its upper body (waist and arms) comes from. Building
the resident tensors is then one gather, and a fresh draw happens at every redraw.

* **Freeze-frame** (``freeze_frame_aug``, probability ``freeze_frame_prob`` per clip): from a
  uniformly drawn frame ``f`` on, the whole pose and translation hold frame ``f``; SMPL and SOMA
  are frozen at the same frame.
* **Upper-body concatenation** (``cat_upper_body_poses``, probability ``cat_upper_body_poses_prob``,
  only for clips whose name starts with one of ``upper_body_augment_prefixes``): the 17 waist and
  arm joints come from a random slice of a random clip *without* such a prefix ("non-navigation");
  a source shorter than the clip is played ping-pong. Our decision: such a slot reports no SMPL or
  SOMA (``has_smpl``/``has_soma`` false), since the human data no longer describe its motion.

Eval builds plans with ``augment=False``: every slot plays its clip unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from sonic_data.motion_lib.config import MotionLibConfig
from sonic_data.motion_lib.host import HostLibrary

__all__ = ["UPPER_BODY_JOINTS", "ResidentPlan", "build_plan", "ping_pong"]

UPPER_BODY_JOINTS = slice(12, 29)
"""Canonical indices of the waist (12–14) and arm (15–28) joints replaced by upper-body concatenation."""


@dataclass(eq=False)
class ResidentPlan:
    """Which host rows make up each resident slot.

    Attributes:
        clip_ids: ``(R,)`` library clip of each slot.
        lengths: ``(R,)`` frames per slot.
        base_rows: ``(Fr,)`` host robot row of each output frame (root pose, legs).
        upper_rows: ``(Fr,)`` host robot row for the waist and arm joints.
        smpl_rows: ``(Fr,)`` host SMPL row, -1 where the slot has none.
        soma_rows: ``(Fr,)`` host SOMA row, -1 where the slot has none.
        freeze_frame: ``(R,)`` frame from which the slot is frozen, -1 if not frozen.
        upper_source: ``(R,)`` library clip that lends its upper body, -1 if none.
    """

    clip_ids: NDArray[np.int64]
    lengths: NDArray[np.int64]
    base_rows: NDArray[np.int64]
    upper_rows: NDArray[np.int64]
    smpl_rows: NDArray[np.int64]
    soma_rows: NDArray[np.int64]
    freeze_frame: NDArray[np.int64]
    upper_source: NDArray[np.int64]

    @property
    def has_smpl(self) -> NDArray[np.bool_]:
        """``(R,)`` whether each slot has SMPL data."""
        return self._first(self.smpl_rows) >= 0

    @property
    def has_soma(self) -> NDArray[np.bool_]:
        """``(R,)`` whether each slot has SOMA data."""
        return self._first(self.soma_rows) >= 0

    def _first(self, rows: NDArray[np.int64]) -> NDArray[np.int64]:
        starts = np.cumsum(self.lengths) - self.lengths
        return rows[starts]


def ping_pong(index: NDArray[np.int64], length: NDArray[np.int64]) -> NDArray[np.int64]:
    """Map indices ``0, 1, 2, …`` onto ``0 … L−1, L−2 … 1, 0, 1 …`` (a clip played back and forth)."""
    period = np.maximum(2 * (length - 1), 1)
    m = index % period
    return np.where(m < length, m, period - m) * (length > 1)


def _has_prefix(names: list[str], prefixes: list[str]) -> NDArray[np.bool_]:
    pre = tuple(prefixes)
    return np.array([bool(pre) and n.startswith(pre) for n in names], dtype=bool)


def build_plan(
    host: HostLibrary,
    clip_ids: NDArray[np.int64],
    cfg: MotionLibConfig,
    rng: np.random.Generator,
    *,
    augment: bool,
) -> ResidentPlan:
    """Row plan for resident slots playing ``clip_ids`` (augmented per ``cfg`` when ``augment``)."""
    clip_ids = np.asarray(clip_ids, dtype=np.int64)
    num = len(clip_ids)
    lengths = host.lengths[clip_ids]
    total = int(lengths.sum())
    slot_of_frame = np.repeat(np.arange(num), lengths)
    t = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(lengths) - lengths, lengths)

    freeze = np.full(num, -1, dtype=np.int64)
    source = np.full(num, -1, dtype=np.int64)
    if augment and cfg.freeze_frame_aug and cfg.freeze_frame_prob > 0:
        hit = rng.random(num) < cfg.freeze_frame_prob
        freeze[hit] = (rng.random(int(hit.sum())) * lengths[hit]).astype(np.int64)
    t_eff = np.where(freeze[slot_of_frame] >= 0, np.minimum(t, freeze[slot_of_frame]), t)
    base_rows = host.offsets[clip_ids][slot_of_frame] + t_eff
    upper_rows = base_rows.copy()

    if augment and cfg.cat_upper_body_poses and cfg.cat_upper_body_poses_prob > 0:
        prefixed = _has_prefix(host.names, cfg.upper_body_augment_prefixes)
        pool = np.flatnonzero(~prefixed)
        candidates = prefixed[clip_ids]
        if len(pool) and candidates.any():
            hit = candidates & (rng.random(num) < cfg.cat_upper_body_poses_prob)
            k = int(hit.sum())
            source[hit] = pool[rng.integers(0, len(pool), size=k)]
            src_len = host.lengths[source[hit]]
            # A random slice: a start that fits when the source is long enough, else any start
            # of the ping-pong sequence.
            room = np.where(src_len >= lengths[hit], src_len - lengths[hit] + 1, src_len)
            start = np.full(num, 0, dtype=np.int64)
            start[hit] = (rng.random(k) * room).astype(np.int64)
            frame_hit = source[slot_of_frame] >= 0
            s = slot_of_frame[frame_hit]
            local = ping_pong(start[s] + t_eff[frame_hit], host.lengths[source[s]])
            upper_rows[frame_hit] = host.offsets[source[s]] + local

    def human_rows(offsets: NDArray[np.int64]) -> NDArray[np.int64]:
        off = offsets[clip_ids]
        off = np.where(source >= 0, -1, off)
        per_frame = off[slot_of_frame]
        return np.where(per_frame >= 0, per_frame + t_eff, -1)

    return ResidentPlan(
        clip_ids=clip_ids,
        lengths=lengths.astype(np.int64),
        base_rows=base_rows,
        upper_rows=upper_rows,
        smpl_rows=human_rows(host.smpl_offsets),
        soma_rows=human_rows(host.soma_offsets),
        freeze_frame=freeze,
        upper_source=source,
    )
