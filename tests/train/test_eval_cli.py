"""How ``sonic-eval`` arguments become an EvalConfig (no env), and the report's ordering and files."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
import torch
import yaml

from sonic_env.policy_io import g1_policy_io
from sonic_model import UniversalTokenPolicy, policy_checkpoint, preset
from sonic_train.config import exp_preset
from sonic_train.eval import eval_output_dir, find_config_yaml, resolve_eval_config
from sonic_train.eval_report import metrics_json, write_report
from sonic_train.evaluator import EvalResult, MotionResult
from sonic_train.overrides import OverrideError

LINE_10 = (
    "+checkpoint={ckpt} +headless=True ++eval_callbacks=im_eval ++run_eval_loop=False ++num_envs=128 "
    '"+manager_env/terminations=tracking/eval" "++manager_env.commands.motion.motion_lib_cfg.max_unique_motions=512"'
)
LINE_12 = "+checkpoint={ckpt} +headless=True ++num_envs=1 +export_onnx_only=true"


def _checkpoint(folder: Path, config_in: Path | None, motion_file: str = "my/clips") -> Path:
    """A weights-only small checkpoint in ``folder``; ``config_in`` gets a config.yaml with ``motion_file``."""
    p = preset("small")
    policy = UniversalTokenPolicy(p.model, p.contract)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model_step_000010.pt"
    torch.save(policy_checkpoint(policy, g1_policy_io(p.contract.action_joint_names)), path)
    if config_in is not None:
        config = exp_preset("small").model_dump(mode="json")
        config["manager_env"]["commands"]["motion"]["motion_lib_cfg"]["motion_file"] = motion_file
        (config_in / "config.yaml").write_text(yaml.safe_dump(config))
    return path


def test_line_10_reads_config_yaml_beside_the_checkpoint(tmp_path: Path) -> None:
    """Motion paths from config.yaml; eval mode, eval terminations, 128 envs, max_unique_motions 512."""
    ckpt = _checkpoint(tmp_path / "run", tmp_path / "run")
    config, start, source = resolve_eval_config(shlex.split(LINE_10.format(ckpt=ckpt)))
    env = config.manager_env
    assert source == str(tmp_path / "run" / "config.yaml") and start.path == ckpt
    assert env.commands.motion.motion_lib_cfg.motion_file == "my/clips"
    assert env.commands.motion.motion_lib_cfg.max_unique_motions == 512
    assert (config.num_envs, env.num_envs, env.mode) == (128, 128, "eval")
    assert env.terminations is not None and env.terminations.name == "tracking/eval"
    assert config.eval_callbacks == "im_eval" and config.headless and not config.run_eval_loop
    assert env.observation_noise and env.commands.motion.use_encoder is None
    assert eval_output_dir(config, ckpt) == tmp_path / "run" / "eval" / "model_step_000010"


def test_config_yaml_is_found_in_the_parent_folder(tmp_path: Path) -> None:
    """A checkpoint in a subfolder of the run uses the run's config.yaml (SONIC's lookup)."""
    ckpt = _checkpoint(tmp_path / "run" / "ckpts", tmp_path / "run", motion_file="parent/clips")
    assert find_config_yaml(ckpt) == tmp_path / "run" / "config.yaml"
    config, _, _ = resolve_eval_config([f"+checkpoint={ckpt}", "++eval_callbacks=im_eval"])
    assert config.manager_env.commands.motion.motion_lib_cfg.motion_file == "parent/clips"


def test_line_12_accepts_one_env_and_sonics_eval_overrides_apply(tmp_path: Path) -> None:
    """num_envs=1 passes (no minibatch check in eval); without ++num_envs SONIC's eval_overrides give 1."""
    ckpt = _checkpoint(tmp_path / "run", tmp_path / "run")
    config, _, _ = resolve_eval_config(shlex.split(LINE_12.format(ckpt=ckpt)))
    assert config.export_onnx_only and config.num_envs == 1
    bare, _, _ = resolve_eval_config([f"+checkpoint={ckpt}"])
    assert (bare.num_envs, bare.headless, bare.use_wandb) == (1, False, False)


def test_use_encoder_reaches_the_motion_command_and_the_output_folder(tmp_path: Path) -> None:
    """++use_encoder=teleop forces the env's encoder; results go to eval/<stem>_teleop."""
    ckpt = _checkpoint(tmp_path / "run", tmp_path / "run")
    config, _, _ = resolve_eval_config([f"+checkpoint={ckpt}", "++use_encoder=teleop"])
    assert config.manager_env.commands.motion.use_encoder == "teleop"
    assert eval_output_dir(config, ckpt).name == "model_step_000010_teleop"


def test_without_config_yaml_the_default_preset_is_named(tmp_path: Path) -> None:
    """A weights-only file with no config.yaml nearby falls back to sonic_release and says so."""
    ckpt = _checkpoint(tmp_path / "a" / "b", None)
    config, _, source = resolve_eval_config([f"+checkpoint={ckpt}", "+exp=small"])
    assert source == "+exp=small" and config.manager_env.contract == "small"
    _, _, fallback = resolve_eval_config([f"+checkpoint={ckpt}"])
    assert "sonic_release" in fallback


def test_bad_arguments_name_the_problem(tmp_path: Path) -> None:
    """No checkpoint, or an unknown key: OverrideError naming it."""
    with pytest.raises(OverrideError, match=r"\+checkpoint"):
        resolve_eval_config(["++eval_callbacks=im_eval"])
    ckpt = _checkpoint(tmp_path / "run", tmp_path / "run")
    with pytest.raises(OverrideError, match="use_encodr"):
        resolve_eval_config([f"+checkpoint={ckpt}", "++use_encodr=g1"])


def _motion(name: str, success: bool, progress: float, mpjpe_l: float, frames: int) -> MotionResult:
    sums = {"mpjpe_l": mpjpe_l * frames, "mpjpe_g": 2 * mpjpe_l * frames}
    return MotionResult(
        motion=name,
        clip_id=0,
        num_frames=frames + 1,
        eval_frames=frames,
        success=success,
        progress=progress,
        fail_step=None if success else int(progress * (frames + 1)),
        fail_terms=() if success else ("anchor_pos",),
        encoder="g1",
        metrics={k: v / frames for k, v in sums.items()},
        sums=sums,
    )


def test_report_orders_failures_first_and_writes_sonics_keys(tmp_path: Path) -> None:
    """Worst = failures by progress, then successes by mpjpe_l; json rates and micro-averages by hand."""
    result = EvalResult(
        motions=[
            _motion("good", True, 1.0, 10.0, 10),
            _motion("bad", True, 1.0, 50.0, 30),
            _motion("late_fail", False, 0.8, 20.0, 10),
            _motion("early_fail", False, 0.1, 5.0, 10),
        ],
        keys=["mpjpe_l", "mpjpe_g"],
    )
    assert [m.motion for m in result.worst(3)] == ["early_fail", "late_fail", "bad"]
    doc = metrics_json(result, {"checkpoint": "c.pt"})
    assert doc["success_rate"] == 0.5 and doc["eval/success/success_rate"] == 0.5
    assert doc["progress_rate"] == pytest.approx((1 + 1 + 0.8 + 0.1) / 4)
    assert doc["eval/all/mpjpe_l"] == pytest.approx((100 + 1500 + 200 + 50) / 60)
    assert doc["eval/success/mpjpe_l"] == pytest.approx((100 + 1500) / 40)
    assert doc["failed_keys"] == ["late_fail", "early_fail"] and doc["failed_idxes"] == [2, 3]
    paths = write_report(result, tmp_path / "out", {"checkpoint": "c.pt"})
    assert json.loads(paths["metrics"].read_text())["eval/all_metrics_dict"]["motion_keys"][0] == "good"
    assert (
        paths["csv"].read_text().splitlines()[0].startswith("motion,clip_id,num_frames,eval_frames,success")
    )
