"""Public configuration of the SONIC env: pydantic models that mirror SONIC's ``manager_env`` tree.

Only the parts built so far are here (scene, simulation, robot, actions); the motion command,
observations, rewards, terminations and events join as they are implemented. Field paths follow
SONIC's config so the training guide's overrides land on validated fields, e.g.
``++manager_env.config.env_spacing=10.0`` → ``EnvConfig.config.env_spacing``. Defaults are SONIC's
values (SONIC_REFERENCE §8) unless noted; :func:`sonic_env.env_cfg.build_env_cfg` turns an
``EnvConfig`` into Isaac Lab ``@configclass`` objects.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TERRAIN_ISSUE = 14
"""Issue that tracks SONIC's rough ``trimesh`` terrain."""


class RobotConfig(BaseModel):
    """The simulated robot (``manager_env.config.robot``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["g1_model_12_dex"] = Field(
        default="g1_model_12_dex", description="SONIC's robot id; the 29-DOF G1 is the only one."
    )
    hand_mass: float = Field(
        default=0.0,
        ge=0.0,
        description="kg added at each wrist_yaw link. 0 = the hand-less MJCF (our default); SONIC trains with "
        "Dex3 hands as fixed links, about 0.526 kg per wrist (FORMATS.md quirk table).",
    )


class SceneConfig(BaseModel):
    """Scene settings (``manager_env.config``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    terrain_type: Literal["plane", "trimesh"] = Field(
        default="plane",
        description=f"'plane': the flat local USD ground plane. 'trimesh': SONIC's rough terrain (SONIC_REFERENCE "
        f"§7), not implemented yet (issue {TERRAIN_ISSUE}); building an env with it raises NotImplementedError.",
    )
    env_spacing: float = Field(default=2.0, gt=0.0, description="Distance between environment origins (m).")
    robot: RobotConfig = Field(default_factory=RobotConfig, description="The simulated robot.")


class SimConfig(BaseModel):
    """Physics settings: Newton with the MuJoCo-Warp solver (DESIGN.md 'How Isaac Lab 3.0 runs here')."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dt: float = Field(default=0.005, gt=0.0, description="Physics step (s).")
    decimation: int = Field(
        default=4, ge=1, description="Physics steps per policy step (4 × 0.005 s → 50 Hz)."
    )
    njmax: int = Field(default=300, ge=1, description="MuJoCo-Warp constraint rows per environment.")
    nconmax: int = Field(default=100, ge=1, description="MuJoCo-Warp contact points per environment.")
    integrator: Literal["euler", "implicitfast"] = Field(
        default="implicitfast",
        description="MuJoCo integrator; 'implicitfast' treats the PD damping implicitly, closest to SONIC's "
        "implicit PhysX drives.",
    )
    use_cuda_graph: bool = Field(
        default=True, description="Capture the physics step in a CUDA graph (GPU only)."
    )


class ActionConfig(BaseModel):
    """The joint-position action term (SONIC_REFERENCE §8)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    clip: float = Field(default=20.0, gt=0.0, description="Raw actions are clamped to ±clip before scaling.")


class EnvConfig(BaseModel):
    """The SONIC env: how many robots, where, and with which physics, scene and action settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    num_envs: int = Field(default=4096, ge=1, description="Parallel environments (SONIC: 4096).")
    device: str = Field(default="cuda:0", description="Simulation device: 'cpu' or 'cuda:<index>'.")
    seed: int | None = Field(default=None, description="Env seed (Isaac Lab's; None leaves it unset).")
    episode_length_s: float = Field(default=10.0, gt=0.0, description="Episode length before time-out (s).")
    config: SceneConfig = Field(default_factory=SceneConfig, description="Scene: terrain, spacing, robot.")
    sim: SimConfig = Field(default_factory=SimConfig, description="Physics.")
    actions: ActionConfig = Field(default_factory=ActionConfig, description="Action term.")
