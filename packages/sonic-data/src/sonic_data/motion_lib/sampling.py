"""Where episodes start: SONIC's adaptive sampling by bins, and uniform sampling (§6.3).

Every clip of the library is cut into bins of ``bin_size`` frames (the last one shorter). Each bin
keeps a failure count and an episode count, both starting at ``init_num_failures``:

* every env step, the bin of each env's current frame gets ``episodes += 1 / len_b``;
* every failure adds ``failure_counts_multiplier`` to ``failures`` of a bin — the bin where the
  failure happened (``adaptive_credit_fix=True``, our default) or, as SONIC's code effectively does,
  the start bin of the episode that follows it (``False``; the caller then passes the new start);
* after each PPO iteration :meth:`AdaptiveSampler.update` recomputes the bin probabilities:
  ``r = failures / episodes``, clipped at ``mean(r) · adp_samp_failure_rate_max_over_mean``;
  ``p = (1 − u)·r/Σr + u/B``; times ``w_b = (len_b / mean len) / bins_in_clip`` when
  ``sequence_length_agnostic`` (else ``len_b / mean len``); normalised; optional caps.

A clip's probability is the sum of its bins'. A reset draws a bin among the resident slots' bins,
a frame uniformly inside it, then moves back by U{0 … pre_failure_sample_window − 1} frames
(clamped at 0). With ``enable=False``, resets draw a slot uniformly and a uniform frame, and clip
probabilities are uniform.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from sonic_data.motion_lib.config import AdaptiveSamplingConfig

__all__ = ["AdaptiveSampler"]


class AdaptiveSampler:
    """Failure statistics per bin and the start/clip distributions derived from them.

    The count and probability tensors (``failures``, ``episodes``, ``bin_probs``) are updated in place
    and never replaced, so a CUDA graph that captured :meth:`sample_starts` or :meth:`record_steps`
    keeps reading and writing the live ones (``sonic_env.step_graphs``). Assign new counts with
    :meth:`set_counts`.

    Args:
        lengths: ``(C,)`` int64 frames per library clip, on the simulation device.
        cfg: adaptive-sampling settings.
    """

    def __init__(self, lengths: Tensor, cfg: AdaptiveSamplingConfig) -> None:
        self.cfg = cfg
        self.device = lengths.device
        self.lengths = lengths
        size = cfg.bin_size
        self.num_bins_per_clip = (lengths + size - 1) // size
        self.bin_offsets = torch.cumsum(self.num_bins_per_clip, 0) - self.num_bins_per_clip
        num_bins = int(self.num_bins_per_clip.sum())
        self.bin_clip = torch.repeat_interleave(
            torch.arange(len(lengths), device=self.device), self.num_bins_per_clip
        )
        local = torch.arange(num_bins, device=self.device) - self.bin_offsets[self.bin_clip]
        self.bin_start = local * size
        self.bin_len = torch.minimum(lengths[self.bin_clip] - self.bin_start, torch.full_like(local, size))
        mean_len = self.bin_len.double().mean()
        weight = self.bin_len.double() / mean_len
        if cfg.sequence_length_agnostic:
            weight = weight / self.num_bins_per_clip[self.bin_clip].double()
        self.bin_weight = weight
        self.failures = torch.full(
            (num_bins,), cfg.init_num_failures, dtype=torch.float64, device=self.device
        )
        self.episodes = torch.full_like(self.failures, cfg.init_num_failures)
        self.bin_probs = torch.empty_like(self.failures)
        self._layout: tuple[Tensor, Tensor, Tensor] | None = None
        self._compute_probs()

    @property
    def num_bins(self) -> int:
        """Total bins B over the library."""
        return int(self.bin_len.shape[0])

    def bin_of(self, clip_ids: Tensor, frames: Tensor) -> Tensor:
        """Global bin index of (clip, frame) pairs (frames clamped to the clip)."""
        frames = torch.minimum(frames.clamp_min(0), self.lengths[clip_ids] - 1)
        return self.bin_offsets[clip_ids] + frames // self.cfg.bin_size

    def record_steps(self, clip_ids: Tensor, frames: Tensor) -> None:
        """One env step at each (clip, frame): ``episodes += 1 / len_b`` of its bin. Shapes ``(N,)``."""
        bins = self.bin_of(clip_ids, frames)
        self.episodes.index_add_(0, bins, 1.0 / self.bin_len[bins].double())

    def record_failures(self, clip_ids: Tensor, frames: Tensor, mask: Tensor | None = None) -> None:
        """Failures at (clip, frame) pairs, shapes ``(M,)``: ``failures += multiplier`` of each bin.

        ``mask`` ``(M,)`` bool selects the pairs that failed (no host sync: others add zero).
        """
        bins = self.bin_of(clip_ids, frames)
        add = torch.full(
            bins.shape, self.cfg.failure_counts_multiplier, dtype=torch.float64, device=self.device
        )
        if mask is not None:
            add = add * mask.to(torch.float64)
        self.failures.index_add_(0, bins, add)

    def update(self) -> None:
        """Recompute the bin probabilities from the counts (call once per PPO iteration)."""
        cfg = self.cfg
        if cfg.use_failure_rate_decay:
            init = cfg.init_num_failures
            self.failures.sub_(init).mul_(cfg.decay_gamma).add_(init)
            self.episodes.sub_(init).mul_(cfg.decay_gamma).add_(init)
        self._compute_probs()

    def set_counts(self, failures: Tensor, episodes: Tensor) -> None:
        """Overwrite the counts in place (e.g. averaged over ranks); the probabilities follow at :meth:`update`.

        Raises:
            ValueError: a tensor's shape is not ``(num_bins,)``.
        """
        for name, value in (("failures", failures), ("episodes", episodes)):
            if tuple(value.shape) != tuple(self.failures.shape):
                raise ValueError(
                    f"adaptive sampling: {name} has shape {tuple(value.shape)}, expected {tuple(self.failures.shape)}"
                )
        self.failures.copy_(failures)
        self.episodes.copy_(episodes)

    def _compute_probs(self) -> None:
        cfg = self.cfg
        if not cfg.enable:
            probs = self.bin_len.double() / self.lengths[self.bin_clip].double()
            torch.div(probs, probs.sum(), out=self.bin_probs)
            return
        rate = self.failures / self.episodes
        rate = torch.minimum(rate, rate.mean() * cfg.adp_samp_failure_rate_max_over_mean)
        u = cfg.uniform_sampling_rate
        p = (1.0 - u) * rate / rate.sum() + u / self.num_bins
        p = p * self.bin_weight
        p = p / p.sum()
        if cfg.max_prob_per_bin is not None:
            p = torch.minimum(p, torch.full_like(p, cfg.max_prob_per_bin))
            p = p / p.sum()
        if cfg.max_prob_per_motion is not None:
            clip_p = torch.zeros(len(self.lengths), dtype=p.dtype, device=self.device).index_add_(
                0, self.bin_clip, p
            )
            scale = torch.clamp(cfg.max_prob_per_motion / clip_p.clamp_min(1e-300), max=1.0)
            p = p * scale[self.bin_clip]
            p = p / p.sum()
        self.bin_probs.copy_(p)

    def clip_probs(self) -> Tensor:
        """``(C,)`` probability of each clip (sum of its bins), float64."""
        out = torch.zeros(len(self.lengths), dtype=torch.float64, device=self.device)
        return out.index_add_(0, self.bin_clip, self.bin_probs)

    def _slot_bins(self, slot_clip_ids: Tensor) -> tuple[Tensor, Tensor]:
        """``(slot_of, bins)``, each ``(Σ bins of the slots,)``: every resident bin and its slot.

        The layout is fixed for a resident set, so it is built once per ``slot_clip_ids`` tensor (a
        redraw builds a new one) instead of on every reset: the build syncs with the host twice.
        """
        if self._layout is not None and self._layout[0] is slot_clip_ids:
            return self._layout[1], self._layout[2]
        nb = self.num_bins_per_clip[slot_clip_ids]
        slot_of = torch.repeat_interleave(torch.arange(len(slot_clip_ids), device=self.device), nb)
        local = torch.arange(int(nb.sum()), device=self.device) - (torch.cumsum(nb, 0) - nb)[slot_of]
        bins = self.bin_offsets[slot_clip_ids][slot_of] + local
        self._layout = (slot_clip_ids, slot_of, bins)
        return slot_of, bins

    def sample_starts(
        self, slot_clip_ids: Tensor, num: int, generator: torch.Generator
    ) -> tuple[Tensor, Tensor]:
        """Draw ``num`` reset starts among resident slots.

        Args:
            slot_clip_ids: ``(R,)`` library clip of each resident slot (duplicates allowed).
            num: number of starts.
            generator: random source on the sampler's device.

        Returns:
            ``(slots, frames)``, each ``(num,)`` int64.
        """
        cfg = self.cfg
        lengths = self.lengths[slot_clip_ids]
        if not cfg.enable:
            slots = torch.randint(0, len(slot_clip_ids), (num,), generator=generator, device=self.device)
            u = torch.rand(num, generator=generator, device=self.device, dtype=torch.float64)
            frames = (u * lengths[slots]).long().clamp_max(lengths[slots] - 1)
            return slots, frames
        slot_of, bins = self._slot_bins(slot_clip_ids)
        pick = torch.multinomial(self.bin_probs[bins].float(), num, replacement=True, generator=generator)
        chosen = bins[pick]
        u = torch.rand(num, generator=generator, device=self.device, dtype=torch.float64)
        frames = self.bin_start[chosen] + (u * self.bin_len[chosen]).long().clamp_max(
            self.bin_len[chosen] - 1
        )
        back = torch.randint(
            0, cfg.pre_failure_sample_window, (num,), generator=generator, device=self.device
        )
        return slot_of[pick], (frames - back).clamp_min(0)

    def state_dict(self) -> dict[str, Any]:
        """The counts (checkpoints carry them) and the bin layout they belong to."""
        return {  # copies: the live counts change in place
            "failures": self.failures.cpu().clone(),
            "episodes": self.episodes.cpu().clone(),
            "lengths": self.lengths.cpu().clone(),
            "bin_size": self.cfg.bin_size,
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore counts from :meth:`state_dict` and recompute the probabilities.

        Raises:
            ValueError: the counts belong to another library or bin size (listing what differs).
        """
        if state.get("bin_size") != self.cfg.bin_size:
            raise ValueError(
                f"adaptive sampling: checkpoint bin_size {state.get('bin_size')} != {self.cfg.bin_size}"
            )
        lengths = torch.as_tensor(state["lengths"])
        if lengths.shape != self.lengths.shape or not torch.equal(lengths, self.lengths.cpu()):
            raise ValueError(
                f"adaptive sampling: checkpoint counts are for {len(lengths)} clips with other lengths; "
                f"this library has {len(self.lengths)} clips"
            )
        self.set_counts(
            torch.as_tensor(state["failures"], dtype=torch.float64).to(self.device),
            torch.as_tensor(state["episodes"], dtype=torch.float64).to(self.device),
        )
        self._compute_probs()
