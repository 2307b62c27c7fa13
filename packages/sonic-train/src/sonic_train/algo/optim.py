"""Optimisers for actor and critic, and the gradient-norm clip.

SONIC's effective behaviour (SONIC_REFERENCE §9.2, FORMATS.md "Quirks: decisions"): **one** AdamW over
actor and critic (HF defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0; SONIC asks for the fused
kernel) at ``actor_learning_rate``, whose lr the adaptive-KL schedule sets before every step; the
configured ``critic_learning_rate`` is never used. ``separate_critic_optimizer=True`` gives the critic its
own AdamW at a fixed ``critic_learning_rate`` while the adaptive lr drives the actor's.

Gradients are clipped to a global norm (0.1) over all parameters, and a step whose gradient norm is not
finite is skipped (SONIC's ``fast_gradient_finite_check``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["ActorCriticOptimizer", "clip_grad_norm"]


def _adamw(params: list[nn.Parameter], lr: float) -> torch.optim.AdamW:
    if not params:
        raise ValueError("optimizer got no trainable parameters")
    on_cuda = all(p.is_cuda for p in params)
    # Fused needs every parameter on CUDA; foreach is torch's default elsewhere.
    return torch.optim.AdamW(
        params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, fused=True if on_cuda else None
    )


class ActorCriticOptimizer:
    """One AdamW for actor + critic (SONIC), or one each with ``separate_critic``.

    Args:
        actor_params: trainable actor parameters (encoders, decoders, ``std``).
        critic_params: trainable critic parameters.
        lr: initial (adaptive) lr of the actor, or of both when shared (2e-5).
        separate_critic: give the critic its own optimiser.
        critic_lr: the critic's fixed lr when separate (1e-3).
    """

    def __init__(
        self,
        actor_params: Iterable[nn.Parameter],
        critic_params: Iterable[nn.Parameter],
        lr: float = 2e-5,
        separate_critic: bool = False,
        critic_lr: float = 1e-3,
    ) -> None:
        actor = [p for p in actor_params if p.requires_grad]
        critic = [p for p in critic_params if p.requires_grad]
        shared = {id(p) for p in actor} & {id(p) for p in critic}
        if shared:
            raise ValueError(f"{len(shared)} parameters are in both the actor and the critic parameter lists")
        self.separate_critic = separate_critic
        if separate_critic:
            self.main = _adamw(actor, lr)
            self.critic: torch.optim.AdamW | None = _adamw(critic, critic_lr)
        else:
            self.main = _adamw(actor + critic, lr)
            self.critic = None
        self.parameters: list[nn.Parameter] = actor + critic

    @property
    def optimizers(self) -> list[torch.optim.AdamW]:
        """The underlying optimisers (main first)."""
        return [self.main] if self.critic is None else [self.main, self.critic]

    @property
    def lr(self) -> float:
        """Current lr of the main (actor) optimiser."""
        return float(self.main.param_groups[0]["lr"])

    def set_lr(self, lr: float) -> None:
        """Set the adaptive lr on the main optimiser (the critic's, when separate, stays fixed)."""
        for group in self.main.param_groups:
            group["lr"] = lr

    def zero_grad(self) -> None:
        """Drop gradients (set to None)."""
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)

    def step(self) -> None:
        """Step every optimiser."""
        for opt in self.optimizers:
            opt.step()

    def state_dict(self) -> dict[str, Any]:
        """``{"main": ..., "critic": ...}`` (critic only when separate); plain tensors and containers."""
        state: dict[str, Any] = {"main": self.main.state_dict()}
        if self.critic is not None:
            state["critic"] = self.critic.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict`.

        Raises:
            ValueError: the saved layout (shared or separate critic) differs from this optimiser's.
        """
        expected = {"main", "critic"} if self.critic is not None else {"main"}
        if set(state) != expected:
            raise ValueError(
                f"optimizer state has parts {sorted(state)}, expected {sorted(expected)} "
                f"(separate_critic_optimizer={self.separate_critic})"
            )
        self.main.load_state_dict(state["main"])
        if self.critic is not None:
            self.critic.load_state_dict(state["critic"])


def clip_grad_norm(parameters: Iterable[nn.Parameter], max_norm: float) -> tuple[Tensor, bool]:
    """Clip gradients to a global L2 norm; report whether it was finite.

    Returns:
        ``(norm_before_clipping, is_finite)``; when not finite the gradients are zeroed (set to None), and the
        caller skips the optimiser step, as SONIC does.
    """
    params = [p for p in parameters if p.grad is not None]
    if not params:
        return torch.zeros(()), True
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    finite = bool(torch.isfinite(norm))
    if not finite:
        for p in params:
            p.grad = None
    return norm, finite
