"""Every training command line of the guide (FORMATS.md "Seed command lines" 4–9 and 13), verbatim except
for the data paths, parses into a validated ExperimentConfig with the values the line asks for. No env is
built: ``resolve_config`` is what ``sonic-train`` runs before anything else."""

from __future__ import annotations

import shlex

import pytest

from sonic_train.config import ExperimentConfig
from sonic_train.train import resolve_config

ROBOT, SMPL, SOMA = "sample_data/robot_filtered", "sample_data/smpl_filtered", "sample_data/soma_filtered"
LIB = "++manager_env.commands.motion.motion_lib_cfg"
LINE_4 = (
    f"+exp=manager/universal_token/all_modes/sonic_release num_envs=4096 headless=True "
    f"{LIB}.motion_file={ROBOT} {LIB}.smpl_motion_file={SMPL}"
)
LINE_4_DEBUG = LINE_4.replace("num_envs=4096", "num_envs=16")
LINE_5 = LINE_4 + " +checkpoint=sonic_release/last.pt"
# Line 6: accelerate's flags precede `-m sonic_train.train`; our arguments are line 4's.
LINE_6 = (
    "accelerate launch --multi_gpu --num_machines=8 --num_processes=64 --machine_rank=3 "
    "--main_process_ip=10.0.0.1 --main_process_port=29500 -m sonic_train.train " + LINE_4
)
LINE_7 = LINE_4 + " wandb.wandb_project=my_project wandb.wandb_entity=my_team use_wandb=false"
LINE_8 = LINE_4_DEBUG + " headless=False ++algo.config.num_learning_iterations=100"
LINE_9 = LINE_4 + " ++replay=True num_envs=4 headless=False"
LINE_13 = (
    f"+exp=manager/universal_token/all_modes/sonic_bones_seed num_envs=4096 headless=True "
    f"{LIB}.motion_file={ROBOT} {LIB}.smpl_motion_file={SMPL} {LIB}.soma_motion_file={SOMA}"
)


def _resolve(line: str) -> ExperimentConfig:
    args = shlex.split(line)
    if "-m" in args:  # accelerate launch ... -m sonic_train.train ARGS
        args = args[args.index("-m") + 2 :]
    config, start = resolve_config(args)
    assert start is None  # with +exp=, the checkpoint is read by the trainer, not while parsing
    return config


def _paths(cfg: ExperimentConfig) -> tuple[str, str | None, str | None]:
    lib = cfg.manager_env.commands.motion.motion_lib_cfg
    return lib.motion_file, lib.smpl_motion_file, lib.soma_motion_file


@pytest.mark.parametrize("line", [LINE_4, LINE_6], ids=["4-train", "6-multi-gpu"])
def test_train_line(line: str) -> None:
    """Line 4 (and 6 under accelerate): sonic_release, 4096 envs, headless, the given motion files."""
    cfg = _resolve(line)
    assert (
        cfg.exp == "manager/universal_token/all_modes/sonic_release"
        and cfg.manager_env.contract == "sonic_release"
    )
    assert (cfg.num_envs, cfg.manager_env.num_envs, cfg.headless) == (4096, 4096, True)
    assert _paths(cfg) == (ROBOT, SMPL, None)
    assert cfg.checkpoint is None and not cfg.resume and not cfg.replay


def test_train_line_debug_variant() -> None:
    """Line 4's debug form: 16 envs."""
    assert _resolve(LINE_4_DEBUG).manager_env.num_envs == 16


def test_finetune_line() -> None:
    """Line 5: the same plus +checkpoint= (finetune: resume stays off)."""
    cfg = _resolve(LINE_5)
    assert cfg.checkpoint == "sonic_release/last.pt" and cfg.resume is False


def test_wandb_line() -> None:
    """Line 7: W&B project and entity set, use_wandb=false turns it off."""
    cfg = _resolve(LINE_7)
    assert (cfg.wandb.wandb_project, cfg.wandb.wandb_entity, cfg.use_wandb) == (
        "my_project",
        "my_team",
        False,
    )


def test_local_debug_line() -> None:
    """Line 8: 16 envs, headless=False, 100 iterations."""
    cfg = _resolve(LINE_8)
    assert (cfg.num_envs, cfg.headless, cfg.algo.config.num_learning_iterations) == (16, False, 100)


def test_replay_line() -> None:
    """Line 9: replay on 4 envs, headless=False."""
    cfg = _resolve(LINE_9)
    assert (cfg.replay, cfg.num_envs, cfg.headless) == (True, 4, False)


def test_bones_seed_line() -> None:
    """Line 13: sonic_bones_seed with robot, SMPL (overriding 'dummy') and SOMA files."""
    cfg = _resolve(LINE_13)
    assert cfg.manager_env.contract == "sonic_bones_seed" and "soma" in cfg.model.encoders
    assert _paths(cfg) == (ROBOT, SMPL, SOMA)
