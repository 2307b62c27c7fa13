"""Configuration of the universal-token actor-critic and its auxiliary losses.

Defaults are SONIC's ``sonic_release`` values (SONIC_REFERENCE §9.1, config group
``actor_critic/universal_token/all_mlp_v1`` and ``aux_losses/universal_token/g1_recon_and_all_latent``).
Input and output widths are not here: they come from the :class:`~sonic_model.contract.ObservationContract`.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class AuxLossConfig(BaseModel):
    """Weights of the auxiliary losses (all MSE; total = PPO + Σ weight · loss; SONIC's aux_loss_scale is 1)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    g1_recon: float = Field(default=0.01, ge=0.0, description="g1_kin(token) vs the g1 reference, all envs.")
    g1_smpl_latent: float = Field(default=1.0, ge=0.0, description="g1 vs smpl pre-quantization latent.")
    g1_teleop_latent: float = Field(default=1.0, ge=0.0, description="g1 vs teleop latent.")
    teleop_smpl_latent: float = Field(default=1.0, ge=0.0, description="teleop vs smpl latent.")
    reencoded_smpl_g1_latent: float = Field(
        default=1.0, ge=0.0, description="g1 encoder of g1_kin's output vs the g1 latent, on smpl envs."
    )
    g1_soma_latent: float = Field(
        default=0.0, ge=0.0, description="g1 vs soma latent (sonic_bones_seed: 1.0)."
    )
    detach_teleop_target: bool = Field(
        default=False,
        description="Detach the teleop latent in teleop_smpl_latent. SONIC's config says True but its loss "
        "ignores it (FORMATS.md 'Quirks'), so the default trains both sides, as SONIC effectively does.",
    )


class ModelConfig(BaseModel):
    """Sizes and settings of :class:`~sonic_model.policy.UniversalTokenPolicy`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    encoders: tuple[str, ...] = Field(
        default=("g1", "teleop", "smpl"), description="Encoder names, in the contract's activation order."
    )
    encoder_hidden: tuple[int, ...] = Field(
        default=(2048, 1024, 512, 512), description="Every encoder's hidden widths."
    )
    fsq_levels: tuple[int, ...] = Field(default=(32,) * 32, description="FSQ levels per token dimension.")
    num_tokens: int = Field(
        default=2, ge=1, description="Tokens per encoding (latent = num_tokens x len(levels))."
    )
    g1_dyn_hidden: tuple[int, ...] = Field(
        default=(2048, 2048, 1024, 1024, 512, 512),
        description="Action decoder (token + proprioception) hidden widths.",
    )
    g1_kin_hidden: tuple[int, ...] = Field(
        default=(2048, 1024, 512, 512),
        description="Kinematic decoder (token -> future G1 motion) hidden widths.",
    )
    critic_hidden: tuple[int, ...] = Field(
        default=(2048, 2048, 1024, 1024, 512, 512), description="Critic hidden widths."
    )
    init_std: float = Field(
        default=0.05, gt=0.0, description="Initial action std (a parameter, not log-std)."
    )
    std_min: float = Field(default=0.001, gt=0.0, description="Lower clamp of std after each optimiser step.")
    std_max: float = Field(default=0.5, gt=0.0, description="Upper clamp of std after each optimiser step.")
    critic_norm_eps: float = Field(default=1e-5, gt=0.0, description="Critic normaliser epsilon.")
    critic_norm_clip: float = Field(default=5.0, gt=0.0, description="Critic normaliser output clip.")
    learning_encoder_compute: Literal["dense", "gather"] = Field(
        default="dense",
        description="How evaluate() runs encoders on the envs that activate them: 'dense' runs every "
        "encoder on every env and masks (static shapes; CUDA-graph and torch.compile friendly); 'gather' "
        "runs each encoder only on its active envs (fewer FLOPs; one host sync per encoder). "
        "Losses and gradients are the same either way.",
    )
    aux: AuxLossConfig = Field(default_factory=AuxLossConfig, description="Auxiliary loss weights.")

    @property
    def token_dim(self) -> int:
        """Width of one token (number of FSQ dimensions)."""
        return len(self.fsq_levels)

    @property
    def latent_dim(self) -> int:
        """Width of a flattened encoding: num_tokens x token_dim (SONIC: 64)."""
        return self.num_tokens * self.token_dim

    @model_validator(mode="after")
    def _check(self) -> ModelConfig:
        if not self.encoders or len(set(self.encoders)) != len(self.encoders):
            raise ValueError(f"ModelConfig.encoders: need distinct names, got {list(self.encoders)}")
        if "g1" not in self.encoders:
            raise ValueError(
                "ModelConfig.encoders: the g1 encoder is required (aux losses and g1_kin use it)"
            )
        if self.std_min > self.std_max or not self.std_min <= self.init_std <= self.std_max:
            raise ValueError(
                f"ModelConfig: need std_min <= init_std <= std_max, got {self.std_min}, {self.init_std}, {self.std_max}"
            )
        if any(v < 3 for v in self.fsq_levels) or not self.fsq_levels:
            raise ValueError(f"ModelConfig.fsq_levels: every level must be >= 3, got {list(self.fsq_levels)}")
        for field in ("encoder_hidden", "g1_dyn_hidden", "g1_kin_hidden", "critic_hidden"):
            if any(w <= 0 for w in getattr(self, field)):
                raise ValueError(f"ModelConfig.{field}: widths must be positive")
        if self.aux.g1_soma_latent > 0 and "soma" not in self.encoders:
            raise ValueError("ModelConfig.aux.g1_soma_latent > 0 needs a 'soma' encoder")
        return self

    def codebook_size_log2(self) -> float:
        """log2 of the number of distinct codes per token (SONIC: 160 bits)."""
        return sum(math.log2(v) for v in self.fsq_levels)
