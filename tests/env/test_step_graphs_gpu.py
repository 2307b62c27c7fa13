"""The CUDA-graphed env step on a GPU (skipped without CUDA): training-mode statistics and the recapture.

Runs ``benchmarks/env_graphs.py`` in a child process (one Isaac Lab simulation per process): the graphed
env must keep the eager env's mean reward and done rate (other random streams, so within a tolerance),
draw different reset starts from replay to replay, and recapture its graphs after a new resident clip set.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "env_graphs.py"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_graphed_step_trains_like_the_eager_one_and_recaptures() -> None:
    cmd = [
        sys.executable,
        str(SCRIPT),
        "--device",
        "cuda:0",
        "--checks",
        "train",
        "--envs",
        "128",
        "--steps",
        "80",
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=1200)
    lines = [
        json.loads(ln.removeprefix("RESULT ")) for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")
    ]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    train = lines[0]
    eager, graphs = train["eager"], train["graphs"]
    assert graphs["mean_reward"] == pytest.approx(eager["mean_reward"], rel=0.05)
    assert graphs["done_rate"] == pytest.approx(eager["done_rate"], rel=0.2, abs=0.005)
    assert graphs["distinct_starts"] >= 0.8 * eager["distinct_starts"]
    assert graphs["captures_after"] == 2 * graphs["captures_before_new_resident"] > 0
    assert graphs["finite_after"] and graphs["frames_in_range_after"]
