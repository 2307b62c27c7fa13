"""Shared fixtures: small policies with SONIC's layouts and a realistic G1 robot block, exported once."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch

from sonic_env.policy_io import g1_policy_io
from sonic_export import ExportResult, export
from sonic_model import PolicyIO, UniversalTokenPolicy, policy_checkpoint, preset


@pytest.fixture
def g1_io() -> PolicyIO:
    """The realistic G1 robot block (see :func:`g1_policy_io`)."""
    return g1_policy_io()


@dataclass(frozen=True)
class Exported:
    """A small policy, its checkpoint ``policy`` part, and the files exported from that part."""

    policy: UniversalTokenPolicy
    policy_part: dict[str, Any]
    files: ExportResult


def _export(preset_name: str, out_dir: Path) -> Exported:
    torch.manual_seed(0)
    p = preset(preset_name)
    policy = UniversalTokenPolicy(p.model, p.contract, with_critic=False).eval()
    part = policy_checkpoint(policy, g1_policy_io())["policy"]
    return Exported(policy, part, export(part, out_dir, "model_step_000100", int8=True))


@pytest.fixture(scope="session")
def small_export(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    """The ``small`` preset (sonic_release layout) exported in memory, fp32 and int8."""
    return _export("small", tmp_path_factory.mktemp("small") / "exported")


@pytest.fixture(scope="session")
def bones_seed_export(tmp_path_factory: pytest.TempPathFactory) -> Exported:
    """The ``small_bones_seed`` preset (sonic_bones_seed layout, + soma) exported, fp32 and int8."""
    return _export("small_bones_seed", tmp_path_factory.mktemp("bones_seed") / "exported")
