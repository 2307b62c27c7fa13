"""SONIC's termination sets on tiny hand-built tensors: thresholds, the adaptive switch, presets by name.

The adapters run against a stand-in env that carries the motion command's tensors, the same way
Isaac Lab's ``TerminationManager`` calls them (``func(env, **params)``).
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from sonic_data import g1
from sonic_data.rotations import axis_angle_to_quat, quat_mul
from sonic_env.mdp import terminations as T
from sonic_env.mdp_config import TerminationsConfig

N, B = 4, len(g1.TRACKED_BODY_NAMES)
TRAIN = TerminationsConfig()
EVAL = TerminationsConfig.model_validate("tracking/eval")


class TrackingDouble(SimpleNamespace):
    """The motion command's tensors; the pelvis reads derive from ``robot_body_*`` as ``MotionCommand``'s do."""

    robot_anchor_pos_w = property(lambda self: self.robot_body_pos_w[:, 0])
    robot_anchor_quat_w = property(lambda self: self.robot_body_quat_w[:, 0])


def reference_state() -> TrackingDouble:
    """The robot exactly on a standing reference (pelvis at 0.8 m), mid-clip."""
    gen = torch.Generator().manual_seed(0)
    pos = torch.randn(N, B, 3, generator=gen)
    pos[:, 0, 2] = 0.8
    quat = torch.nn.functional.normalize(torch.randn(N, B, 4, generator=gen), dim=-1)
    return TrackingDouble(
        ref_body_pos_w=pos,
        ref_body_quat_w=quat,
        body_pos_relative_w=pos.clone(),
        body_quat_relative_w=quat.clone(),
        robot_body_pos_w=pos.clone(),
        robot_body_quat_w=quat.clone(),
        running_ref_root_height=torch.full((N,), 0.8),
        frames=torch.full((N,), 10, dtype=torch.long),
        clip_lengths=torch.full((N,), 100, dtype=torch.long),
    )


def as_env(state: SimpleNamespace) -> Any:
    """A stand-in env whose command manager returns ``state`` as the ``motion`` term."""
    return SimpleNamespace(command_manager=SimpleNamespace(get_term=lambda name: state))


def evaluate(config: TerminationsConfig, state: SimpleNamespace) -> dict[str, torch.Tensor]:
    """Every configured term's ``(N,)`` bool result, called as Isaac Lab's manager calls it."""
    cfg = T.termination_terms_cfg(config)
    return {
        name: term.func(as_env(state), **term.params)  # pyright: ignore[reportOptionalMemberAccess]
        for name, term in vars(cfg).items()
        if term is not None
    }


def test_presets_hold_sonics_thresholds() -> None:
    """Train: 0.15 m / 0.2 rad² / 0.15 m (adaptive 0.75 m below 0.5 m) / feet 0.2 m; eval: 0.25 / 1.0 / 0.25."""
    assert TRAIN.name == "tracking/base_adaptive_strict_ori_foot_xyz"
    assert TRAIN.anchor_pos is not None and TRAIN.ee_body_pos is not None and TRAIN.foot_pos_xyz is not None
    assert (TRAIN.anchor_pos.threshold, TRAIN.anchor_pos.adaptive_threshold) == (0.15, 0.75)
    assert TRAIN.anchor_pos.adaptive_below_height == 0.5
    assert TRAIN.anchor_ori_full is not None and TRAIN.anchor_ori_full.threshold == 0.2
    assert (TRAIN.ee_body_pos.threshold, TRAIN.ee_body_pos.adaptive_threshold) == (0.15, 0.75)
    assert set(TRAIN.ee_body_pos.body_names) == {
        "left_ankle_roll_link",
        "right_ankle_roll_link",
        "left_wrist_yaw_link",
        "right_wrist_yaw_link",
    }
    assert TRAIN.foot_pos_xyz.threshold == 0.2
    assert EVAL.anchor_pos is not None and EVAL.ee_body_pos is not None and EVAL.anchor_ori_full is not None
    assert (EVAL.anchor_pos.threshold, EVAL.anchor_pos.adaptive_threshold) == (0.25, None)
    assert EVAL.anchor_ori_full.threshold == 1.0
    assert (EVAL.ee_body_pos.threshold, EVAL.ee_body_pos.adaptive_threshold) == (0.25, None)
    assert EVAL.foot_pos_xyz is None and EVAL.time_out and TRAIN.time_out


def test_preset_selected_by_name_and_changed_by_field() -> None:
    """A bare name selects a preset; a mapping with name keeps the preset's other values; bad names fail."""
    changed = TerminationsConfig.model_validate({"name": "tracking/eval", "anchor_pos": {"threshold": 0.3}})
    assert changed.anchor_pos is not None and changed.anchor_pos.threshold == 0.3
    assert changed.anchor_ori_full == EVAL.anchor_ori_full and changed.foot_pos_xyz is None
    assert TerminationsConfig.model_validate(EVAL.model_dump()) == EVAL
    with pytest.raises(ValueError, match="tracking/evall"):
        TerminationsConfig.model_validate("tracking/evall")


def test_robot_on_reference_never_terminates() -> None:
    """No term fires for a robot on its reference, in either preset."""
    state = reference_state()
    for config in (TRAIN, EVAL):
        for name, done in evaluate(config, state).items():
            assert not done.any(), (config.name, name)


def test_eval_height_threshold_is_025_m() -> None:
    """A 0.26 m pelvis height error fires eval's anchor_pos; 0.24 m does not."""
    state = reference_state()
    state.robot_body_pos_w[:2, 0, 2] -= 0.26
    state.robot_body_pos_w[2:, 0, 2] += 0.24
    done = evaluate(EVAL, state)
    assert done["anchor_pos"].tolist() == [True, True, False, False]
    assert not done["ee_body_pos"].any()


def test_adaptive_threshold_switches_at_running_height_05() -> None:
    """Train: a 0.5 m pelvis error fires while the running reference height is ≥ 0.5 m, not below it."""
    state = reference_state()
    state.running_ref_root_height = torch.tensor([0.49, 0.4999, 0.5, 0.51])
    state.robot_body_pos_w[:, 0, 2] -= 0.5
    assert evaluate(TRAIN, state)["anchor_pos"].tolist() == [False, False, True, True]
    torch.testing.assert_close(
        T.height_threshold(state.running_ref_root_height, 0.15, 0.75, 0.5),
        torch.tensor([0.75, 0.75, 0.15, 0.15]),
    )
    # Below 0.5 m the threshold is 0.75 m: 0.76 m still fires.
    state.robot_body_pos_w[:, 0, 2] -= 0.26
    assert evaluate(TRAIN, state)["anchor_pos"].all()


def test_end_effector_heights_use_the_relative_reference() -> None:
    """A 0.2 m wrist height error fires train's ee_body_pos (0.15 m), not eval's (0.25 m); a knee never does."""
    state = reference_state()
    wrist = g1.TRACKED_BODY_NAMES.index("left_wrist_yaw_link")
    knee = g1.TRACKED_BODY_NAMES.index("left_knee_link")
    state.robot_body_pos_w[:, wrist, 2] += 0.2
    state.robot_body_pos_w[:, knee, 2] += 1.0
    assert evaluate(TRAIN, state)["ee_body_pos"].all()
    assert not evaluate(EVAL, state)["ee_body_pos"].any()
    state.robot_body_pos_w[:, wrist, 2] -= 0.2
    assert not evaluate(TRAIN, state)["ee_body_pos"].any()
    # Adaptive: with a low running height the wrist may be 0.7 m off.
    state.running_ref_root_height[:] = 0.3
    state.robot_body_pos_w[:, wrist, 2] += 0.7
    assert not evaluate(TRAIN, state)["ee_body_pos"].any()


def test_orientation_threshold_is_on_the_squared_angle() -> None:
    """θ² just above 0.2 rad² fires train, just below does not; eval needs θ² > 1."""
    state = reference_state()
    angles = [math.sqrt(0.2) + 0.01, math.sqrt(0.2) - 0.01, 1.01, 0.99]
    rot = axis_angle_to_quat(torch.tensor([[0.0, 0.0, 1.0]]) * torch.tensor(angles)[:, None])
    state.robot_body_quat_w[:, 0] = quat_mul(rot, state.ref_body_quat_w[:, 0])
    assert evaluate(TRAIN, state)["anchor_ori_full"].tolist() == [True, False, True, True]
    assert evaluate(EVAL, state)["anchor_ori_full"].tolist() == [False, False, True, False]


def test_foot_position_is_3d_and_train_only() -> None:
    """Train's foot_pos_xyz fires on the 3-D distance > 0.2 m (0.15 m in x and y each: 0.212 m); eval has none."""
    state = reference_state()
    foot = g1.TRACKED_BODY_NAMES.index("right_ankle_roll_link")
    state.robot_body_pos_w[:, foot, 0] += torch.tensor([0.21, 0.19, 0.15, 0.14])
    state.robot_body_pos_w[:, foot, 1] += torch.tensor(
        [0.0, 0.0, 0.15, 0.14]
    )  # norms 0.21, 0.19, 0.212, 0.198
    assert evaluate(TRAIN, state)["foot_pos_xyz"].tolist() == [True, False, True, False]
    assert "foot_pos_xyz" not in evaluate(EVAL, state)


def test_time_out_at_the_clips_last_frame_is_a_truncation() -> None:
    """time_out fires when frame + 1 ≥ clip length, and is flagged as a time-out (bootstrapped)."""
    state = reference_state()
    state.frames = torch.tensor([98, 99, 100, 0])
    state.clip_lengths = torch.tensor([100, 100, 100, 1])
    for config in (TRAIN, EVAL):
        assert evaluate(config, state)["time_out"].tolist() == [False, True, True, True]
        cfg = T.termination_terms_cfg(config)
        assert cfg.time_out is not None and cfg.time_out.time_out
        assert all(not t.time_out for k, t in vars(cfg).items() if t is not None and k != "time_out")


def test_untracked_body_is_a_clear_error() -> None:
    """A termination body that the command does not track fails at config time, naming it."""
    bad = TerminationsConfig.model_validate({"ee_body_pos": {"threshold": 0.1, "body_names": ["head_link"]}})
    with pytest.raises(ValueError, match="head_link"):
        T.termination_terms_cfg(bad)
