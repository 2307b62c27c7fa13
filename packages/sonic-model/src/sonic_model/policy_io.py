"""The robot block at the policy border (FORMATS.md "Policy border", one field list).

Plain data: sonic-env fills it from ``sonic_data.g1``; checkpoints and ONNX metadata carry it, so a
deployment (or sonic-export) knows how to turn actions into joint targets without importing the robot
package: ``target_j = default_joint_pos_j + action_scale_j * clip(action_j, -action_clip, action_clip)``,
tracked by a PD loop with gains ``kp_j``, ``kd_j`` at ``control_dt_s``.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class PolicyIO(BaseModel):
    """Joint order, default pose, gains, action scale, control period and action clip of a policy."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    joint_names: tuple[str, ...] = Field(description="Joints in policy (action) order.")
    default_joint_pos: tuple[float, ...] = Field(description="Default joint positions (rad), policy order.")
    kp: tuple[float, ...] = Field(description="PD stiffness per joint (N·m/rad), policy order.")
    kd: tuple[float, ...] = Field(description="PD damping per joint (N·m·s/rad), policy order.")
    action_scale: tuple[float, ...] = Field(description="Per-joint action scale (rad per action unit).")
    control_dt_s: float = Field(gt=0.0, description="Policy period in seconds (SONIC: 0.02).")
    action_clip: float = Field(gt=0.0, description="Raw actions are clipped to ±action_clip (SONIC: 20).")

    @model_validator(mode="after")
    def _check(self) -> PolicyIO:
        n = len(self.joint_names)
        if len(set(self.joint_names)) != n:
            raise ValueError("PolicyIO: joint_names repeats names")
        for field in ("default_joint_pos", "kp", "kd", "action_scale"):
            if len(getattr(self, field)) != n:
                raise ValueError(
                    f"PolicyIO.{field}: expected {n} values (one per joint), got {len(getattr(self, field))}"
                )
        return self
