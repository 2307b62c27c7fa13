"""Warp kernel launches per env step, with Isaac Lab's graph-replay flag off and on (JSON line; CPU is enough).

Once a simulator write has been recorded in a CUDA graph (the graphed step's prepared resets), Isaac Lab
sets ``NewtonManager.transforms_may_change_on_graph_replay``; from then on every body-state read runs
the forward kinematics again (``NewtonManager.forward``), because a replayed write leaves no Python trace.
This counts the Warp launches (``wp.launch``) of ``--steps`` eager steps of the full env with the flag
off, then forced on, by kernel, so the extra work can be seen without a GPU. (On the GPU most of these
launches sit inside CUDA graphs; the count says how much GPU work they add, not how long it takes.)

Usage::

    .venv/bin/python benchmarks/env_warp_launches.py [--num-envs 4] [--steps 5]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from typing import Any

import torch
from env_step import env_config, sample_data  # the sibling script (benchmarks/ is on sys.path when run)


def main() -> None:
    parser = argparse.ArgumentParser(description="Warp launches per env step, graph-replay flag off and on.")
    parser.add_argument("--num-envs", type=int, default=4)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--data", default=None, help="sample dataset folder (default: generated)")
    args = parser.parse_args()

    import warp as wp
    from isaaclab_newton.physics.newton_manager import NewtonManager

    from sonic_env.env_cfg import make_env

    counts: Counter[str] = Counter()
    launch = wp.launch

    def counting(kernel: Any, *a: Any, **k: Any) -> Any:
        counts[getattr(kernel, "key", str(kernel))] += 1
        return launch(kernel, *a, **k)

    wp.launch = counting  # Isaac Lab and Newton call it as wp.launch
    env = make_env(env_config("plane", args.num_envs, "cpu", sample_data(args.data, "sonic_warp_launches_")))
    try:
        env.reset()
        zeros = torch.zeros(args.num_envs, env.action_manager.total_action_dim)
        for _ in range(3):
            env.step(zeros)
        per_step: dict[bool, Counter[str]] = {}
        for flag in (False, True):
            NewtonManager.transforms_may_change_on_graph_replay = flag
            counts.clear()
            for _ in range(args.steps):
                env.step(zeros)
            per_step[flag] = Counter(counts)
        NewtonManager.transforms_may_change_on_graph_replay = False
    finally:
        env.close()
        wp.launch = launch
    extra = per_step[True] - per_step[False]
    print(
        json.dumps(
            {
                "benchmark": "env_warp_launches",
                "num_envs": args.num_envs,
                "launches_per_step_flag_off": round(sum(per_step[False].values()) / args.steps, 1),
                "launches_per_step_flag_on": round(sum(per_step[True].values()) / args.steps, 1),
                "extra_per_step_by_kernel": {k: round(v / args.steps, 1) for k, v in extra.most_common(6)},
            }
        )
    )


if __name__ == "__main__":
    main()
