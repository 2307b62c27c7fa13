"""Typed containers of reference tensors returned by ``MotionLibrary.state`` and ``.future``.

Every tensor has the query's batch shape ``B`` first: ``(N,)`` for :meth:`state` and ``(N, F)`` for
:meth:`future` windows. Joints are in canonical (MJCF) order, bodies in the library's tracked-body
order (pelvis first), quaternions ``wxyz``, all in the world frame (Z up) unless said otherwise.
Each container holds one gathered buffer per modality; its quantities are views made on access,
so building a container costs one gather and reading a quantity costs no copy.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass

from torch import Tensor

__all__ = ["HumanFrames", "MotionState", "RobotFrames", "TeleopTargets", "copy_state_"]


_NJ = 29


@dataclass(frozen=True)
class RobotFrames:
    """G1 reference at the queried frames.

    Holds the gathered packed rows ``data`` ``(*B, 58 + 13K)``; each quantity is a view made when
    it is read, so a query pays only for what its caller uses.

    Properties:
        joint_pos: ``(*B, 29)`` joint angles (rad).
        joint_vel: ``(*B, 29)`` joint velocities (rad/s).
        body_pos_w: ``(*B, K, 3)`` tracked-body positions (m).
        body_quat_w: ``(*B, K, 4)`` tracked-body orientations.
        body_lin_vel_w: ``(*B, K, 3)`` tracked-body linear velocities (m/s).
        body_ang_vel_w: ``(*B, K, 3)`` tracked-body angular velocities (rad/s).
    """

    data: Tensor
    num_bodies: int

    def _cols(self, start: int, width: int, last: int) -> Tensor:
        return self.data[..., start : start + width * self.num_bodies].unflatten(-1, (self.num_bodies, last))

    @property
    def joint_pos(self) -> Tensor:
        """``(*B, 29)`` joint angles (rad), canonical order."""
        return self.data[..., :_NJ]

    @property
    def joint_vel(self) -> Tensor:
        """``(*B, 29)`` joint velocities (rad/s)."""
        return self.data[..., _NJ : 2 * _NJ]

    @property
    def body_pos_w(self) -> Tensor:
        """``(*B, K, 3)`` tracked-body positions (m)."""
        return self._cols(2 * _NJ, 3, 3)

    @property
    def body_quat_w(self) -> Tensor:
        """``(*B, K, 4)`` tracked-body orientations (wxyz)."""
        return self._cols(2 * _NJ + 3 * self.num_bodies, 4, 4)

    @property
    def body_lin_vel_w(self) -> Tensor:
        """``(*B, K, 3)`` tracked-body linear velocities (m/s)."""
        return self._cols(2 * _NJ + 7 * self.num_bodies, 3, 3)

    @property
    def body_ang_vel_w(self) -> Tensor:
        """``(*B, K, 3)`` tracked-body angular velocities (rad/s)."""
        return self._cols(2 * _NJ + 10 * self.num_bodies, 3, 3)

    @property
    def root_pos_w(self) -> Tensor:
        """``(*B, 3)`` pelvis (anchor) position."""
        return self.data[..., 2 * _NJ : 2 * _NJ + 3]

    @property
    def root_quat_w(self) -> Tensor:
        """``(*B, 4)`` pelvis (anchor) orientation."""
        start = 2 * _NJ + 3 * self.num_bodies
        return self.data[..., start : start + 4]


@dataclass(frozen=True)
class HumanFrames:
    """SMPL or SOMA reference at the queried frames (zeros where the clip has none).

    Holds the gathered rows ``data`` ``(*B, 2·3J + 4)`` = ``[joints 3J | root quat 4 | joints local 3J]`` and
    their table rows ``rows`` ``(*B,)`` (0 = the clip has no such data).

    Properties:
        joints: ``(*B, J, 3)`` joint positions, Z up, relative to the root position (m); J = 24
            (SMPL) or 26 (SOMA).
        root_quat: ``(*B, 4)`` root orientation, Z up, body-model base removed (identity where absent).
        joints_local: ``(*B, 3J)`` the joints rotated into the root frame (``root_quat⁻¹ ⊗ joint``),
            flattened; precomputed per frame by the library.
        valid: ``(*B,)`` bool, whether the clip has this modality (the env zeroes the encoder's
            probability where false).
    """

    data: Tensor
    rows: Tensor

    @property
    def _width(self) -> int:
        return (self.data.shape[-1] - 4) // 2

    @property
    def joints(self) -> Tensor:
        """``(*B, J, 3)`` joint positions (m)."""
        return self.data[..., : self._width].unflatten(-1, (-1, 3))

    @property
    def root_quat(self) -> Tensor:
        """``(*B, 4)`` root orientation (wxyz)."""
        return self.data[..., self._width : self._width + 4]

    @property
    def joints_local(self) -> Tensor:
        """``(*B, 3J)`` joints in their frame's root frame, flattened (m)."""
        return self.data[..., self._width + 4 :]

    @property
    def valid(self) -> Tensor:
        """``(*B,)`` whether the clip has this modality."""
        return self.rows > 0


@dataclass(frozen=True)
class TeleopTargets:
    """The VR 3-point targets of §2.1, from the reference bodies (SONIC's ``vr_3point_*`` terms).

    Holds the gathered rows ``data`` ``(*B, 21)`` = ``[local_pos 3·3 | local_quat 3·4]``.

    Properties:
        local_pos: ``(*B, 3, 3)`` each point (body position + body-frame offset) relative to the
            reference pelvis, in the reference pelvis frame (``vr_3point_local_target``).
        local_quat: ``(*B, 3, 4)`` ``q_pelvis⁻¹·q_body`` (``vr_3point_local_orn_target``).
    """

    data: Tensor

    @property
    def local_pos(self) -> Tensor:
        """``(*B, 3, 3)`` point positions in the reference pelvis frame (m)."""
        return self.data[..., :9].unflatten(-1, (3, 3))

    @property
    def local_quat(self) -> Tensor:
        """``(*B, 3, 4)`` body orientations relative to the reference pelvis (wxyz)."""
        return self.data[..., 9:].unflatten(-1, (3, 4))


@dataclass(frozen=True)
class MotionState:
    """Everything the environment reads from the reference at a batch of (slot, frame) pairs.

    ``smpl``, ``soma`` and ``teleop`` are None when the query did not ask for them.

    Attributes:
        frames: ``(*B,)`` int64 frame indices actually read (after clamping to the clip).
        robot: the G1 reference.
        smpl: SMPL joints and root orientation.
        soma: SOMA joints and root orientation.
        teleop: VR 3-point targets.
    """

    frames: Tensor
    robot: RobotFrames
    smpl: HumanFrames | None = None
    soma: HumanFrames | None = None
    teleop: TeleopTargets | None = None


def copy_state_(dst: MotionState, src: MotionState) -> MotionState:
    """Copy every tensor of ``src`` into the same field of ``dst`` in place; returns ``dst``.

    For callers that must keep a container's storage (CUDA graphs read tensors by address).

    Raises:
        ValueError: the two differ in structure (a part present in one only) or in a tensor's shape.
    """
    _copy_fields(dst, src, "MotionState")
    return dst


def _copy_fields(dst: object, src: object, path: str) -> None:
    for field in fields(dst):  # pyright: ignore[reportArgumentType]
        a, b, where = getattr(dst, field.name), getattr(src, field.name), f"{path}.{field.name}"
        if (a is None) != (b is None):
            raise ValueError(f"copy_state_: {where} is present in only one of the two states")
        if isinstance(a, Tensor):
            if a.shape != b.shape:
                raise ValueError(
                    f"copy_state_: {where} has shape {tuple(b.shape)}, expected {tuple(a.shape)}"
                )
            a.copy_(b)
        elif is_dataclass(a):
            _copy_fields(a, b, where)
