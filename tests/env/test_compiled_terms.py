"""The terms through ``torch.compile`` (``sonic_env.compiled_terms``): same results as the eager terms.

A rollout with every term traced (backend ``aot_eager``: dynamo's capture, guards and side effects, without code
generation) must equal the eager one bit for bit, resets included; TorchInductor's generated code (what a GPU run
uses) is checked on two quaternion-heavy terms against their eager values, to float rounding.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from typing import Any

import pytest
import torch

from sonic_env import compiled_terms
from sonic_env.compiled_terms import check_backend, compile_terms, manager_terms
from sonic_env.config import EnvConfig
from sonic_env.env import SonicEnv
from sonic_env.env_cfg import make_env

NUM_ENVS = 4
STEPS = 40
FIELDS = {"mode": "eval", "motion": {"use_encoder": "g1"}}


@pytest.mark.parametrize("graphed", [False, True], ids=["isaac-lab-step", "graphed-step"])
def test_traced_step_math_gives_the_eager_rollout_bit_for_bit(
    sample_env_config: Callable[..., EnvConfig],
    monkeypatch: pytest.MonkeyPatch,
    graphed_on_cpu: Callable[[], None],
    rollout: Callable[..., Any],
    graphed: bool,
) -> None:
    """40 zero-action eval steps with resets, everything ``compile_terms`` compiles traced: observations, rewards
    and dones equal the eager steps'. ``graphed``: the graphed step's sequence on the CPU (its masked reset's
    bookkeeping traced too), against Isaac Lab's eager step without observation noise (``test_rl_env.py``)."""
    torch._dynamo.reset()  # noqa: SLF001 (a fresh dynamo cache: no guards from another test's env)
    fields = {**FIELDS, "observation_noise": not graphed}
    monkeypatch.setattr(compiled_terms, "BACKEND", "aot_eager")
    if graphed:
        graphed_on_cpu()
    compiled: list[list[str]] = []

    def keep_names(env: SonicEnv) -> None:
        compiled.append(env.env.compiled_terms)  # pyright: ignore[reportAttributeAccessIssue]  (the list, filled on)

    config = sample_env_config(compile_terms=True, cuda_graphs=graphed, **fields)
    traced, traced_dones, _, _ = rollout(config, keep_names, steps=STEPS)
    monkeypatch.undo()
    eager, dones, _, _ = rollout(sample_env_config(**fields), keep_names, steps=STEPS)
    names, eager_names = compiled
    assert eager_names == []
    expected = {"obs/critic/body_ori", "reward_manager.compute", "termination_manager.compute"}
    expected |= {"motion_command.compute", "motion_command.prepare_resets"}
    expected |= {"masked_reset.bookkeeping"} if graphed else set()
    assert len(names) >= 29 and expected <= set(names), names
    assert not any(name.startswith(("reward/", "termination/")) for name in names), (
        "compiled with their manager"
    )
    assert dones == traced_dones and dones >= NUM_ENVS, "precondition: robots fell and were reset"
    for t, (a, b) in enumerate(zip(traced, eager, strict=True)):
        for x, y in zip(a, b, strict=True):
            assert torch.equal(x, y), f"step {t} differs"


def test_inductor_code_matches_the_eager_terms(sample_env_config: Callable[..., EnvConfig]) -> None:
    """TorchInductor's kernels for two quaternion-heavy terms give their eager values to float rounding."""
    torch._dynamo.reset()  # noqa: SLF001
    env = SonicEnv(sample_env_config(**FIELDS))
    try:
        env.reset()
        for _ in range(3):
            env.step(torch.zeros(NUM_ENVS, 29))
        inner = env.env
        terms = dict(manager_terms(inner))
        for name in ("obs/critic/body_ori", "reward/tracking_vr_5point_local"):
            cfg = terms[name]
            eager = cfg.func(inner, **cfg.params)
            compiled = torch.compile(cfg.func, backend="inductor", dynamic=False)(inner, **cfg.params)
            torch.testing.assert_close(compiled, eager, rtol=1e-5, atol=1e-6, msg=name)
            assert not torch.equal(eager, torch.zeros_like(eager)), (
                f"precondition: {name} is not trivially zero"
            )
    finally:
        env.close()


def test_compile_terms_lists_what_it_compiled_once(
    sample_env_config: Callable[..., EnvConfig],
) -> None:
    """A second call compiles nothing more. Every observation term is listed (the SONIC env has no class-based
    term, which would stay eager); the reward and termination terms are compiled inside their managers."""
    env = SonicEnv(sample_env_config())
    try:
        inner = env.env
        first = compile_terms(inner, backend="aot_eager")
        terms = [name for name, _ in manager_terms(inner) if name.startswith("obs/")]
        managers = ["reward_manager.compute", "termination_manager.compute"]
        assert first == [*terms, *managers, "motion_command.compute", "motion_command.prepare_resets"]
        assert compile_terms(inner, backend="aot_eager") == []
    finally:
        env.close()


def test_inductor_on_cuda_without_triton_is_refused_up_front(
    sample_env_config: Callable[..., EnvConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    """TorchInductor on CUDA needs Triton: without it ``compile_terms`` is refused, with the setting's name, before
    Isaac Lab builds any simulation (``SonicRLEnv.__init__``)."""
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name: None if name == "triton" else find_spec(name)
    )
    with pytest.raises(RuntimeError, match=r"compile_terms=True .* needs Triton on CUDA"):
        check_backend("cuda:0", "inductor")
    with pytest.raises(RuntimeError, match=r"needs Triton"):
        make_env(sample_env_config(compile_terms=True, device="cuda:0"))
    check_backend("cpu", "inductor")  # a C++ compiler there, not Triton
    check_backend("cuda:0", "aot_eager")  # no code generated
