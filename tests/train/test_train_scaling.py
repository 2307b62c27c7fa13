"""``benchmarks/train_scaling.py``: its summaries on hand-made inputs, and a real 1- and 2-process CPU run."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from sonic_data.samples import SampleDataset

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "train_scaling.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("train_scaling", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ts = _load_script()


def _check(iteration: int, actor: list[int], rollout: list[int]) -> dict[str, object]:
    n = len(actor)
    return {
        "iteration": iteration,
        "actor": actor,
        "critic": [7] * n,
        "normalizer": [8] * n,
        "std": [9] * n,
        "rollout": rollout,
    }


def test_summarize_scalars_drops_warmup_and_weights_total_by_iteration_time() -> None:
    """Median over kept iterations; total = sum(fps * t) / sum(t); optional scalars only when logged."""
    scalars = {
        "throughput/fps": [(1, 10.0), (2, 200.0), (3, 300.0), (4, 500.0)],
        "throughput/iteration_time_s": [(1, 50.0), (2, 1.0), (3, 2.0), (4, 1.0)],
        "throughput/collect_s": [(1, 40.0), (2, 0.5), (3, 1.5), (4, 0.7)],
        "memory/peak_gpu_gib": [(1, 1.0), (2, 3.0), (3, 2.5), (4, 2.0)],
    }
    out = ts.summarize_scalars(scalars, skip=1)
    assert out["iterations_kept"] == 3
    assert out["env_steps_per_s_median"] == 300.0
    # (200*1 + 300*2 + 500*1) steps over 4 s; iteration 1 (50 s warm-up) left out.
    assert out["env_steps_per_s_total"] == pytest.approx(1300.0 / 4.0)
    assert out["iteration_s_median"] == 1.0
    assert out["collect_s_median"] == 0.7
    assert out["peak_gpu_gib"] == 3.0
    assert "learn_s_median" not in out


def test_summarize_scalars_without_iteration_time_has_no_total() -> None:
    """Only ``throughput/fps``: the median is still reported, the total is None."""
    out = ts.summarize_scalars({"throughput/fps": [(1, 1.0), (2, 4.0), (3, 8.0)]}, skip=0)
    assert out["env_steps_per_s_median"] == 4.0 and out["env_steps_per_s_total"] is None


def test_summarize_scalars_rejects_missing_fps_and_a_skip_that_leaves_nothing() -> None:
    """No fps scalar, or ``--skip`` >= iterations logged, is a clear error."""
    with pytest.raises(ValueError, match="throughput/fps"):
        ts.summarize_scalars({"loss/value": [(1, 0.1)]}, skip=0)
    with pytest.raises(ValueError, match="--skip 2 leaves none"):
        ts.summarize_scalars({"throughput/fps": [(1, 1.0), (2, 1.0)]}, skip=2)


def test_rank_sync_in_sync_with_distinct_rollouts() -> None:
    """Equal synced digests and pairwise distinct rollouts at every check."""
    checks = [_check(10, [1, 1, 1], [4, 5, 6]), _check(20, [2, 2, 2], [7, 8, 9])]
    out = ts.summarize_rank_sync(checks, world_size=3)
    assert out == {
        "rank_sync_checks": 2,
        "rank_sync_iterations": [10, 20],
        "params_in_sync": True,
        "rollouts_differ": True,
    }


def test_rank_sync_flags_a_diverged_actor_and_equal_rollouts() -> None:
    """One check with a differing actor digest -> not in sync; two ranks with equal rollouts -> not differing."""
    checks = [_check(10, [1, 1, 1], [4, 5, 6]), _check(20, [2, 3, 2], [7, 7, 9])]
    out = ts.summarize_rank_sync(checks, world_size=3)
    assert out["params_in_sync"] is False and out["rollouts_differ"] is False


def test_rank_sync_without_checks_or_with_one_rank_reports_none() -> None:
    """No check ran -> both None; one rank -> in sync is checked, rollouts-differ is None."""
    assert ts.summarize_rank_sync([], world_size=2)["params_in_sync"] is None
    one = ts.summarize_rank_sync([_check(3, [5], [6])], world_size=1)
    assert one["params_in_sync"] is True and one["rollouts_differ"] is None


def test_rank_sync_rejects_a_line_with_the_wrong_rank_count() -> None:
    """A digest list whose length is not the world size names the iteration and key."""
    with pytest.raises(ValueError, match="iteration 4: key 'actor'"):
        ts.summarize_rank_sync([_check(4, [1, 1], [2, 3])], world_size=4)


def test_scaling_summary_efficiency_against_one_gpu() -> None:
    """efficiency(N) = fps(N) / (N fps(1)), by hand; a failed N is listed and left out."""
    runs = {
        1: {
            "env_steps_per_s_median": 100.0,
            "env_steps_per_s_total": 90.0,
            "params_in_sync": True,
            "ok": True,
        },
        2: {
            "env_steps_per_s_median": 180.0,
            "env_steps_per_s_total": 171.0,
            "params_in_sync": True,
            "ok": True,
        },
        4: {"error": "launch exited with status 1", "ok": False},
    }
    out = ts.scaling_summary(runs)
    assert out["efficiency"] == {"1": 1.0, "2": pytest.approx(0.9)}
    assert out["efficiency_total"] == {"1": 1.0, "2": pytest.approx(0.95)}
    assert out["failed"] == [4] and out["gpus"] == [1, 2, 4] and out["ranks_in_sync"] is True


def test_scaling_summary_without_one_gpu_has_no_efficiency() -> None:
    """Efficiency needs N = 1 measured in the same invocation."""
    runs = {2: {"env_steps_per_s_median": 180.0, "env_steps_per_s_total": None, "params_in_sync": False}}
    out = ts.scaling_summary(runs)
    assert out["efficiency"] is None and out["ranks_in_sync"] is False and out["failed"] == [2]


def test_launch_command_uses_multi_gpu_only_for_several_processes(tmp_path: Path) -> None:
    """N = 1 runs accelerate's single-process launcher; N > 1 its multi-process one; extras come last."""
    args = ts.parse_args(["--gpus", "1", "2", "--iterations", "3", "--skip", "1", "--extra", "seed=3"])
    args.data = "/data"
    one, two = ts.launch_command(args, 1, tmp_path), ts.launch_command(args, 2, tmp_path)
    assert "--multi_gpu" not in one and "--multi_gpu" in two
    assert one[1:3] == ["-m", "accelerate.commands.launch"] and "--num_processes=2" in two
    assert "check_rank_sync=3" in two and two[-1] == "seed=3"
    assert "++manager_env.commands.motion.motion_lib_cfg.motion_file=/data/robot_filtered" in two


def test_parse_args_refuses_skip_not_below_iterations() -> None:
    """``--skip`` must leave at least one measured iteration."""
    with pytest.raises(SystemExit):
        ts.parse_args(["--iterations", "3", "--skip", "3"])


@pytest.mark.slow
def test_cpu_run_on_one_and_two_processes(
    train_samples: SampleDataset, sonic_cache: str, tmp_path: Path
) -> None:
    """The real script on CPU: fps > 0 for N = 1 and 2, ranks in sync with distinct rollouts, efficiency by hand."""
    out = tmp_path / "out"
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HOME=str(tmp_path / "hf"), SONIC_CACHE_DIR=sonic_cache)
    cmd = [
        sys.executable, str(SCRIPT), "--gpus", "1", "2", "--exp", "small", "--num-envs", "4",
        "--iterations", "3", "--skip", "1", "--device", "cpu", "--data", str(train_samples.root),
        "--out", str(out), "--timeout", "240", "--extra", "++algo.config.num_steps_per_env=8",
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert len(lines) == 3, proc.stdout
    one, two, summary = lines
    assert (one["gpus"], two["gpus"]) == (1, 2)
    for run in (one, two):
        assert run["ok"] is True and run["env_steps_per_s_median"] > 0 and run["env_steps_per_s_total"] > 0
        assert run["iterations_kept"] == 2 and run["rank_sync_iterations"] == [3]
        assert run["params_in_sync"] is True
        assert Path(run["log"]).is_file() and "sonic_train.train" in Path(run["log"]).read_text()
    assert two["rollouts_differ"] is True and one["rollouts_differ"] is None
    sync = [json.loads(x) for x in (out / "rank_sync_N2.jsonl").read_text().splitlines()]
    assert sync[-1]["actor"][0] == sync[-1]["actor"][1] and sync[-1]["rollout"][0] != sync[-1]["rollout"][1]
    expected = two["env_steps_per_s_median"] / (2 * one["env_steps_per_s_median"])
    assert summary["summary"] is True and summary["failed"] == [] and summary["ranks_in_sync"] is True
    assert summary["efficiency"]["1"] == 1.0
    assert summary["efficiency"]["2"] == pytest.approx(expected, rel=1e-4)
