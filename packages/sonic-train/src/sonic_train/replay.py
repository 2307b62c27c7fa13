"""``++replay=True``: play every clip of the motion library once, kinematically, and report how well the
simulated robot sits on its reference (a data check before training; SONIC's replay mode).

The env runs in eval mode with ``replay`` on: clips are made resident batch by batch (every clip once,
in library order), every env starts at frame 0 of its clip without noise, and each step the motion
command writes the robot's state from the reference. The tracking errors the trainer logs
(``rewards/anchor_pos_err``, ``rewards/body_pos_err``) are printed per batch; with the state written they
should stay near zero, so a large value points at a clip (or a conversion) to inspect. With
``headless=False`` the robots play in the live viewer; with the render recorder
(``++manager_env.config.render_results=True "~manager_env/recorders=empty" "+manager_env/recorders=render"``)
each clip becomes an mp4 (robot beside its blue reference) in ``save_rendering_dir``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TextIO

import torch

from sonic_env.config import EnvConfig
from sonic_env.env import SonicEnv
from sonic_env.mdp.rewards import tracking_error_metrics, tracking_state
from sonic_train.config import ExperimentConfig
from sonic_train.dist import DistContext
from sonic_train.trainer import resolve_device

__all__ = ["ReplayReport", "run_replay"]


@dataclass(frozen=True)
class ReplayReport:
    """What a replay saw.

    Attributes:
        clips: clips played (the whole library, each once).
        steps: env steps run (over all batches).
        max_anchor_pos_err: largest pelvis position error (m) of any env at any step.
        max_body_pos_err: largest mean tracked-body position error (m).
    """

    clips: int
    steps: int
    max_anchor_pos_err: float
    max_body_pos_err: float


def run_replay(
    config: ExperimentConfig,
    ctx: DistContext | None = None,
    console: TextIO | None | Literal["stdout"] = "stdout",
) -> ReplayReport:
    """Play every clip once with the env's replay mode (rank 0 only under accelerate; others return at once)."""
    ctx = ctx if ctx is not None else DistContext()
    out: TextIO | None = sys.stdout if console == "stdout" else console
    if not ctx.is_main:
        return ReplayReport(0, 0, 0.0, 0.0)
    env_config = EnvConfig.model_validate(
        config.manager_env.model_dump()
        | {"device": resolve_device(config.device, ctx), "seed": config.seed, "mode": "eval", "replay": True}
    )
    env = SonicEnv(env_config)
    lib = env.command.lib
    clips = steps = 0
    worst_anchor = worst_body = 0.0
    try:
        zeros = torch.zeros(env.num_envs, env.contract.num_actions, device=env.device)
        for batch, clip_ids in enumerate(env.eval_batches()):
            env.start_eval_batch(clip_ids)
            length = int(lib.resident_lengths.max())
            anchor = torch.zeros((), device=env.device)
            body = torch.zeros((), device=env.device)
            for _ in range(length - 1):
                env.step(zeros)
                errors = tracking_error_metrics(tracking_state(env.env))
                anchor = torch.maximum(anchor, errors["rewards/anchor_pos_err"].max())
                body = torch.maximum(body, errors["rewards/body_pos_err"].max())
            clips += clip_ids.numel()
            steps += length - 1
            worst_anchor, worst_body = max(worst_anchor, float(anchor)), max(worst_body, float(body))
            if out is not None:
                print(
                    f"replay batch {batch}: {clip_ids.numel()} clips, {length} frames, max error anchor "
                    f"{float(anchor):.4f} m, body {float(body):.4f} m",
                    file=out,
                    flush=True,
                )
    finally:
        env.close()
    if out is not None and env_config.config.render_results:
        videos = sorted(Path(env_config.config.save_rendering_dir).expanduser().glob("*.mp4"))
        print(f"replay videos: {len(videos)} in {env_config.config.save_rendering_dir}", file=out, flush=True)
    if out is not None:
        print(
            f"replay done: {clips} clips of {lib.num_clips}, {steps} steps; max error anchor {worst_anchor:.4f} m, "
            f"body {worst_body:.4f} m",
            file=out,
            flush=True,
        )
    return ReplayReport(clips, steps, worst_anchor, worst_body)
