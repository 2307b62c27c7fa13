"""The value function: an MLP on normalised privileged observations (SONIC_REFERENCE §2.3, §9.1)."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from sonic_model.mlp import mlp_sequential
from sonic_model.normalizer import RunningMeanStd


class Critic(nn.Module):
    """``value = MLP(normalizer(critic_obs))``.

    Parameter names are ``module.<i>.*`` and ``normalizer.{running_mean,running_var,count}``, which map
    by prefix onto GEAR-SONIC's ``critic_module.module.<i>.*`` and ``running_mean_std.*`` (§12).

    Args:
        obs_dim: width of the privileged observation vector (SONIC: 1645).
        hidden: hidden widths.
        norm_eps: normaliser epsilon (SONIC: 1e-5).
        norm_clip: normaliser output clip (SONIC: 5).
    """

    def __init__(
        self, obs_dim: int, hidden: Sequence[int], norm_eps: float = 1e-5, norm_clip: float = 5.0
    ) -> None:
        super().__init__()
        self.obs_dim = obs_dim
        self.normalizer = RunningMeanStd(obs_dim, eps=norm_eps, clip=norm_clip)
        self.module = mlp_sequential(obs_dim, hidden, 1)

    def mlp_state_dict(self) -> dict[str, Tensor]:
        """The MLP's tensors, named ``module.<i>.{weight,bias}`` (the checkpoint's ``critic.state_dict``)."""
        return {k: v for k, v in self.state_dict().items() if k.startswith("module.")}

    def load_mlp_state_dict(self, state: dict[str, Tensor]) -> None:
        """Load tensors named as by :meth:`mlp_state_dict` (strict)."""
        self.module.load_state_dict({k.removeprefix("module."): v for k, v in state.items()})

    def forward(self, critic_obs: Tensor) -> Tensor:
        """Value (num_envs, 1) of critic observations (num_envs, obs_dim); statistics are not updated."""
        if critic_obs.shape[-1] != self.obs_dim:
            raise ValueError(
                f"critic: expected observations (num_envs, {self.obs_dim}), got {tuple(critic_obs.shape)}"
            )
        return self.module(self.normalizer(critic_obs))
