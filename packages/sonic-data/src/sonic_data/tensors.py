"""Small constant tensors built once per (values, dtype, device).

Per-step code (rotation helpers, observation terms) needs constant tables and index lists on the
simulation's device; building them on every call would upload them on every call (a host-to-device copy
on CUDA). Callers must not modify the returned tensors: they are shared.
"""

from __future__ import annotations

import functools
from typing import Any

import torch
from torch import Tensor

__all__ = ["cached_tensor"]


@functools.cache
def cached_tensor(values: tuple[Any, ...], dtype: torch.dtype, device: torch.device) -> Tensor:
    """``torch.tensor(values, dtype, device)``, built once per argument triple (``values`` nested tuples)."""
    return torch.tensor(values, dtype=dtype, device=device)
