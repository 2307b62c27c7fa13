"""The rollout's ``policy.act``: observations copied into fixed buffers, optionally replayed as a CUDA graph.

At 4,096 envs the act of one rollout step is a few hundred small kernels (three encoders, the FSQ, the
decoder, the Gaussian head) whose launch cost is larger than their GPU time. With CUDA graphs
(``manager_env.cuda_graphs``, the same switch as the env's) :class:`RolloutActor` captures the act once
(after two eager warm-up calls) and replays it: one launch. The policy is
:meth:`~sonic_model.UniversalTokenPolicy.act` unchanged (static shapes, no host sync); the graph reads
the observation buffers and the parameters by address, which the learner updates in place (fused
AdamW, ``std`` clamp); a parameter that is replaced drops the graph (``key``). Actions are sampled
from the default CUDA generator, which advances on every replay.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

import torch

from sonic_env.env import SonicObservations
from sonic_env.step_graphs import CudaGraphBackend, SegmentGraphs
from sonic_model import UniversalTokenPolicy
from sonic_model.policy import ActOutput
from sonic_train.learner import ENCODER_MASK

__all__ = ["RolloutActor", "snapshot"]


def snapshot(obs: SonicObservations) -> dict[str, Any]:
    """The observations as the storage's nested dict, copied (the env may reuse its buffers in place)."""
    return {
        "tokenizer": {k: v.clone() for k, v in obs.tokenizer.items()},
        "policy": obs.policy.clone(),
        "critic": obs.critic.clone(),
    }


class RolloutActor:
    """``policy.act`` on a copy of the observations; with ``cuda_graphs`` on CUDA, replayed as a graph.

    Args:
        policy: the policy (its parameters are read in place by the graph).
        example: observations of the env (shapes and device of the buffers).
        cuda_graphs: capture the act once and replay it (CUDA only; else eager).
    """

    def __init__(self, policy: UniversalTokenPolicy, example: SonicObservations, cuda_graphs: bool) -> None:
        self.policy = policy
        self.inputs = snapshot(example)
        device = example.policy.device
        self.graphs: SegmentGraphs | None = None
        if cuda_graphs and device.type == "cuda":
            self.graphs = SegmentGraphs(CudaGraphBackend(device, warp=False), key=self._key, warmup=2)

    def _key(self) -> Hashable:
        return tuple(p.data_ptr() for p in self.policy.parameters())

    def _act(self) -> ActOutput:
        terms = self.inputs["tokenizer"]
        return self.policy.act(terms, terms[ENCODER_MASK], self.inputs["policy"])

    @torch.no_grad()
    def __call__(self, obs: SonicObservations) -> tuple[dict[str, Any], ActOutput]:
        """Copy ``obs`` into the input buffers and act on them.

        Returns:
            ``(observations, act output)``: the buffers (the storage's nested dict) and the act's
            tensors; both are overwritten by the next call, so copy what must outlive it.
        """
        for name, value in obs.tokenizer.items():
            self.inputs["tokenizer"][name].copy_(value)
        self.inputs["policy"].copy_(obs.policy)
        self.inputs["critic"].copy_(obs.critic)
        if self.graphs is None:
            return self.inputs, self._act()
        self.graphs.begin_step()
        out = self.graphs.run("act", self._act)
        self.graphs.end_step()
        return self.inputs, out
