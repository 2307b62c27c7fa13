"""RunningMeanStd: converges to the data's moments, split sums equal one batch, forward clamps."""

from __future__ import annotations

import torch

from sonic_model import RunningMeanStd


def test_statistics_converge_to_the_data_moments():
    """After many batches of N(3, 2^2) the running mean/var approach 3 and 4 (prior count 1 is negligible)."""
    norm = RunningMeanStd(4)
    gen = torch.Generator().manual_seed(0)
    data = 3.0 + 2.0 * torch.randn(50, 1000, 4, generator=gen, dtype=torch.float64)
    for batch in data:
        norm.update(batch)
    flat = data.reshape(-1, 4)
    torch.testing.assert_close(norm.running_mean, flat.mean(0) * 50000 / 50001, rtol=0, atol=1e-9)
    torch.testing.assert_close(norm.running_var, flat.var(0), rtol=2e-3, atol=0)
    assert norm.count.item() == 50001


def test_summed_shard_statistics_equal_one_batch():
    """Adding the batch_sums of two shards (what an all-reduce does) equals updating with their union."""
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(64, 5, generator=gen) * 4.0 - 2.0
    whole, sharded = RunningMeanStd(5), RunningMeanStd(5)
    whole.update(x)
    a, b = sharded.batch_sums(x[:40]), sharded.batch_sums(x[40:])
    sharded.update_from_sums(*(u + v for u, v in zip(a, b, strict=True)))
    for name in ("running_mean", "running_var", "count"):
        torch.testing.assert_close(getattr(sharded, name), getattr(whole, name), rtol=1e-12, atol=1e-12)
    # One batch merged into the prior (mean 0, var 1, count 1), by the parallel-variance formula.
    n, m, v = 64.0, x.double().mean(0), x.double().var(0)
    torch.testing.assert_close(whole.running_mean, m * n / (n + 1))
    torch.testing.assert_close(whole.running_var, (1.0 + v * n + m * m * n / (n + 1)) / (n + 1))


def test_forward_normalises_clamps_and_does_not_update():
    """forward = clamp((x - mean) / sqrt(var + 1e-5), -5, 5) and leaves the statistics alone."""
    norm = RunningMeanStd(2)
    with torch.no_grad():
        norm.running_mean.copy_(torch.tensor([1.0, -1.0], dtype=torch.float64))
        norm.running_var.copy_(torch.tensor([4.0, 0.01], dtype=torch.float64))
    x = torch.tensor([[3.0, -1.0], [1.0, 1.0]])
    expected = torch.tensor([[2.0 / (4.00001**0.5), 0.0], [0.0, 5.0]])
    torch.testing.assert_close(norm(x), expected)
    assert norm.count.item() == 1.0
