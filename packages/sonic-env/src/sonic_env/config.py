"""Public configuration of the SONIC env: pydantic models that mirror SONIC's ``manager_env`` tree.

Field paths follow SONIC's config so the training guide's overrides land on validated fields, e.g.
``++manager_env.config.env_spacing=10.0`` → ``EnvConfig.config.env_spacing`` and
``++manager_env.commands.motion.motion_lib_cfg.motion_file=P`` →
``EnvConfig.commands.motion.motion_lib_cfg.motion_file``. Defaults are SONIC's values
(SONIC_REFERENCE §1.1, §7, §8) unless noted; :func:`sonic_env.env_cfg.build_env_cfg` turns an
``EnvConfig`` into Isaac Lab ``@configclass`` objects. The reward block and the termination and
event presets are defined in :mod:`sonic_env.mdp_config` (``rewards.<term>.weight``,
``+manager_env/terminations=tracking/eval``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sonic_data.motion_lib import MotionLibConfig
from sonic_env.mdp_config import EventsConfig, RewardsConfig, TerminationsConfig
from sonic_env.render.config import RenderConfig
from sonic_env.viewer import ViewerConfig

TERRAIN_ISSUE = 14
"""Issue that brought SONIC's rough ``trimesh`` terrain."""


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

    terrain_type: Literal["plane", "trimesh", "hfield"] = Field(
        default="plane",
        description="'plane': the flat local USD ground plane. 'trimesh': SONIC's rough terrain (SONIC_REFERENCE §7, "
        "20×20 tiles, env origins on the tiles) collided as a triangle mesh by Newton's collision pipeline. "
        "'hfield' (ours): the same generated surface as a height field (box risers become 0.1 m ramps) with "
        "sampled closed-form contacts, as fast as the plane on the GPU (manager_env.sim.collision). See "
        "sonic_env.terrain.",
    )
    env_spacing: float = Field(default=2.0, gt=0.0, description="Distance between environment origins (m).")
    robot: RobotConfig = Field(default_factory=RobotConfig, description="The simulated robot.")
    render_results: bool = Field(
        default=False,
        description="Render each env with a camera and write one mp4 per episode to save_rendering_dir (needs "
        "recorders=render). Adds the meshed robot and the blue reference robot to the scene.",
    )
    save_rendering_dir: str = Field(default="renders", description="Folder of the videos (000000.mp4, ...).")
    render: RenderConfig = Field(
        default_factory=RenderConfig, description="Camera, reference-robot and video settings."
    )


class SimConfig(BaseModel):
    """Physics settings: Newton with the MuJoCo-Warp solver (DESIGN.md 'How Isaac Lab 3.0 runs here')."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dt: float = Field(default=0.005, gt=0.0, description="Physics step (s).")
    decimation: int = Field(
        default=4, ge=1, description="Physics steps per policy step (4 × 0.005 s → 50 Hz)."
    )
    njmax: int | None = Field(
        default=None,
        ge=1,
        description="MuJoCo-Warp constraint rows per environment; None: sized for the terrain "
        "(sonic_env.terrain.SOLVER_BUFFERS: plane 300, hfield/trimesh 600).",
    )
    nconmax: int | None = Field(
        default=None,
        ge=1,
        description="Contact points per environment (MuJoCo-Warp, and Newton's pipeline on trimesh); None: sized "
        "for the terrain (plane 100, hfield/trimesh 200).",
    )
    integrator: Literal["euler", "implicitfast"] = Field(
        default="implicitfast",
        description="MuJoCo integrator; 'implicitfast' treats the PD damping implicitly, closest to SONIC's "
        "implicit PhysX drives.",
    )
    use_cuda_graph: bool = Field(
        default=True, description="Capture the physics step in a CUDA graph (GPU only)."
    )
    iterations: int = Field(
        default=100,
        ge=1,
        description="MuJoCo-Warp solver iterations per physics step, at most (Isaac Lab's default 100). On the GPU "
        "every world waits for the slowest one, so the cap bounds the step's cost; mjlab's G1 tasks use 10.",
    )
    ls_iterations: int = Field(
        default=50,
        ge=1,
        description="Line-search iterations per solver iteration, at most (Isaac Lab's 50; mjlab 20).",
    )
    collision: Literal["auto", "newton", "mujoco", "sampled"] = Field(
        default="auto",
        description="Who finds the contacts. 'sampled' ('hfield' only): the robot's spheres and capsules against "
        "the height field in closed form at sampled points, every other pair through Newton's pipeline "
        "(sonic_env.hfield_contacts). 'newton': Newton's collision pipeline for every pair. 'mujoco': MuJoCo-Warp's "
        "own collision; it cannot collide 'trimesh' (MuJoCo treats a mesh as its convex hull: silently flat) and "
        "makes feet chatter on 'hfield' (sonic-env README). 'auto': 'mujoco' on the plane, 'newton' on trimesh, "
        "'sampled' on hfield (sonic_env.terrain.AUTO_COLLISION).",
    )
    contact_gap: float | None = Field(
        default=None,
        ge=0.0,
        description="Newton's per-shape contact gap (m): shape pairs closer than margin + gap get contacts. None: "
        "the terrain's default (sonic_env.terrain.terrain_shape_cfg: Isaac Lab's 0.01 on the plane, 0 on trimesh and "
        "hfield).",
    )


class ActionConfig(BaseModel):
    """The joint-position action term (SONIC_REFERENCE §8)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    clip: float = Field(default=20.0, gt=0.0, description="Raw actions are clamped to ±clip before scaling.")


DEFAULT_MOTION_FILE = "data/motion_lib_bones_seed/robot_filtered"
"""SONIC's ``motion_file`` of ``sonic_release`` / ``sonic_bones_seed`` (relative to the working directory)."""

ENCODERS = ("g1", "teleop", "smpl", "soma")
"""Every encoder a contract may list, in SONIC's activation order."""

Range = tuple[float, float]


def _default_motion_lib_cfg() -> MotionLibConfig:
    return MotionLibConfig(motion_file=DEFAULT_MOTION_FILE)


class MotionCommandConfig(BaseModel):
    """The motion command (``manager_env.commands.motion``): reference clips, encoder sampling, reset noise."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    motion_lib_cfg: MotionLibConfig = Field(
        default_factory=_default_motion_lib_cfg, description="The motion library (SONIC's motion_lib_cfg)."
    )
    encoder_sample_probs: dict[str, float] | None = Field(
        default=None,
        description="Unnormalised per-episode encoder probabilities, keys = the contract's encoders (g1, teleop, "
        "smpl[, soma]). None: 1.0 each, as sonic_release and sonic_bones_seed (SONIC_REFERENCE §1.2).",
    )
    teleop_sample_prob_when_smpl: float = Field(
        default=0.5,
        ge=0.0,
        le=1.0,
        description="Chance that teleop is co-activated when smpl is drawn (§1.3).",
    )
    use_encoder: Literal["g1", "teleop", "smpl", "soma"] | None = Field(
        default=None,
        description="(ours) Force one encoder: the others get probability 0 and nothing is co-activated. Every "
        "clip of the library must have that encoder's data (smpl/soma).",
    )
    reward_point_body: list[str] = Field(
        default=["torso_link", "left_wrist_yaw_link", "right_wrist_yaw_link"],
        description="Bodies of the vr_5point reward points (sonic_release: 3 points, §1.1); each must be tracked.",
    )
    reward_point_body_offset: list[tuple[float, float, float]] = Field(
        default=[(0.0, 0.0, 0.5), (0.0, 0.0, 0.0), (0.0, 0.0, 0.0)],
        description="Per reward point, its offset in the body's frame (m).",
    )
    num_future_frames: int = Field(default=10, ge=1, description="Future frames of the g1/teleop terms.")
    dt_future_ref_frames: float = Field(
        default=0.1, gt=0.0, description="Spacing of g1/teleop future frames (s)."
    )
    smpl_num_future_frames: int = Field(default=10, ge=1, description="Future frames of the smpl/soma terms.")
    smpl_dt_future_ref_frames: float = Field(
        default=0.02, gt=0.0, description="Spacing of smpl/soma future frames (s)."
    )
    pose_range: dict[Literal["x", "y", "z", "roll", "pitch", "yaw"], Range] = Field(
        default={
            "x": (-0.05, 0.05),
            "y": (-0.05, 0.05),
            "z": (-0.01, 0.01),
            "roll": (-0.1, 0.1),
            "pitch": (-0.1, 0.1),
            "yaw": (-0.2, 0.2),
        },
        description="Reset noise on the root pose (m, rad; train mode only, §7). Missing keys are 0.",
    )
    velocity_range: dict[Literal["x", "y", "z", "roll", "pitch", "yaw"], Range] = Field(
        default={
            "x": (-0.5, 0.5),
            "y": (-0.5, 0.5),
            "z": (-0.2, 0.2),
            "roll": (-0.52, 0.52),
            "pitch": (-0.52, 0.52),
            "yaw": (-0.78, 0.78),
        },
        description="Reset noise on the root linear (m/s) and angular (rad/s) velocity, world frame (train only).",
    )
    joint_position_range: Range = Field(
        default=(-0.1, 0.1),
        description="Reset noise on joint positions (rad), then clipped to the soft limits.",
    )
    root_height_ema_alpha: float = Field(
        default=0.1, gt=0.0, le=1.0, description="EMA rate of running_ref_root_height (SONIC_REFERENCE §4)."
    )

    @model_validator(mode="after")
    def _check(self) -> MotionCommandConfig:
        if len(self.reward_point_body) != len(self.reward_point_body_offset):
            raise ValueError(
                f"reward_point_body has {len(self.reward_point_body)} bodies but reward_point_body_offset has "
                f"{len(self.reward_point_body_offset)} offsets"
            )
        if self.encoder_sample_probs is not None:
            unknown = sorted(set(self.encoder_sample_probs) - set(ENCODERS))
            if unknown:
                raise ValueError(f"encoder_sample_probs: unknown encoders {unknown}; valid: {list(ENCODERS)}")
            if (
                any(p < 0 for p in self.encoder_sample_probs.values())
                or sum(self.encoder_sample_probs.values()) <= 0
            ):
                raise ValueError("encoder_sample_probs: values must be >= 0 with a positive sum")
        for label, dt in (("dt_future_ref_frames", self.dt_future_ref_frames),
                          ("smpl_dt_future_ref_frames", self.smpl_dt_future_ref_frames)):  # fmt: skip
            if abs(dt / 0.02 - round(dt / 0.02)) > 1e-6 or round(dt / 0.02) < 1:
                raise ValueError(f"{label}={dt} must be a positive multiple of the 0.02 s reference frame")
        return self


class CommandsConfig(BaseModel):
    """Command terms (``manager_env.commands``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    motion: MotionCommandConfig = Field(
        default_factory=MotionCommandConfig, description="The motion command."
    )


class EnvConfig(BaseModel):
    """The SONIC env: how many robots, where, and with which physics, scene, commands and observations."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    num_envs: int = Field(default=4096, ge=1, description="Parallel environments (SONIC: 4096).")
    device: str = Field(default="cuda:0", description="Simulation device: 'cpu' or 'cuda:<index>'.")
    seed: int | None = Field(default=None, description="Env seed (Isaac Lab's; None leaves it unset).")
    episode_length_s: float = Field(
        default=10.0,
        gt=0.0,
        description="Isaac Lab's episode length (s). As in SONIC no term ends an episode by length: it ends at "
        "the clip's last frame (time-out) or on a tracking failure.",
    )
    config: SceneConfig = Field(default_factory=SceneConfig, description="Scene: terrain, spacing, robot.")
    sim: SimConfig = Field(default_factory=SimConfig, description="Physics.")
    actions: ActionConfig = Field(default_factory=ActionConfig, description="Action term.")
    commands: CommandsConfig = Field(default_factory=CommandsConfig, description="Command terms.")
    rewards: RewardsConfig = Field(
        default_factory=RewardsConfig,
        description="Reward weights and sigmas (tracking/base_5point_local_feet_acc).",
    )
    terminations: TerminationsConfig | None = Field(
        default_factory=TerminationsConfig,
        description="Termination preset: 'tracking/base_adaptive_strict_ori_foot_xyz' (train) or 'tracking/eval'; "
        "None (~manager_env/terminations) = no terminations.",
    )
    events: EventsConfig | None = Field(
        default_factory=EventsConfig,
        description="Event preset: 'tracking/level0_4' (train) or 'tracking/eval' (no push); eval mode drops the "
        "push; None (~manager_env/events) = no randomisation.",
    )
    contract: Literal["sonic_release", "sonic_bones_seed", "small", "small_bones_seed"] = Field(
        default="sonic_release",
        description="sonic_model preset whose ObservationContract the observations are built from.",
    )
    mode: Literal["train", "eval"] = Field(
        default="train",
        description="'train': adaptive start sampling, reset noise, augmentation. 'eval': clips assigned in order "
        "from frame 0 (sonic_data's eval batches), no reset noise, no push, no augmentation.",
    )
    observation_noise: bool = Field(
        default=True,
        description="Add each tokenizer/policy term's uniform ±noise (SONIC's enable_corruption; never the critic). "
        "On in train and eval mode: SONIC's eval keeps it on (SONIC_REFERENCE §5).",
    )
    recorders: Literal["empty", "render"] | None = Field(
        default="empty",
        description="Recorder preset: 'empty' (none) or 'render' (videos, with config.render_results=True); "
        "'~manager_env/recorders=empty' + '+manager_env/recorders=render' as in SONIC's guide.",
    )
    viewer: ViewerConfig | None = Field(
        default=None,
        description="Live viewer (sonic-train's headless=False): Newton GL window or Viser web viewer; None: headless.",
    )
    overlap_resets: bool = Field(
        default=True,
        description="Draw the motion command's resets before the step's host sync so they overlap the physics "
        "(sonic_env.rl_env; same results, other random streams for the reset draws). False: Isaac Lab's order.",
    )
    cuda_graphs: bool = Field(
        default=False,
        description="On CUDA, replay the step's manager math (terminations, rewards, resets, command, observations) "
        "as CUDA graphs (sonic_env.step_graphs); needs overlap_resets and no viewer. Ignored on CPU.",
    )
    masked_reset: bool = Field(
        default=True,
        description="With cuda_graphs: reset the done envs on their mask inside the graphs, with no host sync "
        "in the step (sonic_env.masked_reset). False: Isaac Lab's reset of the listed envs after a host sync.",
    )
    compile_terms: bool = Field(
        default=False,
        description="Compile the observation, reward and termination terms with torch.compile (TorchInductor): "
        "fewer, fused GPU kernels per step (sonic_env.compiled_terms). Compiling takes a few seconds per term at "
        "the first steps (cached on disk); it pays on a GPU, with cuda_graphs.",
    )
    replay: bool = Field(
        default=False,
        description="Write the robot's state from the reference every step (kinematic playback, to check data).",
    )

    @model_validator(mode="after")
    def _check_collision(self) -> EnvConfig:
        if self.sim.collision == "sampled" and self.config.terrain_type != "hfield":
            raise ValueError(
                "manager_env.sim.collision='sampled' collides a height field: it needs "
                f"manager_env.config.terrain_type='hfield', got {self.config.terrain_type!r}"
            )
        if self.sim.collision == "mujoco" and self.config.terrain_type == "trimesh":
            raise ValueError(
                "manager_env.sim.collision='mujoco' cannot collide manager_env.config.terrain_type='trimesh': MuJoCo "
                "treats a triangle mesh as its convex hull (a flat slab); use collision 'auto' or 'newton'"
            )
        return self

    @model_validator(mode="after")
    def _check_recorders(self) -> EnvConfig:
        render = self.recorders == "render"
        if render != self.config.render_results:
            raise ValueError(
                "videos need both manager_env.config.render_results=True and the render recorder "
                '("~manager_env/recorders=empty" "+manager_env/recorders=render"); got render_results='
                f"{self.config.render_results}, recorders={self.recorders!r}"
            )
        return self
