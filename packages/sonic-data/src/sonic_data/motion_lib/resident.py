"""The resident set: the clips the environments play now, FK-derived and packed on the device.

Per resident frame, one float32 row holds ``[joint_pos 29 | joint_vel 29 | body_pos K·3 |
body_quat K·4 | body_lin_vel K·3 | body_ang_vel K·3]`` (K = 14 tracked bodies: 240 floats, 960 B),
so a query is one gather. SMPL rows ``[joints 24·3 | root_quat 4]`` and SOMA rows
``[joints J·3 | root_quat 4]`` live in their own tensors whose row 0 is a zero pose with an
identity root: a slot without that modality reads row 0, so no memory is spent on absent data
and no branch is taken per env. Slots are addressed by index; ``offsets``/``lengths`` map a
(slot, frame) pair to its row. The teleop 3-point targets (§2.1) are computed once at build time
from the torso and wrist bodies and stored in their own ``(Fr, 21)`` table (84 B per frame), read
with the same rows, so a query launches a handful of gathers and no rotation math.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from sonic_data.kinematics import G1Kinematics
from sonic_data.motion_lib.augment import UPPER_BODY_JOINTS, ResidentPlan
from sonic_data.motion_lib.host import HostLibrary
from sonic_data.motion_lib.state import HumanFrames, MotionState, RobotFrames, TeleopTargets
from sonic_data.motion_lib.velocities import (
    angular_velocity,
    clip_bounds,
    forward_difference,
    gaussian_smooth,
    gradient,
)
from sonic_data.rotations import quat_apply, quat_apply_inverse, quat_conjugate, quat_mul

__all__ = ["VELOCITY_SIGMA_FRAMES", "ResidentSet", "teleop_targets"]

VELOCITY_SIGMA_FRAMES = 2.0
"""σ of the Gaussian filter on body velocities, in frames (SONIC_REFERENCE §6.2)."""

_FK_CHUNK = 1 << 17


def _human_table(
    rows: np.ndarray, joints: np.ndarray, quat: np.ndarray, device: torch.device
) -> tuple[Tensor, Tensor]:
    """Packed ``(1 + n, 2·J·3 + 4)`` table with a zero/identity row 0, and per-frame table rows.

    Row layout ``[joints 3J | root quat 4 | joints in the root frame 3J]`` (:class:`HumanFrames`): the last
    block is ``q⁻¹ ⊗ joint`` per frame, which depends on the reference only, so it is computed here once
    (on ``device``, with the same operators the per-step observation used) instead of every env step.
    """
    present = rows >= 0
    take = rows[present]
    num_joints = joints.shape[1]
    width = num_joints * 3
    table = np.zeros((1 + len(take), 2 * width + 4), dtype=np.float32)
    table[0, width] = 1.0
    table[1:, :width] = joints[take].reshape(len(take), width)
    table[1:, width : width + 4] = quat[take]
    packed = torch.from_numpy(table).to(device)
    local = quat_apply_inverse(
        packed[:, width : width + 4].unsqueeze(1), packed[:, :width].unflatten(-1, (-1, 3))
    )
    packed[:, width + 4 :] = local.flatten(1)
    frame_rows = np.zeros(len(rows), dtype=np.int64)
    frame_rows[present] = 1 + np.arange(len(take))
    return packed, torch.from_numpy(frame_rows).to(device)


class ResidentSet:
    """Packed device tensors of the resident slots, and the batched gathers over them.

    Build with :meth:`build`; query with :meth:`gather`.

    Attributes:
        clip_ids: ``(R,)`` library clip of each slot.
        lengths: ``(R,)`` frames per slot.
        offsets: ``(R,)`` first row of each slot in :attr:`robot`.
        has_smpl: ``(R,)`` bool, whether each slot has SMPL data.
        has_soma: ``(R,)`` bool, whether each slot has SOMA data.
        freeze_frame: ``(R,)`` frame from which a slot is frozen by augmentation, -1 if not.
        upper_source: ``(R,)`` library clip lending a slot its upper body, -1 if none.
        robot: ``(Fr, 58 + 13K)`` packed robot rows.
        teleop: ``(Fr, 21)`` VR 3-point targets ``[local_pos 3·3 | local_quat 3·4]``.
        smpl: ``(1 + n, 2·3J + 4)`` SMPL table (:func:`_human_table`); ``smpl_rows`` ``(Fr,)`` maps frames into it.
        soma: ``(1 + n, 2·3J + 4)`` SOMA table; ``soma_rows`` ``(Fr,)`` maps frames into it.
    """

    def __init__(
        self,
        clip_ids: Tensor,
        lengths: Tensor,
        robot: Tensor,
        smpl: Tensor,
        smpl_rows: Tensor,
        soma: Tensor,
        soma_rows: Tensor,
        num_bodies: int,
        teleop: Tensor,
    ) -> None:
        self.clip_ids = clip_ids
        self.lengths = lengths
        self.offsets = torch.cumsum(lengths, 0) - lengths
        # One gather per query gives both a slot's first row and its last frame.
        self._first_last = torch.stack((self.offsets, lengths - 1), dim=-1)
        self.robot = robot
        self.smpl = smpl
        self.smpl_rows = smpl_rows
        self.soma = soma
        self.soma_rows = soma_rows
        self.has_smpl = smpl_rows[self.offsets] > 0
        self.has_soma = soma_rows[self.offsets] > 0
        self.num_bodies = num_bodies
        self.teleop = teleop
        self.freeze_frame = torch.full_like(clip_ids, -1)
        self.upper_source = torch.full_like(clip_ids, -1)

    @property
    def num_slots(self) -> int:
        """Number of resident slots R."""
        return int(self.clip_ids.shape[0])

    @property
    def num_frames(self) -> int:
        """Total resident frames Fr."""
        return int(self.robot.shape[0])

    @property
    def nbytes(self) -> int:
        """Device bytes of the packed tensors."""
        tensors = (
            self.robot,
            self.smpl,
            self.smpl_rows,
            self.soma,
            self.soma_rows,
            self.lengths,
            self.offsets,
        )
        return sum(t.numel() * t.element_size() for t in tensors)

    @classmethod
    def build(
        cls,
        host: HostLibrary,
        plan: ResidentPlan,
        fk: G1Kinematics,
        body_ids: Sequence[int],
        teleop_bodies: Sequence[int],
        teleop_offsets: Tensor,
        dt: float,
    ) -> ResidentSet:
        """Gather the plan's host rows, run FK and the velocity filters on ``fk.device``, pack.

        Args:
            host: the host library.
            plan: rows of each slot (augmentation already decided).
            fk: forward kinematics on the target device (float32).
            body_ids: FK output indices of the K tracked bodies (pelvis first).
            teleop_bodies: indices into the tracked bodies of the 3 VR points' bodies.
            teleop_offsets: ``(3, 3)`` point offsets in each body's frame.
            dt: frame period (s), ``1 / target_fps``.
        """
        device = fk.device
        rows = host.robot[plan.base_rows]
        rows[:, 7 + UPPER_BODY_JOINTS.start : 7 + UPPER_BODY_JOINTS.stop] = host.robot[
            plan.upper_rows, 7 + UPPER_BODY_JOINTS.start : 7 + UPPER_BODY_JOINTS.stop
        ]
        src = torch.from_numpy(rows).to(device)
        lengths = torch.from_numpy(plan.lengths).to(device)
        start, end = clip_bounds(lengths)
        ids = torch.tensor(list(body_ids), device=device, dtype=torch.long)
        k = len(body_ids)
        num = src.shape[0]
        pos = src.new_empty((num, k, 3))
        quat = src.new_empty((num, k, 4))
        for lo in range(0, num, _FK_CHUNK):
            chunk = src[lo : lo + _FK_CHUNK]
            bp, bq = fk(chunk[:, 0:3], chunk[:, 3:7], chunk[:, 7:])
            pos[lo : lo + _FK_CHUNK] = bp[:, ids]
            quat[lo : lo + _FK_CHUNK] = bq[:, ids]
        joints = src[:, 7:]
        lin_vel = gaussian_smooth(gradient(pos, start, end, dt), start, end, VELOCITY_SIGMA_FRAMES)
        ang_vel = gaussian_smooth(angular_velocity(quat, start, end, dt), start, end, VELOCITY_SIGMA_FRAMES)
        robot = torch.cat(
            (
                joints,
                forward_difference(joints, start, end, dt),
                pos.reshape(num, -1),
                quat.reshape(num, -1),
                lin_vel.reshape(num, -1),
                ang_vel.reshape(num, -1),
            ),
            dim=1,
        ).contiguous()
        local_pos, local_quat = teleop_targets(
            pos, quat, torch.tensor(list(teleop_bodies), device=device), teleop_offsets.to(device, pos.dtype)
        )
        teleop = torch.cat((local_pos.reshape(num, -1), local_quat.reshape(num, -1)), dim=1).contiguous()
        smpl, smpl_rows = _human_table(plan.smpl_rows, host.smpl_joints, host.smpl_root_quat, device)
        soma, soma_rows = _human_table(plan.soma_rows, host.soma_joints, host.soma_root_quat, device)
        resident = cls(
            clip_ids=torch.from_numpy(plan.clip_ids).to(device),
            lengths=lengths,
            robot=robot,
            smpl=smpl,
            smpl_rows=smpl_rows,
            soma=soma,
            soma_rows=soma_rows,
            num_bodies=k,
            teleop=teleop,
        )
        resident.freeze_frame = torch.from_numpy(plan.freeze_frame).to(device)
        resident.upper_source = torch.from_numpy(plan.upper_source).to(device)
        return resident

    def rows(self, slots: Tensor, frames: Tensor) -> tuple[Tensor, Tensor]:
        """Packed rows and clamped frames of (slot, frame) pairs; shapes broadcast to ``B``."""
        first, last = self._first_last[slots].unbind(-1)
        frames = torch.minimum(frames.clamp_min(0), last)
        return first + frames, frames

    def gather(self, slots: Tensor, frames: Tensor, parts: Sequence[str]) -> MotionState:
        """Reference at ``(slots, frames)`` (broadcast shape ``B``; frames clamped to each clip).

        Args:
            slots: int64 resident slot indices.
            frames: int64 frame indices (any integers; clamped to ``[0, length−1]``).
            parts: any of ``"smpl"``, ``"soma"``, ``"teleop"`` in addition to the robot part.
        """
        rows, frames = self.rows(slots, frames)
        robot = RobotFrames(self.robot[rows], self.num_bodies)
        smpl = soma = teleop = None
        if "smpl" in parts:
            r = self.smpl_rows[rows]
            smpl = HumanFrames(self.smpl[r], r)
        if "soma" in parts:
            r = self.soma_rows[rows]
            soma = HumanFrames(self.soma[r], r)
        if "teleop" in parts:
            teleop = TeleopTargets(self.teleop[rows])
        return MotionState(frames=frames, robot=robot, smpl=smpl, soma=soma, teleop=teleop)


def teleop_targets(
    body_pos: Tensor, body_quat: Tensor, bodies: Tensor, offsets: Tensor
) -> tuple[Tensor, Tensor]:
    """VR 3-point targets from tracked-body poses (SONIC's ``vr_3point_local_*``, §2.1).

    Args:
        body_pos: ``(..., K, 3)`` tracked-body positions, pelvis at index 0.
        body_quat: ``(..., K, 4)`` tracked-body orientations (wxyz).
        bodies: ``(P,)`` indices of the point bodies among the K.
        offsets: ``(P, 3)`` point offsets in those bodies' frames.

    Returns:
        ``(local_pos (..., P, 3), local_quat (..., P, 4))``: each point relative to the pelvis in the
        pelvis frame, and ``q_pelvis⁻¹·q_body``.
    """
    pelvis_pos = body_pos[..., :1, :]
    pelvis_quat = body_quat[..., :1, :]
    pos = body_pos[..., bodies, :]
    quat = body_quat[..., bodies, :]
    point = pos + quat_apply(quat, offsets.expand_as(pos))
    local_pos = quat_apply_inverse(pelvis_quat.expand_as(quat), point - pelvis_pos)
    local_quat = quat_mul(quat_conjugate(pelvis_quat).expand_as(quat), quat)
    return local_pos, local_quat
