"""Frame-rate changes: SONIC's stride for integer ratios, exact N50 counting, lerp + slerp otherwise."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.spatial.transform import Rotation, Slerp

from sonic_data.formats import RobotMotion
from sonic_data.resample import integer_stride, resample_robot, resampled_length


@pytest.mark.parametrize(
    ("t", "fps"), [(2, 30), (31, 30), (32, 30), (241, 30), (100, 120), (7, 50), (1000, 29.97)]
)
def test_length_matches_sonic_arange(t: int, fps: float) -> None:
    """N equals len(arange(0, (T-1)/fps, 1/50)) computed here by exact counting in float64."""
    ref = int(np.sum(np.arange(0, 10 * t) * fps < 50 * (t - 1) - 1e-9))
    assert resampled_length(t, fps, 50) == ref


def test_integer_ratio_takes_every_kth_frame() -> None:
    """120 → 30 keeps frames 0, 4, 8, … with no blending."""
    t = 10
    rng = np.random.default_rng(0)
    m = RobotMotion(rng.normal(size=(t, 3)), np.tile([1.0, 0, 0, 0], (t, 1)), rng.normal(size=(t, 29)), 120)
    r = resample_robot(m, 30)
    assert integer_stride(120, 30) == 4 and r.num_frames == 3 and r.fps == 30
    np.testing.assert_array_equal(r.joint_pos, m.joint_pos[::4])


def test_non_integer_ratio_interpolates_with_slerp() -> None:
    """120 → 50: positions/joints match np.interp, the root matches scipy's Slerp at the same times."""
    t = 25
    rng = np.random.default_rng(1)
    rots = Rotation.from_rotvec(np.cumsum(rng.normal(scale=0.2, size=(t, 3)), axis=0))
    q = rots.as_quat()[:, [3, 0, 1, 2]]
    m = RobotMotion(rng.normal(size=(t, 3)), q, rng.normal(size=(t, 29)), 120)
    r = resample_robot(m, 50)
    times = np.arange(r.num_frames) / 50
    assert r.num_frames == resampled_length(t, 120, 50) == 10
    src_t = np.arange(t) / 120
    np.testing.assert_allclose(r.joint_pos[:, 3], np.interp(times, src_t, m.joint_pos[:, 3]), atol=1e-5)
    ref = Slerp(src_t, rots)(times).as_quat()[:, [3, 0, 1, 2]]
    np.testing.assert_allclose(np.abs((ref * r.root_quat).sum(-1)), 1.0, atol=1e-6)
