"""Rewards, terminations and events of the SONIC env: one pydantic block each, SONIC's values as defaults.

Sources (SONIC_REFERENCE): §3 rewards (``tracking/base_5point_local_feet_acc`` with the experiments'
``rewards.feet_acc.weight=-2.5e-6`` override), §4 terminations, §7 events. Every weight, sigma,
threshold and range lives here and nowhere else; the term functions in ``sonic_env.mdp`` take them
as arguments. Field paths follow SONIC's tree, so the training guide's overrides land on validated
fields: ``rewards.feet_acc.weight=-1e-6``, ``+manager_env/terminations=tracking/eval`` (a preset
name), ``events.push_robot.interval_range_s=[1,3]``.

Terminations and events are *presets*: a name that fills every field with that preset's values.
A config accepts the bare name (``"tracking/eval"``) or a mapping with ``name`` and any fields to
change from that preset (``{"name": "tracking/eval", "anchor_pos": {"threshold": 0.3}}``).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sonic_data import g1

Range = tuple[float, float]
"""A closed interval ``(low, high)`` with ``low <= high``."""


def _check_range(name: str, value: Range) -> None:
    if value[0] > value[1]:
        raise ValueError(f"{name}: expected (low, high) with low <= high, got {value}")


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------------------------------
# Rewards (SONIC_REFERENCE §3)
# --------------------------------------------------------------------------------------------------


class TrackingRewardConfig(_Frozen):
    """A tracking reward ``weight · exp(−err / std²)``."""

    weight: float = Field(description="Weight; Isaac Lab multiplies it by the step dt (0.02 s).")
    std: float = Field(
        gt=0.0, description="Sigma of the exponential kernel, in the error's unit (m, rad, m/s)."
    )


class PenaltyRewardConfig(_Frozen):
    """A penalty ``weight · value``; ``value`` is non-negative, so the weight is negative."""

    weight: float = Field(description="Weight; Isaac Lab multiplies it by the step dt (0.02 s).")


class UndesiredContactsConfig(PenaltyRewardConfig):
    """Count of bodies whose contact force exceeded ``threshold`` within the sensor history."""

    threshold: float = Field(
        default=1.0, ge=0.0, description="Force norm (N) above which a body is in contact."
    )
    body_names: tuple[str, ...] = Field(
        default=tuple(
            n
            for n in g1.BODY_NAMES
            if not any(k in n for k in ("ankle_roll", "wrist_yaw", "elbow"))  # SONIC's exclusions, §3
        ),
        description="Bodies whose contacts are penalised: all but the ankle_roll, wrist_yaw and elbow links.",
    )


class AntiShakeConfig(PenaltyRewardConfig):
    """``mean_b relu(‖ω_b‖ − threshold)²`` over ``body_names``."""

    threshold: float = Field(
        default=1.5, ge=0.0, description="Angular speed (rad/s) allowed without penalty."
    )
    body_names: tuple[str, ...] = Field(
        default=("left_wrist_yaw_link", "right_wrist_yaw_link"),
        description="SONIC lists head_link too, but drops it (not a tracked body): only the wrists count "
        "(FORMATS.md quirk table).",
    )


class JointAccConfig(PenaltyRewardConfig):
    """``Σ q̈²`` over ``joint_names``."""

    joint_names: tuple[str, ...] = Field(
        default=tuple(n for n in g1.JOINT_NAMES if "ankle" in n),
        description="Joints whose acceleration is penalised (SONIC: '.*ankle.*', the 4 ankle joints).",
    )


class RewardsConfig(_Frozen):
    """SONIC's ``tracking/base_5point_local_feet_acc`` reward set, weights and sigmas in one block.

    Each term is logged by Isaac Lab as ``Episode_Reward/<field name>``. A weight of 0 disables a term.
    """

    tracking_anchor_pos: TrackingRewardConfig = TrackingRewardConfig(weight=0.5, std=0.3)
    tracking_anchor_ori: TrackingRewardConfig = TrackingRewardConfig(weight=0.5, std=0.4)
    tracking_relative_body_pos: TrackingRewardConfig = TrackingRewardConfig(weight=1.0, std=0.3)
    tracking_relative_body_ori: TrackingRewardConfig = TrackingRewardConfig(weight=1.0, std=0.4)
    tracking_body_linvel: TrackingRewardConfig = TrackingRewardConfig(weight=1.0, std=1.0)
    tracking_body_angvel: TrackingRewardConfig = TrackingRewardConfig(weight=1.0, std=3.14)
    tracking_vr_5point_local: TrackingRewardConfig = TrackingRewardConfig(weight=2.0, std=0.1)
    action_rate_l2: PenaltyRewardConfig = PenaltyRewardConfig(weight=-0.1)
    joint_limit: PenaltyRewardConfig = PenaltyRewardConfig(weight=-10.0)
    undesired_contacts: UndesiredContactsConfig = UndesiredContactsConfig(weight=-0.1)
    anti_shake_ang_vel: AntiShakeConfig = AntiShakeConfig(weight=-5e-3)
    feet_acc: JointAccConfig = JointAccConfig(weight=-2.5e-6)


# --------------------------------------------------------------------------------------------------
# Terminations (SONIC_REFERENCE §4)
# --------------------------------------------------------------------------------------------------

TerminationsPreset = Literal["tracking/base_adaptive_strict_ori_foot_xyz", "tracking/eval"]
TRAIN_TERMINATIONS: TerminationsPreset = "tracking/base_adaptive_strict_ori_foot_xyz"
EVAL_TERMINATIONS: TerminationsPreset = "tracking/eval"

END_EFFECTORS: tuple[str, ...] = (
    "left_ankle_roll_link",
    "right_ankle_roll_link",
    "left_wrist_yaw_link",
    "right_wrist_yaw_link",
)
FEET: tuple[str, ...] = ("left_ankle_roll_link", "right_ankle_roll_link")


class HeightTerminationConfig(_Frozen):
    """``|z_ref − z_robot| > threshold``; with ``adaptive_threshold`` set, that threshold applies while
    the running reference pelvis height is below ``adaptive_below_height`` (crawling, lying)."""

    threshold: float = Field(gt=0.0, description="Height error (m) that ends the episode.")
    adaptive_threshold: float | None = Field(
        default=None, gt=0.0, description="Threshold (m) for low reference poses; None = not adaptive."
    )
    adaptive_below_height: float = Field(
        default=0.5, description="Running reference pelvis height (m) below which adaptive_threshold applies."
    )


class BodyHeightTerminationConfig(HeightTerminationConfig):
    """Height error of any of ``body_names`` (reference from the relative reference)."""

    body_names: tuple[str, ...] = Field(default=END_EFFECTORS, description="Tracked bodies checked.")


class OrientationTerminationConfig(_Frozen):
    """``θ(q_ref_pelvis, q_robot_pelvis)² > threshold``."""

    threshold: float = Field(gt=0.0, description="Squared geodesic angle (rad²) that ends the episode.")


class BodyPositionTerminationConfig(_Frozen):
    """3-D position error of any of ``body_names`` (reference from the relative reference)."""

    threshold: float = Field(gt=0.0, description="Position error (m) that ends the episode.")
    body_names: tuple[str, ...] = Field(default=FEET, description="Tracked bodies checked.")


_TERMINATION_PRESETS: dict[str, dict[str, Any]] = {
    TRAIN_TERMINATIONS: {
        "anchor_pos": {"threshold": 0.15, "adaptive_threshold": 0.75},
        "anchor_ori_full": {"threshold": 0.2},
        "ee_body_pos": {"threshold": 0.15, "adaptive_threshold": 0.75},
        "foot_pos_xyz": {"threshold": 0.2},
        "time_out": True,
    },
    EVAL_TERMINATIONS: {
        "anchor_pos": {"threshold": 0.25},
        "anchor_ori_full": {"threshold": 1.0},
        "ee_body_pos": {"threshold": 0.25},
        "foot_pos_xyz": None,
        "time_out": True,
    },
}
_TRAIN_TERMS = _TERMINATION_PRESETS[TRAIN_TERMINATIONS]


def _fill_preset(data: Any, presets: dict[str, dict[str, Any]], default: str, what: str) -> Any:
    """Turn a preset name, or a mapping with ``name`` and changes, into the preset's full mapping."""
    if isinstance(data, BaseModel):
        return data
    if isinstance(data, str):
        data = {"name": data}
    if not isinstance(data, dict):
        return data
    name = data.get("name", default)
    if name not in presets:
        raise ValueError(f"{what}: unknown preset {name!r}; expected one of {sorted(presets)}")
    filled: dict[str, Any] = {"name": name, **presets[name]}
    for key, value in data.items():
        base = filled.get(key)
        if isinstance(base, dict) and isinstance(value, dict):
            filled[key] = {**base, **value}
        else:
            filled[key] = value
    return filled


class TerminationsConfig(_Frozen):
    """A named termination set; ``name`` selects the preset, the other fields may change it.

    Each term is logged by Isaac Lab as ``Episode_Termination/<field name>``; ``None`` removes a term.
    """

    name: TerminationsPreset = Field(default=TRAIN_TERMINATIONS, description="Preset these values come from.")
    anchor_pos: HeightTerminationConfig | None = Field(
        default=HeightTerminationConfig(**_TRAIN_TERMS["anchor_pos"]), description="Pelvis height error."
    )
    anchor_ori_full: OrientationTerminationConfig | None = Field(
        default=OrientationTerminationConfig(**_TRAIN_TERMS["anchor_ori_full"]),
        description="Pelvis orientation error.",
    )
    ee_body_pos: BodyHeightTerminationConfig | None = Field(
        default=BodyHeightTerminationConfig(**_TRAIN_TERMS["ee_body_pos"]),
        description="End-effector height error.",
    )
    foot_pos_xyz: BodyPositionTerminationConfig | None = Field(
        default=BodyPositionTerminationConfig(**_TRAIN_TERMS["foot_pos_xyz"]),
        description="Foot 3-D position error.",
    )
    time_out: bool = Field(
        default=True, description="End the episode (as a time-out, bootstrapped) at the clip's last frame."
    )

    @model_validator(mode="before")
    @classmethod
    def _from_preset(cls, data: Any) -> Any:
        return _fill_preset(data, _TERMINATION_PRESETS, TRAIN_TERMINATIONS, "terminations")


# --------------------------------------------------------------------------------------------------
# Events (SONIC_REFERENCE §7)
# --------------------------------------------------------------------------------------------------

EventsPreset = Literal["tracking/level0_4", "tracking/eval"]
TRAIN_EVENTS: EventsPreset = "tracking/level0_4"
EVAL_EVENTS: EventsPreset = "tracking/eval"


class PhysicsMaterialConfig(_Frozen):
    """Startup: friction and restitution of every robot collision shape, per environment."""

    static_friction_range: Range = (0.3, 1.6)
    dynamic_friction_range: Range = Field(
        default=(0.3, 1.2),
        description="Unused on Newton (one friction coefficient, drawn from static_friction_range).",
    )
    restitution_range: Range = Field(
        default=(0.0, 0.5), description="Written to the shapes; MuJoCo-Warp contacts have no restitution."
    )
    num_buckets: int = Field(
        default=64, ge=1, description="PhysX material buckets; Newton samples continuously."
    )

    @model_validator(mode="after")
    def _ranges(self) -> PhysicsMaterialConfig:
        for name in ("static_friction_range", "dynamic_friction_range", "restitution_range"):
            _check_range(name, getattr(self, name))
        return self


class JointDefaultOffsetConfig(_Frozen):
    """Startup: default joint positions += U(offset_range) per joint; the action offset follows."""

    offset_range: Range = Field(default=(-0.01, 0.01), description="rad")

    @model_validator(mode="after")
    def _ranges(self) -> JointDefaultOffsetConfig:
        _check_range("offset_range", self.offset_range)
        return self


class ComOffsetConfig(_Frozen):
    """Startup only (runtime CoM changes can destabilise MuJoCo-Warp): CoM of ``body_names`` += U(x, y, z)."""

    body_names: tuple[str, ...] = ("torso_link",)
    x: Range = Field(default=(-0.025, 0.025), description="m, body frame")
    y: Range = Field(default=(-0.05, 0.05), description="m, body frame")
    z: Range = Field(default=(-0.05, 0.05), description="m, body frame")

    @model_validator(mode="after")
    def _ranges(self) -> ComOffsetConfig:
        for name in ("x", "y", "z"):
            _check_range(name, getattr(self, name))
        return self


class MassScaleConfig(_Frozen):
    """Startup: mass of ``body_names`` (regexes) × U(scale_range); inertia scales with it."""

    body_names: tuple[str, ...] = (".*wrist_yaw.*", "torso_link")
    scale_range: Range = (0.8, 2.5)

    @model_validator(mode="after")
    def _ranges(self) -> MassScaleConfig:
        _check_range("scale_range", self.scale_range)
        if self.scale_range[0] <= 0.0:
            raise ValueError(f"scale_range: expected a positive lower bound, got {self.scale_range}")
        return self


class PushConfig(_Frozen):
    """Interval (train only): the root velocity += U(ranges) every U(interval_range_s) seconds."""

    interval_range_s: Range = (4.0, 6.0)
    x: Range = Field(default=(-0.5, 0.5), description="m/s, world")
    y: Range = Field(default=(-0.5, 0.5), description="m/s, world")
    z: Range = Field(default=(-0.2, 0.2), description="m/s, world")
    roll: Range = Field(default=(-0.52, 0.52), description="rad/s, world")
    pitch: Range = Field(default=(-0.52, 0.52), description="rad/s, world")
    yaw: Range = Field(default=(-0.78, 0.78), description="rad/s, world")

    @model_validator(mode="after")
    def _ranges(self) -> PushConfig:
        for name in ("interval_range_s", "x", "y", "z", "roll", "pitch", "yaw"):
            _check_range(name, getattr(self, name))
        if self.interval_range_s[0] <= 0.0:
            raise ValueError(f"interval_range_s: expected positive seconds, got {self.interval_range_s}")
        return self

    def velocity_range(self) -> dict[str, Range]:
        """The ranges keyed as Isaac Lab's ``push_by_setting_velocity`` expects."""
        return {k: getattr(self, k) for k in ("x", "y", "z", "roll", "pitch", "yaw")}


_EVENT_PRESETS: dict[str, dict[str, Any]] = {
    TRAIN_EVENTS: {
        "physics_material": {},
        "add_joint_default_pos": {},
        "base_com": {},
        "randomize_rigid_body_mass": {},
        "push_robot": {},
    },
    # SONIC's eval removes the train-only events (push_robot; compliance_force_push is not in level0_4).
    EVAL_EVENTS: {
        "physics_material": {},
        "add_joint_default_pos": {},
        "base_com": {},
        "randomize_rigid_body_mass": {},
        "push_robot": None,
    },
}


class EventsConfig(_Frozen):
    """A named event set; ``name`` selects the preset, the other fields may change it; ``None`` removes a term."""

    name: EventsPreset = Field(default=TRAIN_EVENTS, description="Preset these values come from.")
    physics_material: PhysicsMaterialConfig | None = Field(
        default=PhysicsMaterialConfig(), description="Robot shape friction/restitution."
    )
    add_joint_default_pos: JointDefaultOffsetConfig | None = Field(
        default=JointDefaultOffsetConfig(), description="Default joint pose offsets."
    )
    base_com: ComOffsetConfig | None = Field(
        default=ComOffsetConfig(), description="Torso centre-of-mass offset."
    )
    randomize_rigid_body_mass: MassScaleConfig | None = Field(
        default=MassScaleConfig(), description="Wrist and torso mass scaling."
    )
    push_robot: PushConfig | None = Field(default=PushConfig(), description="Random pushes (train only).")

    @model_validator(mode="before")
    @classmethod
    def _from_preset(cls, data: Any) -> Any:
        return _fill_preset(data, _EVENT_PRESETS, TRAIN_EVENTS, "events")
