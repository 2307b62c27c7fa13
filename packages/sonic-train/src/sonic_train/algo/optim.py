"""Optimisers for actor and critic, and the gradient-norm clip.

SONIC's effective behaviour (SONIC_REFERENCE §9.2, FORMATS.md "Quirks: decisions"): **one** AdamW over
actor and critic (HF defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0; SONIC asks for the fused
kernel) at ``actor_learning_rate``, whose lr the adaptive-KL schedule sets before every step; the
configured ``critic_learning_rate`` is never used. ``separate_critic_optimizer=True`` gives the critic its
own AdamW at a fixed ``critic_learning_rate`` while the adaptive lr drives the actor's.

Gradients are clipped to a global norm (0.1) over all parameters, and a step whose gradient norm is not
finite is skipped (SONIC's ``fast_gradient_finite_check``).

Nothing here waits for the GPU, so a whole minibatch update can be recorded as a CUDA graph
(``sonic_train.learner``): the AdamW is torch's fused kernel (on CPU and CUDA; ``capturable`` on CUDA), its lr
is a 0-d tensor on the parameters' device that :meth:`ActorCriticOptimizer.set_lr` overwrites in place, and
the non-finite skip is the fused kernel's ``found_inf`` input (the same mechanism ``torch.amp.GradScaler``
uses): parameters, moments and step counts stay as they were. Checkpoints keep a plain float lr.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch
from torch import Tensor, nn

__all__ = ["ActorCriticOptimizer", "clip_grad_norm"]

_KERNEL_FLAGS = ("fused", "foreach", "capturable")


def _adamw(params: list[nn.Parameter], lr: float | Tensor) -> torch.optim.AdamW:
    if not params:
        raise ValueError("optimizer got no trainable parameters")
    capturable = all(p.is_cuda for p in params)
    return torch.optim.AdamW(
        params, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, fused=True, capturable=capturable
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
        if not actor:
            raise ValueError("optimizer got no trainable parameters")
        device = actor[0].device
        self._lr = torch.tensor(float(lr), device=device)
        """The main optimiser's lr, read by the fused kernel by address (float32, 0-d)."""
        self.found_inf = torch.zeros((), device=device)
        """1.0 makes the next :meth:`step` a no-op (the fused kernel's skip)."""
        self.separate_critic = separate_critic
        if separate_critic:
            self.main = _adamw(actor, self._lr)
            self.critic: torch.optim.AdamW | None = _adamw(critic, critic_lr)
        else:
            self.main = _adamw(actor + critic, self._lr)
            self.critic = None
        for opt in self.optimizers:
            opt.found_inf = self.found_inf  # pyright: ignore[reportAttributeAccessIssue]
        self.parameters: list[nn.Parameter] = actor + critic

    @property
    def optimizers(self) -> list[torch.optim.AdamW]:
        """The underlying optimisers (main first)."""
        return [self.main] if self.critic is None else [self.main, self.critic]

    @property
    def lr(self) -> float:
        """Current lr of the main (actor) optimiser (a host read of the device value)."""
        return float(self._lr)

    def set_lr(self, lr: float | Tensor) -> None:
        """Set the adaptive lr of the main optimiser in place (the critic's, when separate, stays fixed).

        A tensor is copied on its device, without a host sync (the CUDA-graphed update does this).
        """
        if isinstance(lr, Tensor):
            self._lr.copy_(lr)
        else:
            self._lr.fill_(float(lr))

    def zero_grad(self) -> None:
        """Drop gradients (set to None)."""
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)

    def step(self, skip: Tensor | None = None) -> None:
        """Step every optimiser; where ``skip`` (0-d, bool or 0/1) is set, nothing changes (no host sync)."""
        if skip is None:
            self.found_inf.zero_()
        else:
            self.found_inf.copy_(skip)
        for opt in self.optimizers:
            opt.step()

    def state_dict(self) -> dict[str, Any]:
        """``{"main": ..., "critic": ...}`` (critic only when separate); plain tensors and containers."""
        state: dict[str, Any] = {"main": self.main.state_dict()}
        if self.critic is not None:
            state["critic"] = self.critic.state_dict()
        for part in state.values():
            for group in part["param_groups"]:
                if isinstance(group["lr"], Tensor):
                    group["lr"] = float(group["lr"])
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore from :meth:`state_dict` (also one saved with another kernel or device).

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
        self.set_lr(float(self.main.param_groups[0]["lr"]))
        for opt in self.optimizers:
            for group in opt.param_groups:
                group.update({flag: opt.defaults[flag] for flag in _KERNEL_FLAGS})
                for p in group["params"]:
                    if "step" in opt.state.get(
                        p, {}
                    ):  # the fused kernel wants float32 steps beside the params
                        opt.state[p]["step"] = opt.state[p]["step"].to(device=p.device, dtype=torch.float32)
        for group in self.main.param_groups:
            group["lr"] = self._lr


def clip_grad_norm(parameters: Iterable[nn.Parameter], max_norm: float) -> tuple[Tensor, Tensor]:
    """Clip gradients to a global L2 norm, without a host sync.

    Returns:
        ``(norm_before_clipping, finite)``, both 0-d tensors; pass ``~finite`` to
        :meth:`ActorCriticOptimizer.step` to skip the step, as SONIC does (a non-finite norm leaves the
        gradients non-finite).
    """
    params = [p for p in parameters if p.grad is not None]
    if not params:
        return torch.zeros(()), torch.ones((), dtype=torch.bool)
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
    return norm, torch.isfinite(norm)
