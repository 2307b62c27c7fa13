"""Override parsing and application on a small pydantic schema shaped like SONIC's tree."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from sonic_train.overrides import OverrideError, apply_overrides, field_paths, parse_override


class _MotionLib(BaseModel):
    model_config = ConfigDict(extra="forbid")
    motion_file: str = "a"
    max_unique_motions: int | None = None


class _Motion(BaseModel):
    model_config = ConfigDict(extra="forbid")
    motion_lib_cfg: _MotionLib = _MotionLib()


class _Commands(BaseModel):
    model_config = ConfigDict(extra="forbid")
    motion: _Motion = _Motion()


class _Env(BaseModel):
    model_config = ConfigDict(extra="forbid")
    commands: _Commands = _Commands()
    terminations: Literal["tracking/base", "tracking/eval"] = "tracking/base"
    recorders: Literal["empty", "render"] | None = "empty"
    rewards: dict[str, float] = {}


class _Exp(BaseModel):
    model_config = ConfigDict(extra="forbid")
    num_envs: int = 4096
    headless: bool = True
    manager_env: _Env = _Env()


def _run(*args: str) -> _Exp:
    return _Exp.model_validate(apply_overrides(_Exp().model_dump(), args, _Exp))


def test_prefixes_parse_to_ops_and_yaml_values():
    """key=v, +key=v, ++key=v, ~key parse to set/add/force/remove with YAML-typed values."""
    assert parse_override("num_envs=16").op == "set"
    assert parse_override("+headless=True").value is True
    ov = parse_override("++algo.config.learning_rate=1e-4")
    assert (ov.op, ov.path, ov.value) == ("force", "algo.config.learning_rate", 1e-4)
    assert parse_override("~manager_env/recorders=empty").op == "remove"
    assert parse_override("x=hello").value == "hello"
    assert parse_override("x=null").value is None
    with pytest.raises(OverrideError, match="expected key=value"):
        parse_override("num_envs")


def test_nested_set_and_group_selection_validate():
    """Dotted paths reach nested fields; group/path=choice selects a validated option."""
    cfg = _run(
        "num_envs=16",
        "++manager_env.commands.motion.motion_lib_cfg.max_unique_motions=512",
        "+manager_env/terminations=tracking/eval",
        "~manager_env/recorders=empty",
        "+manager_env/recorders=render",
    )
    assert cfg.num_envs == 16
    assert cfg.manager_env.commands.motion.motion_lib_cfg.max_unique_motions == 512
    assert cfg.manager_env.terminations == "tracking/eval"
    assert cfg.manager_env.recorders == "render"


def test_group_value_stays_a_string_and_bad_choice_fails_in_validation():
    """A group choice like tracking/eval is never YAML-parsed; an unknown choice fails validation."""
    assert parse_override("+manager_env/terminations=tracking/eval").value == "tracking/eval"
    with pytest.raises(ValidationError, match="terminations"):
        _run("+manager_env/terminations=tracking/nope")


def test_remove_sets_none_and_checks_current_choice():
    """~group=choice clears the group, and refuses when another choice is selected."""
    assert _run("~manager_env/recorders").manager_env.recorders is None
    with pytest.raises(OverrideError, match="not 'render'"):
        _run("~manager_env/recorders=render")


def test_unknown_key_suggests_closest():
    """A typo names the key and suggests the nearest valid ones."""
    with pytest.raises(OverrideError, match=r"unknown key 'num_env'.*num_envs"):
        _run("num_env=3")
    with pytest.raises(OverrideError, match="motion_file"):
        _run("++manager_env.commands.motion.motion_lib_cfg.motion_fil=x")


def test_mapping_fields_accept_free_keys_and_values_have_no_subfields():
    """Keys under a dict field are free; a scalar field has no sub-keys."""
    assert _run("manager_env.rewards.feet_acc=-2.5e-6").manager_env.rewards == {"feet_acc": -2.5e-6}
    with pytest.raises(OverrideError, match="is a value"):
        _run("num_envs.x=1")
    assert "manager_env.rewards.*" in field_paths(_Exp)


class _Preset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Literal["train", "eval"] = "train"
    threshold: float = 0.15


class _WithPreset(BaseModel):
    model_config = ConfigDict(extra="forbid")
    terminations: _Preset | str = _Preset()


def test_field_under_a_group_chosen_by_name_keeps_the_choice():
    """+group=eval then group.threshold=0.3 gives {name: eval, threshold: 0.3}, not the default preset."""
    data = apply_overrides(
        _WithPreset().model_dump(), ["+terminations=eval", "terminations.threshold=0.3"], _WithPreset
    )
    assert data["terminations"] == {"name": "eval", "threshold": 0.3}
