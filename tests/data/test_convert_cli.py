"""The console scripts through subprocess: help for every flag, both spellings, aliases, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sonic_data.formats import RobotMotion, read_robot_pkl, write_g1_csv

BIN = Path(sys.executable).parent

FLAGS = {
    "convert": [
        "--input",
        "--output",
        "--fps",
        "--fps_source",
        "--fps-source",
        "--individual",
        "--num_workers",
        "--num-workers",
    ],
    "filter": [
        "--source",
        "--dest",
        "--workers",
        "--dry-run",
        "--dry_run",
        "--add-keywords",
        "--add_keywords",
        "--filter-keywords",
        "--filter_keywords",
        "--filter_file",
        "--filter-file",
    ],
    "extract-soma": [
        "--input",
        "--output",
        "--fps",
        "--num_workers",
        "--num-workers",
        "--skip_existing",
        "--skip-existing",
    ],
    "make-samples": ["--output", "--pipeline", "--fps", "--num_workers", "--motions"],
}
ALIASES = {
    "convert": "convert_soma_csv_to_motion_lib",
    "filter": "filter_and_copy_bones_data",
    "extract-soma": "extract_soma_joints_from_bvh",
}


def _run(args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, cwd=cwd, timeout=300)


def test_help_documents_every_flag_of_every_command() -> None:
    """`sonic-data COMMAND --help` (console script) lists every flag in both spellings, with help text."""
    top = _run([str(BIN / "sonic-data"), "--help"])
    assert top.returncode == 0 and all(c in top.stdout for c in FLAGS)
    for command, flags in FLAGS.items():
        res = _run([str(BIN / "sonic-data"), command, "--help"])
        assert res.returncode == 0
        missing = [f for f in flags if f not in res.stdout]
        assert not missing, (command, missing)


@pytest.mark.parametrize("command", list(ALIASES))
def test_seed_script_names_are_aliases(command: str) -> None:
    """The seed's script names are installed and take the same flags."""
    res = _run([str(BIN / ALIASES[command]), "--help"])
    assert res.returncode == 0 and ALIASES[command] in res.stdout
    assert all(f in res.stdout for f in FLAGS[command])


def test_seed_command_line_1_converts_and_reports_failures(tmp_path: Path) -> None:
    """`convert_soma_csv_to_motion_lib --input D --output D --fps 30 --fps_source 120 --individual --num_workers 2`."""
    t = 40
    m = RobotMotion(
        np.tile([0.0, 0.0, 0.75], (t, 1)), np.tile([1.0, 0, 0, 0], (t, 1)), np.full((t, 29), 0.1), 120
    )
    write_g1_csv(tmp_path / "csv" / "240101" / "a.csv", m)
    write_g1_csv(tmp_path / "csv" / "240102" / "b.csv", m)
    (tmp_path / "csv" / "240102" / "broken.csv").write_text("Frame,root_translateX\n0,1\n")
    cmd = [
        str(BIN / "convert_soma_csv_to_motion_lib"),
        "--input",
        str(tmp_path / "csv"),
        "--output",
        str(tmp_path / "out"),
    ]
    res = _run([*cmd, "--fps", "30", "--fps_source", "120", "--individual", "--num_workers", "2"])
    assert res.returncode == 1
    assert (
        "2 converted, 0 skipped, 1 failed" in res.stdout
        and "broken.csv" in res.stdout
        and "line 1" in res.stdout
    )
    assert read_robot_pkl(tmp_path / "out" / "240101" / "a.pkl")["a"].num_frames == 10
    again = _run(
        [
            sys.executable,
            "-m",
            "sonic_data.cli",
            "convert",
            "--input",
            str(tmp_path / "csv" / "240101"),
            "--output",
            str(tmp_path / "out" / "240101"),
            "--individual",
            "--num-workers",
            "1",
        ]
    )
    assert again.returncode == 0 and "0 converted, 1 skipped, 0 failed" in again.stdout


def test_bad_arguments_exit_2() -> None:
    """A missing required flag is an argparse error (exit 2) naming it."""
    res = _run([sys.executable, "-m", "sonic_data.cli", "convert", "--output", "x"])
    assert res.returncode == 2 and "--input" in res.stderr


def test_make_samples_pipeline_through_the_console_script(tmp_path: Path) -> None:
    """`sonic-data make-samples --output sample_data --pipeline` (one motion) builds the three folders."""
    res = _run(
        [
            str(BIN / "sonic-data"),
            "make-samples",
            "--output",
            "sample_data",
            "--pipeline",
            "--motions",
            "wave_right_hand_001__A003",
        ],
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr[-2000:]
    for folder in ("robot_filtered", "smpl_filtered", "soma_filtered"):
        assert sorted(p.name for p in (tmp_path / "sample_data" / folder / "240101").iterdir()) == [
            "wave_right_hand_001__A003.pkl", "wave_right_hand_001__A003_M.pkl",
        ]  # fmt: skip
