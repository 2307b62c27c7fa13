"""Shared setup of the sonic-train tests that run the Isaac Lab env: a private cache and sample motions."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from sonic_data.samples import SampleDataset, build_sample_dataset

SAMPLE_MOTIONS = ("stand_idle_neutral_001__A001", "squat_slow_001__A002", "wave_right_hand_001__A003")
"""Generated clips the training tests use (wave also gets its mirrored ``_M`` copy: 4 clips)."""


@pytest.fixture(scope="session")
def sonic_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A private ``SONIC_CACHE_DIR`` (USD, motion-library cache) for this session."""
    old = os.environ.get("SONIC_CACHE_DIR")
    path = str(tmp_path_factory.mktemp("sonic-cache"))
    os.environ["SONIC_CACHE_DIR"] = path
    yield path
    if old is None:
        os.environ.pop("SONIC_CACHE_DIR", None)
    else:
        os.environ["SONIC_CACHE_DIR"] = old


@pytest.fixture(scope="session")
def train_samples(tmp_path_factory: pytest.TempPathFactory, sonic_cache: str) -> SampleDataset:
    """Robot / SMPL / SOMA PKLs from ``sonic_data.samples``, generated once per session (~5 s)."""
    return build_sample_dataset(tmp_path_factory.mktemp("train-samples"), motions=SAMPLE_MOTIONS)


SmallRunArgs = Callable[..., list[str]]


@pytest.fixture(scope="session")
def small_run_args(train_samples: SampleDataset) -> SmallRunArgs:
    """``factory(base_dir, iterations=2)``: ``sonic-train`` arguments for a short CPU run on the sample data
    (small preset, 4 envs, 8 steps per iteration, single-process loading)."""

    def factory(base_dir: os.PathLike[str] | str, iterations: int = 2) -> list[str]:
        return _small_run_args(train_samples, base_dir, iterations)

    return factory


def _small_run_args(samples: SampleDataset, base_dir: os.PathLike[str] | str, iterations: int) -> list[str]:
    motion = "++manager_env.commands.motion.motion_lib_cfg"
    return [
        "+exp=small",
        "num_envs=4",
        "device=cpu",
        f"{motion}.motion_file={samples.robot_filtered}",
        f"{motion}.smpl_motion_file={samples.smpl_filtered}",
        f"{motion}.multi_thread=False",
        f"++algo.config.num_learning_iterations={iterations}",
        "++algo.config.num_steps_per_env=8",
        f"base_dir={base_dir}",
    ]
