"""Training logs: TensorBoard always, W&B on request, one console line per iteration; only rank 0 writes.

Metric names follow SONIC's (issue 11, DESIGN.md): ``rewards/total``, ``rewards/anchor_pos_err``,
``rewards/body_pos_err``, ``throughput/fps``, ``Episode_Reward/<term>``, ``Episode_Termination/<term>``,
``Episode/length`` and ``loss/surrogate``, ``loss/value``, ``loss/entropy``, ``loss/aux/<name>``. Names
SONIC's guide does not fix are ours: ``train/learning_rate``, ``train/kl``, ``train/action_std`` (mean of
the per-joint std), ``fsq/<encoder>/usage`` (mean fraction of levels used per token dimension),
``fsq/<encoder>/entropy_bits`` and ``fsq/<encoder>/perplexity``, and ``throughput/iteration_time_s``.
The TensorBoard step is the PPO iteration.

W&B is optional (the ``sonic-train[wandb]`` extra). ``wandb.init`` reads ``WANDB_MODE`` itself, so
``WANDB_MODE=offline`` writes the run under the log directory for a later ``wandb sync``. Asking for W&B
without the package fails on **every** rank with :class:`WandbUnavailableError` (so no rank waits in a
collective for a rank 0 that died). Ranks other than 0 create no files and print nothing.

:func:`read_scalars` reads the event files back (tests, and the curves script); :func:`read_scalars_timed`
also returns each event's wall time (curves against time).
"""

from __future__ import annotations

import importlib
import math
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

from torch import Tensor

from sonic_model import FSQUsage

__all__ = [
    "IterationStats",
    "TrainLogger",
    "WandbUnavailableError",
    "format_console_line",
    "format_duration",
    "iteration_scalars",
    "read_scalars",
    "read_scalars_timed",
]

Scalar = float | int | Tensor

WANDB_INSTALL_HINT = (
    'install the optional extra: `pip install "sonic-train[wandb]"`, or in this workspace '
    "`uv sync --all-packages --extra wandb`; or run with use_wandb=false"
)


class WandbUnavailableError(ImportError):
    """``use_wandb`` is on but the ``wandb`` package is not installed."""


@dataclass(frozen=True)
class IterationStats:
    """What one PPO iteration reports (scalars as floats or 0-d tensors; reduced across ranks by the trainer).

    Attributes:
        iteration: iterations completed so far (the TensorBoard step).
        total_iterations: ``num_learning_iterations`` (for progress and ETA).
        fps: env steps per second over all ranks (``throughput/fps``).
        reward_total: ``rewards/total``.
        anchor_pos_err: ``rewards/anchor_pos_err`` (m).
        body_pos_err: ``rewards/body_pos_err`` (m).
        surrogate_loss: ``loss/surrogate``.
        value_loss: ``loss/value``.
        entropy: ``loss/entropy`` (the mean entropy, before the 0.01 coefficient).
        learning_rate: current (adaptive) learning rate.
        kl: mean KL between the rollout and updated policies.
        action_std: (num_actions,) std tensor or its mean.
        aux_losses: ``loss/aux/<name>`` per auxiliary loss (unweighted).
        episode_rewards: ``Episode_Reward/<term>``.
        episode_terminations: ``Episode_Termination/<term>``.
        episode_length: ``Episode/length`` (steps), if any episode finished.
        codebook_usage: FSQ usage per encoder name.
        iteration_time_s: wall time of this iteration (for the ETA), if measured by the caller.
        extra: any other scalars, logged under their own names.
    """

    iteration: int
    total_iterations: int
    fps: Scalar
    reward_total: Scalar
    anchor_pos_err: Scalar
    body_pos_err: Scalar
    surrogate_loss: Scalar
    value_loss: Scalar
    entropy: Scalar
    learning_rate: Scalar
    kl: Scalar
    action_std: Scalar
    aux_losses: Mapping[str, Scalar] = field(default_factory=dict)
    episode_rewards: Mapping[str, Scalar] = field(default_factory=dict)
    episode_terminations: Mapping[str, Scalar] = field(default_factory=dict)
    episode_length: Scalar | None = None
    codebook_usage: Mapping[str, FSQUsage] = field(default_factory=dict)
    iteration_time_s: float | None = None
    extra: Mapping[str, Scalar] = field(default_factory=dict)


def _f(value: Scalar) -> float:
    """A Python float from a number or a tensor (mean of a non-scalar tensor; one host sync)."""
    if isinstance(value, Tensor):
        return float(value.detach().double().mean().item())
    return float(value)


def iteration_scalars(stats: IterationStats) -> dict[str, float]:
    """Every scalar of ``stats`` under its logged name (see the module docstring for the names)."""
    out = {
        "rewards/total": _f(stats.reward_total),
        "rewards/anchor_pos_err": _f(stats.anchor_pos_err),
        "rewards/body_pos_err": _f(stats.body_pos_err),
        "throughput/fps": _f(stats.fps),
        "loss/surrogate": _f(stats.surrogate_loss),
        "loss/value": _f(stats.value_loss),
        "loss/entropy": _f(stats.entropy),
        "train/learning_rate": _f(stats.learning_rate),
        "train/kl": _f(stats.kl),
        "train/action_std": _f(stats.action_std),
    }
    out |= {f"loss/aux/{k}": _f(v) for k, v in stats.aux_losses.items()}
    out |= {f"Episode_Reward/{k}": _f(v) for k, v in stats.episode_rewards.items()}
    out |= {f"Episode_Termination/{k}": _f(v) for k, v in stats.episode_terminations.items()}
    if stats.episode_length is not None:
        out["Episode/length"] = _f(stats.episode_length)
    for name, usage in stats.codebook_usage.items():
        out[f"fsq/{name}/usage"] = _f(usage.per_dim_usage)
        out[f"fsq/{name}/entropy_bits"] = _f(usage.per_dim_entropy_bits)
        if usage.perplexity is not None:
            out[f"fsq/{name}/perplexity"] = _f(usage.perplexity)
    if stats.iteration_time_s is not None:
        out["throughput/iteration_time_s"] = float(stats.iteration_time_s)
    out |= {k: _f(v) for k, v in stats.extra.items()}
    return out


def format_duration(seconds: float) -> str:
    """Compact duration: ``45s``, ``12m05s``, ``3h07m``, ``2d04h``; ``?`` if unknown."""
    if not math.isfinite(seconds) or seconds < 0:
        return "?"
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    if s < 86400:
        return f"{s // 3600}h{s % 3600 // 60:02d}m"
    return f"{s // 86400}d{s % 86400 // 3600:02d}h"


def format_console_line(scalars: Mapping[str, float], iteration: int, total: int, eta_s: float | None) -> str:
    """One line: progress, fps, reward, tracking errors, main losses, lr/KL and the ETA.

    Example: ``it 120/100000 (0.1%) | 4213 fps | reward 0.8120 | err anchor 0.0410 body 0.0630 |
    loss surr -0.0123 value 0.0456 ent -12.30 aux 0.0012 | lr 2.0e-05 kl 0.0081 | ETA 3h12m``
    """
    pct = 100.0 * iteration / total if total > 0 else 0.0
    aux = sum(v for k, v in scalars.items() if k.startswith("loss/aux/"))
    parts = [
        f"it {iteration}/{total} ({pct:.1f}%)",
        f"{scalars['throughput/fps']:.0f} fps",
        f"reward {scalars['rewards/total']:.4f}",
        f"err anchor {scalars['rewards/anchor_pos_err']:.4f} body {scalars['rewards/body_pos_err']:.4f}",
        f"loss surr {scalars['loss/surrogate']:.4f} value {scalars['loss/value']:.4f} "
        f"ent {scalars['loss/entropy']:.2f} aux {aux:.4f}",
        f"lr {scalars['train/learning_rate']:.1e} kl {scalars['train/kl']:.4f}",
        f"ETA {format_duration(eta_s) if eta_s is not None else '?'}",
    ]
    return " | ".join(parts)


def _import_wandb() -> ModuleType:
    try:
        wandb = importlib.import_module("wandb")
    except ImportError as err:
        raise WandbUnavailableError(
            f"use_wandb=true but the wandb package is not installed: {WANDB_INSTALL_HINT}"
        ) from err
    return wandb


class TrainLogger:
    """Writes iteration metrics to TensorBoard (always), W&B (if ``use_wandb``) and the console, on rank 0.

    Args:
        log_dir: the run directory; TensorBoard event files go directly into it (W&B's under ``wandb/``).
        rank: this process's rank; any other than 0 writes nothing.
        use_wandb: also log to W&B (needs the ``wandb`` package; ``WANDB_MODE`` is respected).
        wandb_project: W&B project (``wandb.wandb_project``).
        wandb_entity: W&B entity (``wandb.wandb_entity``).
        run_name: W&B run name (default: the directory name).
        config: resolved experiment config (plain data) recorded with the W&B run.
        console: stream for the per-iteration line (None: no console output).

    Raises:
        WandbUnavailableError: ``use_wandb`` without the ``wandb`` package (on every rank).
    """

    def __init__(
        self,
        log_dir: str | Path,
        rank: int = 0,
        use_wandb: bool = False,
        wandb_project: str | None = None,
        wandb_entity: str | None = None,
        run_name: str | None = None,
        config: Mapping[str, Any] | None = None,
        console: TextIO | None = sys.stdout,
    ) -> None:
        self.log_dir = Path(log_dir)
        self.active = rank == 0
        self.console = console if self.active else None
        self._times: list[float] = []
        self._last_log: float | None = None
        wandb = _import_wandb() if use_wandb else None
        self._wandb_run: Any = None
        self._writer: Any = None
        if not self.active:
            return
        from torch.utils.tensorboard import SummaryWriter

        self.log_dir.mkdir(parents=True, exist_ok=True)
        self._writer = SummaryWriter(log_dir=str(self.log_dir))
        if wandb is not None:
            self._wandb_run = wandb.init(
                project=wandb_project,
                entity=wandb_entity,
                name=run_name or self.log_dir.name,
                dir=str(self.log_dir),
                config=dict(config) if config is not None else None,
            )

    def log_scalars(self, scalars: Mapping[str, Scalar], step: int) -> None:
        """Write named scalars at ``step`` (no-op off rank 0)."""
        if not self.active:
            return
        values = {k: _f(v) for k, v in scalars.items()}
        for name, value in values.items():
            self._writer.add_scalar(name, value, global_step=step)
        self._writer.flush()
        if self._wandb_run is not None:
            self._wandb_run.log(values, step=step)

    def log_iteration(self, stats: IterationStats) -> str | None:
        """Write every metric of one iteration and print its console line; returns the line (None off rank 0)."""
        if not self.active:
            return None
        now = time.monotonic()
        duration = stats.iteration_time_s
        if duration is None and self._last_log is not None:
            duration = now - self._last_log
        self._last_log = now
        if duration is not None:
            self._times.append(duration)
        scalars = iteration_scalars(stats)
        self.log_scalars(scalars, stats.iteration)
        remaining = max(stats.total_iterations - stats.iteration, 0)
        eta = remaining * sum(self._times) / len(self._times) if self._times else None
        line = format_console_line(scalars, stats.iteration, stats.total_iterations, eta)
        if self.console is not None:
            print(line, file=self.console, flush=True)
        return line

    def close(self) -> None:
        """Flush and close the writers (idempotent)."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._wandb_run is not None:
            self._wandb_run.finish()
            self._wandb_run = None

    def __enter__(self) -> TrainLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _accumulator(log_dir: str | Path, caller: str) -> Any:
    """A loaded TensorBoard ``EventAccumulator`` over ``log_dir`` (every scalar kept)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    log_dir = Path(log_dir)
    if not any(log_dir.glob("events.out.tfevents.*")):
        raise FileNotFoundError(f"{caller}: no TensorBoard event files in {log_dir}")
    acc = EventAccumulator(str(log_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return acc


def read_scalars(log_dir: str | Path) -> dict[str, list[tuple[int, float]]]:
    """All scalars in the TensorBoard event files of ``log_dir``: name -> [(step, value), ...] by step.

    Values come back as stored (float32), as TensorBoard's ``EventAccumulator`` returns them (it drops
    orphaned events when a restarted run goes back in steps).

    Raises:
        FileNotFoundError: ``log_dir`` holds no event file.
    """
    acc = _accumulator(log_dir, "read_scalars")
    return {
        tag: sorted(((e.step, float(e.value)) for e in acc.Scalars(tag)), key=lambda x: x[0])
        for tag in acc.Tags()["scalars"]
    }


def read_scalars_timed(log_dir: str | Path) -> dict[str, list[tuple[int, float, float]]]:
    """As :func:`read_scalars`, with each event's wall time: name -> [(step, wall_time_s, value), ...] by step.

    ``wall_time_s`` is the Unix time at which the writer recorded the event (what TensorBoard's "relative"
    axis subtracts its first event from), so runs of different speed can be compared at equal wall clock.

    Raises:
        FileNotFoundError: ``log_dir`` holds no event file.
    """
    acc = _accumulator(log_dir, "read_scalars_timed")
    return {
        tag: sorted(
            ((e.step, float(e.wall_time), float(e.value)) for e in acc.Scalars(tag)), key=lambda x: x[0]
        )
        for tag in acc.Tags()["scalars"]
    }
