"""RNG capture/restore reproduces the same random draws, also through a weights-only checkpoint."""

# ruff: noqa: NPY002  (the legacy global numpy generator is exactly what rng.py captures)

from __future__ import annotations

import random

import numpy as np
import pytest
import torch

from sonic_train.checkpoint_io import atomic_torch_save
from sonic_train.rng import capture_rng_state, restore_rng_state


def _draw(gen: torch.Generator) -> tuple:
    return (
        torch.rand(5).tolist(),
        torch.randn(3).tolist(),
        np.random.rand(4).tolist(),
        np.random.normal(size=1).tolist(),  # exercises numpy's cached Gaussian
        [random.random() for _ in range(3)],
        random.gauss(0.0, 1.0),
        torch.randperm(10, generator=gen).tolist(),
    )


def test_restore_reproduces_draws_from_every_generator() -> None:
    """Draws after restore equal the draws made right after capture."""
    torch.manual_seed(1)
    np.random.seed(2)
    random.seed(3)
    gen = torch.Generator().manual_seed(4)
    np.random.normal()  # leave a cached Gaussian in numpy's state
    state = capture_rng_state({"minibatch": gen})
    first = _draw(gen)
    restore_rng_state(state, {"minibatch": gen})
    assert _draw(gen) == first


def test_state_survives_weights_only_checkpoint(tmp_path) -> None:
    """The captured state is plain data: it round-trips through torch.load(weights_only=True)."""
    gen = torch.Generator().manual_seed(9)
    state = capture_rng_state({"minibatch": gen})
    first = _draw(gen)
    path = atomic_torch_save({"rng": [state]}, tmp_path / "rng.pt")
    loaded = torch.load(path, weights_only=True)["rng"][0]
    restore_rng_state(loaded, {"minibatch": gen})
    assert _draw(gen) == first


def test_missing_parts_are_named() -> None:
    """A state without numpy, or without a requested generator, raises KeyError naming it."""
    state = capture_rng_state()
    with pytest.raises(KeyError, match="minibatch"):
        restore_rng_state(state, {"minibatch": torch.Generator()})
    del state["numpy"]
    with pytest.raises(KeyError, match="numpy"):
        restore_rng_state(state)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_restore_reproduces_cuda_draws() -> None:
    """CUDA generator states are captured per device and restored."""
    torch.cuda.manual_seed_all(11)
    state = capture_rng_state()
    first = torch.rand(16, device="cuda").cpu()
    restore_rng_state(state)
    assert torch.equal(torch.rand(16, device="cuda").cpu(), first)
