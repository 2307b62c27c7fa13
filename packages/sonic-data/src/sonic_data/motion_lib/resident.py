"""The resident set: the clips the environments play now, FK-derived and packed on the device.

Per resident frame, one float32 row holds ``[joint_pos 29 | joint_vel 29 | body_pos K·3 |
body_quat K·4 | body_lin_vel K·3 | body_ang_vel K·3]`` (K = 14 tracked bodies: 240 floats, 960 B),
so a query is one gather. SMPL rows ``[joints 24·3 | root_quat 4]`` and SOMA rows
``[joints J·3 | root_quat 4]`` live in their own tensors whose row 0 is a zero pose with an
identity root: a slot without that modality reads row 0, so no memory is spent on absent data
and no branch is taken per env. Slots are addressed by index; ``offsets``/``lengths`` map a
(slot, frame) pair to its row. Teleop 3-point targets (§2.1) are computed at query time from the
torso and wrist rows (a few vector ops) rather than stored, keeping a frame under 1 KB.
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

__all__ = ["ResidentSet", "VELOCITY_SIGMA_FRAMES"]

VELOCITY_SIGMA_FRAMES = 2.0
"""σ of the Gaussian filter on body velocities, in frames (SONIC_REFERENCE §6.2)."""

_FK_CHUNK = 1 << 17
_NJ = 29


def _human_table(
    rows: np.ndarray, joints: np.ndarray, quat: np.ndarray, device: torch.device
) -> tuple[Tensor, Tensor]:
    """Packed ``(1 + n, J·3 + 4)`` table with a zero/identity row 0, and per-frame table rows."""
    present = rows >= 0
    take = rows[present]
    num_joints = joints.shape[1]
    table = np.zeros((1 + len(take), num_joints * 3 + 4), dtype=np.float32)
    table[0, -4] = 1.0
    table[1:, : num_joints * 3] = joints[take].reshape(len(take), num_joints * 3)
    table[1:, -4:] = quat[take]
    frame_rows = np.zeros(len(rows), dtype=np.int64)
    frame_rows[present] = 1 + np.arange(len(take))
    return torch.from_numpy(table).to(device), torch.from_numpy(frame_rows).to(device)


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
        smpl: ``(1 + n, 76)`` SMPL table; ``smpl_rows`` ``(Fr,)`` maps frames into it.
        soma: ``(1 + n, 3J + 4)`` SOMA table; ``soma_rows`` ``(Fr,)`` maps frames into it.
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
        teleop_bodies: Sequence[int],
        teleop_offsets: Tensor,
    ) -> None:
        self.clip_ids = clip_ids
        self.lengths = lengths
        self.offsets = torch.cumsum(lengths, 0) - lengths
        self.robot = robot
        self.smpl = smpl
        self.smpl_rows = smpl_rows
        self.soma = soma
        self.soma_rows = soma_rows
        self.has_smpl = smpl_rows[self.offsets] > 0
        self.has_soma = soma_rows[self.offsets] > 0
        self.num_bodies = num_bodies
        self._teleop_bodies = torch.tensor(list(teleop_bodies), device=robot.device, dtype=torch.long)
        self._teleop_offsets = teleop_offsets
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
            teleop_bodies=teleop_bodies,
            teleop_offsets=teleop_offsets.to(device=device, dtype=robot.dtype),
        )
        resident.freeze_frame = torch.from_numpy(plan.freeze_frame).to(device)
        resident.upper_source = torch.from_numpy(plan.upper_source).to(device)
        return resident

    def rows(self, slots: Tensor, frames: Tensor) -> tuple[Tensor, Tensor]:
        """Packed rows and clamped frames of (slot, frame) pairs; shapes broadcast to ``B``."""
        length = self.lengths[slots]
        frames = torch.minimum(frames.clamp_min(0), length - 1)
        return self.offsets[slots] + frames, frames

    def gather(self, slots: Tensor, frames: Tensor, parts: Sequence[str]) -> MotionState:
        """Reference at ``(slots, frames)`` (broadcast shape ``B``; frames clamped to each clip).

        Args:
            slots: int64 resident slot indices.
            frames: int64 frame indices (any integers; clamped to ``[0, length−1]``).
            parts: any of ``"smpl"``, ``"soma"``, ``"teleop"`` in addition to the robot part.
        """
        rows, frames = self.rows(slots, frames)
        buf = self.robot[rows]
        k = self.num_bodies
        cut = [_NJ, _NJ, 3 * k, 4 * k, 3 * k, 3 * k]
        jp, jv, bp, bq, lv, av = torch.split(buf, cut, dim=-1)
        robot = RobotFrames(
            joint_pos=jp,
            joint_vel=jv,
            body_pos_w=bp.unflatten(-1, (k, 3)),
            body_quat_w=bq.unflatten(-1, (k, 4)),
            body_lin_vel_w=lv.unflatten(-1, (k, 3)),
            body_ang_vel_w=av.unflatten(-1, (k, 3)),
        )
        smpl = soma = teleop = None
        if "smpl" in parts:
            smpl = self._human(self.smpl, self.smpl_rows[rows], self.has_smpl[slots].expand(rows.shape))
        if "soma" in parts:
            soma = self._human(self.soma, self.soma_rows[rows], self.has_soma[slots].expand(rows.shape))
        if "teleop" in parts:
            teleop = self._teleop(robot)
        return MotionState(frames=frames, robot=robot, smpl=smpl, soma=soma, teleop=teleop)

    @staticmethod
    def _human(table: Tensor, rows: Tensor, valid: Tensor) -> HumanFrames:
        buf = table[rows]
        return HumanFrames(joints=buf[..., :-4].unflatten(-1, (-1, 3)), root_quat=buf[..., -4:], valid=valid)

    def _teleop(self, robot: RobotFrames) -> TeleopTargets:
        pelvis_pos = robot.body_pos_w[..., :1, :]
        pelvis_quat = robot.body_quat_w[..., :1, :]
        body_pos = robot.body_pos_w[..., self._teleop_bodies, :]
        body_quat = robot.body_quat_w[..., self._teleop_bodies, :]
        point = body_pos + quat_apply(body_quat, self._teleop_offsets.expand_as(body_pos))
        local_pos = quat_apply_inverse(pelvis_quat.expand_as(body_quat), point - pelvis_pos)
        local_quat = quat_mul(quat_conjugate(pelvis_quat).expand_as(body_quat), body_quat)
        return TeleopTargets(local_pos=local_pos, local_quat=local_quat)
