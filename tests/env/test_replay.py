"""Replay mode in eval: robots are written onto the reference every step; observations read back from the simulator.

Clips: a hand-built PKL that moves only the left knee (root fixed, every other joint at the default
pose) and the generated standing clip. Eval assigns env ``i`` to resident slot ``i mod 2`` from frame
0 with no noise. Everything compared here is read from the simulator (body poses, joint state) or
from the observation groups, against the motion library's reference.
"""

from __future__ import annotations

import math
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from sonic_data import g1
from sonic_data.formats import RobotMotion, write_robot_pkl
from sonic_data.samples import SampleDataset
from sonic_env.config import EnvConfig
from sonic_env.env import SonicEnv

NUM_ENVS = 4
KNEE_CLIP = "knee_only_001__A900"
KNEE = g1.JOINT_NAMES.index("left_knee_joint")
SIX_D_IDENTITY = torch.tensor([1.0, 0.0, 0.0, 1.0, 0.0, 0.0])
STEPS = 25


def _knee_motion(fps: float = 30.0, seconds: float = 4.0) -> RobotMotion:
    """Root fixed at 0.76 m, default pose, left knee = default + 0.4·sin(πt)."""
    t = np.arange(int(seconds * fps) + 1) / fps
    joints = np.tile(np.asarray(g1.DEFAULT_JOINT_POS, dtype=np.float32), (len(t), 1))
    joints[:, KNEE] += 0.4 * np.sin(math.pi * t)
    root = np.tile(np.array([0.0, 0.0, g1.DEFAULT_ROOT_HEIGHT], dtype=np.float32), (len(t), 1))
    quat = np.tile(np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32), (len(t), 1))
    return RobotMotion(root_pos=root, root_quat=quat, joint_pos=joints, fps=fps)


@pytest.fixture(scope="module")
def env(
    tmp_path_factory: pytest.TempPathFactory,
    sample_data: SampleDataset,
    sample_env_config: Callable[..., EnvConfig],
) -> Iterator[SonicEnv]:
    """Eval + replay env on the knee clip and the standing clip (robot data only)."""
    root = tmp_path_factory.mktemp("replay_clips")
    write_robot_pkl(root / f"{KNEE_CLIP}.pkl", {KNEE_CLIP: _knee_motion()})
    stand = next(Path(sample_data.robot_filtered).rglob("stand_idle_neutral_001__A001.pkl"))
    shutil.copy(stand, root / stand.name)
    config = sample_env_config(
        {"motion_file": str(root), "smpl_motion_file": None},
        mode="eval",
        replay=True,
        observation_noise=False,
    )
    built = SonicEnv(config)
    yield built
    built.close()


def _sim_bodies(env: SonicEnv) -> tuple[torch.Tensor, torch.Tensor]:
    """Tracked-body positions and wxyz orientations read from the simulator."""
    data = env.env.scene["robot"].data
    ids = env.command.robot_body_ids
    pos = data.body_link_pos_w.torch[:, ids]  # pyright: ignore[reportAttributeAccessIssue]
    quat_xyzw = data.body_link_quat_w.torch[:, ids]  # pyright: ignore[reportAttributeAccessIssue]
    return pos, quat_xyzw[..., [3, 0, 1, 2]]


def _assert_on_reference(env: SonicEnv) -> None:
    pos, quat = _sim_bodies(env)
    cmd = env.command
    assert (pos - cmd.ref_body_pos_w).norm(dim=-1).max() < 1e-3
    dot = (quat * cmd.ref_body_quat_w).sum(-1).abs()
    torch.testing.assert_close(dot, torch.ones_like(dot), atol=1e-5, rtol=0)


def test_eval_reset_plays_clips_in_order_from_frame_zero(env: SonicEnv) -> None:
    """Env i plays slot i mod 2 from frame 0; with no reset noise the robot starts exactly on the reference."""
    env.reset()
    cmd = env.command
    assert cmd.slots.tolist() == [0, 1, 0, 1] and cmd.frames.tolist() == [0, 0, 0, 0]
    assert sorted(cmd.lib.names) == [KNEE_CLIP, "stand_idle_neutral_001__A001"]
    _assert_on_reference(env)


def test_replay_keeps_every_tracked_body_within_1mm(env: SonicEnv) -> None:
    """For 25 steps the simulator's tracked bodies equal the reference bodies of the current frame."""
    env.reset()
    for step in range(STEPS):
        env.step(torch.zeros(NUM_ENVS, 29))
        assert env.command.frames.tolist() == [step + 1] * NUM_ENVS
        _assert_on_reference(env)


def test_anchor_terms_are_identity_on_the_reference(env: SonicEnv) -> None:
    """On the reference: motion_anchor_ori_b = [1,0,0,1,0,0] (tokenizer and critic), motion_anchor_pos_b = 0,
    frame 0 of the anchor-orientation window too, and the critic's body_pos = the reference in its pelvis frame."""
    env.reset()
    for _ in range(5):
        obs = env.step(torch.zeros(NUM_ENVS, 29)).obs
    identity = SIX_D_IDENTITY.expand(NUM_ENVS, 6)
    torch.testing.assert_close(obs.tokenizer["motion_anchor_ori_b"], identity, atol=1e-5, rtol=0)
    torch.testing.assert_close(
        obs.tokenizer["motion_anchor_ori_b_mf_nonflat"][:, 0], identity, atol=1e-5, rtol=0
    )
    torch.testing.assert_close(obs.critic[:, 580:583], torch.zeros(NUM_ENVS, 3), atol=1e-4, rtol=0)
    torch.testing.assert_close(obs.critic[:, 583:589], identity, atol=1e-5, rtol=0)
    cmd = env.command
    ref = cmd.ref_body_pos_w - cmd.ref_body_pos_w[:, :1]
    # The standing and knee clips have the identity root orientation, so the pelvis frame is the world's.
    torch.testing.assert_close(
        cmd.ref_body_quat_w[:, 0], torch.tensor([[1.0, 0, 0, 0]] * NUM_ENVS), atol=1e-4, rtol=0
    )
    torch.testing.assert_close(obs.critic[:, 589:631], ref.flatten(1), atol=1e-3, rtol=0)


def test_knee_clip_changes_only_isaaclab_slot_9_and_leg_slot_3(env: SonicEnv) -> None:
    """joint_pos (policy, newest entry) changes only at Isaac Lab index 9; the lower-body command only at leg slot 3."""
    env.reset()
    cmd = env.command
    knee_env = int((cmd.clip_ids == cmd.lib.names.index(KNEE_CLIP)).nonzero()[0])
    joint_pos, lower = [], []
    for _ in range(6):
        obs = env.step(torch.zeros(NUM_ENVS, 29)).obs
        joint_pos.append(obs.policy[knee_env, 30:320].reshape(10, 29)[-1].clone())
        lower.append(obs.tokenizer["command_multi_future_lower_body"][knee_env].reshape(2, 10, 12).clone())
    q = torch.stack(joint_pos)
    dq = (q[1:] - q[:-1]).abs()
    assert (dq[:, 9] > 1e-3).all()
    others = torch.cat((dq[:, :9], dq[:, 10:]), dim=1)
    assert others.max() < 1e-5, f"other Isaac Lab slots moved: {others.max(0).values}"
    default = env.env.scene["robot"].data.default_joint_pos.torch[knee_env, KNEE]  # pyright: ignore[reportAttributeAccessIssue]
    ref_knee = env.command.ref_joint_pos[knee_env, KNEE] - default  # default incl. any randomised offset
    assert float(q[-1, 9]) == pytest.approx(float(ref_knee), abs=1e-5)
    lo = torch.stack(lower)
    dlo = (lo[1:] - lo[:-1]).abs()
    assert (dlo[..., 3].amax(dim=(1, 2)) > 1e-3).all()
    leg_others = torch.cat((dlo[..., :3], dlo[..., 4:]), dim=-1)
    assert leg_others.max() < 1e-6
