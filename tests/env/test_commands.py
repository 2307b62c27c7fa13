"""The motion command in a 4-env CPU env (train mode, ``sonic_bones_seed`` contract) on the sample clips.

The clips have SMPL and SOMA data, so all four encoders and every tokenizer term (soma included) are
produced. One env for the module (``SonicEnv``), with an extra termination term the tests can fire to make
chosen envs fail, and a resident set of 2 of the 4 clips so that a redraw changes it. Every test
starts from ``reset()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import torch
from isaaclab.managers import TerminationTermCfg

from sonic_data import g1
from sonic_data.rotations import quat_error_angle
from sonic_env.config import EnvConfig
from sonic_env.env import SonicEnv
from sonic_env.env_cfg import build_env_cfg
from sonic_env.mdp.commands import MotionCommand, MotionCommandCfg
from sonic_env.mdp.encoder_sampling import encoder_probabilities
from sonic_env.mdp.observations import human_joints_local
from sonic_env.mdp.reference_math import relative_reference

NUM_ENVS = 4
FORCE: dict[str, torch.Tensor | None] = {"mask": None}
"""Envs the ``forced_failure`` termination term reports as failed on the next step."""


def forced_failure(env: object) -> torch.Tensor:
    """Termination term driven by the tests (no other term can fail here)."""
    mask = FORCE["mask"]
    return mask.clone() if mask is not None else torch.zeros(NUM_ENVS, dtype=torch.bool)


@pytest.fixture(scope="module")
def env(sample_env_config: Callable[..., EnvConfig]) -> Iterator[SonicEnv]:
    """Train-mode env: SMPL and SOMA on every clip, 2 resident slots (of 4 clips), one test-driven failure term."""
    config = sample_env_config({"max_resident_clips": 2}, soma=True, contract="sonic_bones_seed")
    cfg = build_env_cfg(config)
    cfg.terminations.forced_failure = TerminationTermCfg(func=forced_failure)  # pyright: ignore[reportAttributeAccessIssue]
    built = SonicEnv(config, cfg)
    yield built
    built.close()


def _zeros() -> torch.Tensor:
    return torch.zeros(NUM_ENVS, 29)


def test_100_zero_action_steps_give_the_contracts_shapes(env: SonicEnv) -> None:
    """reset + 100 steps: every tokenizer term has its contract shape, policy 930, critic 1645, all finite."""
    obs = env.reset()
    for _ in range(100):
        step = env.step(_zeros())
        obs = step.obs
        assert step.rewards.shape == step.dones.shape == step.time_outs.shape == (NUM_ENVS,)
    contract = env.contract
    expected = {t.name: t.shape for t in contract.tokenizer if not t.file_only}
    assert {k: tuple(v.shape[1:]) for k, v in obs.tokenizer.items()} == expected
    assert obs.policy.shape == (NUM_ENVS, 930) and obs.critic.shape == (NUM_ENVS, 1645)
    assert obs.tokenizer["encoder_index"].dtype == torch.bool
    assert obs.tokenizer["soma_joints_multi_future_local_nonflat"].shape == (NUM_ENVS, 10, 78)
    assert obs.tokenizer["smpl_joints_multi_future_local_nonflat"].abs().max() > 0.1  # real SMPL data
    for name, value in obs.tokenizer.items():
        assert torch.isfinite(value.float()).all(), name
    assert torch.isfinite(obs.policy).all() and torch.isfinite(obs.critic).all()


def test_interface_attributes_have_their_shapes(env: SonicEnv) -> None:
    """The attributes rewards and terminations read (shared interface): shapes and unit quaternions."""
    env.reset()
    cmd = env.command
    n = NUM_ENVS
    for name, shape in {
        "ref_body_pos_w": (n, 14, 3), "ref_body_quat_w": (n, 14, 4), "ref_body_lin_vel_w": (n, 14, 3),
        "ref_body_ang_vel_w": (n, 14, 3), "ref_joint_pos": (n, 29), "ref_joint_vel": (n, 29),
        "body_pos_relative_w": (n, 14, 3), "body_quat_relative_w": (n, 14, 4), "robot_body_pos_w": (n, 14, 3),
        "robot_body_quat_w": (n, 14, 4), "robot_body_lin_vel_w": (n, 14, 3), "robot_body_ang_vel_w": (n, 14, 3),
        "running_ref_root_height": (n,), "clip_ids": (n,), "frames": (n,), "clip_lengths": (n,),
        "encoder_mask": (n, 4), "ref_reward_points_local": (n, 3, 3), "robot_reward_points_local": (n, 3, 3),
    }.items():  # fmt: skip
        assert tuple(getattr(cmd, name).shape) == shape, name
    for name in ("ref_body_quat_w", "robot_body_quat_w", "body_quat_relative_w"):
        torch.testing.assert_close(getattr(cmd, name).norm(dim=-1), torch.ones(n, 14), atol=1e-5, rtol=0)
    assert (cmd.frames < cmd.clip_lengths).all()


def test_reset_puts_robots_on_the_reference_within_the_noise(env: SonicEnv) -> None:
    """Train reset: root within ±(0.05, 0.05, 0.01) m, tilt within the Euler ranges, joints within ±0.1 rad, not exact."""
    env.reset()
    cmd = env.command
    d = cmd.robot_body_pos_w[:, 0] - cmd.ref_body_pos_w[:, 0]
    assert (d[:, :2].abs() <= 0.05 + 1e-4).all() and (d[:, 2].abs() <= 0.01 + 1e-4).all()
    angle = quat_error_angle(cmd.robot_body_quat_w[:, 0], cmd.ref_body_quat_w[:, 0])
    assert (angle <= (0.1**2 + 0.1**2 + 0.2**2) ** 0.5 + 1e-4).all()
    q = env.env.scene["robot"].data.joint_pos.torch  # pyright: ignore[reportAttributeAccessIssue]
    dq = q - cmd.ref_joint_pos
    assert (dq.abs() <= 0.1 + 1e-5).all()
    assert dq.abs().max() > 0.02 and d.abs().max() > 0.002  # the noise is there


def test_frames_advance_one_per_step_up_to_the_last_frame(env: SonicEnv) -> None:
    """frame ← frame + 1 each step; env 1 parked one frame before its clip's end reaches the last frame.

    Frames never pass the last one: ``assign`` clamps, and the clip-end time-out resets an env there.
    """
    env.reset()
    cmd = env.command
    last = cmd.clip_lengths[1:2] - 1
    cmd.assign(torch.tensor([1]), cmd.slots[1:2], last + 100)
    assert int(cmd.frames[1]) == int(last)
    cmd.assign(torch.tensor([1]), cmd.slots[1:2], last - 1)
    before = cmd.frames.clone()
    step = env.step(_zeros())
    assert not step.dones.any()
    torch.testing.assert_close(cmd.frames, before + 1)
    assert int(cmd.frames[1]) == int(last)


def test_running_root_height_is_an_ema_of_the_reference(env: SonicEnv) -> None:
    """After a step h = 0.9·h + 0.1·z_ref(new frame); at reset h = z_ref."""
    env.reset()
    cmd = env.command
    origin_z = env.env.scene.env_origins[:, 2]
    torch.testing.assert_close(cmd.running_ref_root_height, cmd.ref_body_pos_w[:, 0, 2] - origin_z)
    before = cmd.running_ref_root_height.clone()
    env.step(_zeros())
    expected = 0.9 * before + 0.1 * (cmd.ref_body_pos_w[:, 0, 2] - origin_z)
    torch.testing.assert_close(cmd.running_ref_root_height, expected)


def test_relative_reference_is_recomputed_each_step(env: SonicEnv) -> None:
    """body_*_relative_w equal §3's formula on the new frame and the robot pelvis at command time."""
    env.reset()
    env.step(_zeros())
    cmd = env.command
    pos, quat = relative_reference(
        cmd.ref_body_pos_w, cmd.ref_body_quat_w, cmd.robot_body_pos_w[:, 0], cmd.robot_body_quat_w[:, 0]
    )
    torch.testing.assert_close(cmd.body_pos_relative_w, pos)
    torch.testing.assert_close(cmd.body_quat_relative_w, quat)


def test_tokenizer_noise_is_bounded_and_the_critic_is_clean(env: SonicEnv) -> None:
    """Train mode: tokenizer motion_anchor_ori_b = critic's (noise-free) ± 0.05, and differs from it."""
    obs = env.reset()
    for _ in range(3):
        obs = env.step(_zeros()).obs
    noisy = obs.tokenizer["motion_anchor_ori_b"]
    clean = obs.critic[:, 583:589]  # command_multi_future 580, motion_anchor_pos_b 3, then the 6D
    assert (noisy - clean).abs().max() <= 0.05 + 1e-6
    assert (noisy - clean).abs().max() > 0.01


def test_policy_history_is_filled_with_the_first_observation(env: SonicEnv) -> None:
    """After reset all 10 history entries of each proprioception term are the same vector."""
    obs = env.reset()
    widths = {"base_ang_vel": 3, "joint_pos": 29, "joint_vel": 29, "actions": 29, "gravity_dir": 3}
    start = 0
    for name, width in widths.items():
        block = obs.policy[:, start : start + 10 * width].reshape(NUM_ENVS, 10, width)
        torch.testing.assert_close(block, block[:, :1].expand_as(block), msg=name)
        start += 10 * width
    assert start == 930
    gravity = obs.policy[:, 900:903]
    assert (gravity[:, 2] < -0.9).all()  # near upright at the start of a clip


def test_a_failure_is_credited_to_the_bin_where_it_happened(env: SonicEnv) -> None:
    """Env 0 fails at frame f of a clip: exactly that clip's bin gets +1 failure, not the new start's (quirk fix)."""
    env.reset()
    cmd = env.command
    lib = cmd.lib
    slot = int(lib.resident_lengths.argmax())
    fail_frame = int(lib.resident_lengths[slot]) - 5
    cmd.assign(torch.tensor([0]), torch.tensor([slot]), torch.tensor([fail_frame]))
    clip = lib.resident_clip_ids[slot : slot + 1]
    fail_bin = int(lib.sampler.bin_of(clip, torch.tensor([fail_frame])))
    failures = lib.sampler.failures.clone()
    FORCE["mask"] = torch.tensor([True, False, False, False])
    try:
        step = env.step(_zeros())
    finally:
        FORCE["mask"] = None
    assert step.dones.tolist() == [True, False, False, False] and not step.time_outs.any()
    new_clip = lib.resident_clip_ids[cmd.slots[:1]]
    start_bin = int(lib.sampler.bin_of(new_clip, cmd.frames[:1] - 1))
    assert start_bin != fail_bin, "precondition: the new start lies in another bin"
    delta = lib.sampler.failures - failures
    assert float(delta[fail_bin]) == 1.0
    assert float(delta.sum()) == 1.0


def test_redraw_draws_new_resident_clips_and_resets_every_env(env: SonicEnv) -> None:
    """4 clips, 2 slots: redraw() builds a new resident set and resets all envs (episode step 0)."""
    env.reset()
    for _ in range(3):
        env.step(_zeros())
    # (a robot may fail in these steps under zero actions, depending on its random start)
    assert (env.env.episode_length_buf > 0).sum() >= NUM_ENVS - 1
    builds = env.command.lib._builds  # noqa: SLF001
    assert env.redraw() is True
    assert env.command.lib._builds == builds + 1  # noqa: SLF001
    assert (env.env.episode_length_buf == 0).all()
    assert (env.command.slots < env.command.lib.num_resident).all()
    # The per-slot encoder probabilities follow the resident set: make the next one lack SMPL everywhere.
    cmd, lib = env.command, env.command.lib
    before = cmd._slot_encoder_probs().clone()  # noqa: SLF001
    lib.set_resident([0, 1])
    lib.resident.has_smpl.zero_()
    fresh = encoder_probabilities(
        cmd.base_probs, cmd.encoder_names, lib.resident_has_smpl, lib.resident_has_soma
    )
    assert not torch.equal(fresh, before), "precondition: the tables differ"
    assert torch.equal(cmd._slot_encoder_probs(), fresh)  # noqa: SLF001
    env.redraw()


def test_reference_windows_use_sonics_spacing_and_joint_orders(env: SonicEnv) -> None:
    """Tokenizer terms equal the library's windows gathered independently: g1 frames t+5k, human frames t+k."""
    env.reset()
    obs = env.step(_zeros()).obs
    cmd = env.command
    lib = cmd.lib
    isaac = [g1.JOINT_NAMES.index(n) for n in g1.ISAACLAB_JOINT_NAMES]
    g1_frames = cmd.frames[:, None] + 5 * torch.arange(10)
    slots = cmd.slots[:, None].expand_as(g1_frames)
    window = lib.state(slots.reshape(-1), g1_frames.reshape(-1)).robot
    pos = window.joint_pos.reshape(NUM_ENVS, 10, 29)[..., isaac]
    vel = window.joint_vel.reshape(NUM_ENVS, 10, 29)[..., isaac]
    expected = torch.cat((pos.flatten(1), vel.flatten(1)), dim=-1)
    torch.testing.assert_close(obs.tokenizer["command_multi_future_nonflat"].flatten(1), expected)
    torch.testing.assert_close(obs.critic[:, :580], expected)
    human_frames = cmd.frames[:, None] + torch.arange(10)
    human = lib.state(slots.reshape(-1), human_frames.reshape(-1), parts=("smpl",))
    wrists = human.robot.joint_pos.reshape(NUM_ENVS, 10, 29)[..., isaac[23:]]
    torch.testing.assert_close(obs.tokenizer["joint_pos_multi_future_wrist_for_smpl"], wrists)
    assert human.smpl is not None
    joints = human.smpl.joints.reshape(NUM_ENVS, 10, 24, 3)
    local = human_joints_local(joints, human.smpl.root_quat.reshape(NUM_ENVS, 10, 4))
    assert (obs.tokenizer["smpl_joints_multi_future_local_nonflat"] - local).abs().max() <= 0.05 + 1e-6


def test_timer_resampling_is_refused() -> None:
    """The command resamples only on reset: a finite Isaac Lab resampling period is a config error."""
    cfg = MotionCommandCfg(motion={}, resampling_time_range=(5.0, 5.0))
    with pytest.raises(ValueError, match="resampling_time_range"):
        MotionCommand(cfg, env=None)  # pyright: ignore[reportArgumentType]


def test_pinned_windows_keep_their_storage_and_follow_the_reference(env: SonicEnv) -> None:
    """After windows.pin() (the CUDA-graphed step) the windows are refreshed in place, through steps and resets."""
    cmd = env.command
    env.reset()
    env.step(_zeros())
    cmd.windows.pin()
    try:
        windows = cmd.windows.held
        assert set(windows) == {"now", "g1", "human"}
        storage = {key: (w.robot.data.data_ptr(), w.frames.data_ptr()) for key, w in windows.items()}
        for step in range(12):
            if step == 6:
                env.reset()  # the index path's resample refreshes them too
            env.step(_zeros())
            for key, window in windows.items():
                assert (window.robot.data.data_ptr(), window.frames.data_ptr()) == storage[key], key
                fresh = cmd.windows.gather(key)
                assert torch.equal(window.robot.data, fresh.robot.data), key
                assert torch.equal(window.frames, fresh.frames), key
        assert windows["human"].smpl is not None and windows["now"].teleop is not None
    finally:
        cmd.windows.pinned = False
