"""Moving observation values between the contract's orders: term dicts, file order, network order.

* A **term dict** maps tokenizer term names to tensors (num_envs, *shape) or (num_envs, size): what
  the env hands over.
* The **file order** is the flat tokenizer vector of exported files (``contract.tokenizer`` order).
* The **network order** is what an encoder's first Linear layer sees: its input terms concatenated on
  the last dimension, row by row for temporal encoders (SONIC_REFERENCE §2.1), then flattened.

All functions are reshapes, concatenations and fixed gathers: static shapes, no host sync.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from sonic_model.contract import ObservationContract


def _term_view(contract: ObservationContract, name: str, terms: Mapping[str, Tensor]) -> Tensor:
    term = contract.tokenizer_term(name)
    if name not in terms:
        raise KeyError(f"observation term {name!r} is missing; got terms {sorted(terms)}")
    x = terms[name]
    if x.ndim < 1 or x[0].numel() != term.size:
        raise ValueError(
            f"observation term {name!r}: expected (num_envs, {term.size}) or (num_envs, *{term.shape}), "
            f"got shape {tuple(x.shape)}"
        )
    return x.reshape(x.shape[0], term.size)


def encoder_input(contract: ObservationContract, encoder: str, terms: Mapping[str, Tensor]) -> Tensor:
    """Assemble encoder ``encoder``'s network input (num_envs, width) from a term dict.

    Works for ``contract.kinematic_target.name`` too (the g1_kin reconstruction target).
    """
    spec = contract.encoder(encoder)
    parts = [_term_view(contract, name, terms) for name in spec.inputs]
    n = parts[0].shape[0]
    if spec.rows is None:
        return torch.cat(parts, dim=-1)
    return torch.cat([p.reshape(n, spec.rows, -1) for p in parts], dim=-1).reshape(n, -1)


def split_encoder_input(contract: ObservationContract, encoder: str, x: Tensor) -> dict[str, Tensor]:
    """Inverse of :func:`encoder_input`: network-order (num_envs, width) back to ``{term: (num_envs, *shape)}``."""
    spec = contract.encoder(encoder)
    sizes = [contract.tokenizer_term(t).size for t in spec.inputs]
    n = x.shape[0]
    if spec.rows is None:
        chunks = torch.split(x, sizes, dim=-1)
    else:
        chunks = torch.split(x.reshape(n, spec.rows, -1), [s // spec.rows for s in sizes], dim=-1)
    return {
        t: c.reshape(n, *contract.tokenizer_term(t).shape) for t, c in zip(spec.inputs, chunks, strict=True)
    }


def split_tokenizer_vector(contract: ObservationContract, vec: Tensor) -> dict[str, Tensor]:
    """Cut a file-order vector (num_envs, tokenizer_width) into ``{term: (num_envs, *shape)}``."""
    if vec.shape[-1] != contract.tokenizer_width:
        raise ValueError(
            f"tokenizer vector of contract {contract.name!r}: expected width {contract.tokenizer_width}, "
            f"got shape {tuple(vec.shape)}"
        )
    sizes = [t.size for t in contract.tokenizer]
    chunks = torch.split(vec, sizes, dim=-1)
    return {
        t.name: c.reshape(vec.shape[0], *t.shape) for t, c in zip(contract.tokenizer, chunks, strict=True)
    }


def join_tokenizer_vector(contract: ObservationContract, terms: Mapping[str, Tensor]) -> Tensor:
    """Build a file-order vector (num_envs, tokenizer_width) from a term dict holding every tokenizer term."""
    return torch.cat([_term_view(contract, t.name, terms) for t in contract.tokenizer], dim=-1)


def tokenizer_to_network_index(contract: ObservationContract, encoder: str) -> Tensor:
    """Long tensor ``idx`` (width,) such that ``network_input = file_vector[..., idx]`` for ``encoder``.

    Exporters use this fixed gather to turn the file order into the network order inside the graph.
    """
    positions = torch.arange(contract.tokenizer_width, dtype=torch.float64).unsqueeze(0)
    return encoder_input(contract, encoder, split_tokenizer_vector(contract, positions))[0].to(torch.int64)


def encoder_input_from_tokenizer(contract: ObservationContract, encoder: str, vec: Tensor) -> Tensor:
    """Network input (num_envs, width) of ``encoder`` from a file-order vector (num_envs, tokenizer_width)."""
    return encoder_input(contract, encoder, split_tokenizer_vector(contract, vec))
