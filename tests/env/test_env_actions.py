"""SONIC's joint-position action: target formula, raw clip and joint order (no simulator)."""

from __future__ import annotations

import pytest
import torch

from sonic_data import g1
from sonic_env.actions import ACTION_CLIP, joint_position_targets, sonic_action_cfg


def test_targets_are_default_plus_scaled_action() -> None:
    """target = default + scale * a, hand-computed on two joints."""
    actions = torch.tensor([[1.0, -2.0], [0.0, 0.5]])
    default = torch.tensor([0.1, -0.2])
    scale = torch.tensor([0.5, 0.25])
    got = joint_position_targets(actions, default, scale, clip=20.0)
    expected = torch.tensor([[0.1 + 0.5, -0.2 - 0.5], [0.1, -0.2 + 0.125]])
    torch.testing.assert_close(got, expected)


def test_raw_action_is_clipped_before_scaling() -> None:
    """|a| > clip saturates at default ± scale * clip (SONIC clips the raw action, not the target)."""
    actions = torch.tensor([[100.0, -100.0, 19.0]])
    default = torch.tensor([1.0, 1.0, 1.0])
    scale = torch.tensor([0.1, 0.1, 0.1])
    got = joint_position_targets(actions, default, scale, clip=20.0)
    torch.testing.assert_close(got, torch.tensor([[3.0, -1.0, 2.9]]))


def test_action_cfg_is_in_sonic_isaaclab_order_with_per_joint_scale() -> None:
    """The action vector follows ISAACLAB_JOINT_NAMES; each joint's scale is 0.25*effort/kp by name."""
    cfg = sonic_action_cfg()
    assert cfg.joint_names == list(g1.ISAACLAB_JOINT_NAMES)
    assert cfg.preserve_order and cfg.use_default_offset
    assert cfg.raw_clip == ACTION_CLIP == 20.0
    assert isinstance(cfg.scale, dict)
    for name in g1.JOINT_NAMES:
        motor = g1.motor_of(name)
        assert cfg.scale[name] == pytest.approx(0.25 * motor.effort_limit / motor.kp)
    # SONIC_REFERENCE §8 table values for three motor groups.
    assert cfg.scale["left_knee_joint"] == pytest.approx(0.3507, abs=1e-4)
    assert cfg.scale["waist_yaw_joint"] == pytest.approx(0.5476, abs=1e-4)
    assert cfg.scale["right_wrist_yaw_joint"] == pytest.approx(0.0745, abs=1e-4)


def test_action_cfg_rejects_incomplete_joint_lists() -> None:
    """A policy order that misses or invents joints is refused by name."""
    with pytest.raises(ValueError, match="29"):
        sonic_action_cfg(g1.ISAACLAB_JOINT_NAMES[:-1])
    with pytest.raises(ValueError, match="nose_joint"):
        sonic_action_cfg((*g1.ISAACLAB_JOINT_NAMES[:-1], "nose_joint"))
