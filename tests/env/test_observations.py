"""The pure math of every observation term, the relative reference and the reset noise, on tiny hand-worked tensors.

Hand-computed references: a yaw of +90° is ``q = (cos 45°, 0, 0, sin 45°)`` with
``R = [[0, -1, 0], [1, 0, 0], [0, 0, 1]]``; its inverse maps world x to body -y and world y to body x.
"""

from __future__ import annotations

import math

import torch

from sonic_env.mdp.observations import (
    bodies_ori_6d,
    gravity_direction,
    human_joints_local,
    multi_future_command,
    point_in_frame,
    relative_ori_6d,
    select_joints,
)
from sonic_env.mdp.reference_math import points_local, relative_reference
from sonic_env.mdp.reset import RootState, perturb_joint_pos, perturb_root, range_tensor, sample_uniform

S = math.sqrt(0.5)
IDENTITY = torch.tensor([1.0, 0.0, 0.0, 0.0])
YAW90 = torch.tensor([S, 0.0, 0.0, S])
ROLL90 = torch.tensor([S, S, 0.0, 0.0])
SIX_D_IDENTITY = [1.0, 0.0, 0.0, 1.0, 0.0, 0.0]


def _close(a: torch.Tensor, b: object, atol: float = 1e-6) -> None:
    torch.testing.assert_close(a, torch.as_tensor(b, dtype=a.dtype), atol=atol, rtol=0)


def test_relative_ori_6d_of_equal_orientations_is_identity() -> None:
    """q⁻¹·q gives the 6D identity [1, 0, 0, 1, 0, 0] whatever q is."""
    q = torch.nn.functional.normalize(torch.tensor([[0.3, -0.2, 0.9, 0.1]]), dim=-1)
    _close(relative_ori_6d(q, q), [SIX_D_IDENTITY])


def test_relative_ori_6d_rotates_into_the_robot_frame() -> None:
    """Robot yawed +90°, target identity: R = Rz(-90°) = [[0,1,0],[-1,0,0],[0,0,1]] → [0, 1, -1, 0, 0, 0]."""
    _close(relative_ori_6d(YAW90[None], IDENTITY[None]), [[0.0, 1.0, -1.0, 0.0, 0.0, 0.0]])


def test_relative_ori_6d_broadcasts_over_future_frames() -> None:
    """(N, 4) robot with (N, F, 4) targets gives (N, F, 6); frame f uses target f."""
    targets = torch.stack((IDENTITY, YAW90))[None]  # (1, 2, 4)
    out = relative_ori_6d(YAW90[None], targets)
    assert out.shape == (1, 2, 6)
    _close(out[0, 0], [0.0, 1.0, -1.0, 0.0, 0.0, 0.0])
    _close(out[0, 1], SIX_D_IDENTITY)


def test_point_in_frame_subtracts_then_rotates_back() -> None:
    """Frame at (1, 2, 0) yawed +90°; world point (1, 3, 0) is 1 m along world +y = body +x."""
    out = point_in_frame(torch.tensor([[1.0, 2.0, 0.0]]), YAW90[None], torch.tensor([[1.0, 3.0, 0.0]]))
    _close(out, [[1.0, 0.0, 0.0]])
    many = point_in_frame(
        torch.tensor([[1.0, 2.0, 0.0]]), YAW90[None], torch.tensor([[[1.0, 3.0, 0.0], [2.0, 2.0, 0.5]]])
    )
    _close(many, [[[1.0, 0.0, 0.0], [0.0, -1.0, 0.5]]])


def test_bodies_ori_6d_is_body_major() -> None:
    """Pelvis identity; bodies [identity, yaw +90°] → [1,0,0,1,0,0, 0,-1,1,0,0,0]."""
    out = bodies_ori_6d(IDENTITY[None], torch.stack((IDENTITY, YAW90))[None])
    _close(out, [SIX_D_IDENTITY + [0.0, -1.0, 1.0, 0.0, 0.0, 0.0]])


def test_multi_future_command_is_all_positions_then_all_velocities() -> None:
    """pos[f, j] = 10f + j, vel = 100 + 10f + j, joints [2, 0] → [2, 0, 12, 10 | 102, 100, 112, 110]."""
    f = torch.arange(2.0)[:, None]
    j = torch.arange(3.0)[None, :]
    pos = (10 * f + j)[None]
    vel = 100 + pos
    out = multi_future_command(pos, vel, [2, 0])
    _close(out, [[2.0, 0.0, 12.0, 10.0, 102.0, 100.0, 112.0, 110.0]])
    # SONIC's (F, 2K) "nonflat" view: row 0 = positions of frames 0 and 1, not frame 0's pos + vel.
    _close(out.reshape(1, 2, 4)[0, 0], [2.0, 0.0, 12.0, 10.0])


def test_select_joints_gathers_the_last_dimension() -> None:
    """Any leading shape; indices pick the term's order."""
    values = torch.arange(12.0).reshape(2, 2, 3)
    _close(select_joints(values, [2, 1]), [[[2.0, 1.0], [5.0, 4.0]], [[8.0, 7.0], [11.0, 10.0]]])


def test_human_joints_local_uses_each_frames_own_root() -> None:
    """Frame 0 root identity keeps (1, 0, 0); frame 1 root yawed +90° maps it to (0, -1, 0)."""
    joints = torch.tensor([1.0, 0.0, 0.0]).expand(1, 2, 1, 3)
    roots = torch.stack((IDENTITY, YAW90))[None]
    _close(human_joints_local(joints, roots), [[[1.0, 0.0, 0.0], [0.0, -1.0, 0.0]]])


def test_gravity_direction_in_the_pelvis_frame() -> None:
    """Upright: (0, 0, -1). Rolled +90° about x: Rx(90)ᵀ·(0, 0, -1) = (0, -1, 0)."""
    _close(gravity_direction(torch.stack((IDENTITY, ROLL90))), [[0.0, 0.0, -1.0], [0.0, -1.0, 0.0]])


def test_relative_reference_reanchors_at_the_robot_heading() -> None:
    """Ref pelvis (0,0,0.8) identity, body at (1,0,0.8) yawed 90°; robot at (5,5,0.7) yawed 90° and pitched.

    p_Δ = (5, 5, 0.8) (z from the reference); q_Δ = heading only = yaw 90°, so the body lands at
    (5, 6, 0.8) with orientation yaw 180°.
    """
    ref_pos = torch.tensor([[[0.0, 0.0, 0.8], [1.0, 0.0, 0.8]]])
    ref_quat = torch.stack((IDENTITY, YAW90))[None]
    pitch = torch.tensor([math.cos(0.25), 0.0, math.sin(0.25), 0.0])
    w1, x1, y1, z1 = YAW90.tolist()
    w2, x2, y2, z2 = pitch.tolist()
    robot_quat = torch.tensor(  # yaw90 · pitch (Hamilton product by hand)
        [
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ]
    )
    pos, quat = relative_reference(ref_pos, ref_quat, torch.tensor([[5.0, 5.0, 0.7]]), robot_quat[None])
    _close(pos, [[[5.0, 5.0, 0.8], [5.0, 6.0, 0.8]]], atol=1e-5)
    dot = (quat[0] * torch.stack((YAW90, torch.tensor([0.0, 0.0, 0.0, 1.0])))).sum(-1).abs()
    _close(dot, [1.0, 1.0], atol=1e-5)


def test_points_local_adds_the_offset_in_the_body_frame() -> None:
    """Pelvis (1,1,1) yawed 90°; body (1,2,1) identity with offset (0,0,0.5) → (1, 0, 0.5) in the pelvis frame.

    A body yawed 90° turns an x offset (0.2, 0, 0) into world +y: point (1, 2.2, 1) → (1.2, 0, 0).
    """
    pos = torch.tensor([[[1.0, 1.0, 1.0], [1.0, 2.0, 1.0], [1.0, 2.0, 1.0]]])
    quat = torch.stack((YAW90, IDENTITY, YAW90))[None]
    offsets = torch.tensor([[0.0, 0.0, 0.5], [0.2, 0.0, 0.0]])
    _close(points_local(pos, quat, [1, 2], offsets), [[[1.0, 0.0, 0.5], [1.2, 0.0, 0.0]]])


def test_range_tensor_orders_axes_and_fills_missing_with_zero() -> None:
    """Keys in x, y, z, roll, pitch, yaw order; absent keys are (0, 0)."""
    _close(
        range_tensor({"yaw": (-0.2, 0.2), "x": (-1.0, 2.0)}), [[-1.0, 2.0]] + [[0.0, 0.0]] * 4 + [[-0.2, 0.2]]
    )


def test_sample_uniform_stays_in_bounds_and_covers_them() -> None:
    """10k samples of U[-1, 3] stay inside and reach within 1% of both ends; a (0, 0) column is 0."""
    bounds = torch.tensor([[-1.0, 3.0], [0.0, 0.0]])
    x = sample_uniform(bounds, 10_000, torch.Generator().manual_seed(0))
    assert x[:, 0].min() >= -1.0 and x[:, 0].max() <= 3.0
    assert x[:, 0].min() < -0.96 and x[:, 0].max() > 2.96
    assert (x[:, 1] == 0).all()


def test_perturb_root_rotates_in_the_world_frame_and_adds_velocities() -> None:
    """Reference yawed 90°, noise roll 90°: result = Rx(90)·Rz(90) (pre-multiplied), positions/velocities add."""
    state = RootState(
        pos=torch.tensor([[1.0, 2.0, 0.8]]),
        quat=YAW90[None],
        lin_vel=torch.tensor([[0.1, 0.0, 0.0]]),
        ang_vel=torch.zeros(1, 3),
    )
    out = perturb_root(
        state,
        torch.tensor([[0.01, -0.02, 0.03, math.pi / 2, 0.0, 0.0]]),
        torch.tensor([[0.5, 0.0, -0.2, 0.0, 0.1, 0.0]]),
    )
    _close(out.pos, [[1.01, 1.98, 0.83]])
    _close(out.lin_vel, [[0.6, 0.0, -0.2]])
    _close(out.ang_vel, [[0.0, 0.1, 0.0]])
    # Rx(90)·Rz(90) = (S,S,0,0)·(S,0,0,S) = (0.5, 0.5, -0.5, 0.5).
    _close(out.quat.abs(), [[0.5, 0.5, 0.5, 0.5]], atol=1e-6)
    assert float((out.quat * torch.tensor([0.5, 0.5, -0.5, 0.5])).sum().abs()) > 1 - 1e-6


def test_perturb_joint_pos_clips_to_the_limits() -> None:
    """q + noise, clamped per joint."""
    out = perturb_joint_pos(
        torch.tensor([[0.0, 1.0, -1.0]]),
        torch.tensor([[0.05, 0.1, -0.1]]),
        torch.tensor([-1.0, -1.0, -1.05]),
        torch.tensor([1.0, 1.05, 1.0]),
    )
    _close(out, [[0.05, 1.05, -1.05]])
