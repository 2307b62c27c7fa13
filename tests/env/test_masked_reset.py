"""MaskedReset: Isaac Lab's ``_reset_idx`` on a mask (``sonic_env.masked_reset``), in train mode on the CPU.

The whole graphed step with it is compared bit for bit with Isaac Lab's order in ``test_rl_env.py`` (eval
mode); here: what train mode adds (interval timers of the push), the logs against a hand computation, the
envs outside the mask untouched, and the refusals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from types import SimpleNamespace

import pytest
import torch

from sonic_env.config import EnvConfig
from sonic_env.env import SonicEnv
from sonic_env.masked_reset import MaskedReset, unsupported

NUM_ENVS = 4


@pytest.fixture(scope="module")
def env(sample_env_config: Callable[..., EnvConfig]) -> Iterator[SonicEnv]:
    env = SonicEnv(sample_env_config())
    env.reset()
    for _ in range(5):
        env.step(torch.zeros(NUM_ENVS, 29))
    yield env
    env.close()


def test_resets_only_the_masked_envs_and_logs_their_episodes(env: SonicEnv) -> None:
    inner = env.env
    reset = MaskedReset(inner)
    rewards = inner.reward_manager
    sums = rewards._episode_sum_buf  # noqa: SLF001
    before = torch.arange(sums.numel(), dtype=sums.dtype).reshape(sums.shape)
    sums.copy_(before)
    timers = inner.event_manager._interval_term_time_left[0]  # noqa: SLF001 (the push, every 4-6 s)
    timers.fill_(100.0)
    actions = inner.action_manager._action  # noqa: SLF001
    actions.fill_(0.5)
    history = inner.observation_manager._group_obs_term_history_buffer["policy"]["joint_pos"]  # noqa: SLF001
    pushes = history._num_pushes.clone()  # noqa: SLF001
    inner.episode_length_buf.fill_(7)
    length_s = inner.max_episode_length_s

    reset(torch.zeros(NUM_ENVS, dtype=torch.bool))
    assert float(reset.resets) == 0.0 and not reset.log_values.any(), (
        "no env reset: the logs keep their values"
    )
    assert torch.equal(timers, torch.full_like(timers, 100.0))

    mask = torch.tensor([False, True, True, False])
    expected = sums[mask].mean(dim=0) / length_s
    dones = inner.termination_manager._last_episode_dones.float().mean(dim=0)  # noqa: SLF001
    reset(mask)
    assert float(reset.resets) == 2.0
    n_rewards = len(rewards.active_terms)
    torch.testing.assert_close(reset.log_values[:n_rewards], expected)
    torch.testing.assert_close(reset.log_values[n_rewards:], dones)
    assert set(reset.log) == {f"Episode_Reward/{t}" for t in rewards.active_terms} | {
        f"Episode_Termination/{t}" for t in inner.termination_manager.active_terms
    }
    assert not sums[mask].any() and torch.equal(sums[~mask], before[~mask])
    assert ((timers[mask] >= 4.0) & (timers[mask] <= 6.0)).all() and (timers[~mask] == 100.0).all()
    assert not actions[mask].any() and (actions[~mask] == 0.5).all()
    assert not history._num_pushes[mask].any() and torch.equal(history._num_pushes[~mask], pushes[~mask])  # noqa: SLF001
    assert torch.equal(inner.episode_length_buf, torch.tensor([7, 0, 0, 7]))

    held = reset.log_values.clone()
    reset(torch.zeros(NUM_ENVS, dtype=torch.bool))
    assert torch.equal(reset.log_values, held) and float(reset.resets) == 0.0


def test_refuses_an_env_it_does_not_cover(env: SonicEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    inner = env.env
    assert unsupported(inner) == []
    monkeypatch.setattr(type(inner.curriculum_manager), "active_terms", property(lambda self: ["levels"]))
    delays = inner.observation_manager._group_obs_term_delay_buffer  # noqa: SLF001
    monkeypatch.setitem(delays, "policy", {"joint_pos": SimpleNamespace()})
    reasons = unsupported(inner)
    assert reasons == ["curriculum terms ['levels']", "delayed observation policy/joint_pos"]
    with pytest.raises(ValueError, match="curriculum terms.*delayed observation policy/joint_pos"):
        MaskedReset(inner)
