"""GAE, time-out bootstrapping and global advantage whitening against hand-computed values."""

from __future__ import annotations

import threading

import pytest
import torch

from sonic_train.algo.gae import bootstrap_time_outs, compute_gae, normalize_advantages

GAMMA, LAM = 0.99, 0.95

# Two envs, three steps. Env 0 times out after step 1; env 1 terminates after step 0.
REWARDS = torch.tensor([[1.0, 0.5], [2.0, 1.0], [3.0, -1.0]], dtype=torch.float64)
VALUES = torch.tensor([[0.5, 0.2], [1.0, 0.4], [1.5, 0.6]], dtype=torch.float64)
DONES = torch.tensor([[False, True], [True, False], [False, False]])
TIME_OUTS = torch.tensor([[False, False], [True, False], [False, False]])
LAST_VALUES = torch.tensor([2.0, 0.8], dtype=torch.float64)


def test_gae_matches_hand_computed_three_step_case() -> None:
    """Done masking, time-out bootstrapping r += γ·V(s_t) and the λ-recursion give the hand-derived numbers."""
    returns, advantages = compute_gae(REWARDS, VALUES, DONES, LAST_VALUES, GAMMA, LAM, time_outs=TIME_OUTS)
    gl = GAMMA * LAM  # 0.9405
    # env 0: t2 δ = 3 + .99*2 - 1.5 = 3.48; t1 (time-out, done) δ = (2 + .99*1.0) - 1.0 = 1.99;
    #        t0 δ = 1 + .99*1.0 - .5 = 1.49, A0 = 1.49 + .9405*1.99.
    # env 1: t2 δ = -1 + .99*.8 - .6 = -.808; t1 δ = 1 + .99*.6 - .4 = 1.194, A1 = 1.194 - .9405*.808;
    #        t0 (terminated) δ = .5 - .2 = .3.
    expected_adv = torch.tensor(
        [[1.49 + gl * 1.99, 0.3], [1.99, 1.194 + gl * -0.808], [3.48, -0.808]], dtype=torch.float64
    )
    torch.testing.assert_close(advantages, expected_adv, rtol=0, atol=1e-12)
    torch.testing.assert_close(returns, expected_adv + VALUES, rtol=0, atol=1e-12)
    assert advantages[0, 0].item() == pytest.approx(3.361595, abs=1e-9)
    assert advantages[1, 1].item() == pytest.approx(0.434076, abs=1e-9)


def test_gae_without_time_outs_does_not_bootstrap() -> None:
    """Without time-out flags a truncated step gets no γ·V(s_t) bonus: env 0, step 1 advantage = 2 - 1."""
    _, advantages = compute_gae(REWARDS, VALUES, DONES, LAST_VALUES, GAMMA, LAM)
    assert advantages[1, 0].item() == pytest.approx(1.0, abs=1e-12)


def test_bootstrap_time_outs_adds_discounted_value_only_on_time_outs() -> None:
    """r + γ·V·timeout, elementwise."""
    out = bootstrap_time_outs(REWARDS, VALUES, TIME_OUTS, GAMMA)
    expected = REWARDS.clone()
    expected[1, 0] += GAMMA * 1.0
    torch.testing.assert_close(out, expected)


def test_gae_with_lambda_one_is_discounted_return_minus_value() -> None:
    """λ = 1 and no dones: A_t = Σ_k γ^k r_{t+k} + γ^{T-t} V_T - V_t (Monte-Carlo closed form)."""
    gen = torch.Generator().manual_seed(0)
    rewards = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    values = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    last = torch.randn(3, generator=gen, dtype=torch.float64)
    dones = torch.zeros(5, 3, dtype=torch.bool)
    returns, _ = compute_gae(rewards, values, dones, last, GAMMA, 1.0)
    for t in range(5):
        mc = sum(GAMMA**k * rewards[t + k] for k in range(5 - t)) + GAMMA ** (5 - t) * last
        torch.testing.assert_close(returns[t], mc)


def test_gae_rejects_mismatched_shapes() -> None:
    """A last_values of the wrong shape is named in the error."""
    with pytest.raises(ValueError, match="last_values"):
        compute_gae(REWARDS, VALUES, DONES, LAST_VALUES[:1], GAMMA, LAM)


def test_normalize_advantages_single_process_matches_torch_std() -> None:
    """(A - mean) / (unbiased std + 1e-8), as SONIC."""
    adv = torch.randn(24, 8, generator=torch.Generator().manual_seed(1))
    expected = (adv - adv.mean()) / (adv.std() + 1e-8)
    torch.testing.assert_close(normalize_advantages(adv), expected, rtol=1e-5, atol=1e-6)


def test_normalize_advantages_uses_global_statistics_across_ranks() -> None:
    """Two simulated ranks (threads with a summing all-reduce) whiten with the statistics of both shards."""
    gen = torch.Generator().manual_seed(2)
    shards = [torch.randn(6, 4, generator=gen) + 3.0, torch.randn(6, 4, generator=gen) - 1.0]
    barrier = threading.Barrier(2)
    slots: list[torch.Tensor | None] = [None, None]
    results: list[torch.Tensor | None] = [None, None]

    def make_reduce(rank: int):
        def reduce(t: torch.Tensor) -> torch.Tensor:
            slots[rank] = t
            barrier.wait()
            total = slots[0] + slots[1]  # type: ignore[operator]
            barrier.wait()
            return total

        return reduce

    def run(rank: int) -> None:
        results[rank] = normalize_advantages(shards[rank], make_reduce(rank))

    threads = [threading.Thread(target=run, args=(r,)) for r in range(2)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    both = torch.cat(shards)
    expected = (both - both.mean()) / (both.std() + 1e-8)
    torch.testing.assert_close(torch.cat([results[0], results[1]]), expected, rtol=1e-5, atol=1e-6)  # type: ignore[list-item]
    # Per-shard whitening would give a different answer: the test can fail.
    local = (shards[0] - shards[0].mean()) / (shards[0].std() + 1e-8)
    assert not torch.allclose(results[0], local, atol=1e-3)  # type: ignore[arg-type]


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_gae_and_normalisation_on_cuda_match_cpu() -> None:
    """Same numbers on the GPU as on the CPU."""
    ret_cpu, adv_cpu = compute_gae(REWARDS, VALUES, DONES, LAST_VALUES, GAMMA, LAM, time_outs=TIME_OUTS)
    ret_gpu, adv_gpu = compute_gae(
        REWARDS.cuda(),
        VALUES.cuda(),
        DONES.cuda(),
        LAST_VALUES.cuda(),
        GAMMA,
        LAM,
        time_outs=TIME_OUTS.cuda(),
    )
    torch.testing.assert_close(ret_gpu.cpu(), ret_cpu)
    torch.testing.assert_close(normalize_advantages(adv_gpu).cpu(), normalize_advantages(adv_cpu))
