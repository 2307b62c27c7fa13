"""The multilayer perceptron every SONIC network is made of.

SONIC_REFERENCE §9.1: Linear layers with SiLU between them, no normalisation, no output activation.
The layers sit in an ``nn.Sequential`` stored as ``module``, so parameter names are
``module.<i>.{weight,bias}`` with Linear layers at even ``i`` — the names GEAR-SONIC's checkpoints use
(§12), which makes importing their weights a prefix rename.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn


def mlp_sequential(in_dim: int, hidden: Sequence[int], out_dim: int) -> nn.Sequential:
    """``nn.Sequential(Linear, SiLU, ..., Linear)``: Linear layers at even indices."""
    dims = [in_dim, *hidden]
    layers: list[nn.Module] = []
    for a, b in zip(dims[:-1], dims[1:], strict=True):
        layers += [nn.Linear(a, b), nn.SiLU()]
    layers.append(nn.Linear(dims[-1], out_dim))
    return nn.Sequential(*layers)


class MLP(nn.Module):
    """``in_dim -> hidden[0] -> ... -> hidden[-1] -> out_dim`` with SiLU after every hidden layer.

    Args:
        in_dim: input width.
        hidden: hidden layer widths (may be empty: a single Linear layer).
        out_dim: output width.
    """

    def __init__(self, in_dim: int, hidden: Sequence[int], out_dim: int) -> None:
        super().__init__()
        self.module = mlp_sequential(in_dim, hidden, out_dim)
        self.in_dim = in_dim
        self.out_dim = out_dim

    def forward(self, x: Tensor) -> Tensor:
        """Map (..., in_dim) to (..., out_dim)."""
        return self.module(x)


def count_parameters(module: nn.Module) -> int:
    """Number of scalar parameters (learnable tensors only, buffers excluded)."""
    return sum(p.numel() for p in module.parameters())
