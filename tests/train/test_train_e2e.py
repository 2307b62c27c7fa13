"""A short training run through the CLI entry (`sonic_train.train.main`): 4 envs of the Isaac Lab env on the
CPU, the small preset, 3 iterations of 8 steps. The run is shared by the module's tests; each checks one
product of it against an independent reading (the files themselves, TensorBoard's reader, the config)."""

from __future__ import annotations

import contextlib
import io
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch
import yaml

from sonic_model import load_policy
from sonic_train.checkpoint_io import TrainingState, load_checkpoint
from sonic_train.config import ExperimentConfig
from sonic_train.logger import read_scalars
from sonic_train.train import VIEWER_MESSAGE, main, resolve_config


def free_port() -> int:
    """A TCP port nobody listens on now (for the viewer that headless=False opens)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


ITERATIONS = 3


@dataclass(frozen=True)
class Run:
    args: list[str]
    status: int
    out: str
    run_dir: Path


@pytest.fixture(scope="module")
def run(small_run_args: Callable[..., list[str]], tmp_path_factory: pytest.TempPathFactory) -> Run:
    """`sonic-train +exp=small ... headless=False save_interval=2` for 3 iterations, in this process."""
    base = tmp_path_factory.mktemp("e2e")
    args = [
        *small_run_args(base / "logs_rl", ITERATIONS),
        "save_interval=2",
        "headless=False",
        f"viewer_port={free_port()}",
    ]
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        status = main(args)
    out = buffer.getvalue()
    runs = sorted((base / "logs_rl" / "TRL_G1_Track").glob("small_test-*"))
    assert len(runs) == 1, runs
    return Run(args, status, out, runs[0])


def test_run_finishes_headless_and_prints_the_checkpoint(run: Run) -> None:
    """Exit 0; headless=False opens the viewer (Viser here: no display) and says where; one line per iteration; last.pt."""
    assert run.status == 0
    assert VIEWER_MESSAGE in run.out
    lines = [line for line in run.out.splitlines() if line.startswith("it ")]
    assert [line.split(" (")[0] for line in lines] == [
        f"it {i}/{ITERATIONS}" for i in range(1, ITERATIONS + 1)
    ]
    assert f"checkpoint {run.run_dir / 'last.pt'}" in run.out


def test_run_folder_is_named_like_sonic(run: Run) -> None:
    """logs_rl/TRL_G1_Track/<experiment_name>-YYYYmmdd_HHMMSS with config.yaml, last.pt and model_step_000002.pt."""
    assert re.fullmatch(r"small_test-\d{8}_\d{6}", run.run_dir.name)
    assert run.run_dir.parent.name == "TRL_G1_Track" and run.run_dir.parent.parent.name == "logs_rl"
    assert {p.name for p in run.run_dir.glob("*.pt")} == {"last.pt", "model_step_000002.pt"}


def test_config_yaml_is_the_resolved_config(run: Run) -> None:
    """config.yaml validates back to exactly what the arguments resolve to."""
    written = ExperimentConfig.model_validate(yaml.safe_load((run.run_dir / "config.yaml").read_text()))
    assert written == resolve_config(run.args)[0]
    assert written.algo.config.num_steps_per_env == 8 and written.headless is False


def test_tensorboard_has_sonic_metric_names_every_iteration(run: Run) -> None:
    """SONIC's names (rewards, errors, fps, episode terms, losses) are logged at steps 1..3."""
    scalars = read_scalars(run.run_dir)
    for name in (
        "rewards/total",
        "rewards/anchor_pos_err",
        "rewards/body_pos_err",
        "throughput/fps",
        "loss/surrogate",
        "loss/value",
        "loss/entropy",
        "loss/aux/g1_recon",
        "loss/aux/g1_smpl_latent",
        "train/learning_rate",
        "train/kl",
        "train/action_std",
        "fsq/g1/usage",
    ):
        assert [s for s, _ in scalars[name]] == [1, 2, 3], name
    assert any(n.startswith("Episode_Reward/tracking_") for n in scalars)
    assert any(n.startswith("Episode_Termination/") for n in scalars)
    assert all(v > 0 for _, v in scalars["throughput/fps"])
    # the collect/learn split is measured inside the iteration time (the rest: adaptive sampling, sync checks)
    split = zip(
        scalars["throughput/collect_s"],
        scalars["throughput/learn_s"],
        scalars["throughput/iteration_time_s"],
        strict=True,
    )
    assert all(c > 0 and lr > 0 and c + lr <= t for (_, c), (_, lr), (_, t) in split)
    assert "memory/peak_gpu_gib" not in scalars  # CPU run


def test_last_checkpoint_holds_the_training_state(run: Run) -> None:
    """last.pt: our format with training.iteration 3, the logged lr and std, one RNG state, the config."""
    ckpt = load_checkpoint(run.run_dir / "last.pt", require_training=True)
    state = TrainingState.from_checkpoint(ckpt, "last.pt")
    assert state.iteration == ITERATIONS and len(state.rng) == 1
    assert ExperimentConfig.model_validate(state.experiment_config) == resolve_config(run.args)[0]
    assert set(state.adaptive_sampling) >= {"failures", "episodes"}
    scalars = read_scalars(run.run_dir)
    assert scalars["train/learning_rate"][-1][1] == pytest.approx(state.lr, rel=1e-6)
    std = ckpt["policy"]["state_dict"]["std"]
    assert scalars["train/action_std"][-1][1] == pytest.approx(float(std.double().mean()), rel=1e-6)
    assert bool(((std >= 0.001) & (std <= 0.5)).all())
    step2 = load_checkpoint(run.run_dir / "model_step_000002.pt", require_training=True)
    assert step2["training"]["iteration"] == 2


def test_checkpoint_loads_without_the_trainer(run: Run) -> None:
    """sonic-model's load_policy rebuilds the policy from last.pt; it acts on a zero batch."""
    loaded = load_policy(run.run_dir / "last.pt")
    policy = loaded.policy
    terms = {t.name: torch.zeros(2, *t.shape) for t in policy.contract.tokenizer if not t.file_only}
    mask = torch.tensor([[True, False, False], [True, True, True]])
    action = policy.act_inference(terms, mask, torch.zeros(2, policy.contract.proprioception_width))
    assert action.shape == (2, 29) and bool(torch.isfinite(action).all())
