"""Generated G1 motions for the sample dataset: smooth joint trajectories the G1 can perform.

Each clip is a function of time layered on SONIC's default pose (legs slightly bent), faded in and
out over 0.5 s so it starts and ends standing. Legs move in "crouch" combinations (hip −c, knee
+2c, ankle −c) that keep the soles parallel to the ground; weight shifts pair hip roll with the
opposite ankle roll. Two kinematic passes then make the clip physically plausible:

* **Height**: the pelvis height is set per frame so that the lowest sole point (the foot capsules
  of the ``*_ankle_roll_link`` bodies, read from the MJCF) touches z = 0.
* **No foot sliding**: the pelvis moves in the plane so that the stance foot (the lower one, with a
  2 mm hysteresis) keeps its ground position; walking therefore advances from leg motion alone.

Every clip is checked against the MJCF joint limits when it is built.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import numpy as np
import torch

from sonic_data.formats import RobotMotion
from sonic_data.g1 import DEFAULT_JOINT_POS, JOINT_LOWER, JOINT_NAMES, JOINT_UPPER, MJCF_PATH
from sonic_data.kinematics import G1Kinematics
from sonic_data.rotations import quat_apply

__all__ = ["SAMPLE_MOTIONS", "MotionSpec", "build_motion", "mirror_motion", "sole_points", "sole_heights"]

_J = {name: i for i, name in enumerate(JOINT_NAMES)}
Offsets = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class MotionSpec:
    """One generated clip.

    Attributes:
        name: Bones-SEED-style motion name (``<move>_<nnn>__A<nnn>``).
        session: session folder (``YYMMDD``).
        duration_s: clip length.
        offsets: ``t (T,) -> (T, 29)`` joint offsets (rad) added to the default pose before fading.
        heading_deg: constant root yaw.
    """

    name: str
    session: str
    duration_s: float
    offsets: Offsets
    heading_deg: float = 0.0


def _fade(t: np.ndarray, duration: float, ramp: float = 0.5) -> np.ndarray:
    """0 → 1 over the first ``ramp`` s, 1 → 0 over the last, smoothstep; shape (T,)."""
    a = np.clip(np.minimum(t, duration - t) / ramp, 0.0, 1.0)
    return a * a * (3.0 - 2.0 * a)


def _crouch(out: np.ndarray, side: str, c: np.ndarray) -> None:
    out[:, _J[f"{side}_hip_pitch_joint"]] -= c
    out[:, _J[f"{side}_knee_joint"]] += 2.0 * c
    out[:, _J[f"{side}_ankle_pitch_joint"]] -= c


def _sway(out: np.ndarray, s: np.ndarray) -> None:
    """Shift the pelvis sideways (+s moves it toward the left foot, +y) with soles kept flat."""
    for side in ("left", "right"):
        out[:, _J[f"{side}_hip_roll_joint"]] -= s
        out[:, _J[f"{side}_ankle_roll_joint"]] += s


def _zeros(t: np.ndarray) -> np.ndarray:
    return np.zeros((t.shape[0], len(JOINT_NAMES)))


def _stand(t: np.ndarray) -> np.ndarray:
    out = _zeros(t)
    _crouch(out, "left", 0.04 * np.sin(2 * np.pi * 0.25 * t))
    _crouch(out, "right", 0.04 * np.sin(2 * np.pi * 0.25 * t))
    out[:, _J["waist_pitch_joint"]] = 0.03 * np.sin(2 * np.pi * 0.3 * t)
    return out


def _squat(t: np.ndarray) -> np.ndarray:
    out = _zeros(t)
    c = 0.42 * 0.5 * (1 - np.cos(2 * np.pi * t / 2.5))
    for side in ("left", "right"):
        _crouch(out, side, c)
        out[:, _J[f"{side}_shoulder_pitch_joint"]] -= 0.9 * c
    out[:, _J["waist_pitch_joint"]] = 0.35 * c
    return out


def _wave(side: str) -> Offsets:
    def f(t: np.ndarray) -> np.ndarray:
        out = _zeros(t)
        sign = 1.0 if side == "left" else -1.0
        out[:, _J[f"{side}_shoulder_pitch_joint"]] = -1.2
        out[:, _J[f"{side}_shoulder_roll_joint"]] = sign * (0.9 + 0.35 * np.sin(2 * np.pi * 1.2 * t))
        out[:, _J[f"{side}_elbow_joint"]] = 0.2 + 0.2 * np.sin(2 * np.pi * 1.2 * t + 0.5)
        out[:, _J[f"{side}_wrist_roll_joint"]] = 0.3 * np.sin(2 * np.pi * 1.2 * t)
        return out

    return f


def _wave_both(t: np.ndarray) -> np.ndarray:
    return _wave("left")(t) + _wave("right")(t)


def _reach(side: str, up: bool) -> Offsets:
    def f(t: np.ndarray) -> np.ndarray:
        out = _zeros(t)
        r = 0.5 * (1 - np.cos(2 * np.pi * t / 2.0))
        sides = ("left", "right") if up else (side,)
        for s in sides:
            out[:, _J[f"{s}_shoulder_pitch_joint"]] = -(2.4 if up else 1.3) * r
            out[:, _J[f"{s}_elbow_joint"]] = -0.5 * r
            out[:, _J[f"{s}_wrist_pitch_joint"]] = 0.3 * r
        if not up:
            out[:, _J["waist_pitch_joint"]] = 0.25 * r
            out[:, _J["waist_yaw_joint"]] = (-0.3 if side == "left" else 0.3) * r
            for s in ("left", "right"):
                _crouch(out, s, 0.12 * r)
        return out

    return f


def _torso_turn(t: np.ndarray) -> np.ndarray:
    out = _zeros(t)
    w = np.sin(2 * np.pi * 0.35 * t)
    out[:, _J["waist_yaw_joint"]] = 0.8 * w
    out[:, _J["left_shoulder_roll_joint"]] = 0.25 * np.abs(w)
    out[:, _J["right_shoulder_roll_joint"]] = -0.25 * np.abs(w)
    out[:, _J["left_elbow_joint"]] = 0.4 * np.abs(w)
    out[:, _J["right_elbow_joint"]] = 0.4 * np.abs(w)
    return out


def _side_bend(t: np.ndarray) -> np.ndarray:
    out = _zeros(t)
    w = np.sin(2 * np.pi * 0.3 * t)
    out[:, _J["waist_roll_joint"]] = 0.4 * w
    out[:, _J["left_shoulder_roll_joint"]] = 0.5 * np.maximum(w, 0.0)
    out[:, _J["right_shoulder_roll_joint"]] = -0.5 * np.maximum(-w, 0.0)
    return out


def _gait(stride_rad: float, lift_rad: float, period_s: float, sway_rad: float) -> Offsets:
    """Alternating steps: hip swing ``stride_rad·cos φ``, foot lift in swing, sway over the stance foot."""

    def f(t: np.ndarray) -> np.ndarray:
        out = _zeros(t)
        phi = 2 * np.pi * t / period_s
        for side, shift in (("left", 0.0), ("right", np.pi)):
            p = phi + shift
            out[:, _J[f"{side}_hip_pitch_joint"]] += stride_rad * np.cos(p)
            out[:, _J[f"{side}_ankle_pitch_joint"]] -= stride_rad * np.cos(p)
            _crouch(out, side, lift_rad * np.maximum(np.sin(p), 0.0) ** 2)
            # Arms swing opposite to the leg on their side.
            out[:, _J[f"{side}_shoulder_pitch_joint"]] -= 1.2 * stride_rad * np.cos(p)
        # Left foot swings while sin φ > 0, so the pelvis leans over the right foot then.
        _sway(out, -sway_rad * np.sin(phi))
        return out

    return f


SAMPLE_MOTIONS: tuple[MotionSpec, ...] = (
    MotionSpec("stand_idle_neutral_001__A001", "240101", 3.0, _stand),
    MotionSpec("squat_slow_001__A002", "240101", 5.0, _squat, heading_deg=20.0),
    MotionSpec("wave_right_hand_001__A003", "240101", 4.0, _wave("right")),
    MotionSpec("wave_both_arms_001__A004", "240101", 4.0, _wave_both, heading_deg=-35.0),
    MotionSpec("reach_forward_left_001__A005", "240102", 4.0, _reach("left", up=False)),
    MotionSpec("reach_up_both_arms_001__A006", "240102", 4.0, _reach("left", up=True)),
    MotionSpec("torso_turn_001__A007", "240102", 4.0, _torso_turn, heading_deg=90.0),
    MotionSpec("side_bend_001__A008", "240102", 4.0, _side_bend),
    MotionSpec("step_in_place_001__A009", "240103", 4.8, _gait(0.0, 0.35, 1.6, 0.06)),
    MotionSpec("walk_short_steps_001__A010", "240103", 4.8, _gait(0.08, 0.30, 1.2, 0.05), heading_deg=-60.0),
    MotionSpec("walk_forward_slow_001__A011", "240103", 6.0, _gait(0.22, 0.30, 1.4, 0.05)),
    # Names that SONIC's filter removes (keywords "chair", "sit_", "ladder", "stair", "box_jump").
    MotionSpec("sit_down_chair_001__A012", "240104", 4.0, _squat),
    MotionSpec("climb_ladder_001__A013", "240104", 4.0, _gait(0.0, 0.45, 1.6, 0.06)),
    MotionSpec("stair_ascent_001__A014", "240104", 4.0, _gait(0.15, 0.40, 1.4, 0.05)),
)
"""The generated clips; ``mirror_motion`` adds ``_M`` variants of a few of them, as Bones-SEED does."""


@cache
def sole_points() -> dict[str, np.ndarray]:
    """Bottom points of each foot's capsules in its ``*_ankle_roll_link`` frame, from the MJCF: (P, 3)."""
    root = ET.parse(MJCF_PATH).getroot()
    default_radius = {}
    for d in root.iter("default"):
        g = d.find("geom")
        if g is not None and g.get("size"):
            default_radius[d.get("class")] = float(str(g.get("size")).split()[0])
    out = {}
    for side in ("left", "right"):
        body = next(b for b in root.iter("body") if b.get("name") == f"{side}_ankle_roll_link")
        pts = []
        for g in body.findall("geom"):
            if g.get("fromto") is None:
                continue
            size = g.get("size")
            radius = float(size.split()[0]) if size else default_radius[g.get("class")]
            ft = np.array(str(g.get("fromto")).split(), dtype=np.float64).reshape(2, 3)
            pts += [ft[0] - [0, 0, radius], ft[1] - [0, 0, radius]]
        out[side] = np.stack(pts)
    return out


def sole_heights(fk: G1Kinematics, body_pos: torch.Tensor, body_quat: torch.Tensor) -> torch.Tensor:
    """Height of the lowest sole point of each foot, (T, 2) [left, right], from FK output (T, 30, 3/4)."""
    hs = []
    for side in ("left", "right"):
        b = fk.body_index(f"{side}_ankle_roll_link")
        pts = torch.as_tensor(sole_points()[side], dtype=body_pos.dtype)
        world = body_pos[:, b, None] + quat_apply(body_quat[:, b, None], pts[None])
        hs.append(world[..., 2].min(dim=-1).values)
    return torch.stack(hs, dim=-1)


def build_motion(spec: MotionSpec, fps: float = 120.0, fk: G1Kinematics | None = None) -> RobotMotion:
    """Sample ``spec`` at ``fps`` and place it on the ground without foot sliding (module docstring).

    Raises:
        ValueError: if a joint leaves its MJCF range (naming the joint and the clip).
    """
    fk = fk or G1Kinematics(dtype=torch.float64)
    n = int(round(spec.duration_s * fps)) + 1
    t = np.arange(n) / fps
    joints = np.asarray(DEFAULT_JOINT_POS)[None] + _fade(t, spec.duration_s)[:, None] * spec.offsets(t)
    lower, upper = np.asarray(JOINT_LOWER), np.asarray(JOINT_UPPER)
    bad = np.nonzero((joints < lower - 1e-9) | (joints > upper + 1e-9))
    if bad[0].size:
        j = JOINT_NAMES[bad[1][0]]
        raise ValueError(f"{spec.name}: {j} leaves its range at t={t[bad[0][0]]:.2f}s")
    yaw = math.radians(spec.heading_deg)
    quat = torch.tensor([math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)], dtype=torch.float64).expand(n, 4)
    jt = torch.from_numpy(joints)
    body_pos, body_quat = fk(torch.zeros(n, 3, dtype=torch.float64), quat, jt)
    heights = sole_heights(fk, body_pos, body_quat)
    feet = torch.stack([body_pos[:, fk.body_index(f"{s}_ankle_roll_link")] for s in ("left", "right")], dim=1)
    # Stance foot with hysteresis, then anchor it: the pelvis moves opposite to the stance foot's motion.
    stance = np.zeros(n, dtype=np.int64)
    h = heights.numpy()
    cur = int(h[0, 1] < h[0, 0])
    for i in range(n):
        other = 1 - cur
        if h[i, other] < h[i, cur] - 0.002:
            cur = other
        stance[i] = cur
    f = feet.numpy()
    root = np.zeros((n, 3))
    for i in range(1, n):
        s = stance[i]
        root[i, :2] = root[i - 1, :2] - (f[i, s, :2] - f[i - 1, s, :2])
    root[:, 2] = -h.min(axis=1)
    return RobotMotion(root_pos=root, root_quat=quat.numpy(), joint_pos=joints, fps=fps)


_MIRROR_SIGN = {"pitch": 1.0, "knee": 1.0, "elbow": 1.0, "roll": -1.0, "yaw": -1.0}


def mirror_motion(motion: RobotMotion) -> RobotMotion:
    """Left/right mirror image (Bones-SEED's ``_M`` clips): swap sides, negate roll and yaw."""
    perm, sign = [], []
    for name in JOINT_NAMES:
        other = name.replace("left_", "@").replace("right_", "left_").replace("@", "right_")
        perm.append(_J[other])
        kind = next(k for k in _MIRROR_SIGN if k in name.removesuffix("_joint").split("_")[-1])
        sign.append(_MIRROR_SIGN[kind])
    q = motion.root_quat
    return RobotMotion(
        root_pos=motion.root_pos * np.array([1.0, -1.0, 1.0]),
        root_quat=q * np.array([1.0, -1.0, 1.0, -1.0]),
        joint_pos=motion.joint_pos[:, perm] * np.array(sign),
        fps=motion.fps,
    )
