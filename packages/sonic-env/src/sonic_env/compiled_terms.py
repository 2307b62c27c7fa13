"""The env's per-step math compiled with ``torch.compile``: fewer, fused GPU kernels (``EnvConfig.compile_terms``).

In the graphed step (:mod:`sonic_env.rl_env`) the managers' Python is gone and what is left is their kernels: one
per torch operator, a few microseconds each at 4,096 envs, about 600 per step
(``benchmarks/env_ops.py --graphed``). TorchInductor fuses the gathers, quaternion products and reductions of
:func:`compile_terms`' pieces into a few generated kernels each:

* each observation term (every SONIC term traces into one graph, ``torch._dynamo.explain``);
* the reward manager's ``compute`` with its terms (:func:`reward_compute`: Isaac Lab's arithmetic, written to trace
  as one graph), and the termination manager's ``compute`` with its terms and their union;
* the motion command's per-step advance (``MotionCommand.compute``: frames, adaptive sampling, reference windows,
  relative reference) and its reset on the done mask (``prepare_resets``; its draws, made with the command's own
  generators, and Warp's simulator writes break the graph and run eagerly);
* the masked reset's bookkeeping (:meth:`sonic_env.masked_reset.MaskedReset.compile`).

What stays eager: the observation manager (noise, clipping, histories, concatenation: random draws and the
history buffers' Python pointers), the reset draws (their own generators), Warp's simulator writes.

What changes: the kernels, not the math. Fused float arithmetic may round differently from the eager operators
(``tests/env/test_compiled_terms.py`` bounds it). Compilation runs at the first calls (the graphed step's eager
warm-up steps, before any capture), 20–45 s for the SONIC env on a fresh H200 machine, 7–8 s in a later process
(TorchInductor's on-disk cache). Shapes are static at first; a new resident clip set of another size recompiles
once with dynamic sizes (``torch.compile``'s default), so redraws during training do not compile again and again.
Class-based terms (Isaac Lab's ``ManagerTermBase``, which managers also ``reset``) stay eager.

Off by default: compiling costs minutes on a CPU and pays only on a GPU, with ``cuda_graphs``.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import torch
from isaaclab.managers import ManagerTermBase
from torch import Tensor

from sonic_env.mdp.commands import MotionCommand

__all__ = ["BACKEND", "check_backend", "compile_method", "compile_terms", "manager_terms", "reward_compute"]

BACKEND: str = "inductor"
"""``torch.compile``'s backend for :func:`compile_terms` by default (``"aot_eager"`` in the CPU tests: it traces
without generating code, so a rollout checks the tracing in seconds)."""


def check_backend(device: str | torch.device, backend: str | Callable[..., Any] | None = None) -> None:
    """Raise a clear error now if ``backend`` cannot compile for ``device`` (else the first step fails deep in torch).

    TorchInductor generates Triton kernels on CUDA: the ``triton`` package must be importable (torch's Linux wheels
    install it).
    """
    backend = BACKEND if backend is None else backend
    if (
        backend == "inductor"
        and torch.device(device).type == "cuda"
        and importlib.util.find_spec("triton") is None
    ):
        raise RuntimeError(
            "manager_env.compile_terms=True compiles with TorchInductor, which needs Triton on CUDA, but the 'triton' "
            "package is not installed (torch's Linux wheels bring it); install it or set compile_terms=False"
        )


def manager_terms(env: Any) -> list[tuple[str, Any]]:
    """``(name, term cfg)`` of every observation, reward and termination term of an Isaac Lab manager-based env.

    Names are ``obs/<group>/<term>``, ``reward/<term>``, ``termination/<term>``.
    """
    terms: list[tuple[str, Any]] = []
    obs = env.observation_manager
    for group, cfgs in obs._group_obs_term_cfgs.items():  # noqa: SLF001 (Isaac Lab keeps them private)
        names = obs._group_obs_term_names[group]  # noqa: SLF001
        terms += [(f"obs/{group}/{name}", cfg) for name, cfg in zip(names, cfgs, strict=True)]
    for prefix, manager in (("reward", env.reward_manager), ("termination", env.termination_manager)):
        names, cfgs = manager._term_names, manager._term_cfgs  # noqa: SLF001
        terms += [(f"{prefix}/{name}", cfg) for name, cfg in zip(names, cfgs, strict=True)]
    return terms


def _compiled(fn: Callable[..., Any], backend: str | Callable[..., Any] | None) -> Callable[..., Any] | None:
    """``torch.compile(fn)`` marked as ours; None if ``fn`` already is one."""
    if getattr(fn, "_sonic_compiled", False):
        return None
    compiled = torch.compile(fn, backend=BACKEND if backend is None else backend)
    compiled._sonic_compiled = True  # pyright: ignore[reportFunctionMemberAccess]
    return compiled


def compile_method(obj: Any, attr: str, backend: str | Callable[..., Any] | None = None) -> bool:
    """Replace the bound method ``obj.<attr>`` by its ``torch.compile`` on the instance; False if it already was."""
    compiled = _compiled(getattr(obj, attr), backend)
    if compiled is not None:
        setattr(obj, attr, compiled)
    return compiled is not None


def reward_compute(manager: Any) -> Callable[[float], Tensor]:
    """Isaac Lab's ``RewardManager.compute`` (3.0) for the given manager, written to trace as one graph.

    The same arithmetic (each term times its weight; the step's reward their sum times ``dt``; the episode sums
    plus the weighted terms times ``dt``), with the weighted terms stacked into one tensor and copied into the
    manager's step-reward buffer at once, where Isaac Lab writes each into a column view (``out=``), which breaks
    the trace at every term.
    """
    env = manager._env  # noqa: SLF001 (Isaac Lab keeps them private)
    cfgs = manager._term_cfgs  # noqa: SLF001
    step_reward, reward = manager._step_reward, manager._reward_buf  # noqa: SLF001
    episode_sums = manager._episode_sum_buf  # noqa: SLF001

    def compute(dt: float) -> Tensor:
        columns = []
        for cfg in cfgs:
            if cfg.weight == 0.0:
                columns.append(torch.zeros_like(reward))
                continue
            value = cfg.func(env, **cfg.params)
            columns.append(torch.as_tensor(value * cfg.weight, device=reward.device).expand_as(reward))
        weighted = torch.stack(columns, dim=1)
        step_reward.copy_(weighted)
        reward.copy_(weighted.sum(dim=1).mul_(dt))
        episode_sums.add_(weighted, alpha=dt)
        return reward

    return compute


def compile_terms(env: Any, backend: str | Callable[..., Any] | None = None) -> list[str]:
    """Compile the env's per-step math (module doc); returns what was compiled, by name.

    * every observation term that is a plain function (``obs/<group>/<term>``);
    * the reward manager's ``compute`` as :func:`reward_compute`, its terms inlined (``reward_manager.compute``);
    * the termination manager's ``compute`` whole, its terms and their union inlined
      (``termination_manager.compute``);
    * the motion command's per-step advance and its reset on the done mask (``motion_command.compute``,
      ``motion_command.prepare_resets``; the draws and the simulator writes in it stay eager).

    The graphed step's masked reset compiles its bookkeeping itself
    (:meth:`sonic_env.masked_reset.MaskedReset.compile`).

    Args:
        env: an Isaac Lab manager-based env with its managers loaded.
        backend: ``torch.compile``'s backend (default :data:`BACKEND`); ``"inductor"`` generates fused kernels.
    """
    names = []
    for name, cfg in manager_terms(env):
        plain = name.startswith("obs/") and not isinstance(cfg.func, ManagerTermBase)
        compiled = _compiled(cfg.func, backend) if plain else None
        if compiled is not None:
            cfg.func = compiled
            names.append(name)
    rewards = env.reward_manager
    if not getattr(rewards.compute, "_sonic_compiled", False):
        rewards.compute = reward_compute(rewards)
        compile_method(rewards, "compute", backend)
        names.append("reward_manager.compute")
    if compile_method(env.termination_manager, "compute", backend):
        names.append("termination_manager.compute")
    for term in env.command_manager._terms.values():  # noqa: SLF001 (Isaac Lab keeps them private)
        if isinstance(term, MotionCommand):
            for method in ("compute", "prepare_resets"):
                if compile_method(term, method, backend):
                    names.append(f"motion_command.{method}")
    return names
