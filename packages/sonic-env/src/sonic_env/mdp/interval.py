"""Isaac Lab's per-env "interval" events without a host sync, for the CUDA-graphed step.

Isaac Lab's ``EventManager.apply("interval")`` counts each env's time left down, lists the envs whose
time ran out with ``nonzero()`` (a host sync), draws their next interval and calls the term with
those ids. :meth:`MaskedIntervalEvents.apply` does the same on a mask: every env draws a next interval and
the term's values, the envs whose time ran out keep them, and the term writes with Isaac Lab's
``*_mask`` writes. Same distributions, other random streams (draws are made for every env).

It reads and writes Isaac Lab's own countdown tensors (``EventManager._interval_term_time_left``), so
the manager's reset and the eager path keep working on the same state. Only terms listed in
:data:`MASKED_TERMS` (SONIC uses ``push_by_setting_velocity``) and per-env timing are supported;
:func:`supports_masked_interval` says whether an env's interval terms all are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import torch
from isaaclab.envs import mdp
from isaaclab.managers import SceneEntityCfg
from torch import Tensor

from sonic_env.mdp.reset import AXES, range_tensor, sample_uniform

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedEnv
    from isaaclab.managers import EventManager

INTERVAL_DUE_S = 1e-6
"""Isaac Lab's threshold: an interval event fires once its time left is below this (float error)."""


class PushMasked:
    """``isaaclab.envs.mdp.push_by_setting_velocity`` for the envs of a mask: root velocity ``+= U(range)``.

    Args:
        env: the env.
        velocity_range: Isaac Lab's ``{"x": (lo, hi), ..., "yaw": (lo, hi)}`` (missing keys: 0).
        asset_cfg: the pushed articulation.
    """

    def __init__(
        self, env: ManagerBasedEnv, velocity_range: dict[str, tuple[float, float]], asset_cfg: SceneEntityCfg
    ) -> None:
        self.asset = env.scene[asset_cfg.name]
        self.bounds = range_tensor(velocity_range, AXES).to(env.device)

    def __call__(self, env_mask: Tensor) -> None:
        data = self.asset.data
        velocity = data.root_vel_w.torch + sample_uniform(self.bounds, env_mask.shape[0])  # pyright: ignore[reportAttributeAccessIssue]
        self.asset.write_root_velocity_to_sim_mask(root_velocity=velocity, env_mask=env_mask)


MASKED_TERMS: dict[Callable[..., Any], type[PushMasked]] = {mdp.push_by_setting_velocity: PushMasked}
"""Isaac Lab interval term → its masked twin (built with the term's params)."""


def supports_masked_interval(events: EventManager) -> bool:
    """Whether every interval term of ``events`` is per-env and has a masked twin."""
    if "interval" not in events.active_terms:
        return True
    return all(
        not cfg.is_global_time and cfg.func in MASKED_TERMS
        for cfg in events._mode_term_cfgs["interval"]  # pyright: ignore[reportPrivateUsage]
    )


class MaskedIntervalEvents:
    """The interval events of an env's event manager, applied on masks (module doc).

    Raises:
        ValueError: an interval term is global or has no masked twin (check :func:`supports_masked_interval`).
    """

    def __init__(self, env: ManagerBasedEnv) -> None:
        events = env.event_manager
        if not supports_masked_interval(events):
            raise ValueError("MaskedIntervalEvents: an interval event term is global or has no masked twin")
        self._time_left: list[Tensor] = []
        self._terms: list[tuple[tuple[float, float], PushMasked]] = []
        if "interval" not in events.active_terms:
            return
        cfgs = events._mode_term_cfgs["interval"]  # pyright: ignore[reportPrivateUsage]
        for index, cfg in enumerate(cfgs):
            self._time_left.append(events._interval_term_time_left[index])  # pyright: ignore[reportPrivateUsage]
            term = MASKED_TERMS[cfg.func](env, **cfg.params)  # pyright: ignore[reportArgumentType]
            self._terms.append((tuple(cfg.interval_range_s), term))  # pyright: ignore[reportArgumentType]

    def apply(self, dt: float) -> None:
        """Count down by ``dt``; where an env's time ran out, draw its next interval and apply the term."""
        for time_left, ((lower, upper), term) in zip(self._time_left, self._terms, strict=True):
            time_left -= dt
            due = time_left < INTERVAL_DUE_S
            redraw_where(due, time_left, lower, upper)
            term(due)


def redraw_where(mask: Tensor, values: Tensor, lower: float, upper: float) -> None:
    """``values = U[lower, upper)`` where ``mask``, in place, drawn for every element from torch's global generator
    (a fixed number of draws: no host sync, graph-capturable)."""
    drawn = torch.rand_like(values) * (upper - lower) + lower
    torch.where(mask, drawn, values, out=values)


__all__ = ["MASKED_TERMS", "MaskedIntervalEvents", "PushMasked", "redraw_where", "supports_masked_interval"]
