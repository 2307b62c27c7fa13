"""Render mode on CPU: eval + replay env with the render recorder writes one decodable mp4 per clip.

Clips: a hand-built knee-bending clip (1.2 s) and the generated standing clip (trimmed to 0.8 s), so
the episodes end by time-out at the clip's end. In replay the robot sits on the reference, and the
blue reference robot is drawn ``ghost_offset`` beside it. Independent references: frame counts from
the clip lengths, the camera's pinhole projection computed here by hand, and reference body
positions from ``sonic_data``'s forward kinematics of the clip (not from the simulator).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from sonic_data import g1
from sonic_data.formats import RobotMotion, write_robot_pkl
from sonic_data.kinematics import G1Kinematics
from sonic_env.config import EnvConfig
from sonic_env.env import SonicEnv
from sonic_env.render.config import RenderConfig
from sonic_env.render.scene import GHOST_NAME, camera_eye_target

WIDTH, HEIGHT = 160, 120
KNEE = g1.JOINT_NAMES.index("left_knee_joint")
CLIPS = {"knee_bend_001__A901": 1.2, "stand_still_001__A902": 0.8}
"""Clip name -> duration (s); both play at 50 frames per second after resampling."""


def _clip(seconds: float, knee_amplitude: float, fps: float = 50.0) -> RobotMotion:
    t = np.arange(round(seconds * fps) + 1) / fps
    joints = np.tile(np.asarray(g1.DEFAULT_JOINT_POS, dtype=np.float32), (len(t), 1))
    joints[:, KNEE] += knee_amplitude * np.sin(math.pi * t / seconds)
    root = np.tile(np.array([0.0, 0.0, g1.DEFAULT_ROOT_HEIGHT], dtype=np.float32), (len(t), 1))
    quat = np.tile(np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32), (len(t), 1))
    return RobotMotion(root_pos=root, root_quat=quat, joint_pos=joints, fps=fps)


@pytest.fixture(scope="module")
def rendered(
    tmp_path_factory: pytest.TempPathFactory, sample_env_config: Callable[..., EnvConfig]
) -> Iterator[tuple[Path, SonicEnv, list[torch.Tensor]]]:
    """Run the replay env until both clips ended; yield the video folder, the env and the reference per step."""
    clips = tmp_path_factory.mktemp("render_clips")
    for (name, seconds), amplitude in zip(CLIPS.items(), (1.2, 0.0), strict=True):
        write_robot_pkl(clips / f"{name}.pkl", {name: _clip(seconds, amplitude)})
    out = tmp_path_factory.mktemp("renders")
    config = sample_env_config(
        {"motion_file": str(clips), "smpl_motion_file": None},
        num_envs=2,
        mode="eval",
        replay=True,
        observation_noise=False,
        recorders="render",
        config={
            "env_spacing": 10.0,
            "render_results": True,
            "save_rendering_dir": str(out),
            "render": {"width": WIDTH, "height": HEIGHT},
        },  # fmt: skip
    )
    env = SonicEnv(config)
    env.reset()
    zeros = torch.zeros(env.num_envs, env.contract.num_actions)
    drawn = []  # per step: (reference frame the step draws, ghost bodies read back after the step)
    ghost = env.env.scene[GHOST_NAME]
    for _ in range(int(env.command.clip_lengths.max())):
        reference = env.command.ref_body_pos_w.clone()
        env.step(zeros)
        ghost_pos = ghost.data.body_link_pos_w.torch[:, env.command.robot_body_ids].clone()  # pyright: ignore[reportAttributeAccessIssue]
        drawn.append(torch.stack([reference, ghost_pos]))
    yield out, env, drawn
    env.close()


def _decode(path: Path) -> np.ndarray:
    import imageio.v2 as iio

    with iio.get_reader(path) as reader:  # pyright: ignore[reportGeneralTypeIssues]
        return np.stack([frame for frame in reader.iter_data()])  # pyright: ignore[reportAttributeAccessIssue]


def _index(out: Path) -> dict[str, dict]:
    lines = [json.loads(line) for line in (out / "videos.jsonl").read_text().splitlines()]
    return {line["clip"]: line for line in lines}


def test_one_video_per_clip_with_one_frame_per_step(
    rendered: tuple[Path, SonicEnv, list[torch.Tensor]],
) -> None:
    """Each clip of n frames gives one mp4 of n - 1 frames (steps until its time-out), at the configured size."""
    out, _, _ = rendered
    index = _index(out)
    assert sorted(index) == sorted(CLIPS)
    assert sorted(p.name for p in out.glob("*.mp4")) == ["000000.mp4", "000001.mp4"]
    for clip, seconds in CLIPS.items():
        frames = _decode(out / index[clip]["video"])
        assert frames.shape == (round(seconds * 50), HEIGHT, WIDTH, 3)
        assert index[clip]["frames"] == len(frames) and index[clip]["ended"] == "time_out"


def test_frames_change_while_the_knee_bends_and_not_while_standing(
    rendered: tuple[Path, SonicEnv, list[torch.Tensor]],
) -> None:
    """The knee clip's frames differ over time; the standing clip's stay the same (up to encoding noise)."""
    out, _, _ = rendered
    index = _index(out)
    knee = _decode(out / index["knee_bend_001__A901"]["video"]).astype(np.int16)
    stand = _decode(out / index["stand_still_001__A902"]["video"]).astype(np.int16)
    middle = len(knee) // 2
    assert np.abs(knee[middle] - knee[0]).max() > 100
    assert (np.abs(knee[middle] - knee[0]).max(axis=-1) > 60).sum() > 50
    assert (np.abs(stand[-1] - stand[0]).max(axis=-1) > 60).sum() < 5


def _project(
    points: torch.Tensor, eye: torch.Tensor, target: torch.Tensor, render: RenderConfig
) -> np.ndarray:
    """Pixel (column, row) of world ``points (P, 3)`` in a pinhole camera at ``eye`` looking at ``target`` (Z up)."""
    forward = torch.nn.functional.normalize(target - eye, dim=0)
    right = torch.nn.functional.normalize(torch.linalg.cross(forward, torch.tensor([0.0, 0.0, 1.0])), dim=0)
    up = torch.linalg.cross(right, forward)
    d = points - eye
    f_px = WIDTH * render.focal_length / 20.955  # Isaac Lab's default horizontal aperture (mm)
    col = WIDTH / 2 + f_px * (d @ right) / (d @ forward)
    row = HEIGHT / 2 - f_px * (d @ up) / (d @ forward)
    return torch.stack([col, row], dim=-1).round().long().numpy()


def _is_blue(frame: np.ndarray, col: int, row: int) -> bool:
    patch = frame[max(row - 1, 0) : row + 2, max(col - 1, 0) : col + 2].astype(np.int16)
    return bool(((patch[..., 2] - patch[..., 0] > 60) & (patch[..., 2] > patch[..., 1])).any())


def test_replay_draws_the_reference_where_forward_kinematics_puts_it(
    rendered: tuple[Path, SonicEnv, list[torch.Tensor]],
) -> None:
    """Reference bodies (FK of the clip) projected by hand land on blue pixels; 0.6 m further aside they do not."""
    out, env, _ = rendered
    render = env.config.config.render
    offset = torch.tensor(render.ghost_offset)
    fk = G1Kinematics()
    index = _index(out)
    clip = "knee_bend_001__A901"
    motion = _clip(CLIPS[clip], 1.2)
    frames = _decode(out / index[clip]["video"])
    origin = env.env.scene.env_origins[index[clip]["env"]].cpu()
    bodies = fk.body_indices(
        ["pelvis", "torso_link", "left_knee_link", "right_knee_link", "left_ankle_roll_link"]
    )
    for step in (0, len(frames) // 2, len(frames) - 1):
        # The video's k-th frame is drawn after step k + 1, on reference frame k + 1.
        joint_pos = torch.as_tensor(motion.joint_pos[step + 1])
        root = torch.as_tensor(motion.root_pos[step + 1]) + origin
        pos, _ = fk(root, torch.tensor([1.0, 0.0, 0.0, 0.0]), joint_pos)
        eye, target = camera_eye_target(root.unsqueeze(0), render)
        hits = [
            _is_blue(frames[step], *px) for px in _project(pos[bodies] + offset, eye[0], target[0], render)
        ]
        misses = [
            _is_blue(frames[step], *px)
            for px in _project(pos[bodies] + 1.6 * offset, eye[0], target[0], render)
        ]
        assert sum(hits) >= 4 and sum(misses) == 0, (step, hits, misses)


def test_replay_ghost_holds_the_drawn_reference_frame(
    rendered: tuple[Path, SonicEnv, list[torch.Tensor]],
) -> None:
    """During the clips the ghost, read from the simulator after each step, is that step's reference + offset."""
    _, env, drawn = rendered
    offset = torch.tensor(env.config.config.render.ghost_offset)
    for step in (0, 10, 30):
        reference, ghost_pos = drawn[step]
        assert (ghost_pos - offset - reference).norm(dim=-1).max() < 1e-3, step
