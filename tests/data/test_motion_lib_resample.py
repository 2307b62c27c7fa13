"""Resampling to 50 fps: the one formula of FORMATS.md, exact interpolation, slerp properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from sonic_data.motion_lib.resample import lerp, num_resampled_frames, sample_times, slerp


@pytest.mark.parametrize(
    ("frames", "fps", "expected"),
    [(31, 30, 50), (4, 120, 2), (10, 50, 9), (2, 30, 2), (3, 25, 4), (241, 30, 400), (2, 120, 1)],
)
def test_frame_count_matches_arange_formula(frames: int, fps: int, expected: int) -> None:
    """N = ceil(50·(T−1)/fps), i.e. the length of arange(0, (T−1)/fps, 1/50) computed exactly."""
    assert num_resampled_frames(frames, fps) == expected
    # k·fps < 50·(T−1) for every kept k and not for k = N.
    assert (expected - 1) * fps < 50 * (frames - 1) <= expected * fps


def test_single_frame_clip_is_rejected() -> None:
    """A one-frame clip has no duration; the formula is undefined and must raise."""
    with pytest.raises(ValueError, match="at least 2 frames"):
        num_resampled_frames(1, 30)


def test_linear_motion_is_interpolated_exactly() -> None:
    """A signal linear in time, sampled at 30 fps, resamples to its exact values at k/50 s."""
    t_src = np.arange(31) / 30.0
    a, b = np.array([0.3, -1.0, 2.0]), np.array([1.5, 0.25, -0.7])
    x = a + np.outer(t_src, b)
    n = num_resampled_frames(31, 30)
    out = lerp(x, sample_times(31, 30, n))
    t_out = np.arange(n) / 50.0
    np.testing.assert_allclose(out, a + np.outer(t_out, b), atol=1e-5)


def test_non_integer_source_rate() -> None:
    """29.97 fps: times k/50 map to fractional source indices k·29.97/50."""
    x = np.arange(20, dtype=np.float64)[:, None]
    n = num_resampled_frames(20, 29.97)
    assert n == math.ceil(50 * 19 / 29.97)
    out = lerp(x, sample_times(20, 29.97, n))
    np.testing.assert_allclose(out[:, 0], np.arange(n) * 29.97 / 50, atol=1e-4)


def test_times_past_the_end_clamp_to_last_frame() -> None:
    """Output times beyond the source (SMPL pose_aa at the robot's times) read the last frame."""
    times = sample_times(3, 50, 6)
    np.testing.assert_array_equal(times.lo, [0, 1, 2, 2, 2, 2])
    np.testing.assert_array_equal(times.alpha, 0.0)


def test_slerp_constant_rate_yaw_is_exact() -> None:
    """A constant-rate rotation about one axis is interpolated to its closed-form value."""
    rate = 1.3  # rad/s
    t_src = np.arange(31) / 30.0
    q_src = Rotation.from_rotvec(np.outer(rate * t_src, [0, 0, 1])).as_quat(scalar_first=True)
    n = num_resampled_frames(31, 30)
    out = slerp(q_src, sample_times(31, 30, n))
    want = Rotation.from_rotvec(np.outer(rate * np.arange(n) / 50.0, [0, 0, 1])).as_quat(scalar_first=True)
    dots = np.abs((out * want).sum(-1))
    np.testing.assert_allclose(dots, 1.0, atol=1e-6)


def test_slerp_unit_norm_and_endpoints() -> None:
    """Slerp of random rotations stays unit-norm and hits the source frames at alpha = 0."""
    rng = np.random.default_rng(0)
    q = Rotation.random(40, rng=np.random.default_rng(1)).as_quat(scalar_first=True)
    q[rng.random(40) < 0.5] *= -1  # sign flips must not matter (shorter arc)
    n = num_resampled_frames(40, 30)
    times = sample_times(40, 30, n)
    out = slerp(q, times)
    np.testing.assert_allclose(np.linalg.norm(out, axis=-1), 1.0, atol=1e-6)
    exact = times.alpha == 0
    assert exact.sum() > 5
    dots = np.abs((out[exact] * q[times.lo[exact]]).sum(-1))
    np.testing.assert_allclose(dots, 1.0, atol=1e-6)
    # Midpoints lie on the geodesic: equal angle to both ends.
    mid = np.flatnonzero(np.isclose(times.alpha, 0.5))
    for i in mid:
        r = Rotation.from_quat(out[i], scalar_first=True)
        a = (Rotation.from_quat(q[times.lo[i]], scalar_first=True).inv() * r).magnitude()
        b = (Rotation.from_quat(q[times.hi[i]], scalar_first=True).inv() * r).magnitude()
        assert a == pytest.approx(b, abs=1e-5)


def test_slerp_of_joint_batches() -> None:
    """Slerp works on (T, J, 4) arrays, interpolating every joint with the frame's weight."""
    q = Rotation.random(10 * 3, rng=np.random.default_rng(2)).as_quat(scalar_first=True).reshape(10, 3, 4)
    times = sample_times(10, 25, num_resampled_frames(10, 25))
    out = slerp(q, times)
    assert out.shape == (len(times.lo), 3, 4)
    single = slerp(q[:, 1], times)
    np.testing.assert_allclose(out[:, 1], single, atol=1e-7)
