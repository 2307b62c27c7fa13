"""The torch modules traced into ONNX: one per file kind, each taking ``obs_dict`` (1, W) in file order.

They reuse the policy's own parts (encoder MLPs, FSQ, ``g1_dyn``) and add only the constant gathers
from file order to network order (:mod:`sonic_export.layout`) and, for the encoder file, SONIC's
selection by ``mode_id``. The action is the deterministic mean, as SONIC exports it; clipping and
scaling stay on the deploy side (``PolicyIO`` in the metadata says how).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from sonic_model import UniversalTokenPolicy


class EncoderDecoderGraph(nn.Module):
    """``<name>_<encoder>.onnx``: [encoder terms (file order) | proprioception] (1, W) -> action (1, 29).

    Args:
        policy: the policy whose parts are traced.
        encoder: encoder name.
        network_index: (encoder input width,) file columns of the encoder's network-order input.
        terms_width: number of leading columns that hold the encoder's terms (the rest is proprioception).
    """

    network_index: Tensor

    def __init__(
        self, policy: UniversalTokenPolicy, encoder: str, network_index: Tensor, terms_width: int
    ) -> None:
        super().__init__()
        self.policy = policy
        self.encoder = encoder
        self.terms_width = terms_width
        self.register_buffer("network_index", network_index.clone(), persistent=False)

    def forward(self, obs_dict: Tensor) -> Tensor:
        """Action mean (1, num_actions) from ``obs_dict`` (1, W)."""
        x = obs_dict.index_select(1, self.network_index)
        _, token = self.policy.encode(self.encoder, x)
        return self.policy.decode(token, obs_dict[:, self.terms_width :])


class EncoderGraph(nn.Module):
    """``<name>_encoder.onnx``: tokenizer vector (1, W) with ``mode_id`` first -> ``encoded_tokens`` (1, 64).

    Every encoder runs; the output is ``sum_i onehot(mode_id)_i * token_i`` (SONIC's weighted sum),
    with ``mode_id`` cast to an integer (truncation) and compared to 0..n_encoders-1, so an
    out-of-range id yields the zero token.

    Args:
        policy: the policy whose parts are traced.
        network_indices: per encoder (in the contract's order), its (input width,) file columns.
    """

    def __init__(self, policy: UniversalTokenPolicy, network_indices: list[Tensor]) -> None:
        super().__init__()
        self.policy = policy
        self.names = policy.encoder_names
        for i, idx in enumerate(network_indices):
            self.register_buffer(f"index_{i}", idx.clone(), persistent=False)
        self.register_buffer(
            "mode_values", torch.arange(len(self.names), dtype=torch.int64).unsqueeze(0), persistent=False
        )

    def forward(self, obs_dict: Tensor) -> Tensor:
        """Token (1, latent_dim) of the encoder named by ``obs_dict[:, 0]``."""
        mode = obs_dict[:, 0:1].to(torch.int64)
        weights = (mode == self.get_buffer("mode_values")).to(obs_dict.dtype)  # (1, n_encoders)
        out = torch.zeros(obs_dict.shape[0], self.policy.latent_dim, dtype=obs_dict.dtype)
        for i, name in enumerate(self.names):
            _, token = self.policy.encode(name, obs_dict.index_select(1, self.get_buffer(f"index_{i}")))
            out = out + weights[:, i : i + 1] * token
        return out


class DecoderGraph(nn.Module):
    """``<name>_decoder.onnx``: [token 64 | proprioception 930] (1, 994) -> action (1, 29)."""

    def __init__(self, policy: UniversalTokenPolicy) -> None:
        super().__init__()
        self.policy = policy
        self.latent_dim = policy.latent_dim

    def forward(self, obs_dict: Tensor) -> Tensor:
        """Action mean (1, num_actions) from ``obs_dict`` (1, latent_dim + proprioception width)."""
        return self.policy.decode(obs_dict[:, : self.latent_dim], obs_dict[:, self.latent_dim :])
