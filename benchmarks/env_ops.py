"""Torch operators per env step of the SONIC env, by manager and by term (JSON lines).

On the GPU the full env's cost over the minimal one is nearly constant in the number of envs: Python and
kernel launches, one per torch operator. This counts the operators that reach the dispatcher
(``TorchDispatchMode``; views included, as they cost Python and dispatch too) during ``--steps`` steps with
zero actions, for the whole step, each manager call and each observation / reward / termination term, so a
change to the step path can be checked on the CPU before it is timed on a GPU (``env_step.py``).

Usage::

    .venv/bin/python benchmarks/env_ops.py [--num-envs 4] [--steps 20] [--top 30] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import torch
from env_step import env_config, sample_data  # the sibling script (benchmarks/ is on sys.path when run)
from torch.utils._python_dispatch import TorchDispatchMode


class OpCounter(TorchDispatchMode):
    """Counts every operator dispatched while it is active (nested counters each count)."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        self.count += 1
        return func(*args, **(kwargs or {}))


def counted(name: str, fn: Callable[..., Any], totals: Counter[str]) -> Callable[..., Any]:
    """``fn`` wrapped so that the operators of each call are added to ``totals[name]``."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with OpCounter() as counter:
            result = fn(*args, **kwargs)
        totals[name] += counter.count
        return result

    return wrapper


def instrument(env: Any, totals: Counter[str]) -> None:
    """Wrap the managers' per-step calls and every term function of an Isaac Lab manager-based env."""
    obs = env.observation_manager
    for group, cfgs in obs._group_obs_term_cfgs.items():  # noqa: SLF001 (Isaac Lab keeps them private)
        for name, cfg in zip(obs._group_obs_term_names[group], cfgs, strict=True):  # noqa: SLF001
            cfg.func = counted(f"obs/{group}/{name}", cfg.func, totals)
    for prefix, manager in (("reward", env.reward_manager), ("termination", env.termination_manager)):
        for name, cfg in zip(manager._term_names, manager._term_cfgs, strict=True):  # noqa: SLF001
            cfg.func = counted(f"{prefix}/{name}", cfg.func, totals)
    for attr in ("observation_manager", "reward_manager", "termination_manager", "command_manager"):
        manager = getattr(env, attr)
        manager.compute = counted(f"manager/{attr}.compute", manager.compute, totals)
    env.event_manager.apply = counted("manager/event_manager.apply", env.event_manager.apply, totals)
    env._reset_idx = counted("manager/reset", env._reset_idx, totals)  # noqa: SLF001


def main() -> None:
    parser = argparse.ArgumentParser(description="Torch operators per SONIC env step, by manager and term.")
    parser.add_argument("--num-envs", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20, help="counted steps (after 5 uncounted ones)")
    parser.add_argument("--top", type=int, default=30, help="terms and managers listed, most operators first")
    parser.add_argument("--data", default=None, help="sample dataset folder (default: generated)")
    args = parser.parse_args()
    from sonic_env.env import SonicEnv

    env = SonicEnv(env_config("plane", args.num_envs, "cpu", sample_data(args.data, "sonic_env_ops_")))
    env.reset()
    actions = torch.zeros(args.num_envs, len(env.policy_io.joint_names))
    for _ in range(5):
        env.step(actions)
    totals: Counter[str] = Counter()
    instrument(env.env, totals)
    with OpCounter() as step_ops:
        for _ in range(args.steps):
            env.step(actions)
    per_step = {name: round(n / args.steps, 1) for name, n in totals.most_common(args.top)}
    print(
        json.dumps(
            {"benchmark": "env_ops", "num_envs": args.num_envs, "ops_per_step": step_ops.count / args.steps}
        )
    )
    for name, n in per_step.items():
        print(json.dumps({"name": name, "ops_per_step": n}))
    env.close()


if __name__ == "__main__":
    main()
