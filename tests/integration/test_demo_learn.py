"""examples/demo_learn.py end to end with tiny settings: checkpoint, per-encoder eval JSON and curves.png exist."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib.image

ROOT = Path(__file__).resolve().parents[2]
MOTIONS = ("stand_idle_neutral_001__A001", "squat_slow_001__A002")  # neither has a mirrored copy


def test_demo_learn_writes_checkpoint_eval_and_curves(tmp_path: Path) -> None:
    """2 iterations x 4 envs on two sample motions, eval with the g1 encoder: every promised output is there."""
    out = tmp_path / "demo"
    env = dict(os.environ, SONIC_CACHE_DIR=str(tmp_path / "cache"))
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "demo_learn.py"),
            "--out",
            str(out),
            "--iterations",
            "2",
            "--num-envs",
            "4",
            "--encoders",
            "g1",
            "--eval-envs",
            "2",
            "--motions",
            *MOTIONS,
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    (run,) = sorted((out / "logs_rl" / "TRL_G1_Track").glob("demo_learn-*"))
    assert (run / "last.pt").is_file()
    assert any(run.glob("events.out.tfevents.*"))
    metrics = json.loads((run / "eval" / "last_g1" / "metrics_eval.json").read_text())
    assert 0.0 <= metrics["success_rate"] <= 1.0
    motions = json.loads((run / "eval" / "last_g1" / "motions.json").read_text())
    assert sorted(m["motion"] for m in motions) == sorted(MOTIONS)
    assert {m["encoder"] for m in motions} == {"g1"}
    image = matplotlib.image.imread(out / "curves.png")
    assert image.shape[:2] == (800, 1500)
    assert "success" in result.stdout and str((out / "curves.png").resolve()) in result.stdout
