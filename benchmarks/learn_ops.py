"""Torch operators and host syncs per PPO minibatch update of a preset (JSON line; CPU is enough).

The learning phase of ``single_gpu`` took 319 ms per iteration on one H200 (20 minibatch updates of
4,096 × 24 / 4 samples, TF32), several times its FLOP bound: a hint that it is bound by launches and host
syncs, like the env step was. This counts, for one :meth:`sonic_train.learner.Learner.update` on a
random rollout of the preset's real network and losses, the operators that reach the dispatcher
(forward, backward and optimizer kernels; ``TorchDispatchMode``) and the scalar reads among them
(``aten::_local_scalar_dense``: ``.item()``, ``float(tensor)``, ``bool(tensor)``) by the project line
that made them, per minibatch. On CUDA a scalar read of a device tensor is a host sync; AdamW's step
counters (read inside ``optimizer.step``) live on the host unless the optimizer is capturable, so those
reads are not syncs there. Since session 5 the update reads the host only once, at its end (the lr, skipped steps
and the NaN-KL check in one ``tolist``, which is not one of these operators), so none is listed. The counts do not depend on the number of envs; the sizes here are small so
it runs on the CPU in seconds.

Usage::

    .venv/bin/python benchmarks/learn_ops.py [--exp single_gpu] [--envs 64]
"""

from __future__ import annotations

import argparse
import json
import traceback
from collections import Counter
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

SYNC_OPS = ("aten::_local_scalar_dense", "aten::item", "aten::is_nonzero")


class OpCounter(TorchDispatchMode):
    """Counts operators, and host syncs among them by the project line that asked for them, while active."""

    def __init__(self) -> None:
        super().__init__()
        self.ops = 0
        self.syncs: Counter[str] = Counter()

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        self.ops += 1
        if str(func.name()) in SYNC_OPS:
            ours = [f for f in traceback.extract_stack() if "/src/sonic_" in f.filename]
            where = f"{ours[-1].filename.split('/src/')[-1]}:{ours[-1].lineno}" if ours else "?"
            self.syncs[where] += 1
        return func(*args, **(kwargs or {}))


def random_rollout_learner(config: Any, n: int, device: str, cuda_graphs: bool = False) -> tuple[Any, Any]:
    """A :class:`~sonic_train.learner.Learner` for the preset ``config`` and a full rollout of ``n`` envs of random
    observations with the policy's own actions, returns and advantages set (shared by the learn benchmarks)."""
    from sonic_model import UniversalTokenPolicy
    from sonic_train.algo import RolloutStorage
    from sonic_train.checkpoints import contract_for
    from sonic_train.dist import DistContext
    from sonic_train.learner import Learner

    contract = contract_for(config)
    ppo = config.algo.config
    torch.manual_seed(0)
    policy = UniversalTokenPolicy(config.model, contract, with_critic=True).to(device)
    gen = torch.Generator().manual_seed(0)
    steps = ppo.num_steps_per_env

    def observations() -> dict[str, Any]:
        terms = {
            t.name: torch.randn(n, *t.shape, generator=gen)
            for t in contract.tokenizer
            if not t.file_only and t.name != "encoder_index"
        }
        terms["encoder_index"] = torch.rand(n, len(policy.encoder_names), generator=gen) < 0.5
        terms["encoder_index"][:, 0] = True
        obs = {
            "tokenizer": terms,
            "policy": torch.randn(n, contract.proprioception_width, generator=gen),
            "critic": torch.randn(n, contract.critic_width, generator=gen),
        }
        return {
            k: ({kk: vv.to(device) for kk, vv in v.items()} if isinstance(v, dict) else v.to(device))
            for k, v in obs.items()
        }

    storage = RolloutStorage(steps, n, policy.num_actions, observations(), device)
    with torch.no_grad():
        for _ in range(steps):
            obs = observations()
            act = policy.act(obs["tokenizer"], obs["tokenizer"]["encoder_index"], obs["policy"])
            dones = torch.rand(n, generator=gen).to(device) < 0.05
            rewards = torch.rand(n, generator=gen).to(device)
            storage.add(obs, act.actions, act.log_prob, act.mean, rewards, dones, dones & False)
    storage.set_action_std(policy.std)
    learner = Learner(policy, ppo, DistContext(), bf16=config.bf16, cuda_graphs=cuda_graphs)
    learner.update_normalizer(storage.observations["critic"])
    learner.compute_returns(storage, torch.randn(n, contract.critic_width, generator=gen).to(device))
    return learner, storage


def main() -> None:
    parser = argparse.ArgumentParser(description="Operators and host syncs per PPO minibatch update (CPU).")
    parser.add_argument("--exp", default="single_gpu", help="experiment preset (+exp=)")
    parser.add_argument("--envs", type=int, default=64)
    args = parser.parse_args()

    from sonic_train.config import exp_preset

    config = exp_preset(args.exp)
    learner, storage = random_rollout_learner(config, args.envs, "cpu")
    ppo = config.algo.config
    with OpCounter() as counter:
        learner.update(storage)
    minibatches = ppo.num_mini_batches * ppo.num_learning_epochs
    print(
        json.dumps(
            {
                "benchmark": "learn_ops",
                "exp": args.exp,
                "parameters": sum(p.numel() for p in learner.policy.parameters()),
                "minibatches": minibatches,
                "ops_per_minibatch": round(counter.ops / minibatches, 1),
                "scalar_reads_per_minibatch": {
                    k: round(v / minibatches, 2) for k, v in counter.syncs.most_common()
                },
            }
        )
    )


if __name__ == "__main__":
    main()
