"""Per-iteration rollout statistics, accumulated on the env's device and reduced across ranks once.

:class:`RolloutMetrics` collects, without a host sync per step:

* ``rewards/total``: the mean per-step reward over every env and step of the iteration;
* ``rewards/anchor_pos_err``, ``rewards/body_pos_err``: the mean tracking errors (m) the env reports
  (:func:`sonic_env.mdp.rewards.tracking_error_metrics`);
* ``Episode/length``: the mean length (steps) of the episodes that ended during the iteration;
* ``Episode_Reward/<term>`` and ``Episode_Termination/<term>``: Isaac Lab's per-reset episode logs
  (``extras["log"]``), averaged over the steps that reset some env. Isaac Lab's eager step writes a new
  dict at such a step; the graphed step (:mod:`sonic_env.masked_reset`) refreshes one dict in place and
  says in ``extras["log_resets"]`` (a device scalar) how many envs it reset, which weighs the step here.

:meth:`RolloutMetrics.reduce` packs every sum and count into one tensor and all-reduces it, so all ranks
see the same means (a name with no sample on any rank is left out). Term names are fixed up front, from
the env's reward and termination managers, so every rank packs the same layout.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from sonic_data.tensors import cached_tensor
from sonic_train.dist import DistContext

__all__ = ["RolloutMetrics"]

ERROR_NAMES = ("rewards/anchor_pos_err", "rewards/body_pos_err")


class RolloutMetrics:
    """Sums and counts of one iteration's statistics.

    Args:
        num_envs: environments on this process.
        device: the env's device.
        log_names: every ``extras["log"]`` name to average (``Episode_Reward/<term>``, ...).
    """

    def __init__(self, num_envs: int, device: torch.device | str, log_names: Sequence[str]) -> None:
        self.device = torch.device(device)
        self.names: tuple[str, ...] = ("rewards/total", *ERROR_NAMES, "Episode/length", *log_names)
        self._index = {n: i for i, n in enumerate(self.names)}
        self.episode_steps = torch.zeros(num_envs, device=self.device)
        self._last_log: object = None
        self.start()

    def start(self) -> None:
        """Clear the sums for a new iteration (running episode lengths carry over)."""
        self.sums = torch.zeros(len(self.names), dtype=torch.float64, device=self.device)
        self.counts = torch.zeros(len(self.names), dtype=torch.float64, device=self.device)

    def reset_episodes(self) -> None:
        """Every env starts a new episode (after a full reset)."""
        self.episode_steps.zero_()

    def record(
        self, rewards: Tensor, dones: Tensor, errors: Mapping[str, Tensor], extras: Mapping[str, Any]
    ) -> None:
        """Add one env step.

        Args:
            rewards: ``(N,)`` step rewards.
            dones: ``(N,)`` bool, the episode ended at this step.
            errors: ``{name: (N,)}`` tracking errors (names in ``rewards/anchor_pos_err``, ``.../body_pos_err``).
            extras: the env's extras; ``extras["log"]`` is counted where ``extras["log_resets"] > 0`` or,
                without that key, when it is a new dict (a reset happened).
        """
        self.episode_steps += 1
        done = dones.to(self.episode_steps.dtype)
        names = ("rewards/total", *(e for e in ERROR_NAMES if e in errors), "Episode/length")
        totals = [rewards.sum(), *(errors[e].sum() for e in names[1:-1]), (self.episode_steps * done).sum()]
        every_env = self._constant((float(rewards.numel()),) * (len(names) - 1))
        done_count = done.sum().to(torch.float64).reshape(1)
        self._add_many(names, torch.stack([t.float() for t in totals]), torch.cat((every_env, done_count)))
        self.episode_steps *= 1.0 - done
        log = extras.get("log")
        if not isinstance(log, dict):
            return
        resets = extras.get("log_resets")
        if resets is None and log is self._last_log:
            return
        self._last_log = log
        logged = tuple(name for name in log if name in self._index)
        if not logged:
            return
        values = torch.stack(
            [torch.as_tensor(log[name], device=self.device).reshape(()).float() for name in logged]
        )
        if resets is None:
            self._add_many(logged, values, self._constant((1.0,) * len(logged)))
            return
        fresh = (torch.as_tensor(resets, device=self.device) > 0).to(torch.float64)
        self._add_many(logged, values * fresh, fresh.expand(len(logged)))

    def _constant(self, values: tuple[float, ...]) -> Tensor:
        return cached_tensor(values, torch.float64, self.device)

    def _add_many(self, names: tuple[str, ...], totals: Tensor, counts: Tensor) -> None:
        """Add ``totals`` and ``counts`` (``(len(names),)``) to the named sums in a few kernels, not a few per name."""
        index = cached_tensor(tuple(self._index[n] for n in names), torch.long, self.device)
        self.sums.index_add_(0, index, totals.to(torch.float64))
        self.counts.index_add_(0, index, counts)

    def reduce(self, ctx: DistContext) -> dict[str, float]:
        """Means over every rank (collective), as floats; names without samples are left out."""
        packed = ctx.all_reduce_sum(torch.cat([self.sums, self.counts]))
        sums, counts = packed[: len(self.names)], packed[len(self.names) :]
        means = (sums / counts.clamp_min(1.0)).tolist()
        return {n: float(m) for n, m, c in zip(self.names, means, counts.tolist(), strict=True) if c > 0}
