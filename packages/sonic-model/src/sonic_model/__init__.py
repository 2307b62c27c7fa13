"""sonic_model: SONIC's universal-token policy as plain torch modules (see packages/sonic-model/README.md).

Depends on torch and pydantic only: no simulator, no robot files.
"""

from __future__ import annotations

from sonic_model.aux_losses import (
    compute_aux_losses,
    g1_recon_loss,
    latent_alignment_loss,
    masked_mse,
    weighted_aux_loss,
)
from sonic_model.checkpoint import (
    FORMAT_VERSION,
    CheckpointError,
    LoadedPolicy,
    load_policy,
    policy_checkpoint,
    policy_from_checkpoint,
    save_policy,
)
from sonic_model.config import AuxLossConfig, ModelConfig
from sonic_model.contract import ContractMismatchError, EncoderInputs, ObservationContract, ObservationTerm
from sonic_model.critic import Critic
from sonic_model.fsq import FSQ, FSQUsage, fsq_usage
from sonic_model.g1_contracts import sonic_bones_seed_contract, sonic_release_contract
from sonic_model.layout import (
    encoder_input,
    encoder_input_from_tokenizer,
    join_tokenizer_vector,
    split_encoder_input,
    split_tokenizer_vector,
    tokenizer_to_network_index,
)
from sonic_model.mlp import MLP, count_parameters
from sonic_model.normalizer import RunningMeanStd
from sonic_model.policy import ActOutput, EvaluateOutput, UniversalTokenPolicy
from sonic_model.policy_io import PolicyIO
from sonic_model.presets import PRESETS, Preset, format_parameter_counts, preset

__version__ = "0.1.0"

__all__ = [
    "FORMAT_VERSION",
    "MLP",
    "PRESETS",
    "ActOutput",
    "AuxLossConfig",
    "CheckpointError",
    "ContractMismatchError",
    "Critic",
    "EncoderInputs",
    "EvaluateOutput",
    "FSQ",
    "FSQUsage",
    "LoadedPolicy",
    "ModelConfig",
    "ObservationContract",
    "ObservationTerm",
    "PolicyIO",
    "Preset",
    "RunningMeanStd",
    "UniversalTokenPolicy",
    "compute_aux_losses",
    "count_parameters",
    "encoder_input",
    "encoder_input_from_tokenizer",
    "format_parameter_counts",
    "fsq_usage",
    "g1_recon_loss",
    "join_tokenizer_vector",
    "latent_alignment_loss",
    "load_policy",
    "masked_mse",
    "policy_checkpoint",
    "policy_from_checkpoint",
    "preset",
    "save_policy",
    "sonic_bones_seed_contract",
    "sonic_release_contract",
    "split_encoder_input",
    "split_tokenizer_vector",
    "tokenizer_to_network_index",
    "weighted_aux_loss",
]
