"""TrainLogger: TensorBoard scalars read back by name and value, rank 0 only, W&B optional with a clear error."""

from __future__ import annotations

import io
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from sonic_model import FSQ, FSQUsage, fsq_usage
from sonic_train.logger import (
    IterationStats,
    TrainLogger,
    WandbUnavailableError,
    format_console_line,
    format_duration,
    read_scalars,
)


def _usage() -> FSQUsage:
    quantizer = FSQ((5, 5, 5))
    return fsq_usage(quantizer, quantizer(torch.linspace(-3.0, 3.0, 24).reshape(8, 3)))


def _stats(iteration: int, total: int = 100, time_s: float | None = 2.0) -> IterationStats:
    return IterationStats(
        iteration=iteration,
        total_iterations=total,
        fps=4096.0 + iteration,
        reward_total=0.5 + 0.01 * iteration,
        anchor_pos_err=torch.tensor(0.04),
        body_pos_err=0.06,
        surrogate_loss=-0.012,
        value_loss=0.0456,
        entropy=-12.3,
        learning_rate=2e-5,
        kl=0.0081,
        action_std=torch.full((29,), 0.05),
        aux_losses={"g1_recon": 0.002, "g1_smpl_latent": 0.125},
        episode_rewards={"tracking_anchor_pos": 0.7},
        episode_terminations={"time_out": 0.25, "anchor_pos": 0.5},
        episode_length=321.0,
        codebook_usage={"g1": _usage()},
        iteration_time_s=time_s,
    )


def _f32(x: float) -> float:
    return float(np.float32(x))


def test_scalars_read_back_with_sonic_names_and_values(tmp_path: Path) -> None:
    """Every metric of two iterations comes back from the event files under SONIC's names, at its step."""
    with TrainLogger(tmp_path, console=None) as logger:
        for it in (1, 2):
            logger.log_iteration(_stats(it))
    got = read_scalars(tmp_path)
    expected_2 = {
        "rewards/total": 0.52,
        "rewards/anchor_pos_err": 0.04,
        "rewards/body_pos_err": 0.06,
        "throughput/fps": 4098.0,
        "loss/surrogate": -0.012,
        "loss/value": 0.0456,
        "loss/entropy": -12.3,
        "loss/aux/g1_recon": 0.002,
        "loss/aux/g1_smpl_latent": 0.125,
        "train/learning_rate": 2e-5,
        "train/kl": 0.0081,
        "train/action_std": 0.05,
        "Episode_Reward/tracking_anchor_pos": 0.7,
        "Episode_Termination/time_out": 0.25,
        "Episode_Termination/anchor_pos": 0.5,
        "Episode/length": 321.0,
        "throughput/iteration_time_s": 2.0,
    }
    for name, value in expected_2.items():
        assert [s for s, _ in got[name]] == [1, 2], name
        assert got[name][1][1] == _f32(value), name
    assert got["rewards/total"][0][1] == _f32(0.51)
    usage = _usage()  # FSQ statistics themselves are tested in tests/model; here: logged as their means
    assert usage.perplexity is not None
    assert got["fsq/g1/usage"][0][1] == _f32(usage.per_dim_usage.mean().item())
    assert got["fsq/g1/entropy_bits"][0][1] == _f32(usage.per_dim_entropy_bits.mean().item())
    assert got["fsq/g1/perplexity"][0][1] == _f32(usage.perplexity.item())


def test_log_scalars_round_trips_arbitrary_names(tmp_path: Path) -> None:
    """log_scalars writes any name/step/value; read_scalars returns them sorted by step."""
    with TrainLogger(tmp_path, console=None) as logger:
        for step in (0, 5, 10):
            logger.log_scalars({"eval/all/success_rate": step / 10.0, "custom": torch.tensor(step)}, step)
    got = read_scalars(tmp_path)
    assert got["eval/all/success_rate"] == [(0, 0.0), (5, 0.5), (10, 1.0)]
    assert got["custom"] == [(0, 0.0), (5, 5.0), (10, 10.0)]


def test_other_ranks_write_nothing(tmp_path: Path) -> None:
    """A rank other than 0 creates no directory, no file and no console output."""
    out = io.StringIO()
    run_dir = tmp_path / "run"
    with TrainLogger(run_dir, rank=1, console=out) as logger:
        assert logger.log_iteration(_stats(1)) is None
        logger.log_scalars({"x": 1.0}, 1)
    assert not run_dir.exists()
    assert out.getvalue() == ""
    with pytest.raises(FileNotFoundError):
        read_scalars(tmp_path)


def test_console_line_has_progress_fps_reward_errors_losses_and_eta(tmp_path: Path) -> None:
    """One line per iteration; the ETA is the mean iteration time times the iterations left."""
    out = io.StringIO()
    with TrainLogger(tmp_path, console=out) as logger:
        logger.log_iteration(_stats(10, total=100, time_s=2.0))
        logger.log_iteration(_stats(11, total=100, time_s=4.0))
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[1] == (
        "it 11/100 (11.0%) | 4107 fps | reward 0.6100 | err anchor 0.0400 body 0.0600 | "
        "loss surr -0.0120 value 0.0456 ent -12.30 aux 0.1270 | lr 2.0e-05 kl 0.0081 | ETA 4m27s"
    )  # 89 iterations left x 3 s mean = 267 s


def test_format_duration_and_unknown_eta() -> None:
    """Durations are compact; an unknown ETA prints '?'."""
    assert [format_duration(s) for s in (5, 65, 3 * 3600 + 7 * 60, 2 * 86400 + 4 * 3600)] == [
        "5s",
        "1m05s",
        "3h07m",
        "2d04h",
    ]
    scalars = {
        "throughput/fps": 1.0,
        "rewards/total": 0.0,
        "rewards/anchor_pos_err": 0.0,
        "rewards/body_pos_err": 0.0,
        "loss/surrogate": 0.0,
        "loss/value": 0.0,
        "loss/entropy": 0.0,
        "train/learning_rate": 1e-5,
        "train/kl": 0.0,
    }
    assert format_console_line(scalars, 0, 10, None).endswith("ETA ?")


def test_use_wandb_without_the_package_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """use_wandb with wandb absent fails on every rank, telling how to install sonic-train[wandb]."""
    monkeypatch.setitem(sys.modules, "wandb", None)  # makes `import wandb` raise ImportError
    for rank in (0, 1):
        with pytest.raises(WandbUnavailableError, match=r"sonic-train\[wandb\]"):
            TrainLogger(tmp_path / f"r{rank}", rank=rank, use_wandb=True, console=None)


def test_wandb_receives_the_same_names_and_steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a wandb module present, the run is initialised from the options and gets the same scalars."""
    calls: dict[str, Any] = {"log": []}

    class Run:
        def log(self, values: dict[str, float], step: int) -> None:
            calls["log"].append((step, values))

        def finish(self) -> None:
            calls["finished"] = True

    def init(**kwargs: Any) -> Run:
        calls["init"] = kwargs
        return Run()

    monkeypatch.setitem(sys.modules, "wandb", types.SimpleNamespace(init=init))
    with TrainLogger(
        tmp_path / "run",
        use_wandb=True,
        wandb_project="p",
        wandb_entity="e",
        config={"seed": 1},
        console=None,
    ) as logger:
        logger.log_iteration(_stats(3))
    assert calls["init"] == {
        "project": "p",
        "entity": "e",
        "name": "run",
        "dir": str(tmp_path / "run"),
        "config": {"seed": 1},
    }
    step, values = calls["log"][0]
    tb = read_scalars(tmp_path / "run")
    assert step == 3 and set(values) == set(tb)
    assert all(_f32(values[k]) == tb[k][0][1] for k in values)
    assert calls["finished"]
