"""Which clips take part: key filters, ``max_unique_motions`` subsets and the sequential eval order.

* ``filter_motion_keys``: keep a clip if its name equals one of the entries or fully matches it as
  a regular expression; ``remove_motion_keys``: drop names starting with one of the prefixes
  (SONIC_REFERENCE §6.1).
* ``max_unique_motions``: a seeded random subset of that many clips from the sorted names (SONIC's
  ``random.sample(sorted(keys))``), kept in sorted order.
* Sequential eval (§5): every selected clip runs exactly once from frame 0. Clips are taken in
  order in batches of at most ``min(num_envs, resident capacity)``; env ``i`` of a batch of ``k``
  clips plays clip ``i mod k`` and only envs ``i < k`` count towards the metrics.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor

from sonic_data.motion_lib.config import MotionLibConfig

__all__ = ["EvalAssignment", "select_clips", "sequential_eval_batches"]


def select_clips(names: list[str], cfg: MotionLibConfig, seed: int) -> NDArray[np.int64]:
    """Indices into ``names`` of the clips ``cfg`` keeps, in sorted-name order.

    Raises:
        ValueError: no clip is left, naming the filters that removed them.
    """
    keep = list(range(len(names)))
    if cfg.filter_motion_keys is not None:
        patterns = []
        for p in cfg.filter_motion_keys:
            with contextlib.suppress(re.error):  # a non-regex still matches by equality
                patterns.append(re.compile(p))
        exact = set(cfg.filter_motion_keys)
        keep = [i for i in keep if names[i] in exact or any(p.fullmatch(names[i]) for p in patterns)]
    if cfg.remove_motion_keys:
        prefixes = tuple(cfg.remove_motion_keys)
        keep = [i for i in keep if not names[i].startswith(prefixes)]
    keep.sort(key=lambda i: names[i])
    if cfg.max_unique_motions is not None and len(keep) > cfg.max_unique_motions:
        rng = np.random.default_rng(seed)
        chosen = rng.choice(len(keep), size=cfg.max_unique_motions, replace=False)
        keep = [keep[j] for j in sorted(chosen.tolist())]
    if not keep:
        raise ValueError(
            f"motion library: no clip left of {len(names)} after filter_motion_keys={cfg.filter_motion_keys} "
            f"and remove_motion_keys={cfg.remove_motion_keys}"
        )
    return np.asarray(keep, dtype=np.int64)


def sequential_eval_batches(num_clips: int, batch_size: int) -> list[Tensor]:
    """Clip ids ``0 … C−1`` in consecutive batches of at most ``batch_size`` (each clip exactly once)."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    ids = torch.arange(num_clips, dtype=torch.long)
    return list(torch.split(ids, batch_size))


@dataclass(frozen=True)
class EvalAssignment:
    """What each env plays in one sequential-eval batch.

    Attributes:
        clip_ids: ``(k,)`` library clips of this batch (resident slots ``0 … k−1``).
        slots: ``(num_envs,)`` resident slot of each env (``i mod k``).
        frames: ``(num_envs,)`` start frames (all 0).
        counted: ``(num_envs,)`` bool, true for the one env per clip whose result counts.
    """

    clip_ids: Tensor
    slots: Tensor
    frames: Tensor
    counted: Tensor
