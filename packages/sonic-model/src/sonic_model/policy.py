"""SONIC's universal-token actor-critic.

Every motion modality has its own encoder (g1 robot motion, teleop VR 3-point, smpl, soma); each maps
its reference observations to a pre-quantization latent (num_envs, 64) that FSQ rounds to a token
(2 tokens x 32 dims). The ``g1_dyn`` decoder turns token + proprioception into the mean of a diagonal
Gaussian over the 29 joint actions; ``g1_kin`` decodes the token back to the g1 reference (auxiliary
reconstruction); a critic estimates the value from privileged observations (SONIC_REFERENCE §9.1).

Which encoders run is a per-env boolean mask (num_envs, n_encoders) in the contract's encoder order
(g1, teleop, smpl[, soma]); SONIC co-activates encoders so the alignment losses see pairs, and the
**last active** encoder's token drives the action (§1.3, FORMATS.md "Policy border"). An env with no
active encoder gets a zero token (the env never produces one; checking would need a host sync).

Static shapes throughout the rollout path: :meth:`UniversalTokenPolicy.act` runs every encoder on every
env and selects per env with ``torch.where`` (no boolean indexing, no ``.item()``), so it can be
captured in a CUDA graph or compiled. :meth:`evaluate` (learning path) zeroes the latents of inactive
encoders, either densely (default) or by running each encoder only on its active envs
(``learning_encoder_compute='gather'``); inactive encoders never change losses or gradients. The
inputs of inactive encoders must be finite (the env fills them with zeros), since the dense path
multiplies them by zero gradients.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from sonic_model.config import ModelConfig
from sonic_model.contract import ObservationContract
from sonic_model.critic import Critic
from sonic_model.fsq import FSQ
from sonic_model.layout import encoder_input
from sonic_model.mlp import MLP, count_parameters

_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)
Terms = Mapping[str, Tensor]


@dataclass(frozen=True)
class ActOutput:
    """Result of :meth:`UniversalTokenPolicy.act` (all detached).

    Attributes:
        actions: (num_envs, num_actions) sampled actions.
        log_prob: (num_envs,) log-density of ``actions``.
        mean: (num_envs, num_actions) action mean.
        std: (num_envs, num_actions) action std (a broadcast view of the parameter).
        value: (num_envs, 1) critic value, if critic observations were given.
    """

    actions: Tensor
    log_prob: Tensor
    mean: Tensor
    std: Tensor
    value: Tensor | None


@dataclass(frozen=True)
class EvaluateOutput:
    """Result of :meth:`UniversalTokenPolicy.evaluate` (with gradients) and what the aux losses need.

    Attributes:
        log_prob: (num_envs,) log-density of the given actions.
        entropy: (num_envs,) entropy of the action distribution.
        mean: (num_envs, num_actions) action mean.
        std: (num_envs, num_actions) action std.
        value: (num_envs, 1) critic value, if critic observations were given.
        mask: (num_envs, n_encoders) bool encoder mask.
        latents: per encoder, (num_envs, latent_dim) pre-quantization latent, zero rows where inactive.
        token: (num_envs, latent_dim) quantized latent of the last active encoder.
        kin_pred: (num_envs, kin_width) ``g1_kin(token)``, or None if no aux loss needs it.
        kin_target: (num_envs, kin_width) the g1 reference in g1_kin's layout, or None likewise.
        reencoded_g1_latent: (num_envs, latent_dim) g1 encoder of ``kin_pred`` on envs where g1 and smpl
            are active (zero elsewhere), or None when ``reencoded_smpl_g1_latent`` is off.
    """

    log_prob: Tensor
    entropy: Tensor
    mean: Tensor
    std: Tensor
    value: Tensor | None
    mask: Tensor
    latents: dict[str, Tensor]
    token: Tensor
    kin_pred: Tensor | None
    kin_target: Tensor | None
    reencoded_g1_latent: Tensor | None


class UniversalTokenPolicy(nn.Module):
    """Encoders -> FSQ token -> decoders, plus the action std and the critic.

    Args:
        config: network sizes and settings.
        contract: the observation layout (input widths, encoder order, action joints).
        with_critic: build the critic (False for deployment-only loading).

    Parameter names: ``encoders.<name>.module.<i>.*``, ``decoders.{g1_dyn,g1_kin}.module.<i>.*``, ``std``
    (the actor, see :meth:`actor_state_dict`) and ``critic.{module.<i>.*,normalizer.*}``.
    """

    def __init__(self, config: ModelConfig, contract: ObservationContract, with_critic: bool = True) -> None:
        super().__init__()
        if tuple(config.encoders) != contract.encoder_names:
            raise ValueError(
                f"UniversalTokenPolicy: config encoders {list(config.encoders)} differ from contract "
                f"{contract.name!r} encoders {list(contract.encoder_names)} (same names, same order)"
            )
        self.config = config
        self.contract = contract
        self.encoder_names: tuple[str, ...] = contract.encoder_names
        self.num_actions = contract.num_actions
        self.latent_dim = config.latent_dim
        self.kin_name = contract.kinematic_target.name
        self.encoders = nn.ModuleDict(
            {
                n: MLP(contract.input_width(n), config.encoder_hidden, config.latent_dim)
                for n in self.encoder_names
            }
        )
        self.decoders = nn.ModuleDict(
            {
                "g1_dyn": MLP(
                    config.latent_dim + contract.proprioception_width, config.g1_dyn_hidden, self.num_actions
                ),
                "g1_kin": MLP(config.latent_dim, config.g1_kin_hidden, contract.input_width(self.kin_name)),
            }
        )
        self.quantizer = FSQ(config.fsq_levels)
        self.std = nn.Parameter(torch.full((self.num_actions,), config.init_std))
        self.critic: Critic | None = (
            Critic(
                contract.critic_width, config.critic_hidden, config.critic_norm_eps, config.critic_norm_clip
            )
            if with_critic
            else None
        )

    # ---- building blocks -----------------------------------------------------------------------

    def encoder_input(self, name: str, terms: Terms) -> Tensor:
        """Network-order input (num_envs, width) of encoder ``name`` from a term dict."""
        return encoder_input(self.contract, name, terms)

    def quantize(self, latent: Tensor) -> Tensor:
        """FSQ-quantize latents (num_envs, latent_dim) token-wise; same shape out."""
        n = latent.shape[0]
        return self.quantizer(latent.reshape(n, self.config.num_tokens, self.config.token_dim)).reshape(n, -1)

    def encode(self, name: str, obs: Tensor | Terms) -> tuple[Tensor, Tensor]:
        """Run encoder ``name`` on every env.

        Args:
            name: encoder name.
            obs: its network-order input (num_envs, width) or a term dict.

        Returns:
            (latent, token), both (num_envs, latent_dim): the pre-quantization latent and its FSQ token.
        """
        x = obs if isinstance(obs, Tensor) else self.encoder_input(name, obs)
        latent = self.encoders[name](x)
        return latent, self.quantize(latent)

    def decode(self, token: Tensor, proprio: Tensor) -> Tensor:
        """Action mean (num_envs, num_actions) from tokens (num_envs, latent_dim) + proprioception (num_envs, 930)."""
        return self.decoders["g1_dyn"](torch.cat([token, proprio], dim=-1))

    def decode_kinematics(self, token: Tensor) -> Tensor:
        """Future g1 motion (num_envs, kin_width) in the g1 encoder's network order, from tokens."""
        return self.decoders["g1_kin"](token)

    def _mask(self, mask: Tensor, num_envs: int) -> Tensor:
        if mask.shape != (num_envs, len(self.encoder_names)):
            raise ValueError(
                f"encoder mask: expected shape ({num_envs}, {len(self.encoder_names)}) for encoders "
                f"{list(self.encoder_names)}, got {tuple(mask.shape)}"
            )
        return mask if mask.dtype == torch.bool else mask != 0

    def _select_last_active(self, per_encoder: list[Tensor], mask: Tensor) -> Tensor:
        """Per env, the row of the last encoder whose mask column is set (zeros if none)."""
        out = torch.zeros_like(per_encoder[0])
        for i, value in enumerate(per_encoder):
            out = torch.where(mask[:, i : i + 1], value, out)
        return out

    def _gaussian(self, mean: Tensor) -> Tensor:
        return self.std.expand_as(mean)

    @staticmethod
    def log_prob(actions: Tensor, mean: Tensor, std: Tensor) -> Tensor:
        """Diagonal-Gaussian log-density (num_envs,) summed over action dims."""
        z = (actions - mean) / std
        return (-0.5 * z * z - torch.log(std) - _HALF_LOG_2PI).sum(dim=-1)

    @staticmethod
    def entropy(std: Tensor) -> Tensor:
        """Diagonal-Gaussian entropy (num_envs,) summed over action dims."""
        return (0.5 + _HALF_LOG_2PI + torch.log(std)).sum(dim=-1)

    # ---- rollout ------------------------------------------------------------------------------

    def _dense_mean(self, terms: Terms, mask: Tensor, proprio: Tensor) -> Tensor:
        n = proprio.shape[0]
        mask = self._mask(mask, n)
        latents = [self.encoders[name](self.encoder_input(name, terms)) for name in self.encoder_names]
        token = self.quantize(self._select_last_active(latents, mask))
        return self.decode(token, proprio)

    @torch.no_grad()
    def act(self, terms: Terms, mask: Tensor, proprio: Tensor, critic_obs: Tensor | None = None) -> ActOutput:
        """Sample actions for a rollout step (no gradients, static shapes, no host sync).

        Args:
            terms: tokenizer term dict, each (num_envs, *shape).
            mask: (num_envs, n_encoders) bool (or 0/1) encoder mask.
            proprio: (num_envs, proprioception_width) decoder proprioception.
            critic_obs: optional (num_envs, critic_width); if given, the value is returned too.
        """
        mean = self._dense_mean(terms, mask, proprio)
        std = self._gaussian(mean)
        actions = mean + std * torch.randn_like(mean)
        value = self.value(critic_obs) if critic_obs is not None else None
        return ActOutput(actions, self.log_prob(actions, mean, std), mean, std, value)

    @torch.no_grad()
    def act_inference(self, terms: Terms, mask: Tensor, proprio: Tensor) -> Tensor:
        """Deterministic action (the mean), (num_envs, num_actions): eval and export use this."""
        return self._dense_mean(terms, mask, proprio)

    # ---- learning -----------------------------------------------------------------------------

    def _masked_latent(self, name: str, x: Tensor, active: Tensor) -> Tensor:
        """Encoder ``name`` on the envs where ``active`` (num_envs,) is set; zero rows elsewhere."""
        encoder = self.encoders[name]
        if self.config.learning_encoder_compute == "dense":
            return torch.where(active.unsqueeze(-1), encoder(x), 0.0)
        idx = active.nonzero().squeeze(-1)
        out = x.new_zeros(x.shape[0], self.latent_dim)
        return out.index_copy(0, idx, encoder(x.index_select(0, idx)))

    def evaluate(
        self, terms: Terms, mask: Tensor, proprio: Tensor, actions: Tensor, critic_obs: Tensor | None = None
    ) -> EvaluateOutput:
        """Log-prob, entropy and value for stored actions, plus the tensors the aux losses need.

        Args as in :meth:`act`, and ``actions`` (num_envs, num_actions) taken in the rollout.
        """
        n = proprio.shape[0]
        mask = self._mask(mask, n)
        latents = {
            name: self._masked_latent(name, self.encoder_input(name, terms), mask[:, i])
            for i, name in enumerate(self.encoder_names)
        }
        token = self.quantize(self._select_last_active([latents[k] for k in self.encoder_names], mask))
        mean = self.decode(token, proprio)
        std = self._gaussian(mean)
        aux = self.config.aux
        kin_pred = kin_target = reencoded = None
        if aux.g1_recon > 0 or aux.reencoded_smpl_g1_latent > 0:
            kin_pred = self.decode_kinematics(token)
            kin_target = encoder_input(self.contract, self.kin_name, terms)
        if aux.reencoded_smpl_g1_latent > 0 and "smpl" in self.encoder_names and kin_pred is not None:
            both = mask[:, self.encoder_names.index("g1")] & mask[:, self.encoder_names.index("smpl")]
            reencoded = self._masked_latent("g1", kin_pred, both)
        return EvaluateOutput(
            log_prob=self.log_prob(actions, mean, std),
            entropy=self.entropy(std),
            mean=mean,
            std=std,
            value=self.value(critic_obs) if critic_obs is not None else None,
            mask=mask,
            latents=latents,
            token=token,
            kin_pred=kin_pred,
            kin_target=kin_target,
            reencoded_g1_latent=reencoded,
        )

    def value(self, critic_obs: Tensor) -> Tensor:
        """Critic value (num_envs, 1); normaliser statistics are not updated."""
        if self.critic is None:
            raise RuntimeError("UniversalTokenPolicy was built without a critic (with_critic=False)")
        return self.critic(critic_obs)

    @torch.no_grad()
    def update_critic_normalizer(self, critic_obs: Tensor) -> None:
        """Merge a batch of critic observations (..., critic_width) into the normaliser's statistics."""
        if self.critic is None:
            raise RuntimeError("UniversalTokenPolicy was built without a critic (with_critic=False)")
        self.critic.normalizer.update(critic_obs)

    @torch.no_grad()
    def clamp_std_(self) -> None:
        """Clamp ``std`` in place to [std_min, std_max]; the trainer calls this after every optimiser step."""
        self.std.clamp_(self.config.std_min, self.config.std_max)

    # ---- state --------------------------------------------------------------------------------

    def actor_state_dict(self) -> dict[str, Tensor]:
        """Encoders, decoders and ``std`` (no critic): the ``policy.state_dict`` of a checkpoint."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("critic.")}

    def parameter_counts(self) -> dict[str, int]:
        """Parameters per part: ``encoder/<name>``, ``decoder/g1_dyn``, ``decoder/g1_kin``, ``std``,
        ``critic`` (if built), ``actor`` and ``total``."""
        counts = {f"encoder/{n}": count_parameters(m) for n, m in self.encoders.items()}
        counts |= {f"decoder/{n}": count_parameters(m) for n, m in self.decoders.items()}
        counts["std"] = self.std.numel()
        counts["actor"] = sum(counts.values())
        if self.critic is not None:
            counts["critic"] = count_parameters(self.critic)
        counts["total"] = count_parameters(self)
        return counts
