"""FSQ against vector_quantize_pytorch (SONIC's quantizer), closed forms and a known distribution."""

from __future__ import annotations

import math

import pytest
import torch
from vector_quantize_pytorch import FSQ as ReferenceFSQ

from sonic_model import FSQ, fsq_usage


@pytest.mark.parametrize("scale", [1e-3, 0.1, 1.0, 3.0, 10.0, 1e3])
def test_sonic_levels_match_vector_quantize_pytorch(scale: float):
    """Levels [32]*32 on (batch, 2 tokens, 32) latents give bit-identical codes to the reference."""
    gen = torch.Generator().manual_seed(int(scale * 1000))
    z = torch.randn(256, 2, 32, generator=gen) * scale
    reference, _ = ReferenceFSQ(levels=[32] * 32, return_indices=False)(z)
    assert torch.equal(FSQ([32] * 32)(z), reference)


@pytest.mark.parametrize("levels", [[8, 5, 5, 5], [7, 3, 4], [16, 9]])
def test_mixed_levels_match_reference_codes_and_indices(levels: list[int]):
    """Odd, even and mixed levels: codes and codebook indices equal the reference's."""
    z = torch.randn(512, 1, len(levels), generator=torch.Generator().manual_seed(1)) * 2.0
    reference = ReferenceFSQ(levels=levels)
    ref_codes, ref_indices = reference(z)
    fsq = FSQ(levels)
    codes = fsq(z)
    assert torch.equal(codes, ref_codes)
    assert torch.equal(fsq.codes_to_indices(codes), ref_indices.to(torch.int64))


@pytest.mark.parametrize("levels", [[32] * 4, [5, 6, 7]])
def test_codes_lie_on_the_level_grid(levels: list[int]):
    """Every code times L//2 is an integer in [-L//2, L//2 - 1] (even L) or [-(L-1)/2, (L-1)/2] (odd L)."""
    fsq = FSQ(levels)
    codes = fsq(torch.randn(4096, len(levels), generator=torch.Generator().manual_seed(2)) * 5.0)
    for d, level in enumerate(levels):
        steps = codes[:, d] * (level // 2)
        assert torch.equal(steps, steps.round())
        lo, hi = (-(level // 2), level // 2 - 1) if level % 2 == 0 else (-(level - 1) // 2, (level - 1) // 2)
        assert steps.min().item() == lo and steps.max().item() == hi  # large latents reach both ends


def test_indices_and_codes_are_a_bijection_over_the_whole_codebook():
    """Small levels: all prod(levels) indices map to distinct codes (equal to the reference's
    implicit codebook) and back to themselves."""
    levels = [3, 4, 5]
    fsq = FSQ(levels)
    indices = torch.arange(math.prod(levels))
    codes = fsq.indices_to_codes(indices)
    assert torch.equal(fsq.codes_to_indices(codes), indices)
    assert torch.unique(codes, dim=0).shape[0] == math.prod(levels)
    reference_codebook = ReferenceFSQ(levels=levels).implicit_codebook
    assert isinstance(reference_codebook, torch.Tensor) and torch.equal(codes, reference_codebook)
    assert fsq.codebook_size == 60


def test_indices_refused_when_the_codebook_overflows_int64():
    """[32]*32 has 2**160 codes: index conversion raises, explaining the alternative."""
    fsq = FSQ([32] * 32)
    assert not fsq.indices_fit_int64 and fsq.codebook_size is None
    with pytest.raises(ValueError, match="int64"):
        fsq.codes_to_indices(torch.zeros(1, 32))
    assert fsq_usage(fsq, fsq(torch.randn(10, 32))).perplexity is None


def test_gradient_passes_straight_through_the_rounding():
    """d code / d z equals the derivative of the tanh bound divided by L//2 (rounding ignored)."""
    levels = [32, 7]
    fsq = FSQ(levels)
    z = torch.randn(64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(3)).requires_grad_()
    w = torch.randn(64, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    (fsq(z) * w).sum().backward()
    lv = torch.tensor(levels, dtype=torch.float64)
    half_l = (lv - 1) * 1.001 / 2
    offset = torch.tensor([0.5, 0.0], dtype=torch.float64)
    shift = torch.atanh(offset / half_l)
    expected = w * half_l * (1 - torch.tanh(z.detach() + shift) ** 2) / torch.floor(lv / 2)
    assert z.grad is not None
    torch.testing.assert_close(z.grad, expected, rtol=1e-5, atol=1e-9)


def test_usage_statistics_on_a_known_distribution():
    """Dim 0 uniform over 4 levels, dim 1 constant, dim 2 two levels half/half; 8 distinct codes."""
    fsq = FSQ([4, 4, 4])
    i = torch.arange(8)
    level_idx = torch.stack([i % 4, torch.zeros_like(i), i // 4], dim=-1)
    codes = fsq.level_indices_to_codes(level_idx)
    usage = fsq_usage(fsq, codes)
    torch.testing.assert_close(usage.per_dim_usage, torch.tensor([1.0, 0.25, 0.5], dtype=torch.float64))
    torch.testing.assert_close(usage.per_dim_entropy_bits, torch.tensor([2.0, 0.0, 1.0], dtype=torch.float64))
    assert usage.perplexity is not None
    torch.testing.assert_close(usage.perplexity, torch.tensor(8.0, dtype=torch.float64))


def test_low_precision_latents_use_the_float32_grid():
    """bf16 latents are quantized in float32 (as the reference forces) and returned in bf16."""
    fsq = FSQ([32] * 32)
    z = torch.randn(16, 32, generator=torch.Generator().manual_seed(5)).to(torch.bfloat16)
    out = fsq(z)
    assert out.dtype == torch.bfloat16
    assert torch.equal(out, fsq(z.float()).to(torch.bfloat16))


def test_invalid_levels_are_rejected():
    """Levels below 3 and a wrong last dimension raise with the offending values."""
    with pytest.raises(ValueError, match="level must be an integer >= 3"):
        FSQ([32, 2])
    with pytest.raises(ValueError, match="last dimension 32"):
        FSQ([32] * 32)(torch.zeros(2, 31))
