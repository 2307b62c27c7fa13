"""Finite scalar quantization (FSQ), the quantizer between SONIC's encoders and decoders.

Mentzer et al., "Finite Scalar Quantization: VQ-VAE Made Simple" (arXiv 2309.15505). SONIC trains with
``vector_quantize_pytorch.FSQ(levels=[32] * 32)`` (SONIC_REFERENCE §9.1); this module reproduces that
quantizer's forward values bit for bit (tests compare against the package, which is a test-only
dependency here) without its projections, noise dropout or symmetry-preserving variant, none of which
SONIC uses.

Per dimension with ``L`` levels, ``half_l = (L - 1)(1 + 1e-3) / 2`` and ``offset = 0.5`` for even ``L``
(0 for odd), ``shift = atanh(offset / half_l)``:

    bounded = tanh(z + shift) * half_l - offset          # in (-L/2 - 1e-3, L/2 - 1 + 1e-3) for even L
    code    = round_ste(bounded) / (L // 2)              # even L: {-L/2, ..., L/2 - 1} / (L/2)

The rounding passes gradients straight through (``x + (round(x) - x).detach()``), so the encoder
trains through the quantizer. For SONIC's levels every dimension takes one of 32 values in
``{-16, ..., 15} / 16``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn

_BOUND_EPS = 1e-3
"""Headroom of the tanh bound, as in the reference (keeps the extreme levels reachable)."""

_INT64_MAX = 2**63 - 1


def round_straight_through(x: Tensor) -> Tensor:
    """Round to the nearest integer in the forward pass; identity gradient in the backward pass."""
    return x + (x.round() - x).detach()


class FSQ(nn.Module):
    """Finite scalar quantizer over the last dimension.

    Args:
        levels: number of quantization levels per dimension (each >= 3; the reference rejects 2).

    Inputs are ``(..., len(levels))`` latents; outputs have the same shape with every value on that
    dimension's level grid. The level buffers are not persistent: they carry no learned values, so
    a state dict holds only the encoders' and decoders' weights (the levels live in the model config).
    """

    levels: Tensor
    half_width: Tensor
    basis: Tensor
    _half_l: Tensor
    _offset: Tensor
    _shift: Tensor

    def __init__(self, levels: Sequence[int]) -> None:
        super().__init__()
        levels = [int(v) for v in levels]
        if not levels or any(v < 3 for v in levels):
            raise ValueError(f"FSQ: every level must be an integer >= 3, got {levels}")
        self.level_list: tuple[int, ...] = tuple(levels)
        self.dim = len(levels)
        codebook_size = math.prod(levels)
        self.indices_fit_int64 = codebook_size <= _INT64_MAX
        """Whether codes can be numbered by one int64 index (False for SONIC's [32] * 32)."""
        self.codebook_size: int | None = codebook_size if self.indices_fit_int64 else None

        lv = torch.tensor(levels, dtype=torch.int64)
        self.register_buffer("levels", lv, persistent=False)
        self.register_buffer("half_width", lv // 2, persistent=False)
        # Mixed-radix basis for indices; only meaningful (and only built without overflow) when the
        # codebook fits in int64.
        basis = [1]
        for v in levels[:-1]:
            basis.append(basis[-1] * v if self.indices_fit_int64 else 0)
        self.register_buffer("basis", torch.tensor(basis, dtype=torch.int64), persistent=False)
        # The bound's constants, computed with the reference's dtype flow (int levels times a Python
        # float gives float32) so the forward values match it exactly.
        half_l = (lv - 1) * (1 + _BOUND_EPS) / 2
        offset = torch.where(lv % 2 == 0, 0.5, 0.0)
        self.register_buffer("_half_l", half_l, persistent=False)
        self.register_buffer("_offset", offset, persistent=False)
        self.register_buffer("_shift", torch.atanh(offset / half_l), persistent=False)

    def bound(self, z: Tensor) -> Tensor:
        """Squash ``z`` (..., dim) into each dimension's level range, before rounding."""
        return torch.tanh(z + self._shift) * self._half_l - self._offset

    def forward(self, z: Tensor) -> Tensor:
        """Quantize ``z`` of shape (..., dim) to codes of the same shape and dtype.

        Computation runs in float32 (float64 inputs stay float64) with CUDA autocast off, as the
        reference forces, so bf16/fp16 latents get the same grid.
        """
        if z.shape[-1] != self.dim:
            raise ValueError(f"FSQ: expected last dimension {self.dim}, got shape {tuple(z.shape)}")
        orig_dtype = z.dtype
        with torch.autocast(device_type="cuda", enabled=False):
            zf = z if orig_dtype in (torch.float32, torch.float64) else z.float()
            codes = round_straight_through(self.bound(zf)) / self.half_width
        return codes.to(orig_dtype)

    def codes_to_level_indices(self, codes: Tensor) -> Tensor:
        """Per-dimension level index in ``[0, L)`` of codes (..., dim); int64."""
        return torch.round(codes * self.half_width + self.half_width).to(torch.int64)

    def level_indices_to_codes(self, level_indices: Tensor) -> Tensor:
        """Inverse of :meth:`codes_to_level_indices`; float32 codes (..., dim)."""
        return (level_indices - self.half_width).to(torch.float32) / self.half_width

    def _require_indices(self) -> None:
        if not self.indices_fit_int64:
            raise ValueError(
                f"FSQ: the codebook of levels {list(self.level_list)} has more than 2**63 - 1 codes, "
                "so codes cannot be numbered by an int64 index; use per-dimension level indices "
                "(codes_to_level_indices) or fsq_usage's per-dimension statistics instead"
            )

    def codes_to_indices(self, codes: Tensor) -> Tensor:
        """One int64 codebook index per code: codes (..., dim) -> (...).

        Raises:
            ValueError: if the product of levels does not fit in int64.
        """
        self._require_indices()
        return (self.codes_to_level_indices(codes) * self.basis).sum(dim=-1)

    def indices_to_codes(self, indices: Tensor) -> Tensor:
        """Codes (..., dim) of int64 codebook indices (...); inverse of :meth:`codes_to_indices`."""
        self._require_indices()
        level_indices = (indices.unsqueeze(-1) // self.basis) % self.levels
        return self.level_indices_to_codes(level_indices)


@dataclass(frozen=True)
class FSQUsage:
    """Codebook usage of a batch of codes, for logging.

    Attributes:
        per_dim_usage: (dim,) fraction of each dimension's levels that occur at least once.
        per_dim_entropy_bits: (dim,) entropy of each dimension's level histogram, in bits
            (at most log2(L)).
        perplexity: exp of the entropy of the full-code histogram (number of equally likely codes
            that would give it), or None when the codebook cannot be indexed in int64.
    """

    per_dim_usage: Tensor
    per_dim_entropy_bits: Tensor
    perplexity: Tensor | None


def fsq_usage(quantizer: FSQ, codes: Tensor) -> FSQUsage:
    """Usage statistics of codes (..., dim) produced by ``quantizer``.

    Meant for logging, not for the hot path: the perplexity uses ``torch.unique`` (a host sync and a
    data-dependent shape). Per-dimension statistics use static shapes.
    """
    codes = codes.detach().reshape(-1, quantizer.dim)
    level_idx = quantizer.codes_to_level_indices(codes)  # (N, dim)
    max_level = max(quantizer.level_list)
    dim_offsets = torch.arange(quantizer.dim, device=codes.device) * max_level
    flat = (level_idx + dim_offsets).reshape(-1)
    counts = torch.zeros(quantizer.dim * max_level, device=codes.device, dtype=torch.float64)
    counts.scatter_add_(0, flat, torch.ones_like(flat, dtype=torch.float64))
    counts = counts.reshape(quantizer.dim, max_level)
    probs = counts / counts.sum(dim=-1, keepdim=True).clamp_min(1.0)
    usage = (counts > 0).sum(dim=-1).to(torch.float64) / quantizer.levels.to(torch.float64)
    entropy = -(probs * torch.log2(probs.clamp_min(1e-300))).sum(dim=-1)
    perplexity: Tensor | None = None
    if quantizer.indices_fit_int64:
        _, index_counts = torch.unique(quantizer.codes_to_indices(codes), return_counts=True)
        p = index_counts.to(torch.float64) / index_counts.sum()
        perplexity = torch.exp(-(p * torch.log(p)).sum())
    return FSQUsage(per_dim_usage=usage, per_dim_entropy_bits=entropy, perplexity=perplexity)
