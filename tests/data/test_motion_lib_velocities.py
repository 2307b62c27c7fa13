"""Velocities of packed clips: against numpy/scipy per clip and against analytic motions."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch
from scipy.ndimage import gaussian_filter1d
from scipy.spatial.transform import Rotation

from sonic_data.g1 import DEFAULT_JOINT_POS
from sonic_data.motion_lib import HostClip, HostLibrary, MotionLibConfig, MotionLibrary
from sonic_data.motion_lib.velocities import (
    angular_velocity,
    clip_bounds,
    forward_difference,
    gaussian_smooth,
    gradient,
)

DT = 0.02


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Small tensors: one intra-op thread avoids OpenMP spin contention on the shared 2-core CI box."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


LENGTHS = [37, 1, 2, 25]


def _packed(rng: np.random.Generator, width: int = 3) -> tuple[np.ndarray, torch.Tensor, torch.Tensor]:
    x = rng.normal(size=(sum(LENGTHS), width))
    start, end = clip_bounds(torch.tensor(LENGTHS))
    return x, start, end


def _split(x: np.ndarray) -> list[np.ndarray]:
    return np.split(x, np.cumsum(LENGTHS)[:-1])


def test_gradient_matches_numpy_per_clip() -> None:
    """Central differences inside, one-sided at clip ends, never across clips (np.gradient)."""
    x, start, end = _packed(np.random.default_rng(0))
    out = gradient(torch.from_numpy(x), start, end, DT).numpy()
    for got, clip in zip(_split(out), _split(x), strict=True):
        want = np.zeros_like(clip) if len(clip) == 1 else np.gradient(clip, axis=0) / DT
        np.testing.assert_allclose(got, want, atol=1e-9)


def test_gaussian_matches_scipy_nearest_per_clip() -> None:
    """σ = 2 filter equals scipy.ndimage.gaussian_filter1d(mode="nearest") on each clip alone."""
    x, start, end = _packed(np.random.default_rng(1))
    out = gaussian_smooth(torch.from_numpy(x), start, end, 2.0).numpy()
    for got, clip in zip(_split(out), _split(x), strict=True):
        np.testing.assert_allclose(got, gaussian_filter1d(clip, 2.0, axis=0, mode="nearest"), atol=1e-9)


def test_forward_difference_duplicates_last() -> None:
    """(x[t+1] − x[t]) / dt, the last frame repeating the one before; a 1-frame clip gives 0."""
    x, start, end = _packed(np.random.default_rng(2))
    out = forward_difference(torch.from_numpy(x), start, end, DT).numpy()
    for got, clip in zip(_split(out), _split(x), strict=True):
        if len(clip) == 1:
            np.testing.assert_array_equal(got, 0.0)
            continue
        want = np.diff(clip, axis=0) / DT
        np.testing.assert_allclose(got[:-1], want, atol=1e-9)
        np.testing.assert_allclose(got[-1], want[-1], atol=1e-9)


def test_angular_velocity_of_random_rotations() -> None:
    """ω_t = rotvec(q[t+1]·q[t]⁻¹)/dt, checked with scipy's rotation algebra."""
    rots = Rotation.random(sum(LENGTHS), rng=np.random.default_rng(3))
    q = torch.from_numpy(rots.as_quat(scalar_first=True))
    start, end = clip_bounds(torch.tensor(LENGTHS))
    out = angular_velocity(q, start, end, DT).numpy()
    first = 0
    for n in LENGTHS:
        for t in range(n - 1):
            i = first + t
            want = (rots[i + 1] * rots[i].inv()).as_rotvec() / DT
            np.testing.assert_allclose(out[i], want, atol=1e-8)
        first += n


def _library(clip: HostClip) -> MotionLibrary:
    cfg = MotionLibConfig(
        motion_file="unused", freeze_frame_aug=False, cat_upper_body_poses=False, use_cache=False
    )
    return MotionLibrary(cfg, num_envs=1, host=HostLibrary.from_clips([clip]))


def _still_joints(n: int) -> np.ndarray:
    return np.tile(np.asarray(DEFAULT_JOINT_POS, dtype=np.float32), (n, 1))


def test_constant_velocity_translation() -> None:
    """A root moving at constant velocity gives every body that velocity and zero angular velocity."""
    n, v = 120, np.array([0.7, -0.3, 0.05])
    t = np.arange(n)[:, None] * DT
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (n, 1))
    lib = _library(HostClip("walk", np.array([0, 0, 0.8]) + t * v, quat, _still_joints(n)))
    s = lib.state(torch.zeros(n, dtype=torch.long), torch.arange(n))
    np.testing.assert_allclose(s.robot.body_lin_vel_w.numpy(), np.broadcast_to(v, (n, 14, 3)), atol=1e-3)
    np.testing.assert_allclose(s.robot.body_ang_vel_w.numpy(), 0.0, atol=1e-4)
    np.testing.assert_allclose(s.robot.joint_vel.numpy(), 0.0, atol=1e-4)


def test_constant_rate_yaw() -> None:
    """Turning at ω about z: body ω = (0,0,ω) everywhere; body v = ω×r times the known filter gain."""
    n, omega = 150, 2.0
    t = np.arange(n) * DT
    quat = Rotation.from_rotvec(np.outer(omega * t, [0, 0, 1])).as_quat(scalar_first=True)
    root = np.tile([0.1, 0.2, 0.8], (n, 1))
    lib = _library(HostClip("turn", root, quat, _still_joints(n)))
    s = lib.state(torch.zeros(n, dtype=torch.long), torch.arange(n))
    ang = s.robot.body_ang_vel_w.numpy()
    np.testing.assert_allclose(ang, np.broadcast_to([0, 0, omega], ang.shape), atol=2e-4)
    # Central difference of a circle scales v by sin(ωdt)/(ωdt); the discrete Gaussian of a
    # sinusoid scales it by Σ_k w_k cos(ω k dt). Weights from scipy (an impulse response).
    impulse = np.zeros(41)
    impulse[20] = 1.0
    w = gaussian_filter1d(impulse, 2.0, mode="constant")
    k = np.arange(-20, 21)
    gain = np.sin(omega * DT) / (omega * DT) * (w * np.cos(omega * k * DT)).sum()
    pos = s.robot.body_pos_w.numpy()
    r = pos - root[:, None, :]
    want = gain * np.cross(np.array([0, 0, omega]), r)
    inner = slice(10, n - 10)
    np.testing.assert_allclose(s.robot.body_lin_vel_w.numpy()[inner], want[inner], atol=2e-4)


def test_sinusoidal_joint_velocity() -> None:
    """q(t) = A·sin(Ωt): forward difference = 2A·cos(Ω(t+dt/2))·sin(Ωdt/2)/dt (closed form)."""
    n, amp, rate = 100, 0.4, 5.0
    t = np.arange(n) * DT
    joints = _still_joints(n)
    joints[:, 3] = amp * np.sin(rate * t)  # left knee
    quat = np.tile([1.0, 0.0, 0.0, 0.0], (n, 1))
    lib = _library(HostClip("knee", np.tile([0, 0, 0.8], (n, 1)), quat, joints))
    s = lib.state(torch.zeros(n, dtype=torch.long), torch.arange(n))
    want = 2 * amp * np.cos(rate * (t + DT / 2)) * np.sin(rate * DT / 2) / DT
    np.testing.assert_allclose(s.robot.joint_vel.numpy()[:-1, 3], want[:-1], atol=1e-4)
    assert s.robot.joint_vel[-1, 3] == s.robot.joint_vel[-2, 3]
    # Within 1 % of the true derivative A·Ω·cos(Ωt) shifted by half a frame.
    np.testing.assert_allclose(want, amp * rate * np.cos(rate * (t + DT / 2)), atol=0.01 * amp * rate)
