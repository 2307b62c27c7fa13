"""SonicRLEnv: the motion command's resets prepared before the step's host sync (``sonic_env.rl_env``).

The reference is Isaac Lab's own order (``overlap_resets=False``): in eval mode, where the reset draws are
deterministic (slot ``i mod k``, frame 0, a forced encoder), both orders must give bit-identical steps.
In train mode the prepared path must leave the envs that are not done untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
import torch

from sonic_env.config import EnvConfig
from sonic_env.env import SonicEnv
from sonic_env.rl_env import SonicRLEnv

NUM_ENVS = 4
STEPS = 80


def test_overlapped_resets_give_isaac_labs_steps_bit_for_bit_in_eval_mode(
    sample_env_config: Callable[..., EnvConfig], rollout: Callable[..., Any]
) -> None:
    """80 zero-action eval steps with resets: observations, rewards and dones equal Isaac Lab's order exactly."""
    fields = {"mode": "eval", "motion": {"use_encoder": "g1"}}
    overlapped, dones, overlaps, _ = rollout(sample_env_config(**fields))
    plain, plain_dones, plain_overlaps, _ = rollout(sample_env_config(overlap_resets=False, **fields))
    assert overlaps and not plain_overlaps
    assert dones == plain_dones and dones >= NUM_ENVS, "precondition: robots fell and were reset"
    for t, (a, b) in enumerate(zip(overlapped, plain, strict=True)):
        for x, y in zip(a, b, strict=True):
            assert torch.equal(x, y), f"step {t} differs"


@pytest.mark.parametrize("masked", [True, False], ids=["masked-reset", "host-synced-reset"])
def test_graphed_step_sequence_gives_isaac_labs_steps_bit_for_bit_in_eval_mode(
    sample_env_config: Callable[..., EnvConfig],
    monkeypatch: pytest.MonkeyPatch,
    graphed_on_cpu: Callable[[], None],
    rollout: Callable[..., Any],
    masked: bool,
) -> None:
    """The graphed step's own sequence (segments, masked or host-synced reset, flags), replayed by re-running,
    equals Isaac Lab's.

    Steps bit for bit, episode logs to float rounding (a masked sum against a mean over gathered rows). Without
    observation noise: Isaac Lab's reset draws the motion command's (constant) resampling timer from torch's
    global generator for the reset envs, the masked reset does not, and the policy terms' noise comes next
    from that generator. What a real CUDA graph adds (no Python on replay) is checked on the GPU
    (``benchmarks/env_graphs.py``).
    """
    fields = {"mode": "eval", "motion": {"use_encoder": "g1"}, "observation_noise": False}
    graphed_on_cpu()

    calls: list[bool] = []

    def spy(env: SonicEnv) -> None:
        inner = env.env
        graphed_step = inner._graphed_step  # pyright: ignore[reportAttributeAccessIssue]  # noqa: SLF001

        def counted(action: torch.Tensor) -> object:
            out = graphed_step(action)
            calls.append(inner.masked_reset is not None)  # pyright: ignore[reportAttributeAccessIssue]
            return out

        inner._graphed_step = counted  # pyright: ignore[reportAttributeAccessIssue]  # noqa: SLF001

    config = sample_env_config(cuda_graphs=True, masked_reset=masked, **fields)
    graphed, dones, _, graphed_logs = rollout(config, spy)
    monkeypatch.undo()
    assert calls == [masked] * STEPS, (
        "precondition: every step took the graphed path, with the reset asked for"
    )
    plain, plain_dones, _, plain_logs = rollout(sample_env_config(overlap_resets=False, **fields))
    assert dones == plain_dones and dones >= NUM_ENVS, "precondition: robots fell and were reset"
    for t, (a, b) in enumerate(zip(graphed, plain, strict=True)):
        for x, y in zip(a, b, strict=True):
            assert torch.equal(x, y), f"step {t} differs"
    assert len({tuple(log.values()) for log in plain_logs}) > 2, "precondition: the logs changed at resets"
    for t, (a, b) in enumerate(zip(graphed_logs, plain_logs, strict=True)):
        assert a.keys() == b.keys() and a == pytest.approx(b, rel=1e-5, abs=1e-7), f"step {t}'s log differs"


def test_prepare_resets_draws_only_the_done_envs(sample_env_config: Callable[..., EnvConfig]) -> None:
    """Train mode: envs not done keep slot, frame, encoders and robot state; the done one is on its new reference."""
    env = SonicEnv(sample_env_config())
    try:
        env.reset()
        for _ in range(2):
            env.step(torch.zeros(NUM_ENVS, 29))
        cmd = env.command
        robot = env.env.scene["robot"]
        before = {
            "slots": cmd.slots.clone(),
            "frames": cmd.frames.clone(),
            "encoders": cmd.encoder_mask.clone(),
            "q": robot.data.joint_pos.torch.clone(),  # pyright: ignore[reportAttributeAccessIssue]
            "root": robot.data.root_link_pose_w.torch.clone(),  # pyright: ignore[reportAttributeAccessIssue]
        }
        done = torch.tensor([False, True, False, False])
        cmd.prepare_resets(done)
        after = {
            "slots": cmd.slots,
            "frames": cmd.frames,
            "encoders": cmd.encoder_mask,
            "q": robot.data.joint_pos.torch,  # pyright: ignore[reportAttributeAccessIssue]
            "root": robot.data.root_link_pose_w.torch,  # pyright: ignore[reportAttributeAccessIssue]
        }
        for key, value in before.items():
            assert torch.equal(after[key][~done], value[~done]), key
        assert int(cmd.frames[1]) < int(cmd.lib.resident_lengths[cmd.slots[1]])
        assert cmd.encoder_mask[1].any()
        q_ref = cmd.ref_joint_pos[1]
        assert (robot.data.joint_pos.torch[1] - q_ref).abs().max() <= 0.1 + 1e-5  # pyright: ignore[reportAttributeAccessIssue]
        root_ref = cmd.ref_body_pos_w[1, 0]
        assert (robot.data.root_link_pose_w.torch[1, :2] - root_ref[:2]).abs().max() <= 0.05 + 1e-4  # pyright: ignore[reportAttributeAccessIssue]
        slots = cmd.slots.clone()
        cmd._resample_command([1])  # noqa: SLF001 (what Isaac Lab's reset calls next)
        assert torch.equal(cmd.slots, slots), "a prepared env is not drawn twice"
        cmd.compute(0.02)
        assert not cmd.resets_prepared

        # Draws made ahead (beside the physics) are the ones kept, without drawing again.
        cmd.draw_resets()
        drawn = cmd._drawn  # noqa: SLF001
        assert drawn is not None
        drawn_slots, drawn_frames = drawn.slots.clone(), drawn.frames.clone()
        states = (cmd.generator.get_state(), cmd.lib.generator.get_state())
        cmd.resets_drawn = True
        done = torch.tensor([False, False, True, False])
        cmd.prepare_resets(done)
        assert not cmd.resets_drawn, "the draws are used once"
        assert torch.equal(cmd.generator.get_state(), states[0])
        assert torch.equal(cmd.lib.generator.get_state(), states[1])
        assert int(cmd.slots[2]) == int(drawn_slots[2]) and int(cmd.frames[2]) == int(drawn_frames[2])
        torch.testing.assert_close(robot.data.joint_pos.torch[2], drawn.joint_pos[2])  # pyright: ignore[reportAttributeAccessIssue]
    finally:
        env.close()


def test_overlap_is_off_when_something_reads_between_rewards_and_resets() -> None:
    """compute_final_obs or active recorders (or overlap_resets=False) keep Isaac Lab's order."""
    env = object.__new__(SonicRLEnv)

    def configure(requested: bool, final_obs: bool, recorders: list[str]) -> bool:
        env._overlap_requested = requested  # noqa: SLF001
        env.cfg = SimpleNamespace(compute_final_obs=final_obs)  # pyright: ignore[reportAttributeAccessIssue]
        env.recorder_manager = SimpleNamespace(active_terms=recorders)  # pyright: ignore[reportAttributeAccessIssue]
        return env.overlaps_resets

    assert configure(True, False, [])
    assert not configure(False, False, [])
    assert not configure(True, True, [])
    assert not configure(True, False, ["frames"])
