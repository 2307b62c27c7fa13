"""Auxiliary losses of the universal-token policy: latent alignment and kinematic reconstruction.

SONIC_REFERENCE §9.1 (``trl/losses/token_losses.py``); all are mean squared errors, weighted by
:class:`~sonic_model.config.AuxLossConfig` and added to the PPO loss:

* ``g1_recon``: ``g1_kin(token)`` vs the g1 reference (cmf rows | anchor orientation rows), every env,
  whichever encoder produced the token.
* ``g1_smpl_latent`` / ``g1_teleop_latent`` / ``teleop_smpl_latent`` / ``g1_soma_latent``: the two
  encoders' pre-quantization latents, on envs where both are active (SONIC's co-activation makes these
  pairs, §1.3).
* ``reencoded_smpl_g1_latent``: the g1 encoder applied to ``g1_kin``'s output vs the g1 latent, on envs
  where g1 and smpl are active (cycle consistency).

Masked means use static shapes: ``sum(mask * per_env) / max(sum(mask), 1)``, so an env whose mask is off
contributes neither value nor gradient, and a batch with no such env gives 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor

from sonic_model.config import AuxLossConfig
from sonic_model.policy import EvaluateOutput

LATENT_PAIRS: dict[str, tuple[str, str]] = {
    "g1_smpl_latent": ("g1", "smpl"),
    "g1_teleop_latent": ("g1", "teleop"),
    "teleop_smpl_latent": ("teleop", "smpl"),
    "g1_soma_latent": ("g1", "soma"),
}
"""Latent-alignment losses and their (first, second) encoders; the first is the 'target' side."""


def masked_mse(pred: Tensor, target: Tensor, mask: Tensor | None = None) -> Tensor:
    """Mean squared error over envs where ``mask`` (num_envs,) is set and over all features.

    Args:
        pred, target: (num_envs, width).
        mask: (num_envs,) bool or 0/1; None means every env.

    Returns:
        Scalar; equals ``F.mse_loss(pred[mask], target[mask])`` when some env is selected, else 0.
    """
    per_env = (pred - target).pow(2).mean(dim=-1)
    if mask is None:
        return per_env.mean()
    w = mask.to(per_env.dtype)
    return (per_env * w).sum() / w.sum().clamp_min(1.0)


def latent_alignment_loss(a: Tensor, b: Tensor, both_active: Tensor, detach_a: bool = False) -> Tensor:
    """MSE between two encoders' latents (num_envs, latent_dim) on envs where both are active.

    ``detach_a`` stops the gradient into ``a`` (it becomes a fixed target).
    """
    return masked_mse(a.detach() if detach_a else a, b, both_active)


def g1_recon_loss(kin_pred: Tensor, kin_target: Tensor) -> Tensor:
    """MSE of the kinematic decoder's output vs the g1 reference, over every env (num_envs, kin_width)."""
    return masked_mse(kin_pred, kin_target)


def compute_aux_losses(
    out: EvaluateOutput, encoder_names: Sequence[str], config: AuxLossConfig
) -> dict[str, Tensor]:
    """Unweighted aux losses with a positive weight whose encoders exist, from :meth:`evaluate`'s output.

    Args:
        out: the learning-path output (latents, masks, kinematic prediction).
        encoder_names: encoder order of ``out.mask``'s columns.
        config: weights and the ``detach_teleop_target`` option.

    Returns:
        ``{loss name: scalar}``.
    """
    col = {n: i for i, n in enumerate(encoder_names)}
    losses: dict[str, Tensor] = {}
    if config.g1_recon > 0:
        if out.kin_pred is None or out.kin_target is None:
            raise ValueError("aux loss g1_recon: evaluate() produced no kinematic prediction")
        losses["g1_recon"] = g1_recon_loss(out.kin_pred, out.kin_target)
    for name, (first, second) in LATENT_PAIRS.items():
        if getattr(config, name) <= 0 or first not in col or second not in col:
            continue
        both = out.mask[:, col[first]] & out.mask[:, col[second]]
        detach = name == "teleop_smpl_latent" and config.detach_teleop_target
        losses[name] = latent_alignment_loss(out.latents[first], out.latents[second], both, detach_a=detach)
    if config.reencoded_smpl_g1_latent > 0 and "smpl" in col:
        if out.reencoded_g1_latent is None:
            raise ValueError("aux loss reencoded_smpl_g1_latent: evaluate() produced no re-encoded latent")
        both = out.mask[:, col["g1"]] & out.mask[:, col["smpl"]]
        losses["reencoded_smpl_g1_latent"] = masked_mse(out.reencoded_g1_latent, out.latents["g1"], both)
    return losses


def weighted_aux_loss(losses: dict[str, Tensor], config: AuxLossConfig) -> Tensor:
    """``Σ weight · loss`` over the given losses (a zero scalar if there are none)."""
    total = torch.zeros(())
    for name, value in losses.items():
        total = total.to(value.device) + getattr(config, name) * value
    return total
