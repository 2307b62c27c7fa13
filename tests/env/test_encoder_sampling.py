"""Per-episode encoder masks follow SONIC_REFERENCE §1.3: renormalisation, co-activation and the resulting rates.

Rates are checked on 60,000 draws with a fixed seed against §1.3's closed forms; the tolerance (0.01)
is about 5 standard errors.
"""

from __future__ import annotations

import pytest
import torch

from sonic_env.mdp.encoder_sampling import base_probabilities, encoder_probabilities, sample_encoder_mask

RELEASE = ("g1", "teleop", "smpl")
BONES_SEED = ("g1", "teleop", "smpl", "soma")
N = 60_000
TOL = 0.01


def _driver(mask: torch.Tensor) -> torch.Tensor:
    """Index of the last active encoder (the one whose token drives the action)."""
    order = torch.arange(mask.shape[1])
    return torch.where(mask, order, -1).max(-1).values


def test_probabilities_zero_absent_modalities_and_renormalise() -> None:
    """sonic_release, all 1.0: with SMPL 1/3 each; without SMPL g1 and teleop 1/2."""
    probs = encoder_probabilities(
        torch.ones(3, dtype=torch.float64), RELEASE, torch.tensor([True, False]), torch.tensor([False, False])
    )
    torch.testing.assert_close(probs, torch.tensor([[1 / 3] * 3, [0.5, 0.5, 0.0]], dtype=torch.float64))


def test_probabilities_use_unequal_weights() -> None:
    """Weights (2, 1, 1, 4) on a clip with SOMA but no SMPL → (2, 1, 0, 4) / 7."""
    probs = encoder_probabilities(
        torch.tensor([2.0, 1.0, 1.0, 4.0], dtype=torch.float64),
        BONES_SEED,
        torch.tensor([False]),
        torch.tensor([True]),
    )
    torch.testing.assert_close(probs, torch.tensor([[2 / 7, 1 / 7, 0.0, 4 / 7]], dtype=torch.float64))


def test_release_rates_match_section_1_3() -> None:
    """Clips with SMPL: each encoder drives 1/3; smpl always brings g1 and, half the time, teleop."""
    gen = torch.Generator().manual_seed(0)
    probs = encoder_probabilities(torch.ones(3, dtype=torch.float64), RELEASE, torch.ones(N, dtype=torch.bool),
                                  torch.zeros(N, dtype=torch.bool))  # fmt: skip
    mask = sample_encoder_mask(probs, RELEASE, generator=gen)
    drives = torch.bincount(_driver(mask), minlength=3).double() / N
    torch.testing.assert_close(drives, torch.full((3,), 1 / 3, dtype=torch.float64), atol=TOL, rtol=0)
    smpl = mask[:, 2]
    assert mask[smpl, 0].all()
    assert float(mask[smpl, 1].double().mean()) == pytest.approx(0.5, abs=TOL)
    # Without smpl drawn the mask is one-hot.
    assert (mask[~smpl].sum(-1) == 1).all()
    # Marginals: g1 2/3, teleop 1/3 + 1/6 = 1/2, smpl 1/3.
    active = mask.double().mean(0)
    torch.testing.assert_close(
        active, torch.tensor([2 / 3, 0.5, 1 / 3], dtype=torch.float64), atol=TOL, rtol=0
    )


def test_release_clips_without_smpl_split_between_g1_and_teleop() -> None:
    """No SMPL data: smpl is never active; g1 and teleop each 1/2, one-hot."""
    gen = torch.Generator().manual_seed(1)
    probs = encoder_probabilities(torch.ones(3, dtype=torch.float64), RELEASE, torch.zeros(N, dtype=torch.bool),
                                  torch.zeros(N, dtype=torch.bool))  # fmt: skip
    mask = sample_encoder_mask(probs, RELEASE, generator=gen)
    assert not mask[:, 2].any()
    assert (mask.sum(-1) == 1).all()
    assert float(mask[:, 0].double().mean()) == pytest.approx(0.5, abs=TOL)


def test_bones_seed_soma_brings_g1_along() -> None:
    """All four encoders available: each drives 1/4; a drawn soma also activates g1 (never teleop)."""
    gen = torch.Generator().manual_seed(2)
    ones = torch.ones(N, dtype=torch.bool)
    probs = encoder_probabilities(torch.ones(4, dtype=torch.float64), BONES_SEED, ones, ones)
    mask = sample_encoder_mask(probs, BONES_SEED, generator=gen)
    drives = torch.bincount(_driver(mask), minlength=4).double() / N
    torch.testing.assert_close(drives, torch.full((4,), 0.25, dtype=torch.float64), atol=TOL, rtol=0)
    soma = _driver(mask) == 3
    assert mask[soma, 0].all() and not mask[soma, 1].any() and not mask[soma, 2].any()


def test_use_encoder_forces_one_hot_masks() -> None:
    """use_encoder='teleop' gives probability 1 to teleop, and no co-activation."""
    base = base_probabilities(RELEASE, None, "teleop")
    torch.testing.assert_close(base, torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64))
    probs = encoder_probabilities(
        base, RELEASE, torch.ones(100, dtype=torch.bool), torch.zeros(100, dtype=torch.bool)
    )
    mask = sample_encoder_mask(probs, RELEASE, coactivate=False, generator=torch.Generator().manual_seed(0))
    assert mask[:, 1].all() and mask.sum() == 100


def test_base_probabilities_must_name_the_contracts_encoders() -> None:
    """A probability dict without soma for a bones_seed contract fails, naming both lists."""
    with pytest.raises(ValueError, match="soma"):
        base_probabilities(BONES_SEED, {"g1": 1.0, "teleop": 1.0, "smpl": 1.0}, None)
    with pytest.raises(ValueError, match="use_encoder"):
        base_probabilities(RELEASE, None, "soma")
    torch.testing.assert_close(
        base_probabilities(RELEASE, {"smpl": 2.0, "g1": 1.0, "teleop": 0.5}, None),
        torch.tensor([1.0, 0.5, 2.0], dtype=torch.float64),
    )
