"""The host tier: every clip of the library, resampled to the control rate, in compact flat arrays.

Per 50 fps frame the robot part is one float32 row ``[root_pos 3 | root_quat wxyz 4 | joint_pos 29]``
(144 B). SMPL and SOMA, where a clip has them, add joint positions in float16 (24×3 = 144 B; 26×3 =
156 B) and a float32 root quaternion (16 B), already Z up and base-free. Nothing FK-derived lives
here: bodies and velocities are computed on the simulation device for the resident clips only.

Clips are laid out back to back; ``offsets[c]`` is clip ``c``'s first row and ``lengths[c]`` its
frame count. SMPL/SOMA rows of a clip that has them start at ``smpl_offsets[c]`` / ``soma_offsets[c]``
(-1 where absent) and have exactly ``lengths[c]`` rows (the load enforces FORMATS.md's length rules).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from sonic_data.formats.atomic import atomic_path

__all__ = ["ROBOT_WIDTH", "HostClip", "HostLibrary", "concat_rows"]

ROBOT_WIDTH = 3 + 4 + 29
"""Floats per robot frame on the host: root position, root quaternion (wxyz), 29 joint angles."""

_CACHE_VERSION = 1


def concat_rows(parts: list[NDArray], width: tuple[int, ...], dtype: np.dtype | type) -> NDArray:
    """Concatenate per-clip arrays ``(T_i, *width)`` (an empty list gives ``(0, *width)``)."""
    if not parts:
        return np.zeros((0, *width), dtype=dtype)
    return np.concatenate(parts, axis=0).astype(dtype, copy=False)


def _row_index(offsets: NDArray[np.int64], lengths: NDArray[np.int64]) -> NDArray[np.int64]:
    """Rows ``offsets[c] + 0 … lengths[c]-1`` of every clip, concatenated."""
    total = int(lengths.sum())
    starts = np.repeat(offsets - np.cumsum(lengths) + lengths, lengths)
    return starts + np.arange(total, dtype=np.int64)


def _offsets(lengths: NDArray[np.int64]) -> NDArray[np.int64]:
    return (np.cumsum(lengths) - lengths).astype(np.int64)


@dataclass(eq=False)
class HostClip:
    """One clip at the target rate, before packing (what loading produces per clip).

    Attributes:
        name: clip name.
        root_pos: ``(T, 3)`` pelvis position (m).
        root_quat: ``(T, 4)`` pelvis orientation, wxyz.
        joint_pos: ``(T, 29)`` joint angles (rad), canonical order.
        smpl_joints: ``(T, 24, 3)`` SMPL joints (Z up, root-relative) or None.
        smpl_root_quat: ``(T, 4)`` SMPL root orientation (Z up, base-free) or None.
        soma_joints: ``(T, J, 3)`` SOMA joints (Z up, Hips-relative) or None.
        soma_root_quat: ``(T, 4)`` SOMA root orientation (Z up, base-free) or None.
    """

    name: str
    root_pos: NDArray[np.floating]
    root_quat: NDArray[np.floating]
    joint_pos: NDArray[np.floating]
    smpl_joints: NDArray[np.floating] | None = None
    smpl_root_quat: NDArray[np.floating] | None = None
    soma_joints: NDArray[np.floating] | None = None
    soma_root_quat: NDArray[np.floating] | None = None

    @property
    def num_frames(self) -> int:
        """Frames T."""
        return int(self.root_pos.shape[0])


@dataclass(eq=False)
class HostLibrary:
    """All clips on the host, packed (see the module docstring for the layout).

    Attributes:
        names: clip names, ``C`` of them.
        lengths: ``(C,)`` int64 frames per clip at the target rate.
        offsets: ``(C,)`` int64 first row of each clip in :attr:`robot`.
        robot: ``(F, 36)`` float32 rows ``[root_pos | root_quat wxyz | joint_pos]``.
        smpl_offsets: ``(C,)`` int64 first row in the SMPL arrays, -1 for clips without SMPL.
        smpl_joints: ``(Fs, 24, 3)`` float16 SMPL joints, Z up, root-translation-free (m).
        smpl_root_quat: ``(Fs, 4)`` float32 SMPL root orientation, Z up, base-free, wxyz.
        soma_offsets: ``(C,)`` int64 first row in the SOMA arrays, -1 for clips without SOMA.
        soma_joints: ``(Fo, J, 3)`` float16 SOMA joints, Z up, Hips-relative (m).
        soma_root_quat: ``(Fo, 4)`` float32 SOMA root orientation, Z up, base-free, wxyz.
    """

    names: list[str]
    lengths: NDArray[np.int64]
    offsets: NDArray[np.int64]
    robot: NDArray[np.float32]
    smpl_offsets: NDArray[np.int64]
    smpl_joints: NDArray[np.float16]
    smpl_root_quat: NDArray[np.float32]
    soma_offsets: NDArray[np.int64]
    soma_joints: NDArray[np.float16]
    soma_root_quat: NDArray[np.float32]

    @property
    def num_clips(self) -> int:
        """Number of clips ``C``."""
        return len(self.names)

    @property
    def num_frames(self) -> int:
        """Total robot frames ``F``."""
        return int(self.robot.shape[0])

    @property
    def has_smpl(self) -> NDArray[np.bool_]:
        """``(C,)`` whether each clip has SMPL data."""
        return self.smpl_offsets >= 0

    @property
    def has_soma(self) -> NDArray[np.bool_]:
        """``(C,)`` whether each clip has SOMA data."""
        return self.soma_offsets >= 0

    @property
    def nbytes(self) -> int:
        """Bytes held by the arrays (names excluded)."""
        return sum(getattr(self, f.name).nbytes for f in fields(self) if f.name != "names")

    @classmethod
    def from_clips(cls, clips: list[HostClip], num_soma_joints: int = 26) -> HostLibrary:
        """Pack clips (checking shapes; SMPL/SOMA must have the robot's frame count).

        Raises:
            ValueError: naming the clip and the array whose shape is wrong, or a repeated name.
        """
        seen: set[str] = set()
        for c in clips:
            if c.name in seen:
                raise ValueError(f"clip {c.name!r} appears twice")
            seen.add(c.name)
            t = c.num_frames
            expected = {
                "root_pos": (c.root_pos, (t, 3)),
                "root_quat": (c.root_quat, (t, 4)),
                "joint_pos": (c.joint_pos, (t, 29)),
                "smpl_joints": (c.smpl_joints, (t, 24, 3)),
                "smpl_root_quat": (c.smpl_root_quat, (t, 4)),
                "soma_joints": (c.soma_joints, (t, num_soma_joints, 3)),
                "soma_root_quat": (c.soma_root_quat, (t, 4)),
            }
            for key, (arr, shape) in expected.items():
                if arr is not None and arr.shape != shape:
                    raise ValueError(f"clip {c.name!r}: {key} has shape {arr.shape}, expected {shape}")
            if t < 1:
                raise ValueError(f"clip {c.name!r} has no frames")
            if (c.smpl_joints is None) != (c.smpl_root_quat is None) or (c.soma_joints is None) != (
                c.soma_root_quat is None
            ):
                raise ValueError(f"clip {c.name!r}: joints and root_quat must be given together")
        lengths = np.array([c.num_frames for c in clips], dtype=np.int64)
        robot = concat_rows(
            [np.concatenate((c.root_pos, c.root_quat, c.joint_pos), axis=1) for c in clips],
            (ROBOT_WIDTH,),
            np.float32,
        )

        def pack(
            which: str, shape: tuple[int, int]
        ) -> tuple[NDArray[np.int64], NDArray[np.float16], NDArray[np.float32]]:
            offsets = np.full(len(clips), -1, dtype=np.int64)
            joints, quats, at = [], [], 0
            for i, c in enumerate(clips):
                j, q = getattr(c, f"{which}_joints"), getattr(c, f"{which}_root_quat")
                if j is not None:
                    offsets[i] = at
                    at += c.num_frames
                    joints.append(j)
                    quats.append(q)
            return offsets, concat_rows(joints, shape, np.float16), concat_rows(quats, (4,), np.float32)

        smpl = pack("smpl", (24, 3))
        soma = pack("soma", (num_soma_joints, 3))
        return cls(
            names=[c.name for c in clips],
            lengths=lengths,
            offsets=_offsets(lengths),
            robot=robot,
            smpl_offsets=smpl[0],
            smpl_joints=smpl[1],
            smpl_root_quat=smpl[2],
            soma_offsets=soma[0],
            soma_joints=soma[1],
            soma_root_quat=soma[2],
        )

    def index_of(self, name: str) -> int:
        """Index of clip ``name``; raises ``KeyError`` naming it."""
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"motion library has no clip {name!r} ({self.num_clips} clips)") from None

    def select(self, clip_ids: NDArray[np.int64] | list[int]) -> HostLibrary:
        """A new library holding only ``clip_ids`` (in that order; arrays are copied)."""
        ids = np.asarray(clip_ids, dtype=np.int64)
        lengths = self.lengths[ids]
        robot = self.robot[_row_index(self.offsets[ids], lengths)]

        def human(
            offsets: NDArray[np.int64], joints: NDArray[np.float16], quat: NDArray[np.float32]
        ) -> tuple[NDArray[np.int64], NDArray[np.float16], NDArray[np.float32]]:
            sel = offsets[ids]
            has = sel >= 0
            rows = _row_index(sel[has], lengths[has])
            new_offsets = np.full(len(ids), -1, dtype=np.int64)
            new_offsets[has] = _offsets(lengths[has])
            return new_offsets, joints[rows], quat[rows]

        smpl = human(self.smpl_offsets, self.smpl_joints, self.smpl_root_quat)
        soma = human(self.soma_offsets, self.soma_joints, self.soma_root_quat)
        return HostLibrary(
            names=[self.names[i] for i in ids],
            lengths=lengths.copy(),
            offsets=_offsets(lengths),
            robot=robot,
            smpl_offsets=smpl[0],
            smpl_joints=smpl[1],
            smpl_root_quat=smpl[2],
            soma_offsets=soma[0],
            soma_joints=soma[1],
            soma_root_quat=soma[2],
        )

    def save(self, path: str | Path) -> None:
        """Write an uncompressed ``.npz`` atomically (the load cache)."""
        arrays = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "names"}
        header = np.frombuffer(
            json.dumps({"version": _CACHE_VERSION, "names": self.names}).encode(), np.uint8
        )
        with atomic_path(path) as tmp, tmp.open("wb") as fh:
            np.savez(fh, header=header, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> HostLibrary:
        """Read a file written by :meth:`save`.

        Raises:
            ValueError: naming the file if it is not a cache of this version.
        """
        with np.load(path, allow_pickle=False) as data:
            try:
                header = json.loads(bytes(data["header"]).decode())
                if header.get("version") != _CACHE_VERSION:
                    raise ValueError(f"cache version {header.get('version')} != {_CACHE_VERSION}")
                arrays = {f.name: data[f.name] for f in fields(cls) if f.name != "names"}
            except (KeyError, ValueError) as exc:
                raise ValueError(
                    f"{path}: not a motion-library cache of version {_CACHE_VERSION} ({exc})"
                ) from exc
        return cls(names=list(header["names"]), **arrays)
