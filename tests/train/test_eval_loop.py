"""The eval loop in a 4-env CPU env (eval mode, replay) on 16 short clips: 4 batches, every clip once.

Replay writes every robot onto its reference frame after the frame advances, so the robot after a step is
exactly the *next* reference frame (read back from the simulator, ~1 mm). That gives the evaluator's
timing an independent reference: against the ``advanced`` reference the error is ~0; against the
``targeted`` one (the frame the action aimed at) it is the reference's own motion over one frame,
computed here from a separate :class:`MotionLibrary`. ``use_encoder=teleop`` forces the teleop token.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import torch

from sonic_data.formats import RobotMotion, read_robot_pkl, write_robot_pkl
from sonic_data.motion_lib import MotionLibConfig, MotionLibrary
from sonic_data.samples import build_sample_dataset
from sonic_env.config import EnvConfig
from sonic_env.env import SonicEnv
from sonic_model import UniversalTokenPolicy, preset
from sonic_train.evaluator import EvalResult, Evaluator, ObservationRecorder, driving_encoder
from sonic_train.learner import ENCODER_MASK

NUM_ENVS = 4
PARTS, PART_FRAMES = 4, 7
"""Each of the 4 sample clips is cut into 4 clips of 7 frames at 30 fps (10 frames at 50 fps): 16 clips."""


def write_short_clips(out: Path, samples: Path, parts: int = PARTS, frames: int = PART_FRAMES) -> Path:
    """Cut every robot clip under ``samples`` into ``parts`` consecutive pieces of ``frames`` frames."""
    for pkl in sorted(samples.rglob("*.pkl")):
        for name, m in read_robot_pkl(pkl).items():
            for j in range(parts):
                s = slice(j * (frames - 1), j * (frames - 1) + frames)
                key = f"{name}_part{j}"
                piece = RobotMotion(
                    root_pos=m.root_pos[s], root_quat=m.root_quat[s], joint_pos=m.joint_pos[s], fps=m.fps
                )
                write_robot_pkl(out / f"{key}.pkl", {key: piece})
    return out


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """16 short robot clips and a private SONIC cache."""
    old = os.environ.get("SONIC_CACHE_DIR")
    os.environ["SONIC_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    root = tmp_path_factory.mktemp("eval-loop")
    samples = build_sample_dataset(
        root / "samples",
        motions=("stand_idle_neutral_001__A001", "squat_slow_001__A002", "wave_right_hand_001__A003"),
    )
    yield write_short_clips(root / "short", samples.robot_filtered)
    if old is None:
        os.environ.pop("SONIC_CACHE_DIR", None)
    else:
        os.environ["SONIC_CACHE_DIR"] = old


def _lib_cfg(clips: Path) -> dict:
    return {"motion_file": str(clips), "smpl_motion_file": None, "multi_thread": False}


@pytest.fixture(scope="module")
def env(clips: Path) -> Iterator[SonicEnv]:
    config = EnvConfig.model_validate(
        {
            "num_envs": NUM_ENVS,
            "device": "cpu",
            "seed": 0,
            "contract": "small",
            "mode": "eval",
            "replay": True,
            "terminations": "tracking/eval",
            "commands": {"motion": {"use_encoder": "teleop", "motion_lib_cfg": _lib_cfg(clips)}},
        }
    )
    built = SonicEnv(config)
    yield built
    built.close()


@pytest.fixture(scope="module")
def policy() -> UniversalTokenPolicy:
    torch.manual_seed(0)
    p = preset("small")
    return UniversalTokenPolicy(p.model, p.contract, with_critic=False)


@pytest.fixture(scope="module")
def advanced(env: SonicEnv, policy: UniversalTokenPolicy) -> EvalResult:
    return Evaluator(env, policy, reference="advanced", console=None).run()


def test_every_clip_is_evaluated_exactly_once_over_the_batches(env: SonicEnv, advanced: EvalResult) -> None:
    """16 clips, 4 envs: 4 batches; each library clip appears once, measured over its L − 1 frames."""
    lib = env.command.lib
    assert lib.num_clips == 16 and len(env.eval_batches()) == 4
    assert [m.motion for m in advanced.motions] == lib.names
    assert [m.clip_id for m in advanced.motions] == list(range(16))
    assert all(m.success and m.progress == 1.0 and m.fail_step is None for m in advanced.motions)
    assert {m.num_frames for m in advanced.motions} == {10}
    assert all(m.eval_frames == m.num_frames - 1 for m in advanced.motions)


def test_replayed_robot_matches_the_advanced_reference(advanced: EvalResult) -> None:
    """The robot is written onto the advanced frame, so every error is within read-back precision."""
    agg = advanced.aggregates()
    assert agg["success_rate"] == 1.0 and agg["progress_rate"] == 1.0
    assert max(m.metrics["mpjpe_g"] for m in advanced.motions) < 1.0
    assert agg["eval/all/mpjpe_l"] < 1.0 and agg["eval/success/mpjpe_g"] == agg["eval/all/mpjpe_g"]


def test_targeted_reference_is_one_frame_behind(
    env: SonicEnv, policy: UniversalTokenPolicy, clips: Path
) -> None:
    """Against the frame the action aimed at, mpjpe_g = mean over t < L−1 of mean_b ‖p(t+1) − p(t)‖."""
    result = Evaluator(env, policy, reference="targeted", console=None).run()
    lib = MotionLibrary(MotionLibConfig.model_validate(_lib_cfg(clips)), num_envs=16, training=False)
    slots = torch.arange(16).repeat_interleave(9)
    frames = torch.arange(9).repeat(16)
    now = lib.state(slots, frames, parts=()).robot.body_pos_w.reshape(16, 9, -1, 3)
    nxt = lib.state(slots, frames + 1, parts=()).robot.body_pos_w.reshape(16, 9, -1, 3)
    expected = (nxt - now).norm(dim=-1).mean(dim=(1, 2)) * 1000.0
    measured = torch.tensor([m.metrics["mpjpe_g"] for m in result.motions])
    assert expected.max() > 3.0  # the clips move enough for the lag to show
    assert torch.allclose(measured, expected.float(), atol=1.0), (measured, expected)


def test_use_encoder_makes_teleop_drive_every_episode(
    env: SonicEnv, policy: UniversalTokenPolicy, advanced: EvalResult
) -> None:
    """Forced teleop: mask = teleop only, every motion driven by it, action = decode(teleop token) ≠ g1's."""
    assert {m.encoder for m in advanced.motions} == {"teleop"}
    obs = env.reset()
    mask = obs.tokenizer[ENCODER_MASK]
    assert mask.tolist() == [[False, True, False]] * NUM_ENVS
    assert driving_encoder(mask).tolist() == [1] * NUM_ENVS
    action = policy.act_inference(obs.tokenizer, mask, obs.policy)
    with torch.no_grad():
        by_teleop = policy.decode(policy.encode("teleop", obs.tokenizer)[1], obs.policy)
        by_g1 = policy.decode(policy.encode("g1", obs.tokenizer)[1], obs.policy)
    assert torch.allclose(action, by_teleop)
    assert not torch.allclose(action, by_g1, atol=1e-4)


def test_driving_encoder_is_the_last_active_column() -> None:
    """g1+teleop+smpl → smpl; g1+teleop → teleop; nothing → −1."""
    mask = torch.tensor([[True, True, True], [True, True, False], [False, False, False]])
    assert driving_encoder(mask).tolist() == [2, 1, -1]


def test_recorder_writes_contract_named_rows(
    env: SonicEnv, policy: UniversalTokenPolicy, tmp_path: Path
) -> None:
    """6 rows of every env-built tokenizer term and the 5 proprioception terms, split in contract order."""
    recorder = ObservationRecorder(env.contract, max_rows=6)
    Evaluator(env, policy, recorder=recorder, console=None).run_batch(env.eval_batches()[0])
    path = recorder.save(tmp_path / "obs.npz")
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    sizes = {t.name: t.size for t in env.contract.proprioception}
    assert {k: v.shape for k, v in arrays.items() if k in sizes} == {k: (6, s) for k, s in sizes.items()}
    assert sum(sizes.values()) == env.contract.proprioception_width
    assert arrays[ENCODER_MASK].tolist() == [[0.0, 1.0, 0.0]] * 6
    assert arrays["command_multi_future_nonflat"].shape == (6, 580)
