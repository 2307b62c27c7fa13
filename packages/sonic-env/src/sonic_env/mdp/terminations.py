"""SONIC's termination terms (SONIC_REFERENCE §4): training set with adaptive height thresholds, and eval set.

Presets (:class:`sonic_env.mdp_config.TerminationsConfig`): ``tracking/base_adaptive_strict_ori_foot_xyz``
(training: pelvis height 0.15 m, θ² 0.2 rad², end-effector height 0.15 m, both adaptive to 0.75 m while
the running reference pelvis height is below 0.5 m; foot 3-D position 0.2 m) and ``tracking/eval``
(0.25 m, 1.0 rad², 0.25 m, no foot term). Both end the episode at the clip's last frame as a
*time-out* (truncation, bootstrapped by PPO); there is no max-episode-length term, as in SONIC.

Pure functions of tensors plus thin Isaac Lab adapters that read the motion command term (see
:mod:`sonic_env.mdp.rewards` for its attributes). Isaac Lab logs each term as
``Episode_Termination/<term>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from isaaclab.managers import TerminationTermCfg
from isaaclab.utils import configclass
from torch import Tensor

from sonic_data import g1
from sonic_data.rotations import quat_error_angle
from sonic_env.mdp.observations import index_tensor
from sonic_env.mdp.rewards import ANCHOR, MOTION_COMMAND, tracking_state
from sonic_env.mdp_config import HeightTerminationConfig, TerminationsConfig

if TYPE_CHECKING:
    from isaaclab.envs import ManagerBasedRLEnv


# --------------------------------------------------------------------------------------------------
# Pure functions
# --------------------------------------------------------------------------------------------------


def height_threshold(
    running_ref_root_height: Tensor,
    threshold: float,
    adaptive_threshold: float | None = None,
    adaptive_below_height: float = 0.5,
) -> Tensor:
    """Per-env height threshold (m): ``adaptive_threshold`` while the running reference pelvis height is
    strictly below ``adaptive_below_height`` (low poses: crawling, sitting, lying), else ``threshold``.

    Args:
        running_ref_root_height: EMA of the reference pelvis height, ``(N,)``.

    Returns:
        ``(N,)`` thresholds.
    """
    fixed = torch.full_like(running_ref_root_height, threshold)
    if adaptive_threshold is None:
        return fixed
    return torch.where(running_ref_root_height < adaptive_below_height, adaptive_threshold, fixed)


def height_exceeded(ref_z: Tensor, robot_z: Tensor, threshold: Tensor | float) -> Tensor:
    """``|z_ref − z_robot| > threshold``, ``(N,)`` each → bool ``(N,)``."""
    return (ref_z - robot_z).abs() > threshold


def any_height_exceeded(ref_z: Tensor, robot_z: Tensor, threshold: Tensor | float) -> Tensor:
    """Any body with ``|z_ref − z_robot| > threshold``: ``(N, B)`` heights, ``(N,)`` or scalar threshold → ``(N,)``."""
    if isinstance(threshold, Tensor):
        threshold = threshold.unsqueeze(-1)
    return ((ref_z - robot_z).abs() > threshold).any(-1)


def orientation_exceeded(ref_quat: Tensor, robot_quat: Tensor, threshold: float) -> Tensor:
    """``θ(q_ref, q_robot)² > threshold`` (rad²), ``wxyz`` quaternions ``(N, 4)`` → bool ``(N,)``."""
    return quat_error_angle(ref_quat, robot_quat).square() > threshold


def any_position_exceeded(ref_pos: Tensor, robot_pos: Tensor, threshold: float) -> Tensor:
    """Any body with ``‖p_ref − p_robot‖ > threshold`` (m), ``(N, B, 3)`` each → bool ``(N,)``."""
    return ((ref_pos - robot_pos).norm(dim=-1) > threshold).any(-1)


def clip_ended(frames: Tensor, clip_lengths: Tensor) -> Tensor:
    """The reference is at its clip's last frame: ``frame + 1 ≥ length``, ``(N,)`` long each → bool ``(N,)``.

    SONIC's ``time_steps + start + 1 ≥ frame count``, with ``frames = start + time_steps``.
    """
    return frames + 1 >= clip_lengths


def tracked_body_indices(body_names: Sequence[str]) -> list[int]:
    """Indices of ``body_names`` among ``sonic_data.g1.TRACKED_BODY_NAMES``.

    Raises:
        ValueError: naming the bodies that are not tracked (the command term has no reference for them).
    """
    missing = [n for n in body_names if n not in g1.TRACKED_BODY_NAMES]
    if missing:
        raise ValueError(
            f"termination body_names {missing} are not tracked bodies; expected names from {g1.TRACKED_BODY_NAMES}"
        )
    return [g1.TRACKED_BODY_NAMES.index(n) for n in body_names]


# --------------------------------------------------------------------------------------------------
# Isaac Lab adapters: term(env, **params) -> bool (num_envs,)
# --------------------------------------------------------------------------------------------------


def _height_params(cfg: HeightTerminationConfig) -> dict[str, float | None]:
    return {
        "threshold": cfg.threshold,
        "adaptive_threshold": cfg.adaptive_threshold,
        "adaptive_below_height": cfg.adaptive_below_height,
    }


def exceeded_anchor_height(
    env: ManagerBasedRLEnv,
    threshold: float,
    adaptive_threshold: float | None = None,
    adaptive_below_height: float = 0.5,
    command_name: str = MOTION_COMMAND,
) -> Tensor:
    """Pelvis height error against the reference (world), with the adaptive threshold of
    :func:`height_threshold`."""
    s = tracking_state(env, command_name)
    limit = height_threshold(s.running_ref_root_height, threshold, adaptive_threshold, adaptive_below_height)
    return height_exceeded(s.ref_body_pos_w[:, ANCHOR, 2], s.robot_anchor_pos_w[:, 2], limit)


def exceeded_anchor_ori(
    env: ManagerBasedRLEnv, threshold: float, command_name: str = MOTION_COMMAND
) -> Tensor:
    """Full pelvis orientation error against the reference (world)."""
    s = tracking_state(env, command_name)
    return orientation_exceeded(s.ref_body_quat_w[:, ANCHOR], s.robot_anchor_quat_w, threshold)


def exceeded_body_height(
    env: ManagerBasedRLEnv,
    body_ids: list[int],
    threshold: float,
    adaptive_threshold: float | None = None,
    adaptive_below_height: float = 0.5,
    command_name: str = MOTION_COMMAND,
) -> Tensor:
    """Height error of any of the tracked bodies ``body_ids`` against the relative reference."""
    s = tracking_state(env, command_name)
    limit = height_threshold(s.running_ref_root_height, threshold, adaptive_threshold, adaptive_below_height)
    ids = index_tensor(body_ids, limit.device)
    return any_height_exceeded(s.body_pos_relative_w[:, ids, 2], s.robot_body_pos_w[:, ids, 2], limit)


def exceeded_body_pos(
    env: ManagerBasedRLEnv, threshold: float, body_ids: list[int], command_name: str = MOTION_COMMAND
) -> Tensor:
    """3-D position error of any of the tracked bodies ``body_ids`` against the relative reference."""
    s = tracking_state(env, command_name)
    ids = index_tensor(body_ids, s.body_pos_relative_w.device)
    return any_position_exceeded(s.body_pos_relative_w[:, ids], s.robot_body_pos_w[:, ids], threshold)


def tracking_time_out(env: ManagerBasedRLEnv, command_name: str = MOTION_COMMAND) -> Tensor:
    """The reference clip is at its last frame."""
    s = tracking_state(env, command_name)
    return clip_ended(s.frames, s.clip_lengths)


# --------------------------------------------------------------------------------------------------
# Isaac Lab configuration
# --------------------------------------------------------------------------------------------------


@configclass
class SonicTerminationsCfg:
    """SONIC's termination terms; build with :func:`termination_terms_cfg`. ``None`` = term absent."""

    anchor_pos: TerminationTermCfg | None = None
    anchor_ori_full: TerminationTermCfg | None = None
    ee_body_pos: TerminationTermCfg | None = None
    foot_pos_xyz: TerminationTermCfg | None = None
    time_out: TerminationTermCfg | None = None


def termination_terms_cfg(
    terminations: TerminationsConfig, command_name: str = MOTION_COMMAND
) -> SonicTerminationsCfg:
    """Isaac Lab termination terms for the selected preset (field name = ``Episode_Termination/<name>``).

    Raises:
        ValueError: if a body-based term names a body that is not tracked.
    """
    cfg = SonicTerminationsCfg()
    common = {"command_name": command_name}
    if terminations.anchor_pos is not None:
        cfg.anchor_pos = TerminationTermCfg(
            func=exceeded_anchor_height, params={**_height_params(terminations.anchor_pos), **common}
        )
    if terminations.anchor_ori_full is not None:
        cfg.anchor_ori_full = TerminationTermCfg(
            func=exceeded_anchor_ori, params={"threshold": terminations.anchor_ori_full.threshold, **common}
        )
    if terminations.ee_body_pos is not None:
        ee = terminations.ee_body_pos
        cfg.ee_body_pos = TerminationTermCfg(
            func=exceeded_body_height,
            params={"body_ids": tracked_body_indices(ee.body_names), **_height_params(ee), **common},
        )
    if terminations.foot_pos_xyz is not None:
        foot = terminations.foot_pos_xyz
        cfg.foot_pos_xyz = TerminationTermCfg(
            func=exceeded_body_pos,
            params={"threshold": foot.threshold, "body_ids": tracked_body_indices(foot.body_names), **common},
        )
    if terminations.time_out:
        cfg.time_out = TerminationTermCfg(func=tracking_time_out, params=common, time_out=True)
    return cfg
