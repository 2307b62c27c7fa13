"""``ExperimentConfig``: one validated tree for a training run, and SONIC's experiment presets.

The tree mirrors the keys of SONIC's Hydra config that the training guide overrides (FORMATS.md "Seed
command lines"), so its argument strings land on validated fields:

* ``manager_env.*``: the env (:class:`sonic_env.config.EnvConfig`), e.g.
  ``++manager_env.commands.motion.motion_lib_cfg.motion_file=P``;
* ``algo.config.*``: PPO (:class:`sonic_train.algo.PPOConfig`), e.g. ``++algo.config.num_learning_iterations=100``;
* ``model.*``: the network (:class:`sonic_model.ModelConfig`, SONIC's ``actor_critic`` + ``aux_losses`` groups);
* top level: ``num_envs``, ``headless``, ``seed``, ``device``, ``use_wandb``, ``wandb.wandb_project``,
  ``wandb.wandb_entity``, ``checkpoint``, ``resume``, ``replay``, ``experiment_name``, intervals.

``num_envs``, ``seed`` and ``device`` at the top level win over their copies in ``manager_env`` (SONIC
interpolates them the same way; the trainer resolves ``device=auto`` and adds the rank to the seed), and the action-std settings live in ``algo.config`` under SONIC's names
(``init_noise_std``, ``std_clamp_min``/``max``); ``model.init_std``/``std_min``/``std_max`` follow them.

Presets (SONIC_REFERENCE §1.1, §1.2), selected with ``+exp=<name>`` or SONIC's path
``+exp=manager/universal_token/all_modes/<name>``:

* ``sonic_release``: g1/teleop/smpl encoders, SONIC's sizes and exp values;
* ``sonic_bones_seed``: + soma encoder and ``g1_soma_latent``, 4096-wide decoder and critic,
  ``smpl_motion_file: dummy`` (a SONIC quirk kept; the guide overrides it), the soma motion file;
* ``single_gpu``: ``sonic_release``'s env and observation/ONNX layout with an 8.1M-parameter network and
  rsl_rl-style PPO settings, to learn the sample motions on one GPU in minutes (:func:`single_gpu`);
* ``small``: ``sonic_release``'s layout with narrow layers and 8 envs, for CPU tests and the demo.

Terrain: SONIC's presets (``sonic_release``, ``sonic_bones_seed``) train on SONIC's rough ``trimesh`` terrain, as
SONIC does (SONIC_REFERENCE §7; FORMATS.md "Quirks": trimesh for SONIC presets), collided by Newton's pipeline
(:mod:`sonic_env.terrain`). ``single_gpu`` (the one-GPU recipe, measured on flat ground) and ``small`` (CPU tests,
demo) run on the flat plane. ``++manager_env.config.terrain_type=plane`` puts any preset on the plane; on the GPU
the trimesh env runs at about 40 % of the plane's speed (issue 14, ``benchmarks/README.md``), and
``++manager_env.config.terrain_type=hfield`` gives the same surface as a height field with closed-form sampled
contacts, at the plane's speed (sonic-env README, "Terrain").
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sonic_data.motion_lib.config import DEFAULT_UPPER_BODY_AUGMENT_PREFIXES
from sonic_env.config import DEFAULT_MOTION_FILE, TERRAIN_ISSUE, EnvConfig
from sonic_model import ModelConfig
from sonic_model import preset as model_preset
from sonic_train.algo.config import PPOConfig

__all__ = [
    "EXP_PATH_PREFIX",
    "EXP_PRESETS",
    "TERRAIN_NOTE",
    "AlgoConfig",
    "ExperimentConfig",
    "WandbConfig",
    "exp_preset",
    "exp_preset_name",
]

EXP_PATH_PREFIX = "manager/universal_token/all_modes/"
"""SONIC's exp group path; ``+exp=<prefix><name>`` and ``+exp=<name>`` select the same preset."""

PROJECT_NAME = "TRL_G1_Track"
"""SONIC's ``project_name`` (the folder under ``logs_rl``)."""

SONIC_RELEASE_SMPL_FILE = "data/bones_seed_smpl"
"""``smpl_motion_file`` of SONIC's ``sonic_release`` exp (the docs use ``data/smpl_filtered``)."""

SONIC_SOMA_FILE = "data/motion_lib_bones_seed/soma_filtered"
"""``soma_motion_file`` of SONIC's ``sonic_bones_seed`` exp."""

SONIC_RELEASE_AUGMENT_PREFIXES = (
    "2025",
    "sonic_mixed_walking_running",
    "sonic_squating_different_height_switching",
    "sonic_running",
    "sonic_walking",
    "sonic_squating_different_height_hold",
    "sonic_walking_other_style",
    "balance",
)
"""``upper_body_augment_prefixes`` of ``sonic_release`` (SONIC_REFERENCE §1.2; spelling as SONIC's)."""

TERRAIN_NOTE = (
    "SONIC's presets (sonic_release, sonic_bones_seed) train on SONIC's rough trimesh terrain, single_gpu and small "
    "on the flat plane; ++manager_env.config.terrain_type=plane puts any preset on the plane (on the GPU trimesh "
    f"runs at about 40 % of the plane's speed, issue {TERRAIN_ISSUE}), =hfield on the same roughness as a height "
    "field at the plane's speed"
)
"""Said in --help: which presets train on which ground."""

SONIC_TERRAIN = "trimesh"
"""The terrain of SONIC's presets (SONIC_REFERENCE §7)."""


class WandbConfig(BaseModel):
    """Weights & Biases settings (``wandb.*``); used only with ``use_wandb=true``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    wandb_project: str = Field(default=PROJECT_NAME, description="W&B project.")
    wandb_entity: str | None = Field(
        default=None, description="W&B entity (team or user); None: your default."
    )


class AlgoConfig(BaseModel):
    """The algorithm group (``algo.*``); SONIC keeps its hyper-parameters under ``algo.config``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    config: PPOConfig = Field(default_factory=PPOConfig, description="PPO + adaptive-KL hyper-parameters.")


def _as_dict(value: Any) -> dict[str, Any]:
    if isinstance(value, BaseModel):
        return value.model_dump()
    return dict(value) if isinstance(value, dict) else {}


class ExperimentConfig(BaseModel):
    """Everything a training run reads; written resolved to ``config.yaml`` in the run directory."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    exp: str = Field(
        default=EXP_PATH_PREFIX + "sonic_release",
        description="The experiment preset this config started from (+exp=...).",
    )
    experiment_name: str = Field(
        default=EXP_PATH_PREFIX + "sonic_release_test",
        description="Run folder name before the timestamp (SONIC: the exp path + '_test').",
    )
    project_name: str = Field(
        default=PROJECT_NAME, description="Folder under base_dir (SONIC's project_name)."
    )
    base_dir: str = Field(default="logs_rl", description="Root of the run folders.")
    num_envs: int = Field(default=4096, ge=1, description="Environments per process (copied to manager_env).")
    headless: bool = Field(
        default=True,
        description="False opens the live viewer on rank 0: Newton GL window with a display, else Viser's web "
        "viewer at http://<viewer_host>:<viewer_port>.",
    )
    viewer_host: str = Field(
        default="127.0.0.1",
        description="Interface Viser binds with headless=False (127.0.0.1: this machine only; 0.0.0.0: all).",
    )
    viewer_port: int = Field(default=8080, ge=1, le=65535, description="Viser's port with headless=False.")
    seed: int = Field(
        default=0, ge=0, description="Base seed; process r seeds its env and torch with seed + r."
    )
    device: str = Field(
        default="auto",
        description="'auto': cuda:<local rank> when CUDA is present, else cpu; or an explicit torch device.",
    )
    manager_env: EnvConfig = Field(
        default_factory=lambda: EnvConfig(), description="The env (SONIC's manager_env tree)."
    )
    model: ModelConfig = Field(default_factory=ModelConfig, description="Network sizes and aux-loss weights.")
    algo: AlgoConfig = Field(default_factory=AlgoConfig, description="PPO (algo.config.*).")
    use_wandb: bool = Field(
        default=False,
        description="Also log to W&B (needs the sonic-train[wandb] extra; honours WANDB_MODE=offline).",
    )
    wandb: WandbConfig = Field(default_factory=WandbConfig, description="W&B project and entity.")
    checkpoint: str | None = Field(
        default=None,
        description="Start from this checkpoint (ours or GEAR-SONIC's): finetune, or resume with resume=True.",
    )
    resume: bool = Field(
        default=False,
        description="With checkpoint: also restore optimiser, lr, iteration, RNG and adaptive counts, same folder.",
    )
    replay: bool = Field(
        default=False, description="Play every clip of the library kinematically once (headless) and exit."
    )
    save_interval: int = Field(
        default=2000, ge=1, description="Iterations between model_step_XXXXXX.pt files."
    )
    last_interval: int = Field(default=50, ge=1, description="Iterations between last.pt rewrites.")
    check_rank_sync: int = Field(
        default=0,
        ge=0,
        description="Every N iterations check that parameters, buffers, normaliser and std agree on all ranks "
        "(0 = off).",
    )
    max_train_time_s: float | None = Field(
        default=None,
        gt=0,
        description="Stop after this many seconds of training (wall clock from the first iteration; decided on "
        "rank 0 for all ranks) even if num_learning_iterations is not reached; last.pt is written. None: no limit.",
    )
    tf32: bool = Field(
        default=False,
        description="Allow TF32 matmuls and convolutions on CUDA (rollout and learning). Off in SONIC's presets "
        "(fp32, as SONIC); on in single_gpu.",
    )
    bf16: bool = Field(
        default=False,
        description="bf16 autocast for the learning phase's forward passes (the rollout stays fp32). Opt-in: "
        "not yet shown not to hurt learning.",
    )

    @model_validator(mode="before")
    @classmethod
    def _top_level_wins(cls, data: Any) -> Any:
        """Copy ``num_envs``, ``seed``, ``device`` and the viewer (``headless=False``) into ``manager_env``, the std settings into ``model``."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        env = _as_dict(data.get("manager_env"))
        defaults = cls.model_fields
        env["num_envs"] = data.get("num_envs", defaults["num_envs"].default)
        env["seed"] = data.get("seed", defaults["seed"].default)
        env["device"] = data.get("device", defaults["device"].default)
        headless = data.get("headless", defaults["headless"].default)
        env["viewer"] = (
            None
            if headless
            else {
                "host": data.get("viewer_host", defaults["viewer_host"].default),
                "port": data.get("viewer_port", defaults["viewer_port"].default),
            }
        )
        data["manager_env"] = env
        algo = _as_dict(data.get("algo"))
        ppo = PPOConfig.model_validate(_as_dict(algo.get("config")))
        model = _as_dict(data.get("model"))
        model.update(init_std=ppo.init_noise_std, std_min=ppo.std_clamp_min, std_max=ppo.std_clamp_max)
        data["model"] = model
        return data

    @model_validator(mode="after")
    def _check(self) -> ExperimentConfig:
        encoders = model_preset(self.manager_env.contract).contract.encoder_names
        if tuple(self.model.encoders) != encoders:
            raise ValueError(
                f"model.encoders {list(self.model.encoders)} differ from the encoders {list(encoders)} of "
                f"manager_env.contract={self.manager_env.contract!r}; choose a matching +exp= preset"
            )
        batches = self.algo.config.num_mini_batches
        if self.num_envs % batches:
            raise ValueError(
                f"num_envs={self.num_envs} must be a multiple of algo.config.num_mini_batches={batches} "
                "(minibatches split over environments)"
            )
        if self.resume and self.checkpoint is None:
            raise ValueError("resume=True needs +checkpoint=<path to last.pt or model_step_XXXXXX.pt>")
        return self


# ------------------------------------------------------------------------------------------ presets


def _motion(
    *,
    encoders: tuple[str, ...],
    smpl_motion_file: str | None,
    soma_motion_file: str | None,
    augment_prefixes: tuple[str, ...],
) -> dict[str, Any]:
    """``manager_env.commands.motion`` of SONIC's exps (§1.1/§1.2); the rest are EnvConfig's defaults."""
    return {
        "encoder_sample_probs": dict.fromkeys(encoders, 1.0),
        "teleop_sample_prob_when_smpl": 0.5,
        "num_future_frames": 10,
        "dt_future_ref_frames": 0.1,
        "smpl_num_future_frames": 10,
        "smpl_dt_future_ref_frames": 0.02,
        "motion_lib_cfg": {
            "motion_file": DEFAULT_MOTION_FILE,
            "smpl_motion_file": smpl_motion_file,
            "soma_motion_file": soma_motion_file,
            "smpl_y_up": True,
            "soma_y_up": True,
            "freeze_frame_aug": True,
            "cat_upper_body_poses": True,
            "cat_upper_body_poses_prob": 0.5,
            "upper_body_augment_prefixes": list(augment_prefixes),
            "adaptive_sampling": {"adp_samp_failure_rate_max_over_mean": 200.0},
        },
    }


def _experiment(
    exp: str, model_name: str, contract: str, motion: dict[str, Any], terrain: str = SONIC_TERRAIN, **top: Any
) -> ExperimentConfig:
    env = {
        "contract": contract,
        "config": {"terrain_type": terrain},
        "commands": {"motion": motion},
        "rewards": {"feet_acc": {"weight": -2.5e-6}},
        "terminations": "tracking/base_adaptive_strict_ori_foot_xyz",
        "events": "tracking/level0_4",
    }
    algo = {"config": {"num_steps_per_env": 24, "max_grad_norm": 0.1, "use_clampped_std": True}}
    algo["config"] |= top.pop("algo_config", {})
    return ExperimentConfig.model_validate(
        {
            "exp": exp,
            "experiment_name": f"{exp}_test",
            "num_envs": 4096,
            "manager_env": env,
            "model": model_preset(model_name).model.model_dump(),
            "algo": algo,
            **top,
        }
    )


def sonic_release(exp: str = EXP_PATH_PREFIX + "sonic_release") -> ExperimentConfig:
    """SONIC's ``sonic_release`` exp (SONIC_REFERENCE §1.1, §1.2), on SONIC's trimesh terrain."""
    motion = _motion(
        encoders=("g1", "teleop", "smpl"),
        smpl_motion_file=SONIC_RELEASE_SMPL_FILE,
        soma_motion_file=None,
        augment_prefixes=SONIC_RELEASE_AUGMENT_PREFIXES,
    )
    return _experiment(exp, "sonic_release", "sonic_release", motion)


def sonic_bones_seed(exp: str = EXP_PATH_PREFIX + "sonic_bones_seed") -> ExperimentConfig:
    """SONIC's ``sonic_bones_seed`` exp: + soma, 4096-wide g1_dyn and critic, ``smpl_motion_file: dummy``."""
    motion = _motion(
        encoders=("g1", "teleop", "smpl", "soma"),
        smpl_motion_file="dummy",
        soma_motion_file=SONIC_SOMA_FILE,
        augment_prefixes=DEFAULT_UPPER_BODY_AUGMENT_PREFIXES,
    )
    return _experiment(exp, "sonic_bones_seed", "sonic_bones_seed", motion)


SINGLE_GPU_ALGO: dict[str, Any] = {
    "num_learning_iterations": 3000,
    "init_noise_std": 0.5,
    "std_clamp_max": 2.0,
    "actor_learning_rate": 1e-3,
    "adaptive_lr_max": 1e-2,
    "entropy_coef": 0.005,
    "max_grad_norm": 1.0,
}
"""How ``single_gpu``'s PPO differs from ``sonic_release``'s, and why (the rest is SONIC's: 24 steps, 5 epochs x
4 minibatches, gamma 0.99, lambda 0.95, clip 0.2, adaptive KL with desired_kl 0.01).

SONIC's values suit a long many-GPU run that starts almost deterministic: action std 0.05 and lr 2e-5
(adaptive, at most 2e-4) with gradients clipped at 0.1 explore and move slowly. For minutes on one GPU
the preset takes the values of rsl_rl's PPO as Isaac Lab's and BeyondMimic's G1 tracking tasks use them
(the same action scale, 0.25 x effort / kp) — lr 1e-3 adapted within [1e-5, 1e-2], entropy 0.005,
gradient clip 1.0, std clamped at 2.0 instead of 0.5 — except the initial std: 0.5 instead of rsl_rl's
1.0. Measured on H200s (examples/train_single_gpu.md, 230-280 s of training each): std 1.0 and SONIC's
PPO values (std 0.05) both left 0/13 sample motions succeeding under eval terminations; std 0.3 gave 11/13,
std 0.4 and 0.5 13/13."""


def single_gpu(exp: str = "single_gpu") -> ExperimentConfig:
    """``sonic_release``'s env and layout, an 8.1M-parameter network, rsl_rl-style PPO and TF32: one GPU, minutes.

    Changes from ``sonic_release``, each for speed of learning on one GPU (examples/train_single_gpu.md):
    the ``single_gpu`` model preset (narrower, shallower layers; same contract, token and aux losses),
    :data:`SINGLE_GPU_ALGO`, ``tf32=True``, and the flat plane (the recipe was measured there; SONIC's presets
    use the trimesh terrain). Observations, rewards, terminations, events, encoder sampling and the ONNX layout
    are SONIC's.
    """
    motion = _motion(
        encoders=("g1", "teleop", "smpl"),
        smpl_motion_file=SONIC_RELEASE_SMPL_FILE,
        soma_motion_file=None,
        augment_prefixes=SONIC_RELEASE_AUGMENT_PREFIXES,
    )
    return _experiment(
        exp, "single_gpu", "sonic_release", motion, terrain="plane", algo_config=SINGLE_GPU_ALGO, tf32=True
    )


def small(exp: str = "small") -> ExperimentConfig:
    """``sonic_release``'s layout and env with narrow layers, 8 envs and 100 iterations (CPU tests, demo)."""
    motion = _motion(
        encoders=("g1", "teleop", "smpl"),
        smpl_motion_file=SONIC_RELEASE_SMPL_FILE,
        soma_motion_file=None,
        augment_prefixes=SONIC_RELEASE_AUGMENT_PREFIXES,
    )
    config = _experiment(
        exp, "small", "small", motion, terrain="plane", algo_config={"num_learning_iterations": 100}
    )
    return ExperimentConfig.model_validate({**config.model_dump(), "num_envs": 8})


EXP_PRESETS: dict[str, Callable[[str], ExperimentConfig]] = {
    "sonic_release": sonic_release,
    "sonic_bones_seed": sonic_bones_seed,
    "single_gpu": single_gpu,
    "small": small,
}
"""Experiment presets by name."""


def exp_preset_name(exp: str) -> str:
    """The preset name of an ``+exp=`` value: ``<name>`` or ``manager/universal_token/all_modes/<name>``.

    Raises:
        KeyError: anything else, listing the accepted forms.
    """
    name = exp.strip().strip("/")
    name = name.removeprefix(EXP_PATH_PREFIX)
    if name not in EXP_PRESETS:
        valid = [*EXP_PRESETS, *(EXP_PATH_PREFIX + n for n in EXP_PRESETS)]
        raise KeyError(f"unknown experiment preset +exp={exp!r}; valid: {valid}")
    return name


def exp_preset(exp: str) -> ExperimentConfig:
    """The preset selected by ``+exp=<exp>``; its ``experiment_name`` is ``<exp>_test`` as SONIC's."""
    return EXP_PRESETS[exp_preset_name(exp)](exp.strip().strip("/"))
