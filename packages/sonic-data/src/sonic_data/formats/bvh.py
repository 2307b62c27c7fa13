"""BVH motion files: SOMA's 6-channel variant (Bones-SEED ``soma_uniform``) and standard BVH.

SOMA files (FORMATS.md "Bones-SEED") differ from textbook BVH in two ways that break standard
parsers: **every** joint has 6 channels (``Xposition Yposition Zposition Zrotation Yrotation
Xrotation``), and ``OFFSET`` lines carry 6 numbers: the rest translation and a rest rotation in
degrees about X, Y, Z (in that order; in SOMA's zero frame they equal the channel values). ``End
Site`` offsets have 3 numbers. The reader accepts both forms and any channel layout.

Forward kinematics (float64, as SONIC's extractor): a joint's local translation is its position
channels where it has them (they replace ``OFFSET``), else ``OFFSET``; its local rotation is the
product of its rotation channels in the listed order (intrinsic Euler: ``Zrotation Yrotation
Xrotation`` gives ``R = Rz·Ry·Rx``, scipy ``from_euler("ZYX")``). The rest rotation of a 6-value
``OFFSET`` is kept for writing but not applied (SONIC's parser ignores it too). Units and axes are
the file's (SOMA: centimetres, Y up).
"""

from __future__ import annotations

import io
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from sonic_data.formats.atomic import atomic_write_text
from sonic_data.formats.errors import FormatError

__all__ = ["BvhJoint", "BvhMotion", "read_bvh", "write_bvh", "axis_rotation_matrices"]

_CHANNELS = ("Xposition", "Yposition", "Zposition", "Xrotation", "Yrotation", "Zrotation")


@dataclass(frozen=True)
class BvhJoint:
    """One joint of the hierarchy.

    Attributes:
        name: joint name.
        parent: index of the parent joint in :attr:`BvhMotion.joints`, -1 for the root.
        offset: rest translation from the parent (file units).
        channels: channel names in file order (``Xposition`` … ``Zrotation``).
        rest_rotation_deg: the extra three ``OFFSET`` numbers of SOMA files (X, Y, Z degrees), or None.
        end_site: offset of the ``End Site`` below this joint, or None.
    """

    name: str
    parent: int
    offset: tuple[float, float, float]
    channels: tuple[str, ...]
    rest_rotation_deg: tuple[float, float, float] | None = None
    end_site: tuple[float, float, float] | None = None


def axis_rotation_matrices(axis: str, angle_rad: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) about the principal ``axis`` ("X", "Y" or "Z") by ``angle_rad``."""
    c, s = np.cos(angle_rad), np.sin(angle_rad)
    o, z = np.ones_like(c), np.zeros_like(c)
    rows = {
        "X": ((o, z, z), (z, c, -s), (z, s, c)),
        "Y": ((c, z, s), (z, o, z), (-s, z, c)),
        "Z": ((c, -s, z), (s, c, z), (z, z, o)),
    }[axis]
    return np.stack([np.stack(r, axis=-1) for r in rows], axis=-2)


@dataclass(frozen=True, eq=False)
class BvhMotion:
    """A parsed BVH file.

    Attributes:
        joints: the hierarchy in file (depth-first) order; parents precede children.
        frame_time: seconds per frame.
        values: (T, C) float64 channel values, C = total channel count, in joint then channel order.
    """

    joints: tuple[BvhJoint, ...]
    frame_time: float
    values: np.ndarray

    def __post_init__(self) -> None:
        width = sum(len(j.channels) for j in self.joints)
        if self.values.ndim != 2 or self.values.shape[1] != width:
            raise ValueError(f"values: expected shape (T, {width}), got {self.values.shape}")
        if self.frame_time <= 0:
            raise ValueError(f"frame_time: expected > 0, got {self.frame_time}")

    @property
    def fps(self) -> float:
        """Frame rate ``1 / frame_time``."""
        return 1.0 / self.frame_time

    @property
    def num_frames(self) -> int:
        """Number of frames T."""
        return int(self.values.shape[0])

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Joint names in file order."""
        return tuple(j.name for j in self.joints)

    def forward_kinematics(self) -> tuple[np.ndarray, np.ndarray]:
        """World positions (T, J, 3) and rotation matrices (T, J, 3, 3) of every joint, float64.

        Positions are in file units and axes (SOMA: cm, Y up).
        """
        t = self.num_frames
        n = len(self.joints)
        pos = np.zeros((t, n, 3))
        rot = np.zeros((t, n, 3, 3))
        col = 0
        for i, joint in enumerate(self.joints):
            local_t = np.broadcast_to(np.asarray(joint.offset, dtype=np.float64), (t, 3)).copy()
            local_r = np.broadcast_to(np.eye(3), (t, 3, 3)).copy()
            for ch in joint.channels:
                v = self.values[:, col]
                col += 1
                if ch.endswith("position"):
                    local_t[:, "XYZ".index(ch[0])] = v
                else:
                    local_r = local_r @ axis_rotation_matrices(ch[0], np.deg2rad(v))
            if joint.parent < 0:
                pos[:, i] = local_t
                rot[:, i] = local_r
            else:
                pr = rot[:, joint.parent]
                pos[:, i] = pos[:, joint.parent] + np.einsum("tij,tj->ti", pr, local_t)
                rot[:, i] = pr @ local_r
        return pos, rot


class _Lines:
    """Line cursor with 1-based numbers for error messages."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.i = 0

    def next_tokens(self) -> tuple[int, list[str]]:
        while self.i < len(self.lines):
            self.i += 1
            tokens = self.lines[self.i - 1].split()
            if tokens:
                return self.i, tokens
        raise FormatError(self.path, "unexpected end of file", line=self.i)

    def error(self, line: int, message: str) -> FormatError:
        return FormatError(self.path, message, line=line)


def _floats(cur: _Lines, line: int, tokens: list[str], what: str) -> list[float]:
    try:
        vals = [float(x) for x in tokens]
    except ValueError:
        raise cur.error(line, f"{what}: expected numbers, got {' '.join(tokens)!r}") from None
    if not all(np.isfinite(vals)):
        raise cur.error(line, f"{what}: values must be finite")
    return vals


def _parse_joint(cur: _Lines, name: str, parent: int, joints: list[BvhJoint]) -> None:
    line, tok = cur.next_tokens()
    if tok != ["{"]:
        raise cur.error(line, f"expected '{{' after joint {name!r}")
    line, tok = cur.next_tokens()
    if tok[0] != "OFFSET" or len(tok) not in (4, 7):
        raise cur.error(line, f"joint {name!r}: expected 'OFFSET x y z' (3 or 6 numbers)")
    vals = _floats(cur, line, tok[1:], "OFFSET")
    line, tok = cur.next_tokens()
    if tok[0] != "CHANNELS" or len(tok) < 2:
        raise cur.error(line, f"joint {name!r}: expected 'CHANNELS n name...'")
    try:
        count = int(tok[1])
    except ValueError:
        raise cur.error(line, f"joint {name!r}: channel count {tok[1]!r} is not an integer") from None
    channels = tuple(tok[2:])
    if count != len(channels):
        raise cur.error(line, f"joint {name!r}: CHANNELS says {count} but lists {len(channels)} names")
    unknown = [c for c in channels if c not in _CHANNELS]
    if unknown or len(set(channels)) != len(channels):
        raise cur.error(
            line, f"joint {name!r}: bad channel names {list(channels)} (allowed {list(_CHANNELS)})"
        )
    index = len(joints)
    joints.append(
        BvhJoint(
            name=name,
            parent=parent,
            offset=(vals[0], vals[1], vals[2]),
            channels=channels,
            rest_rotation_deg=(vals[3], vals[4], vals[5]) if len(vals) == 6 else None,
        )
    )
    while True:
        line, tok = cur.next_tokens()
        if tok == ["}"]:
            return
        if tok[0] == "JOINT" and len(tok) == 2:
            _parse_joint(cur, tok[1], index, joints)
        elif tok[:2] == ["End", "Site"]:
            line, tok = cur.next_tokens()
            if tok != ["{"]:
                raise cur.error(line, "expected '{' after 'End Site'")
            line, tok = cur.next_tokens()
            if tok[0] != "OFFSET" or len(tok) not in (4, 7):
                raise cur.error(line, "End Site: expected 'OFFSET x y z'")
            end = _floats(cur, line, tok[1:4], "OFFSET")
            joints[index] = replace(joints[index], end_site=(end[0], end[1], end[2]))
            line, tok = cur.next_tokens()
            if tok != ["}"]:
                raise cur.error(line, "expected '}' closing 'End Site'")
        else:
            raise cur.error(line, f"joint {name!r}: expected JOINT, End Site or '}}', got {' '.join(tok)!r}")


def read_bvh(path: str | Path) -> BvhMotion:
    """Parse a BVH file (SOMA 6-channel or standard).

    Raises:
        FormatError: naming the file and line: missing sections, channel counts that disagree,
            frame lines with the wrong number of values, non-numeric values, fewer frames than
            ``Frames:`` announces.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(path, f"cannot read file: {exc}") from exc
    cur = _Lines(path, text)
    if not text.strip():
        raise FormatError(path, "empty file (expected HIERARCHY)")
    line, tok = cur.next_tokens()
    if tok != ["HIERARCHY"]:
        raise cur.error(line, "expected 'HIERARCHY'")
    line, tok = cur.next_tokens()
    if tok[0] != "ROOT" or len(tok) != 2:
        raise cur.error(line, "expected 'ROOT <name>'")
    joints: list[BvhJoint] = []
    _parse_joint(cur, tok[1], -1, joints)
    line, tok = cur.next_tokens()
    if tok != ["MOTION"]:
        raise cur.error(line, "expected 'MOTION' after the hierarchy (one ROOT only)")
    line, tok = cur.next_tokens()
    if tok[0] != "Frames:" or len(tok) != 2 or not tok[1].isdigit():
        raise cur.error(line, "expected 'Frames: <count>'")
    num_frames = int(tok[1])
    line, tok = cur.next_tokens()
    if tok[:2] != ["Frame", "Time:"] or len(tok) != 3:
        raise cur.error(line, "expected 'Frame Time: <seconds>'")
    frame_time = _floats(cur, line, tok[2:], "Frame Time")[0]
    if frame_time <= 0:
        raise cur.error(line, f"Frame Time must be positive, got {frame_time}")
    width = sum(len(j.channels) for j in joints)
    first = cur.i
    body = [ln for ln in cur.lines[first:] if ln.strip()]
    if len(body) < num_frames:
        raise FormatError(path, f"file announces {num_frames} frames but holds {len(body)} (truncated?)")
    try:
        values = np.loadtxt(io.StringIO("\n".join(body[:num_frames])), dtype=np.float64, ndmin=2)
        if values.shape != (num_frames, width):
            raise ValueError
    except ValueError:
        values = np.empty((num_frames, width))
        k = 0
        for n, raw in enumerate(cur.lines[first:], start=first + 1):
            tokens = raw.split()
            if not tokens:
                continue
            if k == num_frames:
                break
            if len(tokens) != width:
                raise cur.error(n, f"frame {k}: expected {width} channel values, got {len(tokens)}") from None
            values[k] = _floats(cur, n, tokens, f"frame {k}")
            k += 1
    if not np.isfinite(values).all():
        raise FormatError(path, "frame values contain NaN or infinite numbers")
    return BvhMotion(joints=tuple(joints), frame_time=frame_time, values=values)


def write_bvh(path: str | Path, motion: BvhMotion, *, precision: int = 6) -> None:
    """Write ``motion`` as BVH (6-value ``OFFSET`` lines where a rest rotation is set), atomically."""
    children: dict[int, list[int]] = {i: [] for i in range(-1, len(motion.joints))}
    for i, j in enumerate(motion.joints):
        children[j.parent].append(i)
    if len(children[-1]) != 1:
        raise ValueError("a BVH hierarchy needs exactly one root joint")

    def num(x: float) -> str:
        return f"{x:.{precision}f}"

    # The file lists joints depth-first and frame values in that order; the tuple may be ordered
    # differently (parents before children is all it guarantees), so permute the value columns.
    order: list[int] = []

    def visit(i: int) -> None:
        order.append(i)
        for c in children[i]:
            visit(c)

    visit(children[-1][0])
    starts = np.cumsum([0] + [len(j.channels) for j in motion.joints])
    columns = np.concatenate([np.arange(starts[i], starts[i + 1]) for i in order]).astype(np.int64)

    def emit(f: io.TextIOBase, i: int, depth: int) -> None:
        j = motion.joints[i]
        pad = "\t" * depth
        f.write(f"{pad}{'ROOT' if j.parent < 0 else 'JOINT'} {j.name}\n{pad}{{\n")
        off = list(j.offset) + (list(j.rest_rotation_deg) if j.rest_rotation_deg is not None else [])
        f.write(f"{pad}\tOFFSET {' '.join(num(v) for v in off)}\n")
        f.write(f"{pad}\tCHANNELS {len(j.channels)} {' '.join(j.channels)}\n")
        for c in children[i]:
            emit(f, c, depth + 1)
        if j.end_site is not None:
            f.write(f"{pad}\tEnd Site\n{pad}\t{{\n{pad}\t\tOFFSET {' '.join(num(v) for v in j.end_site)}\n")
            f.write(f"{pad}\t}}\n")
        f.write(f"{pad}}}\n")

    def write(f: io.TextIOBase) -> None:
        f.write("HIERARCHY\n")
        emit(f, children[-1][0], 0)
        f.write(f"MOTION\nFrames: {motion.num_frames}\nFrame Time: {motion.frame_time:.6f}\n")
        np.savetxt(f, motion.values[:, columns], fmt=f"%.{precision}f", delimiter=" ")

    atomic_write_text(path, write)
