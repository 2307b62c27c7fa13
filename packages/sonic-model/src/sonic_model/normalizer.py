"""Running mean / standard-deviation normaliser for the critic's observations.

SONIC normalises the privileged (critic) observations per feature with ``RunningMeanStd``
(eps 1e-5, output clipped to ±5, SONIC_REFERENCE §2.3); the buffer names in its checkpoints
(``running_mean``, ``running_var``, ``count``, §12) are rl_games' ones, and this module keeps that
module's conventions: float64 statistics starting at mean 0, variance 1, count 1, unbiased batch
variance, parallel (Chan et al.) merge of batch moments.

Statistics change only when :meth:`RunningMeanStd.update` (or :meth:`update_from_sums`) is called, never
inside ``forward``, so evaluation and the learning pass cannot move them by accident. A multi-process
trainer all-reduces the three tensors from :meth:`batch_sums` and passes the totals to
:meth:`update_from_sums`, which keeps every rank's statistics identical.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn


class RunningMeanStd(nn.Module):
    """Per-feature running normaliser.

    Args:
        size: number of features.
        eps: added to the variance under the square root.
        clip: the normalised output is clamped to ``[-clip, clip]``.
    """

    running_mean: Tensor
    running_var: Tensor
    count: Tensor

    def __init__(self, size: int, eps: float = 1e-5, clip: float = 5.0) -> None:
        super().__init__()
        self.size = size
        self.eps = eps
        self.clip = clip
        self.register_buffer("running_mean", torch.zeros(size, dtype=torch.float64))
        self.register_buffer("running_var", torch.ones(size, dtype=torch.float64))
        self.register_buffer("count", torch.ones((), dtype=torch.float64))

    def forward(self, x: Tensor) -> Tensor:
        """Normalise x (..., size): ``clamp((x - mean) / sqrt(var + eps), -clip, clip)``, in x's dtype."""
        mean = self.running_mean.to(x.dtype)
        std = torch.sqrt(self.running_var + self.eps).to(x.dtype)
        return torch.clamp((x - mean) / std, -self.clip, self.clip)

    @torch.no_grad()
    def batch_sums(self, x: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """Sufficient statistics of a batch x (..., size): (count (), sum (size,), sum of squares (size,)).

        Float64, on x's device; sums of these across processes are the statistics of the union.
        """
        flat = x.detach().reshape(-1, self.size).to(torch.float64)
        n = torch.full((), flat.shape[0], dtype=torch.float64, device=flat.device)
        return n, flat.sum(dim=0), (flat * flat).sum(dim=0)

    @torch.no_grad()
    def update_from_sums(self, n: Tensor, total: Tensor, total_sq: Tensor) -> None:
        """Merge a batch given by its sums into the running statistics (no host sync).

        A batch of one sample contributes zero variance (the unbiased estimate is undefined).
        """
        n = n.to(torch.float64)
        batch_mean = total / n
        batch_var = (total_sq - n * batch_mean * batch_mean).clamp_min(0.0) / (n - 1.0).clamp_min(1.0)
        delta = batch_mean - self.running_mean
        tot = self.count + n
        m2 = self.running_var * self.count + batch_var * n + delta * delta * self.count * n / tot
        self.running_mean.add_(delta * n / tot)
        self.running_var.copy_(m2 / tot)
        self.count.copy_(tot)

    @torch.no_grad()
    def update(self, x: Tensor) -> None:
        """Merge the batch x (..., size) into the running statistics."""
        self.update_from_sums(*self.batch_sums(x))
