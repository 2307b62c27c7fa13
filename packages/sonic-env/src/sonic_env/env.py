"""``SonicEnv``: the thin face of the Isaac Lab env that the trainer uses, plain tensors in and out.

Each step hands back the contract's observation groups (DESIGN.md "sonic-env"): ``tokenizer`` = dict of
contract-named tensors of the contract's shapes (incl. ``encoder_index``, the bool encoder mask),
``policy`` ``(N, 930)`` and ``critic`` ``(N, 1645)`` for SONIC's contracts, plus rewards, dones
(terminated or timed out), time-outs (for bootstrapping) and Isaac Lab's extras. It also carries the
``contract`` and the ``policy_io`` robot block, and the motion library hooks the trainer calls
(``update_sampling`` each PPO iteration, ``redraw`` every ``resample_every`` iterations, eval batches).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from isaaclab.envs import ManagerBasedRLEnv
from torch import Tensor

from sonic_env.config import EnvConfig
from sonic_env.env_cfg import SonicEnvCfg, contract_of, make_env
from sonic_env.mdp.commands import MotionCommand
from sonic_env.mdp.observations import COMMAND_NAME
from sonic_env.observation_builder import policy_io
from sonic_model import ObservationContract, PolicyIO


@dataclass(frozen=True)
class SonicObservations:
    """One step's observations.

    Attributes:
        tokenizer: ``{term name: (N, *term.shape)}`` for every env-produced tokenizer term of the contract.
        policy: ``(N, proprioception_width)`` decoder proprioception.
        critic: ``(N, critic_width)`` privileged observations.
    """

    tokenizer: dict[str, Tensor]
    policy: Tensor
    critic: Tensor


@dataclass(frozen=True)
class SonicStep:
    """What one ``step`` returns.

    Attributes:
        obs: observations after resets (the next policy input).
        rewards: ``(N,)``; dones: ``(N,)`` bool, terminated or timed out; time_outs: ``(N,)`` bool,
            truncations (bootstrapped); extras: Isaac Lab's extras dict (``log`` etc.).
    """

    obs: SonicObservations
    rewards: Tensor
    dones: Tensor
    time_outs: Tensor
    extras: dict[str, Any]


def _observations(raw: dict[str, Any]) -> SonicObservations:
    return SonicObservations(tokenizer=dict(raw["tokenizer"]), policy=raw["policy"], critic=raw["critic"])


class SonicEnv:
    """The SONIC G1 tracking env (one per process).

    Args:
        config: the env configuration.
        env_cfg: optional pre-built Isaac Lab configuration (from ``build_env_cfg(config)``, e.g. extended).
    """

    def __init__(self, config: EnvConfig, env_cfg: SonicEnvCfg | None = None) -> None:
        self.config = config
        self.env: ManagerBasedRLEnv = make_env(config, env_cfg)
        self.contract: ObservationContract = contract_of(config)
        self.policy_io: PolicyIO = policy_io(
            self.contract, control_dt_s=config.sim.dt * config.sim.decimation, action_clip=config.actions.clip
        )

    @property
    def num_envs(self) -> int:
        """Parallel environments."""
        return self.env.num_envs

    @property
    def device(self) -> str:
        """Simulation device."""
        return str(self.env.device)

    @property
    def command(self) -> MotionCommand:
        """The motion command term (reference, encoder mask, motion library)."""
        return self.env.command_manager.get_term(COMMAND_NAME)  # pyright: ignore[reportReturnType]

    def reset(self) -> SonicObservations:
        """Reset every env (new clips, starts, encoder masks) and return the first observations."""
        raw, _ = self.env.reset()
        return _observations(raw)

    def step(self, actions: Tensor) -> SonicStep:
        """Apply ``(N, num_actions)`` actions in the contract's action order; terminated envs reset inside."""
        raw, rewards, terminated, truncated, extras = self.env.step(actions)
        terminated = torch.as_tensor(terminated)
        truncated = torch.as_tensor(truncated)
        return SonicStep(
            obs=_observations(raw),
            rewards=torch.as_tensor(rewards),
            dones=terminated | truncated,
            time_outs=truncated,
            extras=extras,
        )

    def update_sampling(self) -> None:
        """Recompute the adaptive start probabilities (once per PPO iteration)."""
        self.command.update_sampling()

    def redraw(self) -> bool:
        """Draw a new resident clip set; when it changed, every env is reset here. Returns whether it did."""
        changed = self.command.redraw()
        if changed:
            self.reset()
        return changed

    def eval_batches(self) -> list[Tensor]:
        """Library clip ids in batches of at most the resident capacity (every clip once)."""
        return self.command.lib.eval_batches()

    def start_eval_batch(self, clip_ids: Tensor) -> SonicObservations:
        """Make ``clip_ids`` resident and reset every env onto them from frame 0 (eval mode)."""
        self.command.lib.set_resident(clip_ids)
        return self.reset()

    def close(self) -> None:
        """Close the simulation (required before another env is built in this process)."""
        self.env.close()
