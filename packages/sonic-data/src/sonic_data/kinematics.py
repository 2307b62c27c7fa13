"""Batched forward kinematics of the G1 in torch, built from the MJCF (no MuJoCo at runtime).

Given the floating-base pose and the 29 joint angles, :class:`G1Kinematics` returns the world pose
of every body, matching MuJoCo's ``mj_kinematics`` (``xpos``/``xquat``). Conventions:

* The root pose replaces the root body's own ``pos``/``quat`` (as a MuJoCo free joint does): the
  MJCF's pelvis height 0.793 m is never applied. The root quaternion is normalized, as MuJoCo does.
* Each child body sits at ``parent ∘ (pos, quat) ∘ hinge(axis, pos, q - ref)``: the hinge turns the
  body about ``axis`` through the joint's ``pos``, both in the body frame.
* Quaternions are ``wxyz``; bodies come out in depth-first MJCF order (``BODY_NAMES`` for the G1).

The tree is evaluated level by level (all bodies at one depth in one batched step; the G1 has 11
levels), with index tensors kept on the device: no host syncs and no loop over the batch, so it runs
inside CUDA graphs and under autograd.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from torch import Tensor

from sonic_data.g1.mjcf import MjcfTree, parse_mjcf
from sonic_data.g1.model import G1_MJCF, MJCF_PATH
from sonic_data.rotations import quat_apply, quat_mul, quat_normalize

__all__ = ["G1Kinematics"]


class G1Kinematics:
    """Forward kinematics of a free-floating MJCF tree (by default the vendored G1).

    Args:
        device: device of the constant tables and of the expected inputs.
        dtype: floating dtype of the computation; inputs are cast to it.
        mjcf_path: MJCF to read; defaults to :data:`sonic_data.g1.MJCF_PATH`.

    Example:
        >>> fk = G1Kinematics()
        >>> pos, quat = fk(torch.zeros(3), torch.tensor([1.0, 0, 0, 0]), torch.zeros(29))
        >>> pos.shape, quat.shape
        (torch.Size([30, 3]), torch.Size([30, 4]))
    """

    def __init__(
        self,
        device: str | torch.device = "cpu",
        dtype: torch.dtype = torch.float32,
        mjcf_path: str | Path | None = None,
    ) -> None:
        path = MJCF_PATH if mjcf_path is None else Path(mjcf_path)
        tree = G1_MJCF if path == MJCF_PATH else parse_mjcf(path)
        self._build(tree, torch.device(device), dtype)

    def _build(self, tree: MjcfTree, device: torch.device, dtype: torch.dtype) -> None:
        if not dtype.is_floating_point:
            raise TypeError(f"G1Kinematics: dtype must be floating point, got {dtype}")
        self.tree = tree
        self.device = device
        self.dtype = dtype
        bodies = tree.bodies
        joint_index = {name: i for i, name in enumerate(tree.joint_names)}
        num_joints = len(joint_index)

        # Per-body constants. A welded body reads the padded zero angle (index num_joints) about a
        # zero axis, so its hinge is the identity.
        body_pos, body_quat, axes, joint_pos, refs, angle_index = [], [], [], [], [], []
        for body in bodies:
            body_pos.append(body.pos)
            body_quat.append(body.quat)
            j = body.joint
            axes.append(j.axis if j is not None else (0.0, 0.0, 0.0))
            joint_pos.append(j.pos if j is not None else (0.0, 0.0, 0.0))
            refs.append(j.ref if j is not None else 0.0)
            angle_index.append(joint_index[j.name] if j is not None else num_joints)
        as_float = {"device": device, "dtype": dtype}
        self._body_pos = torch.tensor(body_pos, **as_float)
        self._body_quat = torch.tensor(body_quat, **as_float)
        self._axis = torch.tensor(axes, **as_float)
        self._joint_pos = torch.tensor(joint_pos, **as_float)
        self._ref = torch.tensor(refs, **as_float)
        self._angle_index = torch.tensor(angle_index, device=device, dtype=torch.long)
        self._has_joint_pos = any(any(v != 0.0 for v in p) for p in joint_pos)

        # Depth levels: level 0 is the root; each later level lists its bodies and, for each, the
        # slot of its parent within the previous level.
        depth = [0] * len(bodies)
        for i, body in enumerate(bodies):
            if body.parent >= 0:
                depth[i] = depth[body.parent] + 1
        levels = [[i for i in range(len(bodies)) if depth[i] == d] for d in range(max(depth) + 1)]
        slot = {body: k for level in levels for k, body in enumerate(level)}
        self._levels = [torch.tensor(level, device=device, dtype=torch.long) for level in levels[1:]]
        self._parent_slots = [
            torch.tensor([slot[bodies[i].parent] for i in level], device=device, dtype=torch.long)
            for level in levels[1:]
        ]
        order = [i for level in levels for i in level]
        inverse = [0] * len(order)
        for k, body_id in enumerate(order):
            inverse[body_id] = k
        self._from_level_order = torch.tensor(inverse, device=device, dtype=torch.long)
        self._num_joints = num_joints

    @property
    def body_names(self) -> tuple[str, ...]:
        """Body names in output order (``BODY_NAMES`` for the G1)."""
        return self.tree.body_names

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Joint names in input order (``JOINT_NAMES`` for the G1)."""
        return self.tree.joint_names

    @property
    def num_bodies(self) -> int:
        """Number of bodies in the output."""
        return len(self.tree.bodies)

    def body_index(self, name: str) -> int:
        """Index of body ``name`` in the output.

        Raises:
            KeyError: naming the body and listing the valid names.
        """
        try:
            return self.body_names.index(name)
        except ValueError:
            raise KeyError(f"G1Kinematics: no body {name!r}; bodies are {self.body_names}") from None

    def body_indices(self, names: Sequence[str]) -> list[int]:
        """Indices of several bodies in the output, in the order given."""
        return [self.body_index(n) for n in names]

    def to(self, device: str | torch.device | None = None, dtype: torch.dtype | None = None) -> G1Kinematics:
        """A copy on ``device`` (and ``dtype``), sharing the parsed tree; ``self`` is unchanged."""
        out = object.__new__(type(self))
        out._build(
            self.tree,
            torch.device(device) if device is not None else self.device,
            dtype if dtype is not None else self.dtype,
        )
        return out

    def __call__(self, root_pos: Tensor, root_quat: Tensor, joint_pos: Tensor) -> tuple[Tensor, Tensor]:
        """World pose of every body.

        Args:
            root_pos: root (pelvis) position, ``(..., 3)`` (m).
            root_quat: root orientation ``wxyz``, ``(..., 4)``; normalized here.
            joint_pos: joint angles, ``(..., num_joints)`` (rad), in :attr:`joint_names` order.
                The three batch shapes broadcast.

        Returns:
            ``(body_pos, body_quat)``: ``(..., num_bodies, 3)`` and ``(..., num_bodies, 4)`` (wxyz),
            bodies in :attr:`body_names` order.
        """
        for label, tensor, size in (
            ("root_pos", root_pos, 3),
            ("root_quat", root_quat, 4),
            ("joint_pos", joint_pos, self._num_joints),
        ):
            if tensor.dim() == 0 or tensor.shape[-1] != size:
                raise ValueError(
                    f"G1Kinematics: {label} must have shape (..., {size}), got {tuple(tensor.shape)}"
                )
            if tensor.device.type != self.device.type:
                raise ValueError(
                    f"G1Kinematics: {label} is on {tensor.device} but this instance is on {self.device}; "
                    "use fk.to(device)"
                )
        batch = torch.broadcast_shapes(root_pos.shape[:-1], root_quat.shape[:-1], joint_pos.shape[:-1])
        root_pos = root_pos.to(self.dtype).expand(*batch, 3)
        root_quat = quat_normalize(root_quat.to(self.dtype)).expand(*batch, 4)
        joint_pos = joint_pos.to(self.dtype).expand(*batch, self._num_joints)

        # Local transform of every body relative to its parent: (..., B, 4) and (..., B, 3).
        padded = torch.cat((joint_pos, joint_pos.new_zeros(*batch, 1)), dim=-1)
        half = 0.5 * (padded[..., self._angle_index] - self._ref)
        hinge = torch.cat((torch.cos(half).unsqueeze(-1), torch.sin(half).unsqueeze(-1) * self._axis), dim=-1)
        local_quat = quat_mul(self._body_quat, hinge)
        local_pos = self._body_pos.expand(*batch, -1, 3)
        if self._has_joint_pos:
            # A hinge through point p moves the body origin by p - R(q)·p (in the body's own frame).
            shift = self._joint_pos - quat_apply(hinge, self._joint_pos)
            local_pos = local_pos + quat_apply(self._body_quat, shift)

        level_pos = [root_pos.unsqueeze(-2)]
        level_quat = [root_quat.unsqueeze(-2)]
        for bodies, parents in zip(self._levels, self._parent_slots, strict=True):
            parent_pos = level_pos[-1][..., parents, :]
            parent_quat = level_quat[-1][..., parents, :]
            level_pos.append(parent_pos + quat_apply(parent_quat, local_pos[..., bodies, :]))
            level_quat.append(quat_mul(parent_quat, local_quat[..., bodies, :]))
        body_pos = torch.cat(level_pos, dim=-2)[..., self._from_level_order, :]
        body_quat = torch.cat(level_quat, dim=-2)[..., self._from_level_order, :]
        return body_pos, body_quat

    def __repr__(self) -> str:
        return (
            f"G1Kinematics({self.tree.path.name}, bodies={self.num_bodies}, joints={self._num_joints}, "
            f"device={self.device}, dtype={self.dtype})"
        )
