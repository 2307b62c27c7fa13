"""Atomic checkpoint writes, weights-only loading with clear errors, and the training part."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest
import torch
from torch import nn

from sonic_model.atomic import atomic_write
from sonic_train.algo.optim import ActorCriticOptimizer
from sonic_train.checkpoint_io import (
    CheckpointFormatError,
    TrainingState,
    atomic_torch_save,
    check_plain_data,
    load_checkpoint,
)
from sonic_train.rng import capture_rng_state


def _checkpoint(training: dict | None = None) -> dict:
    ckpt = {
        "format_version": 1,
        "policy": {
            "model_config": {"preset": "small"},
            "contract": {},
            "policy_io": {},
            "state_dict": {"std": torch.ones(3)},
        },
        "critic": {"state_dict": {"w": torch.zeros(2)}, "normalizer": {"count": torch.tensor(1.0)}},
    }
    if training is not None:
        ckpt["training"] = training
    return ckpt


def _training_state() -> TrainingState:
    actor, critic = nn.Linear(3, 2), nn.Linear(3, 1)
    opt = ActorCriticOptimizer(actor.parameters(), critic.parameters())
    (actor(torch.ones(1, 3)).sum() + critic(torch.ones(1, 3)).sum()).backward()
    opt.step()
    return TrainingState(
        optimizer=opt.state_dict(),
        lr=3e-5,
        iteration=1234,
        rng=[capture_rng_state(), capture_rng_state()],
        adaptive_sampling={
            "adp_samp_num_episodes": torch.arange(5.0),
            "adp_samp_num_failures": torch.zeros(5),
        },
        experiment_config={"num_envs": 16, "algo": {"config": {"gamma": 0.99}}},
    )


def test_failed_write_leaves_no_partial_file(tmp_path: Path) -> None:
    """A writer that raises after writing bytes leaves neither the target nor a temp file."""
    target = tmp_path / "last.pt"

    def broken(handle) -> None:
        handle.write(b"half a checkpoint")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, broken)
    assert list(tmp_path.iterdir()) == []


def test_failed_torch_save_keeps_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If torch.save dies mid-way, the previous last.pt is intact and still loads."""
    target = tmp_path / "last.pt"
    atomic_torch_save(_checkpoint(), target)
    before = target.read_bytes()

    def dying_save(obj, handle) -> None:
        handle.write(b"\x80\x02partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(torch, "save", dying_save)
    with pytest.raises(KeyboardInterrupt):
        atomic_torch_save(_checkpoint(), target)
    monkeypatch.undo()
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]
    assert load_checkpoint(target)["format_version"] == 1


def test_training_state_round_trip(tmp_path: Path) -> None:
    """Save then load (weights-only) returns the same optimiser state, lr, iteration, RNG and counts."""
    state = _training_state()
    path = atomic_torch_save(_checkpoint(state.to_dict()), tmp_path / "model_step_001234.pt")
    loaded = load_checkpoint(path, require_training=True)
    back = TrainingState.from_checkpoint(loaded, path)
    assert (back.lr, back.iteration, back.experiment_config) == (3e-5, 1234, state.experiment_config)
    assert torch.equal(back.adaptive_sampling["adp_samp_num_episodes"], torch.arange(5.0))
    exp_avg = back.optimizer["main"]["state"][0]["exp_avg"]
    assert torch.equal(exp_avg, state.optimizer["main"]["state"][0]["exp_avg"])
    assert torch.equal(back.rng_for_rank(1)["torch_cpu"], state.rng[1]["torch_cpu"])
    with pytest.raises(CheckpointFormatError, match="rank 2"):
        back.rng_for_rank(2, path)


def test_file_with_pickled_objects_is_refused_with_path(tmp_path: Path) -> None:
    """A checkpoint holding a pickled class is not ours; the error names the file."""
    path = tmp_path / "foreign.pt"
    torch.save({"args": collections.Counter(a=1), "policy_state_dict": {}}, path)
    with pytest.raises(CheckpointFormatError, match="foreign.pt"):
        load_checkpoint(path)


def test_missing_keys_are_listed(tmp_path: Path) -> None:
    """A dict lacking parts gets an error listing every missing dotted key."""
    ckpt = _checkpoint({"lr": 1e-5})
    del ckpt["critic"]
    ckpt["policy"].pop("contract")
    path = tmp_path / "bad.pt"
    torch.save(ckpt, path)
    with pytest.raises(CheckpointFormatError) as info:
        load_checkpoint(path)
    message = str(info.value)
    for key in ("critic", "policy.contract", "training.optimizer", "training.rng", str(path)):
        assert key in message


def test_gear_sonic_layout_is_recognised(tmp_path: Path) -> None:
    """A weights-only-loadable dict with GEAR-SONIC keys is named as such."""
    path = tmp_path / "gear.pt"
    torch.save({"policy_state_dict": {"std": torch.ones(29)}, "value_state_dict": {}}, path)
    with pytest.raises(CheckpointFormatError, match="GEAR-SONIC"):
        load_checkpoint(path)


def test_require_training_for_resume(tmp_path: Path) -> None:
    """A weights-only file (save_policy's) is fine for finetune but refused for resume."""
    path = atomic_torch_save(_checkpoint(), tmp_path / "policy.pt")
    load_checkpoint(path)
    with pytest.raises(CheckpointFormatError, match="training.optimizer"):
        load_checkpoint(path, require_training=True)


def test_non_plain_data_is_refused_before_writing(tmp_path: Path) -> None:
    """Pickled classes never reach a file: the offending path is named and nothing is written."""
    with pytest.raises(TypeError, match=r"\['training'\]\['experiment_config'\]"):
        atomic_torch_save({"training": {"experiment_config": object()}}, tmp_path / "x.pt")
    assert list(tmp_path.iterdir()) == []
    check_plain_data({"a": [1, 2.0, None, "s", (True, torch.zeros(1))], 3: {}})
