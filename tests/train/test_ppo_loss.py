"""PPO loss terms against closed forms on fixed tensors, and Gaussian terms against torch.distributions."""

from __future__ import annotations

import math

import pytest
import torch
from torch.distributions import Normal, kl_divergence

from sonic_train.algo.ppo_loss import (
    gaussian_entropy,
    gaussian_kl,
    gaussian_log_prob,
    ppo_loss,
    surrogate_loss,
    value_loss,
    weighted_aux_loss,
)

RATIOS = torch.tensor([0.5, 1.0, 1.5, 1.1], dtype=torch.float64)
ADVANTAGES = torch.tensor([1.0, -1.0, 2.0, -2.0], dtype=torch.float64)
OLD_LOGP = torch.tensor([-1.0, -2.0, -0.5, -3.0], dtype=torch.float64)
NEW_LOGP = OLD_LOGP + torch.log(RATIOS)

VALUES = torch.tensor([1.0, 0.0, 2.0], dtype=torch.float64)
OLD_VALUES = torch.tensor([0.5, 0.5, 2.1], dtype=torch.float64)
RETURNS = torch.tensor([2.0, 1.0, 1.0], dtype=torch.float64)


def test_surrogate_matches_hand_computed_clipped_objective() -> None:
    """max(-Aρ, -A·clip(ρ,0.8,1.2)) per sample = [-0.5, 1.0, -2.4, 2.2]; mean 0.075."""
    loss = surrogate_loss(NEW_LOGP, OLD_LOGP, ADVANTAGES, clip=0.2)
    assert loss.item() == pytest.approx(0.075, abs=1e-12)


def test_clipped_value_loss_has_no_half_factor() -> None:
    """max((V-R)², (V_clip-R)²) = [1.69, 1, 1] with clip 0.2; mean 1.23, not 0.615."""
    loss = value_loss(VALUES, OLD_VALUES, RETURNS, clip=0.2)
    assert loss.item() == pytest.approx(1.23, abs=1e-12)


def test_unclipped_value_loss_is_plain_mse() -> None:
    """use_clipped_value_loss=False gives mean((V-R)²) = 1."""
    assert value_loss(VALUES, OLD_VALUES, RETURNS, 0.2, use_clipped_value_loss=False).item() == pytest.approx(
        1.0
    )


def _gaussians() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(0)
    old_mean = torch.randn(7, 29, generator=gen, dtype=torch.float64)
    new_mean = old_mean + 0.1 * torch.randn(7, 29, generator=gen, dtype=torch.float64)
    old_std = 0.05 + 0.2 * torch.rand(29, generator=gen, dtype=torch.float64)
    new_std = old_std * (1.0 + 0.3 * torch.rand(29, generator=gen, dtype=torch.float64))
    return old_mean, old_std, new_mean, new_std


def test_gaussian_kl_exact_matches_torch_distributions() -> None:
    """log_eps=0 gives KL(old‖new) = torch's kl_divergence summed over action dims."""
    old_mean, old_std, new_mean, new_std = _gaussians()
    ours = gaussian_kl(old_mean, old_std, new_mean, new_std, log_eps=0.0)
    ref = kl_divergence(
        Normal(old_mean, old_std.expand_as(old_mean)), Normal(new_mean, new_std.expand_as(new_mean))
    )
    torch.testing.assert_close(ours, ref.sum(-1))


def test_gaussian_kl_default_carries_sonic_log_epsilon() -> None:
    """SONIC's default adds 1e-5 inside the log: the difference is Σ log(σn/σo + 1e-5) - log(σn/σo)."""
    old_mean, old_std, new_mean, new_std = _gaussians()
    diff = gaussian_kl(old_mean, old_std, new_mean, new_std) - gaussian_kl(
        old_mean, old_std, new_mean, new_std, 0.0
    )
    ratio = new_std / old_std
    expected = (torch.log(ratio + 1e-5) - torch.log(ratio)).sum()
    torch.testing.assert_close(diff, expected.expand(7))


def test_gaussian_kl_of_identical_policies_is_zero() -> None:
    """KL(p‖p) = 0 exactly without the epsilon."""
    old_mean, old_std, _, _ = _gaussians()
    assert gaussian_kl(old_mean, old_std, old_mean, old_std, 0.0).abs().max().item() == 0.0


def test_gaussian_entropy_and_log_prob_match_torch() -> None:
    """Entropy Σ(½ + ½log2π + logσ) and log-density agree with torch.distributions.Normal."""
    old_mean, old_std, new_mean, _ = _gaussians()
    dist = Normal(old_mean, old_std.expand_as(old_mean))
    torch.testing.assert_close(gaussian_entropy(old_std, (7,)), dist.entropy().sum(-1))
    torch.testing.assert_close(
        gaussian_log_prob(new_mean, old_mean, old_std), dist.log_prob(new_mean).sum(-1)
    )
    assert gaussian_entropy(torch.ones(1, dtype=torch.float64)).item() == pytest.approx(
        0.5 + 0.5 * math.log(2 * math.pi)
    )


def test_total_loss_combines_terms_with_weights() -> None:
    """total = surrogate + vf·value - ent·mean(H) + aux_scale·Σ coef·aux."""
    entropy = torch.tensor([1.0, 3.0, 2.0, 2.0], dtype=torch.float64)
    aux = {
        "g1_recon": torch.tensor(4.0, dtype=torch.float64),
        "g1_smpl_latent": torch.tensor(0.5, dtype=torch.float64),
    }
    coefs = {"g1_recon": 0.01, "g1_smpl_latent": 1.0}
    terms = ppo_loss(
        new_log_probs=NEW_LOGP,
        old_log_probs=OLD_LOGP,
        advantages=ADVANTAGES,
        values=torch.cat([VALUES, VALUES[:1]]),
        old_values=torch.cat([OLD_VALUES, OLD_VALUES[:1]]),
        returns=torch.cat([RETURNS, RETURNS[:1]]),
        entropy=entropy,
        aux_losses=aux,
        aux_coefs=coefs,
        aux_scale=2.0,
    )
    value = (1.69 + 1.0 + 1.0 + 1.69) / 4
    expected = 0.075 + 1.0 * value - 0.01 * 2.0 + 2.0 * (0.01 * 4.0 + 0.5)
    assert terms.total.item() == pytest.approx(expected, abs=1e-12)
    assert terms.value.item() == pytest.approx(value)
    assert terms.entropy.item() == pytest.approx(2.0)
    assert terms.aux is not None and terms.aux.item() == pytest.approx(0.54)


def test_entropy_bonus_lowers_the_loss() -> None:
    """Gradient of the total w.r.t. entropy is -entropy_coef / B (loss -= 0.01·entropy)."""
    entropy = torch.full((4,), 1.0, dtype=torch.float64, requires_grad=True)
    terms = ppo_loss(
        new_log_probs=NEW_LOGP,
        old_log_probs=OLD_LOGP,
        advantages=ADVANTAGES,
        values=torch.zeros(4, dtype=torch.float64),
        old_values=torch.zeros(4, dtype=torch.float64),
        returns=torch.zeros(4, dtype=torch.float64),
        entropy=entropy,
    )
    terms.total.backward()
    assert entropy.grad is not None
    torch.testing.assert_close(entropy.grad, torch.full((4,), -0.01 / 4, dtype=torch.float64))


def test_aux_loss_without_coefficient_is_an_error() -> None:
    """An auxiliary loss missing from the coefficients is named in the KeyError."""
    with pytest.raises(KeyError, match="g1_soma_latent"):
        weighted_aux_loss({"g1_soma_latent": torch.tensor(1.0)}, {"g1_recon": 0.01})
