"""Shared setup of the sonic-env tests: a private cache (USD, motion library) and generated sample motions."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import pytest
import torch

from sonic_data.samples import SampleDataset, build_sample_dataset
from sonic_env.assets import CACHE_ENV_VAR
from sonic_env.config import EnvConfig
from sonic_env.env import SonicEnv
from sonic_env.rl_env import SonicRLEnv


@pytest.fixture(scope="session", autouse=True)
def _private_sonic_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    old = os.environ.get(CACHE_ENV_VAR)
    os.environ[CACHE_ENV_VAR] = str(tmp_path_factory.mktemp("sonic-cache"))
    yield
    if old is None:
        os.environ.pop(CACHE_ENV_VAR, None)
    else:
        os.environ[CACHE_ENV_VAR] = old


SAMPLE_MOTIONS = ("stand_idle_neutral_001__A001", "squat_slow_001__A002", "wave_right_hand_001__A003")
"""Generated sample clips the env tests play (wave also gets its mirrored ``_M`` copy: 4 clips)."""


@pytest.fixture(scope="session")
def sample_data(tmp_path_factory: pytest.TempPathFactory) -> SampleDataset:
    """Real robot / SMPL / SOMA PKLs from ``sonic_data.samples``, generated once per session (~5 s)."""
    return build_sample_dataset(tmp_path_factory.mktemp("samples"), motions=SAMPLE_MOTIONS)


@pytest.fixture(scope="session")
def sample_env_config(sample_data: SampleDataset) -> Callable[..., EnvConfig]:
    """Factory of 4-env CPU ``EnvConfig``s playing the sample clips (robot + SMPL; SOMA with ``soma=True``).

    ``factory(motion_lib={...}, soma=False, **fields)``: ``motion_lib`` updates
    ``commands.motion.motion_lib_cfg``, ``fields`` update the top level (e.g. ``mode="eval"``).
    Loading is single-process and the motion cache private (``SONIC_CACHE_DIR``).
    """

    def factory(motion_lib: dict[str, Any] | None = None, soma: bool = False, **fields: Any) -> EnvConfig:
        lib: dict[str, Any] = {
            "motion_file": str(sample_data.robot_filtered),
            "smpl_motion_file": str(sample_data.smpl_filtered),
            "soma_motion_file": str(sample_data.soma_filtered) if soma else None,
            "multi_thread": False,
            **(motion_lib or {}),
        }
        motion = dict(fields.pop("motion", {}))
        data: dict[str, Any] = {"num_envs": 4, "device": "cpu", "seed": 0, **fields}
        data["commands"] = {"motion": {**motion, "motion_lib_cfg": lib}}
        return EnvConfig.model_validate(data)

    return factory


class Rollout(NamedTuple):
    steps: list[tuple[torch.Tensor, ...]]
    """Per step: policy and critic observations, tokenizer terms (by name), rewards, dones."""
    dones: int
    overlaps: bool
    logs: list[dict[str, float]]
    """Per step: ``extras["log"]`` as floats (what a consumer reading it at that step sees)."""


def _rollout(
    config: EnvConfig, prepare: Callable[[SonicEnv], None] | None = None, steps: int = 80
) -> Rollout:
    """``steps`` zero-action steps of a fresh 4-env :class:`SonicEnv` (``prepare(env)`` first), recorded."""
    env = SonicEnv(config)
    try:
        if prepare is not None:
            prepare(env)
        overlaps = env.env.overlaps_resets  # pyright: ignore[reportAttributeAccessIssue]
        env.reset()
        records, dones, logs = [], 0, []
        for _ in range(steps):
            step = env.step(torch.zeros(env.num_envs, 29))
            tokens = tuple(v.clone() for _, v in sorted(step.obs.tokenizer.items()))
            records.append(
                (step.obs.policy.clone(), step.obs.critic.clone(), *tokens, step.rewards.clone(), step.dones)
            )
            dones += int(step.dones.sum())
            logs.append({k: float(v) for k, v in step.extras["log"].items()})
        return Rollout(records, dones, overlaps, logs)
    finally:
        env.close()


@pytest.fixture
def rollout() -> Callable[..., Rollout]:
    """``rollout(config, prepare=None, steps=80)``: a recorded zero-action rollout (:class:`Rollout`)."""
    return _rollout


def _refresh(held: object, new: object) -> None:
    """Copy ``new`` into the tensors of ``held`` (a tensor, a dict of them or None), as a graph replay would."""
    if isinstance(held, torch.Tensor):
        assert isinstance(new, torch.Tensor)
        held.copy_(new)
    elif isinstance(held, dict):
        assert isinstance(new, dict) and new.keys() == held.keys()
        for key, value in held.items():
            _refresh(value, new[key])


class ReplayByRerunning:
    """Graph backend double (CPU has no CUDA graphs): a "capture" runs the segment, a "replay" runs it again and
    writes its results into the captured output tensors, as a CUDA graph refreshes them in place."""

    def __init__(self, device: object, generators: object) -> None:
        pass

    def capture(self, fn: Callable[[], object]) -> tuple[object, object]:
        out = fn()
        return (fn, out), out

    def replay(self, handle: tuple[Callable[[], object], object]) -> None:
        fn, out = handle
        _refresh(out, fn())

    def reset(self) -> None:
        pass


@pytest.fixture
def graphed_on_cpu(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Call it to make every SonicRLEnv take the graphed step on the CPU, replayed by :class:`ReplayByRerunning`
    (undone with ``monkeypatch.undo()`` or at the test's end)."""

    def enable() -> None:
        monkeypatch.setattr(SonicRLEnv, "uses_cuda_graphs", property(lambda self: True))
        monkeypatch.setattr(SonicRLEnv, "graph_backend", ReplayByRerunning)

    return enable
