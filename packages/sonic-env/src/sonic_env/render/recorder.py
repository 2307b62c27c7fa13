"""Recorder terms of the render scene (Isaac Lab's recorder manager, ``env_cfg.recorders``).

SONIC's recorder presets (``manager_env.recorders``): ``empty`` (default; no term) and ``render``
(:class:`RenderVideoRecorder`: one mp4 per episode). :class:`ReferenceGhostRecorder` is added
whenever the ghost robot is in the scene (videos or live viewer).

Per env step Isaac Lab calls ``record_post_step`` after physics, terminations and rewards and before
resets, then ``record_pre_reset`` / ``record_post_reset`` around the resets of finished episodes.
So a frame shows the robot that the step's rewards judged, beside the reference frame it was
compared with, and an episode's last frame is rendered before its env is reset.

Videos: ``<save_rendering_dir>/000000.mp4``, ``000001.mp4``, … numbered in the order episodes end
(after any numbers already in the folder), at one frame per control step, with one line per video
appended to ``videos.jsonl`` (``video``, ``clip``, ``env``, ``frames``, ``ended``: ``time_out``,
``terminated`` or ``reset``). In eval mode every clip is recorded once (env ``i`` replays its slot
from frame 0 when its clip ends before the others': those repeats are not recorded); in train mode
every episode is. An episode still running when the env closes is discarded.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import MISSING
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from isaaclab.managers import RecorderTerm, RecorderTermCfg
from isaaclab.managers.recorder_manager import DatasetExportMode, RecorderManagerBaseCfg
from isaaclab.utils import configclass

from sonic_env.mdp.observations import COMMAND_NAME
from sonic_env.render.config import RenderConfig
from sonic_env.render.scene import CAMERA_NAME, GHOST_NAME, camera_eye_target
from sonic_env.render.video import Mp4Writer, VideoBackend, available_backend
from sonic_env.replay import write_reference_state

if TYPE_CHECKING:
    from isaaclab.assets import Articulation
    from isaaclab.envs import ManagerBasedRLEnv

    from sonic_env.mdp.commands import MotionCommand

__all__ = [
    "INDEX_FILE",
    "RECORDER_PRESETS",
    "ReferenceGhostRecorder",
    "ReferenceGhostRecorderCfg",
    "RenderVideoRecorder",
    "RenderVideoRecorderCfg",
    "SonicRecordersCfg",
    "next_video_index",
]

RECORDER_PRESETS = ("empty", "render")
"""Recorder presets (SONIC's ``manager_env/recorders`` choices)."""

INDEX_FILE = "videos.jsonl"
"""Per-video index written beside the videos."""

_VIDEO_NAME = re.compile(r"^(\d{6})\.mp4$")


def next_video_index(folder: Path) -> int:
    """One past the highest ``NNNNNN.mp4`` in ``folder`` (0 when there is none)."""
    if not folder.is_dir():
        return 0
    found = [int(m.group(1)) for p in folder.iterdir() if (m := _VIDEO_NAME.match(p.name))]
    return max(found, default=-1) + 1


def _ids(env_ids: Sequence[int] | torch.Tensor | None, num_envs: int) -> list[int]:
    if env_ids is None:
        return list(range(num_envs))
    if isinstance(env_ids, torch.Tensor):
        return [int(i) for i in env_ids.reshape(-1).tolist()]
    return [int(i) for i in env_ids]


class ReferenceGhostRecorder(RecorderTerm):
    """Writes the reference robot (ghost) onto the current reference frame, shifted by ``ghost_offset``.

    Velocities are written as zero and the ghost has neither gravity nor contacts, so it stays where
    it is written through the next physics steps. In replay mode the robot is put back on its
    reference too before the frame is drawn: replay writes it at command time, and the physics
    steps in between would otherwise show 0.02 s of unactuated fall instead of the reference.
    """

    cfg: ReferenceGhostRecorderCfg

    def __init__(self, cfg: ReferenceGhostRecorderCfg, env: ManagerBasedRLEnv) -> None:
        super().__init__(cfg, env)
        self.ghost: Articulation = env.scene[GHOST_NAME]
        self.command: MotionCommand = env.command_manager.get_term(COMMAND_NAME)  # pyright: ignore[reportAttributeAccessIssue]
        self.offset = torch.tensor(cfg.offset, dtype=torch.float32, device=env.device)

    def write(self) -> None:
        """Put every ghost on its env's current reference frame (+ offset); in replay, the robot too."""
        cmd = self.command
        ref = cmd._state("now").robot  # pyright: ignore[reportPrivateUsage]
        ids = torch.arange(self._env.num_envs, device=self._env.device)
        write_reference_state(
            self.ghost, ids, cmd.ref_body_pos_w[:, 0] + self.offset, ref.root_quat_w, ref.joint_pos
        )
        if self.cfg.replay:
            cmd.write_reference_to_robot()

    def record_post_step(self) -> tuple[str | None, Any]:
        self.write()
        return None, None

    def record_post_reset(self, env_ids: Sequence[int] | None) -> tuple[str | None, Any]:
        self.write()
        return None, None


@configclass
class ReferenceGhostRecorderCfg(RecorderTermCfg):
    """Configuration of :class:`ReferenceGhostRecorder`."""

    class_type: type = ReferenceGhostRecorder
    offset: tuple[float, float, float] = (0.0, 1.0, 0.0)
    """World-frame offset (m) of the drawn reference."""
    replay: bool = False
    """Replay mode: also put the robot on its reference before each frame."""


class _Episode:
    def __init__(self, writer: Mp4Writer, clip_id: int) -> None:
        self.writer, self.clip_id = writer, clip_id


class RenderVideoRecorder(RecorderTerm):
    """One mp4 per episode from each env's camera (see the module docstring for names and rules)."""

    cfg: RenderVideoRecorderCfg

    def __init__(self, cfg: RenderVideoRecorderCfg, env: ManagerBasedRLEnv) -> None:
        super().__init__(cfg, env)
        self.render = RenderConfig.model_validate(cfg.render)
        self.camera = env.scene[CAMERA_NAME]
        self.robot: Articulation = env.scene["robot"]
        self.command: MotionCommand = env.command_manager.get_term(COMMAND_NAME)  # pyright: ignore[reportAttributeAccessIssue]
        self.out_dir = Path(cfg.save_dir).expanduser()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self.backend: VideoBackend = available_backend()
        self.fps = self.render.fps or 1.0 / env.step_dt
        self.next_index = next_video_index(self.out_dir)
        self.episodes: dict[int, _Episode] = {}
        self.recorded_clips: set[int] = set()
        self.videos: list[Path] = []

    # ------------------------------------------------------------------ frames
    def frames(self) -> torch.Tensor:
        """Aim every camera at its robot/ghost pair and render: ``(N, H, W, 3)`` uint8 RGB on the host."""
        pelvis = self.robot.data.root_link_pos_w.torch  # pyright: ignore[reportAttributeAccessIssue]
        eye, target = camera_eye_target(pelvis, self.render)
        self.camera.set_world_poses_from_view(eye, target)
        return self.camera.data.output["rgb"].torch[..., :3].to("cpu")

    def record_post_step(self) -> tuple[str | None, Any]:
        if self.episodes:
            images = self.frames().numpy()
            for env_id, episode in self.episodes.items():
                episode.writer.append(images[env_id])
        return None, None

    # ------------------------------------------------------------------ episodes
    def record_post_reset(self, env_ids: Sequence[int] | None) -> tuple[str | None, Any]:
        clip_ids = self.command.clip_ids
        for env_id in _ids(env_ids, self._env.num_envs):
            if env_id in self.episodes:
                continue
            clip = int(clip_ids[env_id])
            if self.cfg.once_per_clip and clip in self.recorded_clips:
                continue
            self.recorded_clips.add(clip)
            writer = Mp4Writer(
                self.out_dir / f"env{env_id}.mp4",
                self.render.width,
                self.render.height,
                self.fps,
                self.backend,
            )
            self.episodes[env_id] = _Episode(writer, clip)
        return None, None

    def record_pre_reset(self, env_ids: Sequence[int] | None) -> tuple[str | None, Any]:
        terms = getattr(self._env, "termination_manager", None)
        for env_id in _ids(env_ids, self._env.num_envs):
            episode = self.episodes.pop(env_id, None)
            if episode is None:
                continue
            if episode.writer.frames == 0:
                episode.writer.discard()
                self.recorded_clips.discard(episode.clip_id)
                continue
            ended = "reset"
            if terms is not None and bool(terms.time_outs[env_id]):
                ended = "time_out"
            elif terms is not None and bool(terms.terminated[env_id]):
                ended = "terminated"
            self._publish(env_id, episode, ended)
        return None, None

    def _publish(self, env_id: int, episode: _Episode, ended: str) -> None:
        name = f"{self.next_index:06d}.mp4"
        self.next_index += 1
        self.videos.append(episode.writer.close(self.out_dir / name))
        line = {
            "video": name,
            "clip": self.command.lib.names[episode.clip_id],
            "env": env_id,
            "frames": episode.writer.frames,
            "ended": ended,
        }
        with (self.out_dir / INDEX_FILE).open("a") as index:
            index.write(json.dumps(line) + "\n")

    def close(self, file_path: str | None = None) -> None:
        """Discard episodes still running (their videos would be cut at an arbitrary frame)."""
        for episode in self.episodes.values():
            episode.writer.discard()
        self.episodes.clear()


@configclass
class RenderVideoRecorderCfg(RecorderTermCfg):
    """Configuration of :class:`RenderVideoRecorder`."""

    class_type: type = RenderVideoRecorder
    save_dir: str = MISSING  # pyright: ignore[reportAssignmentType]
    """Folder of the videos (``manager_env.config.save_rendering_dir``)."""
    render: dict = MISSING  # pyright: ignore[reportAssignmentType]
    """``RenderConfig.model_dump()``."""
    once_per_clip: bool = False
    """Eval mode: record each library clip once."""


@configclass
class SonicRecordersCfg(RecorderManagerBaseCfg):
    """The recorder manager of the render scene: terms only, no HDF5 dataset."""

    dataset_export_mode: DatasetExportMode = DatasetExportMode.EXPORT_NONE
    export_in_record_pre_reset: bool = False
    ghost: ReferenceGhostRecorderCfg | None = None
    video: RenderVideoRecorderCfg | None = None
