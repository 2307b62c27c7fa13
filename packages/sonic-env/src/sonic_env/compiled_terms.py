"""The env's observation, reward and termination terms compiled with ``torch.compile`` (fewer GPU kernels).

In the graphed step (:mod:`sonic_env.rl_env`) the managers' Python is gone and what is left is their kernels: one
per torch operator, a few microseconds each at 4,096 envs, about 600 per step
(``benchmarks/env_ops.py --graphed``), of which the terms' own math is about half. ``torch.compile`` (TorchInductor)
fuses each term's gathers, quaternion products and reductions into a few generated kernels. Every term of the SONIC
env traces into one graph (``torch._dynamo.explain``; the contact-sensor terms into two); the managers themselves
(noise, clipping, histories, concatenation) stay eager: their random draws and the history buffers' Python pointers
are not worth compiling.

What changes: the kernels, not the math. Fused float arithmetic may round differently from the eager operators
(``tests/env/test_compiled_terms.py`` bounds it). Compilation runs at the first call of each term (the graphed
step's eager warm-up steps, before any capture), a few seconds per term, and is cached by TorchInductor on disk for
later processes. Class-based terms (Isaac Lab's ``ManagerTermBase``, which managers also ``reset``) stay eager.

``EnvConfig.compile_terms`` turns it on (off by default: compiling costs minutes on a CPU and only pays on a GPU).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from isaaclab.managers import ManagerTermBase

__all__ = ["BACKEND", "compile_terms", "term_functions"]

BACKEND: str = "inductor"
"""``torch.compile``'s backend for :func:`compile_terms` by default (``"aot_eager"`` in the CPU tests: it traces
without generating code, so a rollout checks the tracing in seconds)."""


def term_functions(env: Any) -> list[tuple[str, Any]]:
    """``(name, term cfg)`` of every observation, reward and termination term whose ``func`` is a plain function.

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
    return [(name, cfg) for name, cfg in terms if not isinstance(cfg.func, ManagerTermBase)]


def compile_terms(env: Any, backend: str | Callable[..., Any] | None = None) -> list[str]:
    """Replace each plain-function term's ``func`` by its ``torch.compile`` (static shapes); returns their names.

    Args:
        env: an Isaac Lab manager-based env with its managers loaded.
        backend: ``torch.compile``'s backend (default :data:`BACKEND`); ``"inductor"`` generates fused kernels.
    """
    backend = BACKEND if backend is None else backend
    names = []
    for name, cfg in term_functions(env):
        if getattr(cfg.func, "_sonic_compiled", False):
            continue
        compiled = torch.compile(cfg.func, backend=backend, dynamic=False)
        compiled._sonic_compiled = True  # pyright: ignore[reportFunctionMemberAccess]
        cfg.func = compiled
        names.append(name)
    return names
