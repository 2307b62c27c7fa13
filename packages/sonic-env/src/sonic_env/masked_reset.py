"""Isaac Lab's ``_reset_idx`` on a boolean mask: no host sync, so it can be recorded in a CUDA graph.

Isaac Lab's ``ManagerBasedRLEnv.step`` finds the envs to reset with ``reset_buf.nonzero()``: the CPU
waits there for the GPU to finish the step's physics and manager math, then resets the listed envs in
Python (≈ 2.4 ms per step at 4,096 envs on one H200, ``benchmarks/README.md``, session 5) while the GPU
idles. :class:`MaskedReset` does the same work for every env, kept where ``reset_buf`` is True, as
fixed-shape tensor operations: :class:`sonic_env.rl_env.SonicRLEnv` runs it inside its captured ``done``
segment, the host never learns which envs reset, and the CPU queues the next step while the GPU works.

What it resets, in Isaac Lab's order (``isaaclab.envs.ManagerBasedRLEnv._reset_idx``, 3.0), and how:

| Isaac Lab | masked |
|---|---|
| ``scene.reset``: articulations (actuators, wrench composers), sensors | the same calls with ``env_mask`` (Newton's own masked kernels) |
| ``observation_manager.reset``: history buffers | pushes and rows zeroed where masked (the next append backfills) |
| ``action_manager.reset``: previous / current / raw actions | zeroed where masked |
| ``reward_manager.reset``: ``Episode_Reward/<term>`` logs, episode sums | mean over the masked envs; sums zeroed where masked |
| ``command_manager.reset``: ``Metrics/<term>/<metric>`` logs, counter, resampling timer | the same, masked; the motion command's draws were made by its ``prepare_resets`` |
| ``event_manager.reset``: per-env interval timers | new interval drawn where masked |
| ``termination_manager.reset``: ``Episode_Termination/<term>`` logs | the same (they do not depend on the envs) |
| ``episode_length_buf`` | zeroed where masked |

Logs: Isaac Lab writes a new ``extras["log"]`` dict at each step that resets some env and leaves the last
one there otherwise. Here ``extras["log"]`` is one dict whose values (0-dim views of :attr:`MaskedReset.log_values`)
are refreshed at a step that resets some env and keep their values otherwise, so every step reads what
Isaac Lab's would; ``extras["log_resets"]`` (0-dim, envs reset at this step) says whether they are new
(:class:`sonic_train.metrics.RolloutMetrics` counts them at those steps only).

Only what this table covers is supported; :func:`unsupported` names anything else in an env (a curriculum,
reset-mode events, stateful terms, delayed observations, explicit actuators, other scene entities), and
such an env keeps Isaac Lab's host-synced reset. Python state a capture freezes: the wrench composers'
``active`` flags (they select a kernel or nothing), so :meth:`MaskedReset.graph_key` returns them and a
change recaptures.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

import torch
from isaaclab.actuators import ImplicitActuator
from isaaclab.envs.mdp.actions.joint_actions import JointAction
from isaaclab.managers import ManagerTermBase
from torch import Tensor

from sonic_env.mdp.commands import MotionCommand
from sonic_env.mdp.interval import redraw_where

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedRLEnv

__all__ = ["MaskedReset", "unsupported"]

_SCENE_GROUPS = (
    "_cable_objects",
    "_deformable_objects",
    "_rigid_objects",
    "_surface_grippers",
    "_rigid_object_collections",
)
"""Scene entity groups :class:`MaskedReset` does not reset (none may be populated)."""


def _stateful(func: Any) -> bool:
    """Whether a manager term is a class term that overrides ``ManagerTermBase.reset``."""
    return isinstance(func, ManagerTermBase) and type(func).reset is not ManagerTermBase.reset


def unsupported(env: ManagerBasedRLEnv) -> list[str]:
    """What in ``env`` :class:`MaskedReset` cannot reset (empty: it resets exactly what ``_reset_idx`` would)."""
    reasons: list[str] = []
    if env.curriculum_manager.active_terms:
        reasons.append(f"curriculum terms {env.curriculum_manager.active_terms}")
    events = env.event_manager
    if "reset" in events.active_terms:
        reasons.append(f"reset-mode events {events.active_terms['reset']}")
    for mode, cfgs in events._mode_class_term_cfgs.items():  # pyright: ignore[reportPrivateUsage]
        reasons += [
            f"event term {type(c.func).__name__} ({mode}) has its own reset"
            for c in cfgs
            if _stateful(c.func)
        ]
    obs = env.observation_manager
    for group, cfgs in obs._group_obs_class_term_cfgs.items():  # pyright: ignore[reportPrivateUsage]
        reasons += [f"observation term {type(c.func).__name__} ({group}) has its own reset" for c in cfgs]
    for group, delays in obs._group_obs_term_delay_buffer.items():  # pyright: ignore[reportPrivateUsage]
        reasons += [f"delayed observation {group}/{name}" for name in delays]
    if obs._group_obs_class_instances:  # pyright: ignore[reportPrivateUsage]
        reasons.append("observation modifiers with state")
    for name, manager in (("reward", env.reward_manager), ("termination", env.termination_manager)):
        cfgs = manager._class_term_cfgs  # pyright: ignore[reportPrivateUsage]
        reasons += [
            f"{name} term {type(c.func).__name__} has its own reset" for c in cfgs if _stateful(c.func)
        ]
    for name, term in env.action_manager._terms.items():  # pyright: ignore[reportPrivateUsage]
        if not isinstance(term, JointAction) or type(term).reset is not JointAction.reset:
            reasons.append(f"action term {name} ({type(term).__name__}) is not a plain joint action")
    for name, term in env.command_manager._terms.items():  # pyright: ignore[reportPrivateUsage]
        if not isinstance(term, MotionCommand):
            reasons.append(f"command term {name} ({type(term).__name__}) is not the motion command")
    scene = env.scene
    for group in _SCENE_GROUPS:
        if getattr(scene, group, None):
            reasons.append(f"scene {group.lstrip('_')} {list(getattr(scene, group))}")
    for name, articulation in scene.articulations.items():
        explicit = [k for k, a in articulation.actuators.items() if not isinstance(a, ImplicitActuator)]
        if explicit:
            reasons.append(f"articulation {name}: actuators {explicit} are not implicit")
    return reasons


class MaskedReset:
    """Resets an env's state where a boolean mask is True, with fixed-shape tensor work only (module doc).

    Args:
        env: the env (:func:`unsupported` must be empty for it).

    Raises:
        ValueError: ``env`` holds something this reset does not cover (the reasons named).
    """

    def __init__(self, env: ManagerBasedRLEnv) -> None:
        reasons = unsupported(env)
        if reasons:
            raise ValueError("MaskedReset cannot reset this env: " + "; ".join(reasons))
        self.env = env
        rewards = env.reward_manager
        self.log_names: tuple[str, ...] = (
            *(f"Episode_Reward/{t}" for t in rewards._term_names),  # pyright: ignore[reportPrivateUsage]
            *self._metric_names(),
            *(f"Episode_Termination/{t}" for t in env.termination_manager._term_names),  # pyright: ignore[reportPrivateUsage]
        )
        self.log_values = torch.zeros(len(self.log_names), device=env.device)
        """The latest episode logs (those of the last step that reset some env), in :attr:`log_names` order."""
        self.log: dict[str, Tensor] = {n: self.log_values[i] for i, n in enumerate(self.log_names)}
        """``extras["log"]``: 0-dim views of :attr:`log_values`."""
        self.resets = torch.zeros((), device=env.device)
        """Envs reset at the last call (0-dim float)."""

    def _metric_names(self) -> list[str]:
        commands = self.env.command_manager._terms  # pyright: ignore[reportPrivateUsage]
        return [f"Metrics/{n}/{m}" for n, term in commands.items() for m in term.metrics]

    def graph_key(self) -> Hashable:
        """The Python state a captured reset depends on: every articulation's wrench composers' ``active``."""
        return tuple(
            (a._instantaneous_wrench_composer.active, a._permanent_wrench_composer.active)  # pyright: ignore[reportAttributeAccessIssue]
            for a in self.env.scene.articulations.values()
        )

    def __call__(self, mask: Tensor) -> None:
        """Reset the envs where ``mask`` ((N,) bool) is True, after the motion command's ``prepare_resets``."""
        import warp as wp

        env = self.env
        wp_mask = wp.from_torch(mask, dtype=wp.bool)
        for articulation in env.scene.articulations.values():
            articulation.reset(env_mask=wp_mask)
        for sensor in env.scene.sensors.values():
            sensor.reset(env_mask=wp_mask)
        self.bookkeeping(mask)
        self._draw_timers(mask)

    def bookkeeping(self, mask: Tensor) -> None:
        """The reset's deterministic part: histories, actions, logs, episode sums, command metrics and counters,
        episode lengths (no random draws: :meth:`compile` may compile it)."""
        env = self.env
        rows = mask.unsqueeze(-1)
        self._reset_histories(mask)
        actions = env.action_manager
        for buffer in (actions._prev_action, actions._action):  # pyright: ignore[reportPrivateUsage]
            buffer.masked_fill_(rows, 0.0)
        for term in actions._terms.values():  # pyright: ignore[reportPrivateUsage]
            term._raw_actions.masked_fill_(rows, 0.0)  # pyright: ignore[reportAttributeAccessIssue]
        self._log(mask)
        env.reward_manager._episode_sum_buf.masked_fill_(rows, 0.0)  # pyright: ignore[reportPrivateUsage]
        for term in env.command_manager._terms.values():  # pyright: ignore[reportPrivateUsage]
            for value in term.metrics.values():
                value.masked_fill_(mask, 0.0)
            term.command_counter.masked_fill_(mask, 1)
        env.episode_length_buf.masked_fill_(mask, 0)

    def compile(self) -> None:
        """Compile :meth:`bookkeeping` with ``torch.compile`` (``EnvConfig.compile_terms``,
        :mod:`sonic_env.compiled_terms`)."""
        from sonic_env.compiled_terms import compile_method

        compile_method(self, "bookkeeping")

    def _reset_histories(self, mask: Tensor) -> None:
        obs = self.env.observation_manager
        for buffers in obs._group_obs_term_history_buffer.values():  # pyright: ignore[reportPrivateUsage]
            for buffer in buffers.values():
                buffer._num_pushes.masked_fill_(mask, 0)  # pyright: ignore[reportPrivateUsage]
                data = buffer._buffer  # pyright: ignore[reportPrivateUsage]
                if data is None:
                    continue  # nothing appended yet: the first append fills every slot
                batch_dim = 1 if buffer._stack_dim_internal is None else 0  # pyright: ignore[reportPrivateUsage]
                shape = [1] * data.ndim
                shape[batch_dim] = -1
                data.masked_fill_(mask.view(shape), 0.0)

    def _log(self, mask: Tensor) -> None:
        """Isaac Lab's episode logs over the masked envs, kept in :attr:`log_values` when some env reset."""
        env = self.env
        weight = mask.to(self.log_values.dtype)
        self.resets.copy_(weight.sum())
        count = self.resets.clamp_min(1.0)
        sums = env.reward_manager._episode_sum_buf  # pyright: ignore[reportPrivateUsage]
        # an elementwise product and a sum, not a matrix product (which TF32 would round)
        parts = [(sums * weight.unsqueeze(-1)).sum(dim=0) / count / env.max_episode_length_s]
        for term in env.command_manager._terms.values():  # pyright: ignore[reportPrivateUsage]
            parts += [((weight * value).sum() / count).reshape(1) for value in term.metrics.values()]
        dones = env.termination_manager._last_episode_dones  # pyright: ignore[reportPrivateUsage]
        parts.append(dones.to(self.log_values.dtype).mean(dim=0))
        torch.where(self.resets > 0, torch.cat(parts), self.log_values, out=self.log_values)

    def _draw_timers(self, mask: Tensor) -> None:
        """The random part: ``CommandTerm.reset``'s resampling timer (the command's draws are prepared), then
        ``EventManager.reset``'s new interval for per-env interval terms that resample on reset."""
        for term in self.env.command_manager._terms.values():  # pyright: ignore[reportPrivateUsage]
            _draw_where(mask, term.time_left, *term.cfg.resampling_time_range)
        events = self.env.event_manager
        if "interval" not in events._mode_term_cfgs:  # pyright: ignore[reportPrivateUsage]
            return
        for index, cfg in enumerate(events._mode_term_cfgs["interval"]):  # pyright: ignore[reportPrivateUsage]
            if not cfg.is_global_time and cfg.resample_interval_on_reset and cfg.interval_range_s is not None:
                time_left = events._interval_term_time_left[index]  # pyright: ignore[reportPrivateUsage]
                _draw_where(mask, time_left, *cfg.interval_range_s)


def _draw_where(mask: Tensor, values: Tensor, lower: float, upper: float) -> None:
    """``values = U[lower, upper)`` where ``mask``, in place (:func:`redraw_where`); no draw when the range is fixed."""
    if lower == upper:
        values.masked_fill_(mask, lower)
        return
    redraw_where(mask, values, lower, upper)
