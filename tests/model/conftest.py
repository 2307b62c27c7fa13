"""Shared fixtures for sonic_model tests: small policies and random observations in the contract's shapes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import torch

from sonic_model import ObservationContract, UniversalTokenPolicy, preset

MASK_ROWS = [
    [1, 0, 0],  # g1 only
    [0, 1, 0],  # teleop only
    [1, 0, 1],  # smpl with g1 co-active
    [1, 1, 1],  # smpl with g1 and teleop co-active
    [1, 1, 0],  # g1 + teleop
    [0, 0, 1],  # smpl alone
]
"""Encoder masks covering SONIC's co-activation patterns (and two it never draws)."""


def random_terms(contract: ObservationContract, n: int, gen: torch.Generator) -> dict[str, torch.Tensor]:
    """Every env-produced tokenizer term, standard normal, shaped (n, *shape)."""
    return {t.name: torch.randn(n, *t.shape, generator=gen) for t in contract.tokenizer if not t.file_only}


@pytest.fixture
def make_batch() -> Callable[..., tuple[dict[str, torch.Tensor], torch.Tensor, torch.Tensor, torch.Tensor]]:
    """Factory: (terms, proprio, critic_obs, actions) for ``n`` envs of ``contract``, seeded."""

    def make(contract: ObservationContract, n: int, seed: int = 0):
        gen = torch.Generator().manual_seed(seed)
        terms = random_terms(contract, n, gen)
        proprio = torch.randn(n, contract.proprioception_width, generator=gen)
        critic_obs = torch.randn(n, contract.critic_width, generator=gen)
        actions = torch.randn(n, contract.num_actions, generator=gen) * 0.05
        return terms, proprio, critic_obs, actions

    return make


@pytest.fixture
def small_policy() -> UniversalTokenPolicy:
    """The ``small`` preset (sonic_release layout), seeded."""
    torch.manual_seed(0)
    p = preset("small")
    return UniversalTokenPolicy(p.model, p.contract)


@pytest.fixture
def mask() -> torch.Tensor:
    """(6, 3) bool mask, one row per pattern of MASK_ROWS."""
    return torch.tensor(MASK_ROWS, dtype=torch.bool)
