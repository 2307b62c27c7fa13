"""Rotation helpers (wxyz) against scipy's Rotation and hand-computed 90-degree cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation, Slerp

from sonic_data.rotations import (
    axis_angle_to_quat,
    euler_xyz_extrinsic_to_quat,
    matrix_to_quat,
    quat_apply,
    quat_apply_inverse,
    quat_conj_mul,
    quat_conjugate,
    quat_error_angle,
    quat_from_two_columns,
    quat_inverse,
    quat_mul,
    quat_normalize,
    quat_slerp,
    quat_to_6d,
    quat_to_axis_angle,
    quat_to_matrix,
    quat_yaw,
    wxyz_to_xyzw,
    xyzw_to_wxyz,
    yaw_quat,
)

N = 64


@pytest.fixture
def rots() -> tuple[Rotation, Rotation]:
    """Two batches of random rotations."""
    return Rotation.random(N, rng=np.random.default_rng(1)), Rotation.random(N, rng=np.random.default_rng(2))


def wxyz(r: Rotation) -> torch.Tensor:
    """Float64 wxyz tensor of a scipy rotation (scipy stores xyzw)."""
    return torch.from_numpy(np.roll(r.as_quat(), 1, axis=-1))


def assert_same_rotation(q: torch.Tensor, r: Rotation, atol: float = 1e-10) -> None:
    """``q`` and ``r`` are the same rotation (quaternion sign is free)."""
    ref = wxyz(r)
    dot = (q * ref).sum(-1).abs()
    np.testing.assert_allclose(dot.numpy(), 1.0, atol=atol)


def test_quat_mul_composes_like_scipy(rots):
    """quat_mul(a, b) applies b first, then a: scipy's a * b."""
    a, b = rots
    assert_same_rotation(quat_mul(wxyz(a), wxyz(b)), a * b)


def test_quat_apply_and_inverse_match_scipy(rots):
    """quat_apply rotates like scipy apply; the inverse rotations undo it."""
    a, _ = rots
    v = torch.from_numpy(np.random.default_rng(0).normal(size=(N, 3)))
    np.testing.assert_allclose(quat_apply(wxyz(a), v).numpy(), a.apply(v.numpy()), atol=1e-12)
    np.testing.assert_allclose(quat_apply_inverse(wxyz(a), v).numpy(), a.inv().apply(v.numpy()), atol=1e-12)
    assert_same_rotation(quat_conjugate(wxyz(a)), a.inv())
    scaled = 3.0 * wxyz(a)
    ident = quat_mul(scaled, quat_inverse(scaled))
    np.testing.assert_allclose(ident.numpy(), np.tile([1.0, 0, 0, 0], (N, 1)), atol=1e-12)


def test_quat_apply_broadcasts_one_quat_over_many_vectors():
    """A single quaternion rotates a batch of vectors; +90 deg about Z maps +X to +Y."""
    q = torch.tensor([math.cos(math.pi / 4), 0.0, 0.0, math.sin(math.pi / 4)], dtype=torch.float64)
    v = torch.tensor([[1.0, 0, 0], [0, 1.0, 0]], dtype=torch.float64)
    np.testing.assert_allclose(quat_apply(q, v).numpy(), [[0, 1, 0], [-1, 0, 0]], atol=1e-12)


def test_quat_apply_broadcasts_batch_dims_both_ways(rots):
    """(N, 1, 4) quaternions over (N, B, 3) vectors, and (N, B, 4) over one (3,) vector: as scipy, per pair."""
    a, _ = rots
    q = wxyz(a)  # (N, 4)
    v = torch.from_numpy(np.random.default_rng(1).normal(size=(N, 5, 3)))
    want = np.stack([a.apply(v[:, k].numpy()) for k in range(5)], axis=1)
    np.testing.assert_allclose(quat_apply(q.unsqueeze(1), v).numpy(), want, atol=1e-12)
    want_inv = np.stack([a.inv().apply(v[:, k].numpy()) for k in range(5)], axis=1)
    np.testing.assert_allclose(quat_apply_inverse(q.unsqueeze(1), v).numpy(), want_inv, atol=1e-12)
    one = torch.tensor([0.3, -1.2, 2.0], dtype=torch.float64)
    np.testing.assert_allclose(quat_apply(q, one).numpy(), a.apply(one.numpy()), atol=1e-12)


def test_axis_angle_round_trip_matches_scipy(rots):
    """axis_angle_to_quat equals scipy from_rotvec; quat_to_axis_angle equals as_rotvec."""
    a, _ = rots
    rotvec = torch.from_numpy(a.as_rotvec())
    assert_same_rotation(axis_angle_to_quat(rotvec), a)
    np.testing.assert_allclose(quat_to_axis_angle(wxyz(a)).numpy(), a.as_rotvec(), atol=1e-10)
    np.testing.assert_allclose(quat_to_axis_angle(-wxyz(a)).numpy(), a.as_rotvec(), atol=1e-10)


def test_axis_angle_is_smooth_at_zero():
    """Near the identity the conversions stay exact and their gradients finite."""
    rotvec = torch.tensor([[0.0, 0.0, 0.0], [1e-9, -2e-9, 3e-9]], dtype=torch.float64, requires_grad=True)
    q = axis_angle_to_quat(rotvec)
    back = quat_to_axis_angle(q)
    np.testing.assert_allclose(back.detach().numpy(), rotvec.detach().numpy(), atol=1e-15)
    back.sum().backward()
    assert rotvec.grad is not None and torch.isfinite(rotvec.grad).all()


def test_euler_xyz_extrinsic_matches_scipy_lowercase_xyz():
    """Extrinsic xyz Euler angles equal scipy's from_euler('xyz') (R = Rz·Ry·Rx)."""
    euler = np.random.default_rng(3).uniform(-math.pi, math.pi, size=(N, 3))
    assert_same_rotation(
        euler_xyz_extrinsic_to_quat(torch.from_numpy(euler)), Rotation.from_euler("xyz", euler)
    )


@pytest.mark.parametrize(
    ("euler_deg", "vector", "expected"),
    [
        ((90, 0, 0), (0, 1, 0), (0, 0, 1)),  # about X: +Y -> +Z
        ((0, 90, 0), (0, 0, 1), (1, 0, 0)),  # about Y: +Z -> +X
        ((0, 0, 90), (1, 0, 0), (0, 1, 0)),  # about Z: +X -> +Y
        # Rx(90) first sends +Y to +Z, then Ry(90) sends +Z to +X, then Rz(90) sends +X to +Y.
        ((90, 90, 90), (0, 1, 0), (0, 1, 0)),
        # Rx(90) keeps +X, Ry(90) sends +X to -Z, Rz(90) keeps -Z.
        ((90, 90, 90), (1, 0, 0), (0, 0, -1)),
    ],
)
def test_euler_xyz_extrinsic_hand_computed_quarter_turns(euler_deg, vector, expected):
    """Quarter turns about the fixed axes, applied X then Y then Z, move unit vectors as derived by hand."""
    q = euler_xyz_extrinsic_to_quat(torch.tensor(euler_deg, dtype=torch.float64).deg2rad())
    moved = quat_apply(q, torch.tensor(vector, dtype=torch.float64))
    np.testing.assert_allclose(moved.numpy(), expected, atol=1e-12)


def test_matrix_conversions_match_scipy(rots):
    """quat_to_matrix equals scipy as_matrix; matrix_to_quat inverts it, including near 180 degrees."""
    a, _ = rots
    np.testing.assert_allclose(quat_to_matrix(wxyz(a)).numpy(), a.as_matrix(), atol=1e-12)
    k = math.pi / math.sqrt(3.0)
    half_turns = Rotation.from_rotvec([[math.pi, 0, 0], [0, math.pi - 1e-7, 0], [k, k, k]])
    for r in (a, half_turns):
        q = matrix_to_quat(torch.from_numpy(r.as_matrix()))
        assert (q[..., 0] >= 0).all()
        assert_same_rotation(q, r, atol=1e-12)


def test_6d_is_first_two_columns_row_major(rots):
    """quat_to_6d is [R00, R01, R10, R11, R20, R21]; quat_from_two_columns inverts it."""
    a, _ = rots
    m = a.as_matrix()
    expected = np.stack([m[:, 0, 0], m[:, 0, 1], m[:, 1, 0], m[:, 1, 1], m[:, 2, 0], m[:, 2, 1]], axis=-1)
    six = quat_to_6d(wxyz(a))
    np.testing.assert_allclose(six.numpy(), expected, atol=1e-12)
    assert_same_rotation(quat_from_two_columns(six), a)


def test_yaw_matches_scipy_heading(rots):
    """quat_yaw is the Z angle of the intrinsic ZYX decomposition; yaw_quat rotates about Z only."""
    a, _ = rots
    yaw_ref = a.as_euler("ZYX")[:, 0]
    np.testing.assert_allclose(quat_yaw(wxyz(a)).numpy(), yaw_ref, atol=1e-10)
    assert_same_rotation(yaw_quat(wxyz(a)), Rotation.from_euler("z", yaw_ref[:, None]))


def test_error_angle_matches_scipy_relative_rotation(rots):
    """quat_error_angle is the magnitude of a⁻¹·b, accurate for tiny angles in float32."""
    a, b = rots
    np.testing.assert_allclose(
        quat_error_angle(wxyz(a), wxyz(b)).numpy(), (a.inv() * b).magnitude(), atol=1e-10
    )
    q = wxyz(a).float()
    tiny = quat_mul(q, axis_angle_to_quat(torch.tensor([[2e-6, 0.0, 0.0]]).expand(N, 3)))
    np.testing.assert_allclose(quat_error_angle(q, tiny).numpy(), 2e-6, rtol=0.2)


def test_slerp_endpoints_midpoint_and_norm(rots):
    """Endpoints are returned, results are unit, the midpoint equals scipy's Slerp."""
    a, b = rots
    q0, q1 = wxyz(a), wxyz(b)
    assert_same_rotation(quat_slerp(q0, q1, 0.0), a)
    assert_same_rotation(quat_slerp(q0, q1, 1.0), b)
    t = torch.rand(N, dtype=torch.float64)
    np.testing.assert_allclose(quat_slerp(q0, q1, t).norm(dim=-1).numpy(), 1.0, atol=1e-12)
    for i in range(4):
        pair = Rotation.concatenate([a[i], b[i]])
        mid = Slerp([0.0, 1.0], pair)([0.5])
        assert_same_rotation(quat_slerp(q0[i], q1[i], 0.5).unsqueeze(0), mid)


def test_slerp_takes_the_short_arc_and_broadcasts_t():
    """Slerp between q and -q·(small turn) stays near q; a (T,) fraction broadcasts over one pair."""
    q0 = torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64)
    q1 = -axis_angle_to_quat(torch.tensor([0.0, 0.0, 0.2], dtype=torch.float64))
    t = torch.tensor([0.0, 0.25, 0.5, 1.0], dtype=torch.float64)
    out = quat_slerp(q0, q1, t)
    assert out.shape == (4, 4)
    np.testing.assert_allclose(quat_error_angle(q0, out).numpy(), [0.0, 0.05, 0.1, 0.2], atol=1e-12)


def test_xyzw_round_trip_matches_scipy_storage(rots):
    """wxyz_to_xyzw gives scipy's xyzw layout; xyzw_to_wxyz inverts it."""
    a, _ = rots
    np.testing.assert_allclose(wxyz_to_xyzw(wxyz(a)).numpy(), a.as_quat(), atol=0)
    np.testing.assert_allclose(xyzw_to_wxyz(torch.from_numpy(a.as_quat())).numpy(), wxyz(a).numpy(), atol=0)


def test_normalize_gives_unit_quaternions():
    """quat_normalize scales any non-zero quaternion to unit norm, keeping its direction."""
    q = torch.tensor([[2.0, 0.0, 0.0, 0.0], [1.0, 1.0, 1.0, 1.0]], dtype=torch.float64)
    np.testing.assert_allclose(quat_normalize(q).numpy(), [[1, 0, 0, 0], [0.5, 0.5, 0.5, 0.5]], atol=1e-15)


def test_quat_conj_mul_is_the_product_with_the_conjugate(rots):
    """quat_conj_mul(a, b) = conj(a) * b, with broadcasting; for unit a it is a⁻¹ b (scipy a.inv() * b)."""
    a, b = rots
    qa, qb = wxyz(a), wxyz(b)
    assert_same_rotation(quat_conj_mul(qa, qb), a.inv() * b)
    torch.testing.assert_close(quat_conj_mul(qa, qb), quat_mul(quat_conjugate(qa), qb), rtol=0, atol=1e-12)
    # one frame against several bodies: (M, 1, 4) with (M, 4, 4)
    many = qb[:16].reshape(4, 4, 4)
    expected = quat_mul(quat_conjugate(qa[:4]).unsqueeze(1).expand_as(many), many)
    torch.testing.assert_close(quat_conj_mul(qa[:4].unsqueeze(1), many), expected, rtol=0, atol=1e-12)
