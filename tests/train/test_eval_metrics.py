"""SONIC's eval metrics on hand-made trajectories with known errors, and micro-averaging by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.linalg import orthogonal_procrustes
from scipy.spatial.transform import Rotation

from sonic_data.g1 import TRACKED_BODY_NAMES
from sonic_train.eval_metrics import (
    eval_body_subsets,
    metric_keys,
    micro_average,
    motion_sums,
    per_frame_errors,
    procrustes_align,
)

VR = ("left_wrist_yaw_link", "right_wrist_yaw_link", "torso_link")
J = len(TRACKED_BODY_NAMES)


def _reference(frames: int = 20, seed: int = 0) -> torch.Tensor:
    """(T, 14, 3) a body cloud drifting and turning, in metres."""
    gen = torch.Generator().manual_seed(seed)
    base = torch.randn(J, 3, generator=gen, dtype=torch.float64) * 0.3
    t = torch.arange(frames, dtype=torch.float64)[:, None, None]
    return base + 0.01 * t * torch.tensor([1.0, 0.5, 0.0], dtype=torch.float64)


def test_a_constant_offset_is_global_error_only() -> None:
    """Robot = reference + d for every body: mpjpe_g = |d| (mm), mpjpe_l = mpjpe_pa = vel = accel = 0."""
    gt = _reference()
    d = torch.tensor([0.03, -0.04, 0.0], dtype=torch.float64)  # |d| = 50 mm
    err = per_frame_errors(gt + d, gt)
    assert torch.allclose(err["mpjpe_g"], torch.full((20,), 50.0, dtype=torch.float64))
    for key in ("mpjpe_l", "mpjpe_pa", "vel_dist", "accel_dist"):
        assert err[key].abs().max() < 1e-6, key
    assert err["vel_dist"].shape == (19,) and err["accel_dist"].shape == (18,)


def test_moving_one_body_or_the_root_gives_the_hand_computed_errors() -> None:
    """One non-root body by d: g = l = |d|/J. The root by d: g = |d|/J, l = (J−1)|d|/J."""
    gt = _reference()
    d = torch.tensor([0.0, 0.0, 0.07], dtype=torch.float64)
    hand = gt.clone()
    hand[:, 5] += d
    err = per_frame_errors(hand, gt)
    assert torch.allclose(err["mpjpe_g"], torch.full((20,), 70.0 / J, dtype=torch.float64))
    assert torch.allclose(err["mpjpe_l"], torch.full((20,), 70.0 / J, dtype=torch.float64))
    root = gt.clone()
    root[:, 0] += d
    err = per_frame_errors(root, gt)
    assert torch.allclose(err["mpjpe_g"], torch.full((20,), 70.0 / J, dtype=torch.float64))
    assert torch.allclose(err["mpjpe_l"], torch.full((20,), 70.0 * (J - 1) / J, dtype=torch.float64))


def test_drifts_give_the_velocity_and_acceleration_errors() -> None:
    """pred = gt + c·t: vel_dist = |c| per frame, accel 0; pred = gt + a·t²/2: accel_dist = |a|."""
    gt = _reference()
    t = torch.arange(20, dtype=torch.float64)[:, None, None]
    c = torch.tensor([0.003, 0.004, 0.0], dtype=torch.float64)  # 5 mm per frame
    err = per_frame_errors(gt + c * t, gt)
    assert torch.allclose(err["vel_dist"], torch.full((19,), 5.0, dtype=torch.float64))
    assert err["accel_dist"].abs().max() < 1e-6
    a = torch.tensor([0.0, 0.0, 0.002], dtype=torch.float64)
    err = per_frame_errors(gt + 0.5 * a * t * t, gt)
    assert torch.allclose(err["accel_dist"], torch.full((18,), 2.0, dtype=torch.float64))


def test_procrustes_removes_a_similarity_transform() -> None:
    """pred = s·gt·R + t has zero PA error but a large local error."""
    gt = _reference(frames=5)
    rot = torch.from_numpy(Rotation.from_euler("xyz", [0.3, -0.5, 1.1]).as_matrix())
    pred = 1.3 * gt @ rot + torch.tensor([0.2, 0.1, -0.3], dtype=torch.float64)
    err = per_frame_errors(pred, gt)
    assert err["mpjpe_pa"].abs().max() < 1e-6
    assert err["mpjpe_l"].min() > 10.0


def test_procrustes_matches_scipy_on_a_noisy_pose() -> None:
    """For noisy poses the alignment equals scipy's orthogonal Procrustes with the optimal scale."""
    gen = np.random.default_rng(3)
    gt = gen.normal(size=(J, 3))
    pred = gt @ Rotation.from_euler("z", 0.4).as_matrix() * 0.9 + 0.05 * gen.normal(size=(J, 3))
    a, b = pred - pred.mean(0), gt - gt.mean(0)
    rot, singular_sum = orthogonal_procrustes(a, b)
    scale = singular_sum / np.square(a).sum()
    expected = scale * a @ rot + gt.mean(0)
    aligned = procrustes_align(torch.from_numpy(pred), torch.from_numpy(gt)).numpy()
    assert np.abs(aligned - expected).max() < 1e-9


def test_body_subsets_are_sonics() -> None:
    """Ascending indices: legs = hip_roll/knee/ankle_roll, vr = torso + wrists, other = the rest, foot = ankles."""
    subsets = eval_body_subsets(TRACKED_BODY_NAMES, VR)
    names = {k: [TRACKED_BODY_NAMES[i] for i in v] for k, v in subsets.items()}
    assert list(subsets) == ["legs", "vr_3points", "other_upper_bodies", "foot"]
    assert names["legs"] == [
        f"{s}_{b}_link" for s in ("left", "right") for b in ("hip_roll", "knee", "ankle_roll")
    ]
    assert names["vr_3points"] == ["torso_link", "left_wrist_yaw_link", "right_wrist_yaw_link"]
    assert names["other_upper_bodies"] == [
        "pelvis",
        "left_shoulder_roll_link",
        "left_elbow_link",
        "right_shoulder_roll_link",
        "right_elbow_link",
    ]
    assert names["foot"] == ["left_ankle_roll_link", "right_ankle_roll_link"]
    assert sorted(subsets["legs"] + subsets["vr_3points"] + subsets["other_upper_bodies"]) == list(range(J))
    with pytest.raises(ValueError, match="head_link"):
        eval_body_subsets(TRACKED_BODY_NAMES, ("head_link",))


def test_subset_local_error_is_relative_to_the_subsets_first_body() -> None:
    """Moving left_hip_roll (legs' first body) by d: mpjpe_l_legs = 5|d|/6 (the other 5 legs move relative)."""
    subsets = eval_body_subsets(TRACKED_BODY_NAMES, VR)
    gt = _reference()[None]
    pred = gt.clone()
    pred[..., 1, :] += torch.tensor([0.06, 0.0, 0.0], dtype=torch.float64)
    sums = motion_sums(pred, gt, torch.ones(1, 20, dtype=torch.bool), subsets)
    means = sums.means()
    assert set(means) == set(metric_keys(subsets))
    assert means["mpjpe_l_legs"].item() == pytest.approx(60.0 * 5 / 6)
    assert means["mpjpe_g_legs"].item() == pytest.approx(60.0 / 6)
    assert means["mpjpe_l"].item() == pytest.approx(60.0 / J)
    assert means["mpjpe_g_vr_3points"].item() == pytest.approx(0.0, abs=1e-9)


def test_invalid_frames_are_left_out_of_positions_and_differences() -> None:
    """A wild frame marked invalid changes nothing; vel/accel skip the differences that touch it."""
    gt = _reference()[None]
    d = torch.tensor([0.01, 0.0, 0.0], dtype=torch.float64)
    pred = gt + d
    pred[0, 7] += 5.0
    valid = torch.ones(1, 20, dtype=torch.bool)
    valid[0, 7] = False
    sums = motion_sums(pred, gt, valid)
    assert sums.frames.tolist() == [19]
    assert sums.sums["mpjpe_g"].item() == pytest.approx(19 * 10.0)
    assert sums.sums["vel_dist"].item() == pytest.approx(0.0, abs=1e-6)
    assert sums.sums["accel_dist"].item() == pytest.approx(0.0, abs=1e-6)


def test_micro_average_weights_frames_not_motions() -> None:
    """Motions of 10 frames at 1 mm and 30 frames at 3 mm: all = 100/40 = 2.5 mm (not 2), success-only = 1."""
    sums = {"mpjpe_l": [10.0, 90.0]}
    assert micro_average(sums, [10, 30]) == {"mpjpe_l": 2.5}
    assert micro_average(sums, [10, 30], [True, False]) == {"mpjpe_l": 1.0}
    assert math.isnan(micro_average(sums, [10, 30], [False, False])["mpjpe_l"])
