"""Rollout storage: preallocated buffers and minibatches split over environments."""

from __future__ import annotations

import pytest
import torch

from sonic_train.algo.storage import RolloutStorage, flatten_nested, unflatten_nested

STEPS, ENVS, ACTIONS = 6, 8, 3


def _obs(step: int) -> dict:
    """Observations whose values encode (step, env): id = step * ENVS + env."""
    ids = step * ENVS + torch.arange(ENVS, dtype=torch.float32)
    return {
        "tokenizer": {
            "command_multi_future_nonflat": ids[:, None, None].expand(ENVS, 10, 2).clone(),
            "encoder_index": torch.stack(
                [ids.long() % 2 == 0, ids.long() % 3 == 0, ids.long() % 5 == 0], dim=1
            ),
        },
        "policy": ids[:, None].expand(ENVS, 4).clone(),
        "critic": -ids[:, None].expand(ENVS, 5).clone(),
    }


def _filled() -> RolloutStorage:
    storage = RolloutStorage(STEPS, ENVS, ACTIONS, _obs(0), device="cpu")
    for t in range(STEPS):
        ids = t * ENVS + torch.arange(ENVS, dtype=torch.float32)
        storage.add(
            observations=_obs(t),
            actions=ids[:, None].expand(ENVS, ACTIONS) + 0.5,
            log_probs=-ids,
            action_mean=ids[:, None].expand(ENVS, ACTIONS) + 0.25,
            rewards=ids * 2,
            dones=(ids.long() % 7 == 0),
            time_outs=(ids.long() % 11 == 0),
            values=ids * 3,
        )
    ids = torch.arange(STEPS * ENVS, dtype=torch.float32).reshape(STEPS, ENVS)
    storage.set_returns(ids * 4, ids * 5)
    storage.set_action_std(torch.tensor([0.1, 0.2, 0.3]))
    return storage


def test_minibatches_cover_every_step_env_pair_once_per_epoch() -> None:
    """4 minibatches of 2 envs x 6 steps; per epoch the (step, env) ids are a permutation of all ids."""
    storage = _filled()
    batches = list(
        storage.minibatches(num_mini_batches=4, num_epochs=3, generator=torch.Generator().manual_seed(0))
    )
    assert len(batches) == 12
    for epoch in range(3):
        seen = []
        for mb in batches[epoch * 4 : (epoch + 1) * 4]:
            assert mb.env_ids.numel() == ENVS // 4
            policy = mb.observations["policy"]
            assert isinstance(policy, torch.Tensor) and policy.shape == (STEPS * 2, 4)
            ids = policy[:, 0]
            seen.append(ids)
            # every minibatch holds all steps of its envs
            assert torch.equal(torch.sort(ids.long() % ENVS).values.unique(), torch.sort(mb.env_ids).values)
        assert torch.equal(
            torch.sort(torch.cat(seen)).values, torch.arange(STEPS * ENVS, dtype=torch.float32)
        )


def test_minibatch_fields_stay_aligned_with_observations() -> None:
    """Every field of a sample comes from the same (step, env) as its observation."""
    storage = _filled()
    mb = next(iter(storage.minibatches(2, 1, torch.Generator().manual_seed(1))))
    ids = mb.observations["policy"][:, 0]  # type: ignore[index]
    torch.testing.assert_close(mb.actions, ids[:, None].expand(-1, ACTIONS) + 0.5)
    torch.testing.assert_close(mb.old_action_mean, ids[:, None].expand(-1, ACTIONS) + 0.25)
    torch.testing.assert_close(mb.old_log_probs, -ids)
    torch.testing.assert_close(mb.old_values, ids * 3)
    torch.testing.assert_close(mb.returns, ids * 4)
    torch.testing.assert_close(mb.advantages, ids * 5)
    critic = mb.observations["critic"]
    assert isinstance(critic, torch.Tensor)
    torch.testing.assert_close(critic[:, 0], -ids)
    tokenizer = mb.observations["tokenizer"]
    assert isinstance(tokenizer, dict)
    mask = tokenizer["encoder_index"]
    assert mask.dtype == torch.bool and mask.shape == (ids.numel(), 3)
    assert torch.equal(mask[:, 0], ids.long() % 2 == 0)
    torch.testing.assert_close(tokenizer["command_multi_future_nonflat"][:, 3, 1], ids)
    torch.testing.assert_close(mb.old_action_std, torch.tensor([0.1, 0.2, 0.3]))


def test_epochs_reshuffle_and_generator_makes_order_reproducible() -> None:
    """Different epochs use different env orders; the same generator seed gives the same order."""
    storage = _filled()
    orders = [mb.env_ids.tolist() for mb in storage.minibatches(1, 4, torch.Generator().manual_seed(5))]
    assert len({tuple(o) for o in orders}) > 1
    again = [mb.env_ids.tolist() for mb in storage.minibatches(1, 4, torch.Generator().manual_seed(5))]
    assert orders == again


def test_stored_dones_and_time_outs_are_boolean_rows() -> None:
    """Flags are written per step for all envs at once, as booleans."""
    storage = _filled()
    ids = torch.arange(STEPS * ENVS).reshape(STEPS, ENVS)
    assert torch.equal(storage.dones, ids % 7 == 0)
    assert torch.equal(storage.time_outs, ids % 11 == 0)
    torch.testing.assert_close(storage.rewards, ids.float() * 2)


def test_storage_errors_name_the_problem() -> None:
    """Indivisible minibatching, incomplete rollouts, overfilling and bad shapes raise clear errors."""
    storage = RolloutStorage(STEPS, ENVS, ACTIONS, _obs(0), device="cpu")
    with pytest.raises(RuntimeError, match="incomplete"):
        next(iter(storage.minibatches(4, 1)))
    bad = _obs(0)
    bad["policy"] = torch.zeros(ENVS, 5)
    zeros = torch.zeros(ENVS)
    with pytest.raises(ValueError, match="'policy'"):
        storage.add(bad, torch.zeros(ENVS, ACTIONS), zeros, torch.zeros(ENVS, ACTIONS), zeros, zeros, zeros)
    full = _filled()
    with pytest.raises(ValueError, match="multiple of num_mini_batches"):
        next(iter(full.minibatches(3, 1)))
    with pytest.raises(RuntimeError, match="full"):
        full.add(_obs(0), torch.zeros(ENVS, ACTIONS), zeros, torch.zeros(ENVS, ACTIONS), zeros, zeros, zeros)


def test_flatten_unflatten_round_trip() -> None:
    """One-level nesting survives flatten -> unflatten."""
    obs = _obs(2)
    back = unflatten_nested(flatten_nested(obs))
    assert back.keys() == obs.keys()
    assert torch.equal(back["tokenizer"]["encoder_index"], obs["tokenizer"]["encoder_index"])  # type: ignore[index]


def _to(obs: dict, device: str) -> dict:
    return {
        k: ({s: t.to(device) for s, t in v.items()} if isinstance(v, dict) else v.to(device))
        for k, v in obs.items()
    }


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_storage_gives_the_same_minibatches_as_cpu() -> None:
    """Buffers live on the GPU; the CPU-drawn permutation makes the minibatches equal to the CPU storage's."""
    cpu = _filled()
    gpu = RolloutStorage(STEPS, ENVS, ACTIONS, _to(_obs(0), "cuda"), device="cuda")
    for t in range(STEPS):
        gpu.add(
            observations=_to(_obs(t), "cuda"),
            actions=cpu.actions[t].cuda(),
            log_probs=cpu.log_probs[t].cuda(),
            action_mean=cpu.action_mean[t].cuda(),
            rewards=cpu.rewards[t].cuda(),
            dones=cpu.dones[t].cuda(),
            time_outs=cpu.time_outs[t].cuda(),
            values=cpu.values[t].cuda(),
        )
    gpu.set_returns(cpu.returns.cuda(), cpu.advantages.cuda())
    gpu.set_action_std(cpu.action_std.cuda())
    pairs = zip(
        cpu.minibatches(4, 2, torch.Generator().manual_seed(3)),
        gpu.minibatches(4, 2, torch.Generator().manual_seed(3)),
        strict=True,
    )
    for a, b in pairs:
        assert b.actions.is_cuda and b.env_ids.is_cuda
        assert torch.equal(a.env_ids, b.env_ids.cpu())
        assert torch.equal(a.observations["policy"], b.observations["policy"].cpu())  # type: ignore[union-attr]
        assert torch.equal(a.advantages, b.advantages.cpu())
