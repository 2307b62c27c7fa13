"""Configuration of the motion library, with SONIC's ``motion_lib_cfg`` field names.

Field names and defaults follow GEAR-SONIC's ``config/manager_env/commands/terms/motion.yaml`` and
``utils/motion_lib/motion_lib_base.py`` (SONIC_REFERENCE §6.1), so a seed override such as
``++manager_env.commands.motion.motion_lib_cfg.motion_file=DIR`` lands on :class:`MotionLibConfig`.
Fields that SONIC does not have are marked "(ours)". Unknown keys are errors that name the key.

Two defaults are the base library's, not the training experiments': ``adp_samp_failure_rate_max_over_mean``
is 50 here and 200 in ``sonic_release`` / ``sonic_bones_seed`` (their presets set it).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sonic_data.g1.model import MJCF_PATH

__all__ = ["DEFAULT_UPPER_BODY_AUGMENT_PREFIXES", "AdaptiveSamplingConfig", "MotionLibConfig"]

DEFAULT_UPPER_BODY_AUGMENT_PREFIXES: tuple[str, ...] = (
    "2025",
    "walking_2025",
    "running_2025",
    "slow_walk_2025",
)
"""The motion library's default ``upper_body_augment_prefixes`` (SONIC_REFERENCE §1.2)."""


class AdaptiveSamplingConfig(BaseModel):
    """SONIC's adaptive sampling by bins (``motion_lib_cfg.adaptive_sampling``, SONIC_REFERENCE §6.1, §6.3)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enable: bool = Field(
        default=True, description="Draw reset starts by failure-weighted bins; off: uniform."
    )
    bin_size: int = Field(default=50, gt=0, description="Bin length in 50 fps frames (50 = 1 s).")
    sequence_length_agnostic: bool = Field(
        default=True,
        description="Weight bins so that every clip gets the same total weight whatever its length.",
    )
    init_num_failures: float = Field(
        default=1.0, gt=0, description="Initial failure and episode count of every bin (avoids 0/0)."
    )
    uniform_sampling_rate: float = Field(
        default=0.1, ge=0, le=1, description="Share of the bin probability that is uniform over bins."
    )
    pre_failure_sample_window: int = Field(
        default=200, ge=1, description="A start is moved back by U{0..window-1} frames (clamped at 0)."
    )
    use_failure_rate_decay: bool = Field(
        default=False,
        description="(our reading) Multiply both counts by decay_gamma at every probability update.",
    )
    decay_gamma: float = Field(
        default=0.8, gt=0, le=1, description="Decay factor when use_failure_rate_decay."
    )
    adp_samp_failure_rate_max_over_mean: float = Field(
        default=50.0,
        gt=0,
        description="Failure rates are clipped at mean * this (SONIC base 50; the exps use 200).",
    )
    max_prob_per_bin: float | None = Field(
        default=None, gt=0, le=1, description="Cap on a bin's probability."
    )
    max_prob_per_motion: float | None = Field(
        default=None, gt=0, le=1, description="Cap on a clip's probability."
    )
    failure_counts_multiplier: float = Field(
        default=1.0, gt=0, description="Failures add this much to their bin."
    )
    adaptive_credit_fix: bool = Field(
        default=True,
        description=(
            "(ours, FORMATS quirk) Credit a failure to the bin where it happened. False reproduces SONIC, "
            "which credits the start bin of the episode that follows the failure."
        ),
    )


class MotionLibConfig(BaseModel):
    """Where the clips come from and how they are resampled, augmented and sampled (SONIC_REFERENCE §6)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    motion_file: str = Field(
        default=...,
        description=(
            "Robot PKL file (a dict of clips) or a directory searched recursively for *.pkl "
            "(metadata.pkl excluded)."
        ),
    )
    smpl_motion_file: str | None = Field(
        default=None,
        description=(
            "SMPL PKL file, directory (matched by clip basename, recursive) or 'dummy'/'zeros'/None "
            "(no clip has SMPL)."
        ),
    )
    soma_motion_file: str | None = Field(
        default=None,
        description="SOMA PKL file or directory (matched by clip basename, recursive); None: no SOMA.",
    )
    smpl_y_up: bool = Field(
        default=True, description="SMPL pose_aa[:3] is Y up and is turned to Z up at load."
    )
    soma_y_up: bool = Field(
        default=True, description="SOMA soma_root_quat is Y up and is turned to Z up at load."
    )
    num_soma_joints: int = Field(
        default=26, gt=0, description="Joints per SOMA frame (soma_joints.shape[1])."
    )
    asset: str = Field(
        default=str(MJCF_PATH), description="MJCF whose kinematics give the tracked bodies (FK)."
    )
    target_fps: int = Field(
        default=50, gt=0, description="Rate of the resampled reference (one frame per control step)."
    )
    multi_thread: bool = Field(
        default=True, description="Load files in worker processes (single process for <= 128 files)."
    )
    num_workers: int | None = Field(
        default=None, ge=1, description="(ours) Worker processes; None: min(32, CPU count)."
    )
    filter_motion_keys: list[str] | None = Field(
        default=None,
        description="Keep only clips whose name equals, or fully matches as a regex, one of these.",
    )
    remove_motion_keys: list[str] | None = Field(
        default=None, description="Drop clips whose name starts with one of these prefixes."
    )
    max_unique_motions: int | None = Field(
        default=None, ge=1, description="Keep a random subset of this many clips (seeded; sorted names)."
    )
    fix_height: Literal["no_fix"] = Field(default="no_fix", description="Only SONIC's default is supported.")
    zero_root_xy: bool = Field(
        default=False, description="(our reading) Shift each clip so that its first root xy is (0, 0)."
    )
    freeze_frame_aug: bool = Field(
        default=True, description="Freeze-frame augmentation when the resident set is built."
    )
    freeze_frame_prob: float = Field(
        default=0.1, ge=0, le=1, description="Per-clip probability of freeze-frame."
    )
    cat_upper_body_poses: bool = Field(default=True, description="Upper-body concatenation augmentation.")
    cat_upper_body_poses_prob: float = Field(
        default=0.5,
        ge=0,
        le=1,
        description="Per-clip probability of upper-body concatenation (prefixed clips).",
    )
    upper_body_augment_prefixes: list[str] = Field(
        default=list(DEFAULT_UPPER_BODY_AUGMENT_PREFIXES),
        description="Clips whose name starts with one of these may get another clip's upper body.",
    )
    adaptive_sampling: AdaptiveSamplingConfig = Field(
        default_factory=AdaptiveSamplingConfig, description="Adaptive sampling by bins (§6.3)."
    )
    max_resident_clips: int = Field(
        default=1024,
        ge=1,
        description="(ours) Cap on clips on the device; SONIC hard-codes min(num_envs, 1024).",
    )
    resample_every: int = Field(
        default=250,
        ge=1,
        description="(ours) PPO iterations between redraws of the resident set (read by the trainer).",
    )
    use_cache: bool = Field(default=True, description="(ours) Cache the loaded host library on disk.")
    cache_dir: str | None = Field(
        default=None, description="(ours) Cache folder; None: $SONIC_CACHE_DIR or ~/.cache/sonic/motion_lib."
    )

    @field_validator("smpl_motion_file", "soma_motion_file")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None

    @property
    def smpl_is_dummy(self) -> bool:
        """True when no SMPL data is loaded (``None``, ``dummy`` or ``zeros``)."""
        return self.smpl_motion_file is None or self.smpl_motion_file in ("dummy", "zeros")

    def resolved_cache_dir(self) -> Path:
        """The cache folder this config uses (not created here)."""
        import os

        if self.cache_dir is not None:
            return Path(self.cache_dir).expanduser()
        env = os.environ.get("SONIC_CACHE_DIR")
        if env:
            return Path(env).expanduser() / "motion_lib"
        xdg = os.environ.get("XDG_CACHE_HOME")
        base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
        return base / "sonic" / "motion_lib"
