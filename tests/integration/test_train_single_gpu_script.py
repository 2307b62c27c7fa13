"""examples/train_single_gpu.sh end to end on the CPU with tiny settings: the recipe's commands, in its order.

Two sample motions (one of them a video motion), the small preset on 4 envs for a 3-second budget
(``max_train_time_s``), the three evals and the video render in parallel, the curves and the summary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import matplotlib.image

from sonic_data.samples import build_sample_dataset

ROOT = Path(__file__).resolve().parents[2]
MOTIONS = ("stand_idle_neutral_001__A001", "squat_slow_001__A002")  # squat is one of the three video motions


def test_recipe_script_trains_evaluates_renders_and_plots(tmp_path: Path) -> None:
    data = build_sample_dataset(tmp_path / "data", motions=MOTIONS)
    out = tmp_path / "out"
    env = dict(
        os.environ,
        SONIC_CACHE_DIR=str(tmp_path / "cache"),
        PYTHON=sys.executable,
        EXP="small",
        NUM_ENVS="4",
        EVAL_ENVS="2",
        DEVICE="cpu",
        DATA=str(data.root),
    )
    result = subprocess.run(
        [
            "bash",
            str(ROOT / "examples" / "train_single_gpu.sh"),
            str(out),
            "3",
            "++algo.config.num_steps_per_env=8",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout[-4000:]}\nstderr:\n{result.stderr[-2000:]}"
    train_log = (out / "train.log").read_text()
    assert "max_train_time_s=3 reached" in train_log  # small's 100 iterations would take minutes
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary) == {"g1", "smpl", "teleop"}
    for encoder, entry in summary.items():
        assert entry["motions"] == len(MOTIONS), encoder
        assert 0.0 <= entry["success_rate"] <= 1.0 and entry["mpjpe_l_mm"] > 0.0
        motions = json.loads((out / f"eval_{encoder}" / "motions.json").read_text())
        assert {m["encoder"] for m in motions} == {encoder}
    (video,) = (json.loads(line) for line in (out / "videos" / "videos.jsonl").read_text().splitlines())
    assert video["clip"] == "squat_slow_001__A002" and (out / "videos" / video["video"]).stat().st_size > 0
    assert matplotlib.image.imread(out / "curves.png").shape[:2] == (800, 1500)
