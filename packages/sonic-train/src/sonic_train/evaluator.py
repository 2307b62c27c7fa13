"""The eval loop: every selected motion once from frame 0, deterministic actions, SONIC's metrics per motion.

:class:`Evaluator` drives a :class:`~sonic_env.env.SonicEnv` built in ``mode="eval"`` (sequential clip
assignment from frame 0, no reset noise, no push, no augmentation; observation noise as configured, on by
default as in SONIC, SONIC_REFERENCE §5) with a policy's ``act_inference`` (the Gaussian mean):

1. the library's clips are split into batches of at most the resident capacity (``env.eval_batches()``); per
   batch ``env.start_eval_batch(ids)`` makes them resident and resets every env, env ``i`` on slot
   ``i mod k``; env ``i < k`` is the one whose result counts for clip ``ids[i]`` (more envs than clips
   replay clips without counting, as SONIC's sequential assignment does);
2. the batch runs ``max(L)`` steps (``L`` = a clip's frames at 50 fps). A **failure** is a non-time-out
   termination at step ``t ≤ L − 1`` and is sticky for the motion; an env that fails is reset by the env
   onto its clip from frame 0 and keeps being measured, so ``eval/all`` includes those frames (SONIC's
   behaviour). ``progress`` = the step of the first failure / ``L`` (1 for a success), as SONIC;
3. positions of the 14 tracked bodies (world, env origin included) are recorded for steps ``t < L − 1``
   (SONIC drops the last step) and turned into per-motion sums (:mod:`sonic_train.eval_metrics`).

Which reference frame a step is compared with (``reference``):

* ``"targeted"`` (default): the frame the step's action aimed at, read before the step, against the robot
  after the physics, the pairing SONIC's rewards use;
* ``"advanced"``: the reference read after the step, when the motion command has already advanced to the
  next target, which is how SONIC's callback reads both positions after ``env.step`` as far as its code
  shows. It adds about one frame of motion (speed × 0.02 s) to the position errors.

A step in which an env was reset (failure or clip end) is not measured for that env: the simulator already
holds its new episode's first state. SONIC measures that reset state against its reference; the
difference is one frame per failure. Unlike SONIC, a batch is not cut short when every env has failed:
every motion is measured over its full length.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal, TextIO

import numpy as np
import torch
from torch import Tensor

from sonic_env.env import SonicEnv, SonicObservations
from sonic_model import ObservationContract, UniversalTokenPolicy
from sonic_model.atomic import atomic_write
from sonic_train.eval_metrics import eval_body_subsets, metric_keys, micro_average, motion_sums
from sonic_train.learner import ENCODER_MASK

__all__ = ["EvalResult", "Evaluator", "MotionResult", "ObservationRecorder", "driving_encoder"]

Reference = Literal["targeted", "advanced"]

METRIC_CHUNK = 64
"""Motions whose metrics are computed at once (bounds the Procrustes intermediates)."""


def driving_encoder(mask: Tensor) -> Tensor:
    """Index of the encoder that drives each env's action: the last active column of ``mask`` ``(N, E)``.

    Returns ``(N,)`` int64, −1 where no encoder is active (FORMATS.md "Policy border").
    """
    order = torch.arange(1, mask.shape[-1] + 1, device=mask.device)
    return (mask.long() * order).amax(dim=-1) - 1


@dataclass(frozen=True)
class MotionResult:
    """One motion's evaluation.

    Attributes:
        motion: clip name; clip_id: its index in the (selected) library.
        num_frames: clip length ``L`` at 50 fps; eval_frames: frames measured (``L − 1`` minus reset steps).
        success: no failure in the first episode; progress: first failure step / ``L`` (1 on success).
        fail_step: step of the first failure (None on success); fail_terms: the terms that fired then.
        encoder: the encoder that drove the first episode.
        metrics: per-motion means (mm), keys of :func:`~sonic_train.eval_metrics.metric_keys`.
        sums: the per-motion sums behind them (micro-averaging).
    """

    motion: str
    clip_id: int
    num_frames: int
    eval_frames: int
    success: bool
    progress: float
    fail_step: int | None
    fail_terms: tuple[str, ...]
    encoder: str
    metrics: dict[str, float]
    sums: dict[str, float]

    def row(self) -> dict[str, Any]:
        """A flat record for CSV/JSON."""
        return {
            "motion": self.motion,
            "clip_id": self.clip_id,
            "num_frames": self.num_frames,
            "eval_frames": self.eval_frames,
            "success": self.success,
            "progress": self.progress,
            "fail_step": self.fail_step,
            "fail_terms": "+".join(self.fail_terms),
            "encoder": self.encoder,
            **self.metrics,
        }


@dataclass
class EvalResult:
    """Every motion's result and the aggregates SONIC reports."""

    motions: list[MotionResult]
    keys: list[str]
    seconds: float = 0.0

    def success_mask(self) -> list[bool]:
        """Per motion, whether it succeeded."""
        return [m.success for m in self.motions]

    def aggregates(self) -> dict[str, float]:
        """``eval/all/*`` and ``eval/success/*`` micro-averages, ``success_rate``, ``progress_rate``.

        SONIC stores the two rates under ``eval/success/``; they are also given at the top level.
        """
        n = len(self.motions)
        sums = {k: [m.sums[k] for m in self.motions] for k in self.keys}
        frames = [m.eval_frames for m in self.motions]
        success = self.success_mask()
        rate = sum(success) / n if n else float("nan")
        progress = sum(m.progress for m in self.motions) / n if n else float("nan")
        out: dict[str, float] = {"success_rate": rate, "progress_rate": progress}
        out |= {f"eval/all/{k}": v for k, v in micro_average(sums, frames).items()}
        out |= {f"eval/success/{k}": v for k, v in micro_average(sums, frames, success).items()}
        out |= {"eval/success/success_rate": rate, "eval/success/progress_rate": progress}
        return out

    def worst(self, count: int) -> list[MotionResult]:
        """Failures first (earliest first), then successes by descending ``mpjpe_l``."""

        def key(m: MotionResult) -> tuple[bool, float, float]:
            return (m.success, m.progress, -m.metrics.get("mpjpe_l", 0.0))

        return sorted(self.motions, key=key)[:count]


class ObservationRecorder:
    """Collects contract-named observation rows for ``sonic-export verify --recorded``.

    Rows are the policy inputs of the first envs of each step until ``max_rows`` are held: every env-built
    tokenizer term (``encoder_index`` as 0/1 floats) and the proprioception split into its contract terms.
    """

    def __init__(self, contract: ObservationContract, max_rows: int) -> None:
        self.contract = contract
        self.max_rows = max_rows
        self.rows: dict[str, list[np.ndarray]] = {}
        self.count = 0

    @property
    def full(self) -> bool:
        """No more rows are wanted."""
        return self.count >= self.max_rows

    def add(self, obs: SonicObservations) -> None:
        """Append up to the remaining number of rows from ``obs``."""
        take = min(self.max_rows - self.count, obs.policy.shape[0])
        if take <= 0:
            return
        arrays = {k: v[:take].float() for k, v in obs.tokenizer.items()}
        start = 0
        for term in self.contract.proprioception:
            arrays[term.name] = obs.policy[:take, start : start + term.size]
            start += term.size
        for name, value in arrays.items():
            self.rows.setdefault(name, []).append(value.reshape(take, -1).cpu().numpy().astype(np.float32))
        self.count += take

    def save(self, path: str | Path) -> Path:
        """Write the rows as an ``.npz`` of ``(rows, width)`` float32 arrays, atomically."""
        arrays = {k: np.concatenate(v) for k, v in self.rows.items()}
        if not arrays:
            raise ValueError("ObservationRecorder.save: no observation was recorded")
        target = Path(path)
        if target.suffix != ".npz":
            raise ValueError(f"record_observations: {target} must end in .npz")

        def write(handle: IO[bytes]) -> None:
            np.savez(handle, **arrays)  # pyright: ignore[reportArgumentType] (numpy's stub misreads **kwds)

        return atomic_write(target, write)


class Evaluator:
    """Runs SONIC's metrics evaluation of ``policy`` on an eval-mode env (see the module docstring).

    Args:
        env: a :class:`SonicEnv` built with ``mode="eval"``.
        policy: the policy, on the env's device.
        reference: which reference frame each step is compared with.
        recorder: optional observation recorder (fed the policy inputs of each step until full).
        console: where one line per batch is printed (None: silent).
    """

    def __init__(
        self,
        env: SonicEnv,
        policy: UniversalTokenPolicy,
        *,
        reference: Reference = "targeted",
        recorder: ObservationRecorder | None = None,
        console: TextIO | None = sys.stdout,
    ) -> None:
        if env.config.mode != "eval":
            raise ValueError("Evaluator needs an env built with mode='eval' (sequential clips from frame 0)")
        self.env = env
        self.policy = policy.eval()
        self.reference = reference
        self.recorder = recorder
        self.console = console
        command = env.command
        self.subsets = eval_body_subsets(command.lib.body_names, command.cfg.teleop_bodies)
        self.keys = metric_keys(self.subsets)
        terms = env.env.termination_manager
        self.failure_terms = [n for n in terms.active_terms if not terms.get_term_cfg(n).time_out]

    def _print(self, text: str) -> None:
        if self.console is not None:
            print(text, file=self.console, flush=True)

    def run(self, on_batch: Callable[[int, list[MotionResult]], None] | None = None) -> EvalResult:
        """Evaluate every clip of the library once; ``on_batch(index, results)`` after each batch."""
        start = time.monotonic()
        batches = self.env.eval_batches()
        motions: list[MotionResult] = []
        for i, clip_ids in enumerate(batches):
            t0 = time.monotonic()
            results = self.run_batch(clip_ids)
            motions += results
            ok = sum(r.success for r in results)
            self._print(
                f"sonic-eval: batch {i + 1}/{len(batches)}: {len(results)} motions, {ok} succeeded "
                f"({time.monotonic() - t0:.1f} s)"
            )
            if on_batch is not None:
                on_batch(i, results)
        return EvalResult(motions=motions, keys=self.keys, seconds=time.monotonic() - start)

    @torch.no_grad()
    def run_batch(self, clip_ids: Tensor) -> list[MotionResult]:
        """Evaluate the clips ``clip_ids`` (at most the resident capacity) once each."""
        env, command = self.env, self.env.command
        obs = env.start_eval_batch(clip_ids)
        k = int(clip_ids.numel())
        lengths = command.lib.resident_lengths[:k].clone()
        num_steps = int(lengths.max())
        frames = max(num_steps - 1, 1)
        dev = lengths.device
        pred = torch.zeros(k, frames, len(command.lib.body_names), 3, device=dev)
        gt = torch.zeros_like(pred)
        valid = torch.zeros(k, frames, dtype=torch.bool, device=dev)
        failed = torch.zeros(k, dtype=torch.bool, device=dev)
        fail_step = torch.full((k,), -1, dtype=torch.long, device=dev)
        fail_terms = torch.zeros(k, max(len(self.failure_terms), 1), dtype=torch.bool, device=dev)
        encoder = driving_encoder(command.encoder_mask[:k])
        terms = env.env.termination_manager
        for t in range(num_steps):
            if self.recorder is not None and not self.recorder.full:
                self.recorder.add(obs)
            targeted = command.ref_body_pos_w[:k].clone() if self.reference == "targeted" else None
            actions = self.policy.act_inference(obs.tokenizer, obs.tokenizer[ENCODER_MASK], obs.policy)
            step = env.step(actions)
            if t < frames:
                gt[:, t] = targeted if targeted is not None else command.ref_body_pos_w[:k]
                pred[:, t] = command.robot_body_pos_w[:k]
                valid[:, t] = ~step.dones[:k] & (t < lengths - 1)
            if self.failure_terms:
                fired = torch.stack([terms.get_term(n)[:k] for n in self.failure_terms], dim=-1)
                new = fired.any(dim=-1) & (t <= lengths - 1) & ~failed
                fail_step = torch.where(new, t, fail_step)
                fail_terms = torch.where(new[:, None], fired, fail_terms)
                failed |= new
            obs = step.obs
        return self._results(clip_ids, lengths, pred, gt, valid, failed, fail_step, fail_terms, encoder)

    def _results(
        self,
        clip_ids: Tensor,
        lengths: Tensor,
        pred: Tensor,
        gt: Tensor,
        valid: Tensor,
        failed: Tensor,
        fail_step: Tensor,
        fail_terms: Tensor,
        encoder: Tensor,
    ) -> list[MotionResult]:
        sums: dict[str, list[float]] = {key: [] for key in self.keys}
        counts: list[int] = []
        for lo in range(0, pred.shape[0], METRIC_CHUNK):
            part = motion_sums(
                pred[lo : lo + METRIC_CHUNK],
                gt[lo : lo + METRIC_CHUNK],
                valid[lo : lo + METRIC_CHUNK],
                self.subsets,
            )
            for key in self.keys:
                sums[key] += part.sums[key].cpu().tolist()
            counts += part.frames.cpu().tolist()
        names = self.env.command.lib.names
        encoders = self.env.command.encoder_names
        out = []
        for i, clip in enumerate(clip_ids.tolist()):
            length = int(lengths[i])
            step = int(fail_step[i])
            is_failed = bool(failed[i])
            motion_sum = {key: float(sums[key][i]) for key in self.keys}
            count = counts[i]
            out.append(
                MotionResult(
                    motion=names[clip],
                    clip_id=int(clip),
                    num_frames=length,
                    eval_frames=int(count),
                    success=not is_failed,
                    progress=step / length if is_failed else 1.0,
                    fail_step=step if is_failed else None,
                    fail_terms=tuple(n for j, n in enumerate(self.failure_terms) if bool(fail_terms[i, j])),
                    encoder=encoders[int(encoder[i])] if int(encoder[i]) >= 0 else "none",
                    metrics={key: (v / count if count else float("nan")) for key, v in motion_sum.items()},
                    sums=motion_sum,
                )
            )
        return out
