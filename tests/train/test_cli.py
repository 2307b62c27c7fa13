"""The ``sonic-train`` console script: --help, argument errors, ``python -m``, and the replay line (9)."""

from __future__ import annotations

import importlib.util
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from sonic_data.samples import SampleDataset
from sonic_train.train import VIEWER_MESSAGE, main


def free_port() -> int:
    """A TCP port nobody listens on now (for the viewer that headless=False opens)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SCRIPT = shutil.which("sonic-train") or str(Path(sys.executable).with_name("sonic-train"))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def test_help_lists_presets_main_keys_and_flat_ground() -> None:
    """--help names the three presets (both spellings), the guide's keys and the flat-ground limitation."""
    proc = _run(SCRIPT, "--help")
    assert proc.returncode == 0, proc.stderr
    for text in (
        "+exp=sonic_release",
        "manager/universal_token/all_modes/sonic_bones_seed",
        "+exp=small",
        "algo.config.num_learning_iterations",
        "manager_env.commands.motion.motion_lib_cfg.motion_file",
        "wandb.wandb_entity",
        "rough trimesh terrain",
        "terrain_type=plane",
    ):
        assert text in proc.stdout, text


def test_unknown_key_suggests_the_closest_and_exits_2() -> None:
    """A typo fails before any env is built, with the closest valid key named."""
    proc = _run(SCRIPT, "+exp=small", "++algo.config.num_learning_iteration=3")
    assert proc.returncode == 2
    assert "did you mean algo.config.num_learning_iterations" in proc.stderr


def test_bad_value_and_unknown_preset_exit_2() -> None:
    """A value of the wrong type names the field; an unknown +exp lists the valid presets."""
    proc = _run(sys.executable, "-m", "sonic_train.train", "+exp=small", "num_envs=many")
    assert proc.returncode == 2 and "num_envs" in proc.stderr
    proc = _run(sys.executable, "-m", "sonic_train.train", "+exp=sonic_relase")
    assert proc.returncode == 2 and "sonic_release" in proc.stderr


@pytest.mark.skipif(importlib.util.find_spec("wandb") is not None, reason="wandb is installed")
def test_wandb_without_the_package_says_how_to_install_it() -> None:
    """use_wandb=true without wandb: exit 2 before any env is built, naming the extra to install."""
    proc = _run(SCRIPT, "+exp=small", "use_wandb=true", "wandb.wandb_project=my_project")
    assert proc.returncode == 2 and "sonic-train[wandb]" in proc.stderr


def test_replay_line_plays_every_clip_once(
    train_samples: SampleDataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Line 9 (`++replay=True num_envs=4 headless=False`): the Viser URL, the clip once, near-zero error."""
    lib = "++manager_env.commands.motion.motion_lib_cfg"
    port = free_port()
    status = main(
        [
            "+exp=small",
            f"{lib}.motion_file={train_samples.robot_filtered}",
            f"{lib}.smpl_motion_file={train_samples.smpl_filtered}",
            f"{lib}.multi_thread=False",
            f"{lib}.filter_motion_keys=[stand_idle_neutral_001__A001]",  # the shortest clip: 149 steps
            "device=cpu",
            f"base_dir={tmp_path}",
            "++replay=True",
            "num_envs=4",
            "headless=False",
            f"viewer_port={port}",
        ]
    )
    out = capsys.readouterr().out
    assert status == 0
    assert f"{VIEWER_MESSAGE}: open http://127.0.0.1:{port}" in out  # no display here: Viser, on loopback
    done = re.search(r"replay done: (\d+) clips of (\d+), (\d+) steps; max error anchor ([\d.]+) m", out)
    assert done is not None, out[-2000:]
    assert int(done[1]) == int(done[2]) == 1
    assert int(done[3]) == 149  # 91 frames at 30 fps -> 150 frames at 50 fps, played from frame 0
    assert float(done[4]) < 0.05  # the robot is written onto its reference every step
    assert not any(tmp_path.iterdir())  # replay writes no run folder
