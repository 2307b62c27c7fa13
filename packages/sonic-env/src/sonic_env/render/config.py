"""Settings of the render scene and the video recorder (``manager_env.config.render``), plain pydantic.

Kept apart from Isaac Lab so :mod:`sonic_env.config` can import it without the simulator.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["RenderConfig"]


class RenderConfig(BaseModel):
    """Camera, reference robot (ghost) and video settings (``manager_env.config.render.*``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    width: int = Field(default=320, ge=16, description="Video width in pixels (even).")
    height: int = Field(default=240, ge=16, description="Video height in pixels (even).")
    fps: float | None = Field(
        default=None, gt=0.0, description="Playback frame rate; None: one frame per control step (50)."
    )
    camera_distance: float = Field(
        default=3.0,
        gt=0.0,
        description="Horizontal distance (m) from the camera to the robot/reference pair.",
    )
    camera_height: float = Field(default=1.2, description="Camera height above the ground (m).")
    camera_azimuth_deg: float = Field(
        default=-15.0,
        description="Direction (world yaw, degrees) from the pair to the camera; 0 = from +x, where the G1 faces at "
        "yaw 0, so the robot is seen from the front with the reference on its right.",
    )
    target_height: float = Field(default=0.7, description="Height (m) of the point the camera looks at.")
    focal_length: float = Field(
        default=24.0, gt=0.0, description="Pinhole focal length (mm, 20.955 mm aperture)."
    )
    ghost: bool = Field(
        default=True,
        description="Draw the reference as a second, blue, kinematic robot (no mass effect, no contacts).",
    )
    ghost_offset: tuple[float, float, float] = Field(
        default=(0.0, 1.0, 0.0),
        description="World-frame offset (m) of the drawn reference from where it really is: (0, 1, 0) puts it 1 m to "
        "the side; (0, 0, 0) overlays it on the robot.",
    )

    @field_validator("width", "height")
    @classmethod
    def _even(cls, value: int) -> int:
        if value % 2:
            raise ValueError(f"must be even (H.264 with yuv420p), got {value}")
        return value
