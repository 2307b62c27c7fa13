"""The render scene: the meshed robot, the reference as a ghost robot, and one camera per env.

Added to an env configuration by :func:`add_render_scene` when videos are written
(``manager_env.config.render_results``) or a live viewer is open:

* the robot spawns from the meshed USD (:func:`~sonic_env.render.assets.render_usd_path`, same
  physics as the mesh-free one, checked by ``tests/env/test_render_assets.py``);
* ``ghost``: a second G1 articulation (blue, no collision geoms, gravity off, no actuators) that
  :class:`~sonic_env.render.recorder.ReferenceGhostRecorder` writes from the reference every step,
  shifted by ``render.ghost_offset`` so it stands beside the robot (or on it, with a zero offset);
* ``render_camera`` (videos only): Isaac Lab's camera sensor with its kit-less ray tracer
  (``NewtonWarpRendererCfg``), one per env, aimed by :func:`camera_eye_target` each frame.

The recorder terms live in Isaac Lab's recorder manager (``env_cfg.recorders``): their post-step hook
runs after physics, terminations and rewards and before resets, so a frame shows the robot that the
step's rewards judged next to the reference frame it was compared with.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from sonic_env.render.config import RenderConfig

if TYPE_CHECKING:
    from sonic_env.config import EnvConfig
    from sonic_env.env_cfg import SonicEnvCfg

__all__ = ["CAMERA_NAME", "GHOST_NAME", "add_render_scene", "camera_eye_target", "configure_rendering"]

GHOST_NAME = "ghost"
"""Scene name of the reference robot."""

CAMERA_NAME = "render_camera"
"""Scene name of the video camera."""


def camera_eye_target(robot_pos_w: Tensor, config: RenderConfig) -> tuple[Tensor, Tensor]:
    """Camera eye and look-at points for each env: aimed at the middle of the robot and its ghost.

    Args:
        robot_pos_w: ``(N, 3)`` robot pelvis positions, world frame.
        config: the render settings (distance, height, azimuth, target height, ghost offset).

    Returns:
        ``eyes (N, 3)``, ``targets (N, 3)``, world frame; the camera keeps a fixed world direction
        (it follows the robot without turning with it).
    """
    offset = torch.tensor(config.ghost_offset, dtype=robot_pos_w.dtype, device=robot_pos_w.device)
    center = robot_pos_w + (0.5 * offset if config.ghost else 0.0)
    target = center.clone()
    target[:, 2] = config.target_height
    az = math.radians(config.camera_azimuth_deg)
    eye = center.clone()
    eye[:, 0] += config.camera_distance * math.cos(az)
    eye[:, 1] += config.camera_distance * math.sin(az)
    eye[:, 2] = config.camera_height
    return eye, target


def add_render_scene(env_cfg: SonicEnvCfg, config: EnvConfig, *, camera: bool) -> None:
    """Switch ``env_cfg`` to the meshed robot and add the ghost (and the camera) in place.

    Args:
        env_cfg: from :func:`sonic_env.env_cfg.build_env_cfg`.
        config: its env configuration (hand mass, ``config.render``).
        camera: add the video camera (``render_results``); the live viewer needs none.
    """
    import isaaclab.sim as sim_utils
    from isaaclab.sensors import CameraCfg
    from isaaclab_newton.renderers import NewtonWarpRendererCfg

    from sonic_env.render.assets import render_usd_path

    render = config.config.render
    hand_mass = config.config.robot.hand_mass
    robot = env_cfg.scene.robot
    robot.spawn = robot.spawn.replace(usd_path=str(render_usd_path(hand_mass, "robot")))  # pyright: ignore[reportOptionalMemberAccess]
    if render.ghost:
        ghost = robot.replace(prim_path="{ENV_REGEX_NS}/Ghost", actuators={})
        ghost.spawn = robot.spawn.replace(  # pyright: ignore[reportOptionalMemberAccess]
            usd_path=str(render_usd_path(hand_mass, "ghost")),
            activate_contact_sensors=False,
            rigid_props=sim_utils.RigidBodyPropertiesCfg(disable_gravity=True),
        )
        setattr(env_cfg.scene, GHOST_NAME, ghost)
    if camera:
        setattr(
            env_cfg.scene,
            CAMERA_NAME,
            CameraCfg(
                prim_path="{ENV_REGEX_NS}/RenderCamera",
                width=render.width,
                height=render.height,
                data_types=["rgb"],
                spawn=sim_utils.PinholeCameraCfg(
                    focal_length=render.focal_length, clipping_range=(0.05, 100.0)
                ),
                renderer_cfg=NewtonWarpRendererCfg(),
            ),
        )


def configure_rendering(env_cfg: SonicEnvCfg, config: EnvConfig) -> None:
    """Add the render scene, recorder terms and live viewer that ``config`` asks for to ``env_cfg`` (in place).

    Videos (``config.config.render_results`` with ``recorders="render"``) and a live viewer
    (``config.viewer``) both get the meshed robot and the ghost; only videos get the camera and the
    video recorder; only the viewer gets a visualizer.
    """
    from sonic_env.render.recorder import ReferenceGhostRecorderCfg, RenderVideoRecorderCfg, SonicRecordersCfg

    videos = config.config.render_results
    if not (videos or config.viewer is not None):
        return
    if config.viewer is not None:
        from sonic_env.viewer import visualizer_cfg

        env_cfg.sim.visualizer_cfgs = [visualizer_cfg(config.viewer)]
    render = config.config.render
    add_render_scene(env_cfg, config, camera=videos)
    recorders = SonicRecordersCfg()
    if render.ghost:
        recorders.ghost = ReferenceGhostRecorderCfg(offset=render.ghost_offset, replay=config.replay)
    if videos:
        recorders.video = RenderVideoRecorderCfg(
            save_dir=config.config.save_rendering_dir,
            render=render.model_dump(mode="json"),
            once_per_clip=config.mode == "eval",
        )
    env_cfg.recorders = recorders
