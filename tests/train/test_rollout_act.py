"""RolloutActor (the rollout's act): the same actions as policy.act, into buffers that keep their storage.

The CUDA-graph replay itself needs a GPU (``benchmarks/train_throughput.py --cuda-graphs`` runs it there);
on CPU the actor is eager, and ``cuda_graphs`` is ignored.
"""

from __future__ import annotations

import torch

from sonic_env.env import SonicObservations
from sonic_model import UniversalTokenPolicy
from sonic_model import preset as model_preset
from sonic_train.rollout_act import RolloutActor

ENVS = 4


def _obs(policy: UniversalTokenPolicy, seed: int) -> SonicObservations:
    gen = torch.Generator().manual_seed(seed)
    contract = policy.contract
    terms = {
        t.name: torch.randn(ENVS, *t.shape, generator=gen)
        for t in contract.tokenizer
        if not t.file_only and t.name != "encoder_index"
    }
    terms["encoder_index"] = torch.tensor([[1, 0, 0], [0, 1, 0], [1, 1, 1], [1, 0, 1]], dtype=torch.bool)
    return SonicObservations(
        tokenizer=terms,
        policy=torch.randn(ENVS, contract.proprioception_width, generator=gen),
        critic=torch.randn(ENVS, contract.critic_width, generator=gen),
    )


def test_actor_acts_like_the_policy_on_copies_in_fixed_buffers() -> None:
    torch.manual_seed(0)
    small = model_preset("small")
    policy = UniversalTokenPolicy(small.model, small.contract)
    actor = RolloutActor(policy, _obs(policy, 0), cuda_graphs=True)  # ignored on CPU
    assert actor.graphs is None
    storage = actor.inputs["policy"].data_ptr()
    for seed in (1, 2):
        obs = _obs(policy, seed)
        torch.manual_seed(seed)
        observed, out = actor(obs)
        torch.manual_seed(seed)
        with torch.no_grad():
            expected = policy.act(obs.tokenizer, obs.tokenizer["encoder_index"], obs.policy)
        assert torch.equal(out.actions, expected.actions) and torch.equal(out.log_prob, expected.log_prob)
        assert observed["policy"].data_ptr() == storage
        assert torch.equal(observed["policy"], obs.policy) and torch.equal(observed["critic"], obs.critic)
        assert all(torch.equal(observed["tokenizer"][k], v) for k, v in obs.tokenizer.items())
        assert observed["policy"] is not obs.policy, "the env's buffers are copied, not aliased"
