"""Rotation helpers on torch tensors. Quaternions are ``wxyz`` (Isaac Lab convention).

Every function broadcasts over leading batch dimensions, is differentiable, and runs on any device.
Conventions:

* ``quat_apply(q, v)`` rotates ``v`` by ``q`` (active rotation, ``R(q) @ v``).
* ``quat_mul(a, b)`` composes: applying the result equals applying ``b`` first, then ``a``.
* Euler angles ``euler_xyz_extrinsic`` are rotations about the fixed X, then Y, then Z axes,
  i.e. ``R = Rz @ Ry @ Rx`` (scipy ``Rotation.from_euler("xyz", ...)``; Bones-SEED CSV roots).
* A rotation vector ("axis-angle") is ``axis * angle`` with ``angle`` in radians.
* "6D" is the first two columns of the rotation matrix flattened row-major,
  ``[R00, R01, R10, R11, R20, R21]`` (SONIC_REFERENCE conventions).
"""

from __future__ import annotations

import torch
from torch import Tensor

from sonic_data.tensors import cached_tensor

__all__ = [
    "axis_angle_to_quat",
    "euler_xyz_extrinsic_to_quat",
    "matrix_to_quat",
    "quat_apply",
    "quat_apply_inverse",
    "quat_conj_mul",
    "quat_conjugate",
    "quat_error_angle",
    "quat_from_two_columns",
    "quat_inverse",
    "quat_mul",
    "quat_normalize",
    "quat_slerp",
    "quat_to_6d",
    "quat_to_axis_angle",
    "quat_to_matrix",
    "quat_yaw",
    "xyzw_to_wxyz",
    "wxyz_to_xyzw",
    "yaw_quat",
]


def quat_normalize(q: Tensor, eps: float = 1e-12) -> Tensor:
    """Unit quaternion in the direction of ``q``, shape ``(..., 4)``."""
    return q / q.norm(dim=-1, keepdim=True).clamp_min(eps)


def quat_conjugate(q: Tensor) -> Tensor:
    """Conjugate ``(w, -x, -y, -z)``; the inverse of a unit quaternion."""
    return q * cached_tensor((1.0, -1.0, -1.0, -1.0), q.dtype, q.device)


def quat_inverse(q: Tensor, eps: float = 1e-12) -> Tensor:
    """Inverse of any non-zero quaternion: conjugate divided by the squared norm."""
    return quat_conjugate(q) / (q * q).sum(dim=-1, keepdim=True).clamp_min(eps)


# The products of two quaternions as signed sums of the 16 pairwise products ``a_j * b_k`` (flat index
# ``4 j + k``, components w x y z = 0 1 2 3): a few batched kernels instead of ~30 per-component ones.
# Observation, reward and termination terms call these every env step, where launches dominate.
_QUAT_MUL_TERMS = (
    ((0, 1), (5, -1), (10, -1), (15, -1)),  # w: aw bw - ax bx - ay by - az bz
    ((1, 1), (4, 1), (11, 1), (14, -1)),  # x: aw bx + ax bw + ay bz - az by
    ((2, 1), (7, -1), (8, 1), (13, 1)),  # y: aw by - ax bz + ay bw + az bx
    ((3, 1), (6, 1), (9, -1), (12, 1)),  # z: aw bz + ax by - ay bx + az bw
)


_Table = tuple[tuple[tuple[int, ...], ...], tuple[tuple[int, ...], ...]]
"""A table of signed product terms split once into its ``(indices, signs)`` rows (constant tensor keys)."""


def _split(terms: tuple[tuple[tuple[int, int], ...], ...]) -> _Table:
    return tuple(tuple(i for i, _ in row) for row in terms), tuple(tuple(s for _, s in row) for row in terms)


def _signed_sums(outer: Tensor, table: _Table) -> Tensor:
    """``(..., R)``: for each row of ``table``, the signed sum of the flat ``(..., 16)`` products it names."""
    index = cached_tensor(table[0], torch.long, outer.device)
    return (outer[..., index] * cached_tensor(table[1], outer.dtype, outer.device)).sum(-1)


def _quat_product(a: Tensor, b: Tensor, table: _Table) -> Tensor:
    """A product of two quaternions given by its table of signed pairwise products, broadcasting."""
    a, b = torch.broadcast_tensors(a, b)
    return _signed_sums((a.unsqueeze(-1) * b.unsqueeze(-2)).flatten(-2), table)


# ``conj(a) * b``: the same products with the sign of every term in a's x, y or z (flat index >= 4) flipped.
_QUAT_CONJ_MUL_TERMS = tuple(tuple((i, -s if i >= 4 else s) for i, s in row) for row in _QUAT_MUL_TERMS)
_QUAT_MUL, _QUAT_CONJ_MUL = _split(_QUAT_MUL_TERMS), _split(_QUAT_CONJ_MUL_TERMS)


def quat_mul(a: Tensor, b: Tensor) -> Tensor:
    """Hamilton product ``a * b`` (apply ``b`` first, then ``a``), broadcasting, shape ``(..., 4)``."""
    return _quat_product(a, b, _QUAT_MUL)


def quat_conj_mul(a: Tensor, b: Tensor) -> Tensor:
    """``conj(a) * b`` (``a⁻¹ b`` for a unit ``a``: ``b`` in ``a``'s frame) in one product, broadcasting."""
    return _quat_product(a, b, _QUAT_CONJ_MUL)


def _rotate(q: Tensor, v: Tensor, inverse: bool) -> Tensor:
    """``v`` rotated by ``q`` or (``inverse``) by its inverse: ``v ± w·u + xyz × u``, ``u = 2·xyz × v``.

    ``torch.cross`` and the arithmetic broadcast the batch dims (``cross`` needs equal ranks: the lower-rank side
    gets leading 1s), so nothing is expanded when the shapes already agree (fewer operators per call: these run a
    few dozen times per env step).
    """
    if q.dim() < v.dim():
        q = q.reshape((1,) * (v.dim() - q.dim()) + tuple(q.shape))
    elif v.dim() < q.dim():
        v = v.reshape((1,) * (q.dim() - v.dim()) + tuple(v.shape))
    xyz = q[..., 1:]
    u = 2.0 * torch.cross(xyz, v, dim=-1)
    w_u = q[..., :1] * u
    turned = v - w_u if inverse else v + w_u
    return turned + torch.cross(xyz, u, dim=-1)


def quat_apply(q: Tensor, v: Tensor) -> Tensor:
    """Rotate vectors ``v`` (..., 3) by unit quaternions ``q`` (..., 4); batch dims broadcast."""
    return _rotate(q, v, inverse=False)


def quat_apply_inverse(q: Tensor, v: Tensor) -> Tensor:
    """Rotate vectors ``v`` by the inverse of unit quaternions ``q`` (world → body frame); batch dims broadcast."""
    return _rotate(q, v, inverse=True)


def axis_angle_to_quat(rotvec: Tensor, eps: float = 1e-8) -> Tensor:
    """Quaternion of a rotation vector ``axis * angle`` (..., 3) → (..., 4)."""
    angle = rotvec.norm(dim=-1, keepdim=True)
    half = 0.5 * angle
    # sin(half)/angle, with its Taylor series near zero so the gradient stays finite.
    small = angle < eps
    safe = torch.where(small, torch.ones_like(angle), angle)
    k = torch.where(small, 0.5 - angle * angle / 48.0, torch.sin(half) / safe)
    return torch.cat((torch.cos(half), rotvec * k), dim=-1)


def quat_to_axis_angle(q: Tensor, eps: float = 1e-8) -> Tensor:
    """Rotation vector (..., 3) of unit quaternions; the angle lies in [0, π] (w ≥ 0 branch)."""
    q = torch.where(q[..., :1] < 0, -q, q)
    xyz = q[..., 1:]
    s = xyz.norm(dim=-1, keepdim=True)
    angle = 2.0 * torch.atan2(s, q[..., :1])
    small = s < eps
    safe = torch.where(small, torch.ones_like(s), s)
    k = torch.where(small, 2.0 / q[..., :1].clamp_min(eps), angle / safe)
    return xyz * k


def quat_error_angle(a: Tensor, b: Tensor) -> Tensor:
    """Geodesic angle (radians) between unit quaternions ``a`` and ``b``, shape ``(...)``.

    Computed as ``2·atan2(‖v‖, |w|)`` of ``a⁻¹·b``, which is accurate near zero (``acos`` is not).
    """
    d = quat_conj_mul(a, b)
    return 2.0 * torch.atan2(d[..., 1:].norm(dim=-1), d[..., 0].abs())


def euler_xyz_extrinsic_to_quat(euler: Tensor) -> Tensor:
    """Quaternion of extrinsic X→Y→Z Euler angles (radians), ``R = Rz·Ry·Rx``, (..., 3) → (..., 4)."""
    half = 0.5 * euler
    c = torch.cos(half)
    s = torch.sin(half)
    zeros = torch.zeros_like(half[..., 0])
    qx = torch.stack((c[..., 0], s[..., 0], zeros, zeros), dim=-1)
    qy = torch.stack((c[..., 1], zeros, s[..., 1], zeros), dim=-1)
    qz = torch.stack((c[..., 2], zeros, zeros, s[..., 2]), dim=-1)
    return quat_mul(qz, quat_mul(qy, qx))


def quat_to_matrix(q: Tensor) -> Tensor:
    """Rotation matrices (..., 3, 3) of unit quaternions (..., 4)."""
    w, x, y, z = q.unbind(-1)
    return torch.stack(
        (
            1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
            2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
            2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
        ),
        dim=-1,
    ).reshape(*q.shape[:-1], 3, 3)  # fmt: skip


def matrix_to_quat(m: Tensor) -> Tensor:
    """Unit quaternions (..., 4), ``w ≥ 0``, of rotation matrices (..., 3, 3).

    Uses the numerically stable branch per element (largest of w, x, y, z), without host syncs.
    """
    m00, m01, m02 = m[..., 0, 0], m[..., 0, 1], m[..., 0, 2]
    m10, m11, m12 = m[..., 1, 0], m[..., 1, 1], m[..., 1, 2]
    m20, m21, m22 = m[..., 2, 0], m[..., 2, 1], m[..., 2, 2]
    # Squared magnitudes of the four components (times 4), each a valid candidate denominator.
    cand = torch.stack(
        (1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22), dim=-1
    )
    r = torch.sqrt(cand.clamp_min(1e-12))
    # Four full quaternions, one per choice of the largest component; pick the best-conditioned.
    qs = torch.stack(
        (
            torch.stack((r[..., 0] ** 2, m21 - m12, m02 - m20, m10 - m01), dim=-1) / (2 * r[..., 0:1]),
            torch.stack((m21 - m12, r[..., 1] ** 2, m01 + m10, m02 + m20), dim=-1) / (2 * r[..., 1:2]),
            torch.stack((m02 - m20, m01 + m10, r[..., 2] ** 2, m12 + m21), dim=-1) / (2 * r[..., 2:3]),
            torch.stack((m10 - m01, m02 + m20, m12 + m21, r[..., 3] ** 2), dim=-1) / (2 * r[..., 3:4]),
        ),
        dim=-2,
    )
    best = cand.argmax(dim=-1, keepdim=True)
    q = torch.gather(qs, -2, best.unsqueeze(-1).expand(*best.shape[:-1], 1, 4)).squeeze(-2)
    q = torch.where(q[..., :1] < 0, -q, q)
    return quat_normalize(q)


# ``[R00, R01, R10, R11, R20, R21]`` of a unit quaternion minus ``_QUAT_6D_OFFSET``, as signed sums of the
# products ``q_j q_k`` (flat index ``4 j + k``).
_QUAT_6D_TERMS = (
    ((10, -2), (15, -2)),  # R00 - 1 = -2 (yy + zz)
    ((6, 2), (3, -2)),  # R01 = 2 (xy - wz)
    ((6, 2), (3, 2)),  # R10 = 2 (xy + wz)
    ((5, -2), (15, -2)),  # R11 - 1 = -2 (xx + zz)
    ((7, 2), (2, -2)),  # R20 = 2 (xz - wy)
    ((11, 2), (1, 2)),  # R21 = 2 (yz + wx)
)
_QUAT_6D = _split(_QUAT_6D_TERMS)
_QUAT_6D_OFFSET = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def quat_to_6d(q: Tensor) -> Tensor:
    """First two columns of ``R(q)`` flattened row-major: ``[R00, R01, R10, R11, R20, R21]``.

    The six entries are computed directly (the formulas of :func:`quat_to_matrix`, up to float rounding)
    in a few batched kernels rather than building all nine: observation terms call this every step.
    """
    outer = (q.unsqueeze(-1) * q.unsqueeze(-2)).flatten(-2)
    return _signed_sums(outer, _QUAT_6D) + cached_tensor(_QUAT_6D_OFFSET, q.dtype, q.device)


def quat_from_two_columns(six: Tensor) -> Tensor:
    """Inverse of :func:`quat_to_6d` for exact rotations (Gram–Schmidt on the two columns)."""
    m = six.reshape(*six.shape[:-1], 3, 2)
    a = m[..., 0]
    a = a / a.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    b = m[..., 1] - (a * m[..., 1]).sum(-1, keepdim=True) * a
    b = b / b.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    c = torch.cross(a, b, dim=-1)
    return matrix_to_quat(torch.stack((a, b, c), dim=-1))


def quat_yaw(q: Tensor) -> Tensor:
    """Heading angle (radians, about world Z) of the body X axis rotated by ``q``."""
    w, x, y, z = q.unbind(-1)
    return torch.atan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z))


def yaw_quat(q: Tensor) -> Tensor:
    """Yaw-only quaternion (rotation about world Z by :func:`quat_yaw`), the "heading" of ``q``."""
    half = 0.5 * quat_yaw(q)
    zeros = torch.zeros_like(half)
    return torch.stack((torch.cos(half), zeros, zeros, torch.sin(half)), dim=-1)


def quat_slerp(q0: Tensor, q1: Tensor, t: Tensor | float) -> Tensor:
    """Spherical linear interpolation of unit quaternions along the shorter arc.

    Args:
        q0: start, ``(..., 4)``; returned at ``t = 0``.
        q1: end, ``(..., 4)``; returned (up to sign) at ``t = 1``.
        t: fraction, a float or a tensor of shape ``(...)`` that broadcasts with the batch.

    The arc angle is ``2·atan2(‖q0 − q1‖, ‖q0 + q1‖)`` rather than ``acos(q0·q1)``: it is accurate
    for nearly equal quaternions and its gradient stays finite there.
    """
    t = torch.as_tensor(t, dtype=q0.dtype, device=q0.device).unsqueeze(-1)
    dot = (q0 * q1).sum(-1, keepdim=True)
    q1 = torch.where(dot < 0, -q1, q1)
    theta = 2.0 * torch.atan2((q0 - q1).norm(dim=-1, keepdim=True), (q0 + q1).norm(dim=-1, keepdim=True))
    sin_theta = torch.sin(theta)
    near = sin_theta < 1e-6
    safe = torch.where(near, torch.ones_like(sin_theta), sin_theta)
    w0 = torch.where(near, 1.0 - t, torch.sin((1.0 - t) * theta) / safe)
    w1 = torch.where(near, t, torch.sin(t * theta) / safe)
    return quat_normalize(w0 * q0 + w1 * q1)


def xyzw_to_wxyz(q: Tensor) -> Tensor:
    """Reorder ``(x, y, z, w)`` to the library's ``(w, x, y, z)``."""
    return torch.cat((q[..., 3:], q[..., :3]), dim=-1)


def wxyz_to_xyzw(q: Tensor) -> Tensor:
    """Reorder the library's ``(w, x, y, z)`` to ``(x, y, z, w)`` (SONIC PKL ``root_rot``)."""
    return torch.cat((q[..., 1:], q[..., :1]), dim=-1)
