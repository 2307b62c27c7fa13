"""Capture and restore random-number-generator states as plain data, for resumable checkpoints.

A resume must continue the same random stream (FORMATS.md "Checkpoint file (ours)": ``training.rng``):
torch's CPU generator, every CUDA device's generator, numpy's global generator, Python's ``random``, and
any named ``torch.Generator`` the trainer owns (e.g. the minibatch shuffler). The captured state is made of
tensors, ints, floats, strings, lists and dicts only, so ``torch.load(weights_only=True)`` reads it back.

States are per process: under accelerate each rank captures its own (its seeds differ).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

__all__ = ["capture_rng_state", "restore_rng_state"]

_KEYS = ("torch_cpu", "torch_cuda", "numpy", "python", "generators")


def capture_rng_state(generators: Mapping[str, torch.Generator] | None = None) -> dict[str, Any]:
    """Snapshot every global RNG (and the given generators) as plain data.

    Args:
        generators: named extra generators owned by the caller.

    Returns:
        ``{"torch_cpu": uint8 tensor, "torch_cuda": [uint8 tensor per device], "numpy": {...},
        "python": {...}, "generators": {name: uint8 tensor}}``.
    """
    cuda = [s.clone() for s in torch.cuda.get_rng_state_all()] if torch.cuda.is_available() else []
    name, keys, pos, has_gauss, cached_gaussian = np.random.get_state(legacy=True)  # type: ignore[misc]  # noqa: NPY002
    version, internal, gauss_next = random.getstate()
    return {
        "torch_cpu": torch.get_rng_state().clone(),
        "torch_cuda": cuda,
        "numpy": {
            "name": str(name),
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64).copy()),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        },
        "python": {"version": int(version), "internal": list(internal), "gauss_next": gauss_next},
        "generators": {k: g.get_state().clone() for k, g in (generators or {}).items()},
    }


def restore_rng_state(
    state: Mapping[str, Any], generators: Mapping[str, torch.Generator] | None = None
) -> None:
    """Restore what :func:`capture_rng_state` captured.

    CUDA states are restored for the devices present (a resume on a machine with fewer GPUs keeps the
    first ones); every name in ``generators`` must have a saved state.

    Raises:
        KeyError: a part of the state is missing (the message names it and the keys present).
    """
    missing = [k for k in _KEYS if k not in state]
    if missing:
        raise KeyError(f"RNG state lacks {missing}; keys present: {sorted(state)}")
    torch.set_rng_state(state["torch_cpu"].cpu())
    if torch.cuda.is_available() and state["torch_cuda"]:
        count = min(torch.cuda.device_count(), len(state["torch_cuda"]))
        for device in range(count):
            torch.cuda.set_rng_state(state["torch_cuda"][device].cpu(), device)
    np_state = state["numpy"]
    np.random.set_state(  # noqa: NPY002 (the global generator is what we capture)
        (
            np_state["name"],
            np_state["keys"].cpu().numpy().astype(np.uint32),
            np_state["pos"],
            np_state["has_gauss"],
            np_state["cached_gaussian"],
        )
    )
    py_state = state["python"]
    random.setstate((py_state["version"], tuple(py_state["internal"]), py_state["gauss_next"]))
    saved = state["generators"]
    for name, generator in (generators or {}).items():
        if name not in saved:
            raise KeyError(f"RNG state has no generator {name!r}; saved generators: {sorted(saved)}")
        generator.set_state(saved[name].cpu())
