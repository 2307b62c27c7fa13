"""Torch operators per env step of the SONIC env, by manager, segment and term (JSON lines).

Inside a CUDA graph the step's Python is gone; what is left of the managers is their kernels, a few microseconds
each at 4,096 envs, one per torch operator that computes something. This counts, during ``--steps`` steps with
zero actions, the operators that reach the dispatcher (``TorchDispatchMode``): ``ops`` all of them (views
included: each costs Python and dispatch in an eager step) and ``kernels`` those that launch a kernel on a GPU
(no views, no ``empty``: :func:`launches_kernel`), for the whole step, each manager call and each observation /
reward / termination term. A change to the step path can so be checked on the CPU before it is timed on a GPU
(``env_step.py``).

``--graphed`` counts the graphed step's own sequence (:class:`sonic_env.rl_env.SonicRLEnv` with CUDA graphs) on
the CPU: its segments (``segment/draws``, ``done``, ``command``, ``observe``) run eagerly each step, as a replay
would run what their capture recorded; the physics between them is not counted.

Usage::

    .venv/bin/python benchmarks/env_ops.py [--num-envs 4] [--steps 20] [--top 30] [--graphed] [--data DIR]
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

NO_KERNEL = frozenset(
    {"empty", "empty_strided", "detach", "alias", "lift_fresh", "_unsafe_view", "_reshape_alias"}
)
"""Non-view operators that allocate or alias without launching a kernel."""


def launches_kernel(func: Any) -> bool:
    """Whether the aten operator ``func`` runs a kernel on a GPU (not a view, not an allocation)."""
    return not func.is_view and func.overloadpacket.__name__ not in NO_KERNEL


class OpCounter(TorchDispatchMode):
    """Counts the operators dispatched while it is active (nested counters each count): all, and kernels."""

    def __init__(self) -> None:
        super().__init__()
        self.ops = 0
        self.kernels = 0

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        self.ops += 1
        self.kernels += launches_kernel(func)
        return func(*args, **(kwargs or {}))


Totals = dict[str, Counter[str]]
"""``{"ops": Counter, "kernels": Counter}`` keyed by the counted call's name."""


def counted(name: str, fn: Callable[..., Any], totals: Totals) -> Callable[..., Any]:
    """``fn`` wrapped so that the operators of each call are added to ``totals[...][name]``."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with OpCounter() as counter:
            result = fn(*args, **kwargs)
        totals["ops"][name] += counter.ops
        totals["kernels"][name] += counter.kernels
        return result

    return wrapper


def instrument(env: Any, totals: Totals) -> None:
    """Wrap the managers' per-step calls and every term function of an Isaac Lab manager-based env."""
    from sonic_env.compiled_terms import manager_terms

    for name, cfg in manager_terms(env):
        cfg.func = counted(name, cfg.func, totals)
    for attr in ("observation_manager", "reward_manager", "termination_manager", "command_manager"):
        manager = getattr(env, attr)
        manager.compute = counted(f"manager/{attr}.compute", manager.compute, totals)
    env.event_manager.apply = counted("manager/event_manager.apply", env.event_manager.apply, totals)
    env._reset_idx = counted("manager/reset", env._reset_idx, totals)  # noqa: SLF001
    command = env.command_manager.get_term("motion")
    for method in ("prepare_resets", "draw_resets"):
        setattr(command, method, counted(f"command/{method}", getattr(command, method), totals))


class RerunBackend:
    """Graph backend for the CPU: a capture runs the segment, a replay runs it again (no results are refreshed:
    only the operator counts are wanted)."""

    def __init__(self, device: object, generators: object) -> None:
        pass

    def capture(self, fn: Callable[[], Any]) -> tuple[Any, Any]:
        return fn, fn()

    def replay(self, handle: Callable[[], Any]) -> None:
        handle()

    def reset(self) -> None:
        pass


def graphed_on_cpu(totals: Totals) -> None:
    """Make every SonicRLEnv take the graphed step on the CPU, its segments counted by name."""
    from sonic_env.rl_env import SonicRLEnv
    from sonic_env.step_graphs import SegmentGraphs

    SonicRLEnv.uses_cuda_graphs = property(lambda self: True)  # type: ignore[method-assign]
    SonicRLEnv.graph_backend = RerunBackend  # type: ignore[assignment]
    run = SegmentGraphs.run

    def counted_run(self: SegmentGraphs, name: str, fn: Callable[[], Any]) -> Any:
        return run(self, name, counted(f"segment/{name}", fn, totals))

    SegmentGraphs.run = counted_run  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser(description="Torch operators per SONIC env step, by manager and term.")
    parser.add_argument("--num-envs", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20, help="counted steps (after 5 uncounted ones)")
    parser.add_argument("--top", type=int, default=30, help="terms and managers listed, most kernels first")
    parser.add_argument("--graphed", action="store_true", help="the graphed step's segments (module doc)")
    parser.add_argument("--data", default=None, help="sample dataset folder (default: generated)")
    args = parser.parse_args()
    from sonic_env.env import SonicEnv

    totals: Totals = {"ops": Counter(), "kernels": Counter()}
    if args.graphed:
        graphed_on_cpu(totals)
    config = env_config("plane", args.num_envs, "cpu", sample_data(args.data, "sonic_env_ops_"), args.graphed)
    env = SonicEnv(config)
    env.reset()
    actions = torch.zeros(args.num_envs, len(env.policy_io.joint_names))
    for _ in range(5):
        env.step(actions)
    for counter in totals.values():
        counter.clear()
    instrument(env.env, totals)
    with OpCounter() as step_ops:
        for _ in range(args.steps):
            env.step(actions)
    line = {"benchmark": "env_ops", "num_envs": args.num_envs, "graphed": args.graphed}
    line |= {"ops_per_step": step_ops.ops / args.steps, "kernels_per_step": step_ops.kernels / args.steps}
    print(json.dumps(line))
    for name, kernels in totals["kernels"].most_common(args.top):
        per_step = {"ops_per_step": round(totals["ops"][name] / args.steps, 1)}
        per_step["kernels_per_step"] = round(kernels / args.steps, 1)
        print(json.dumps({"name": name} | per_step))
    env.close()


if __name__ == "__main__":
    main()
