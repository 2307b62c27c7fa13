"""The real trainer data-parallel: `accelerate launch --multi_gpu --num_processes 2` on the CPU (gloo).

The worker at the bottom builds the Trainer exactly as ``sonic-train`` does (``resolve_config`` +
``DistContext.from_accelerate``), 4 envs per rank, ``check_rank_sync=1``, 2 iterations: every iteration the
checksums of actor, critic, normaliser and ``std`` must agree across ranks (else the run raises) while the
per-rank rollouts differ. Then, as a negative control, gradient all-reduce is switched off for one more
iteration, and the same check must report diverging ranks. Rank 0 writes what it saw as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_gloo_ranks_stay_in_sync_and_the_negative_control_diverges(
    small_run_args: Callable[..., list[str]], sonic_cache: str, tmp_path: Path
) -> None:
    """Rollouts differ per rank; parameters/normaliser/std stay identical; without grad sync they differ."""
    out = tmp_path / "result.json"
    args = [*small_run_args(tmp_path / "logs_rl", 2), "check_rank_sync=1"]
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HOME=str(tmp_path / "hf"), PYTHONUNBUFFERED="1")
    env["SONIC_CACHE_DIR"] = sonic_cache
    cmd = [
        sys.executable, "-m", "accelerate.commands.launch",
        "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
        "--dynamo_backend", "no", "--main_process_port", str(_free_port()),
        __file__, "--out", str(out), "--", *args,
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["world_size"] == 2 and result["iteration"] == 2
    checks = [json.loads(line) for line in Path(result["rank_sync"]).read_text().splitlines()]
    synced = [c for c in checks if c["iteration"] <= 2]
    assert [c["iteration"] for c in synced] == [1, 2]
    for check in synced:
        for group in ("actor", "critic", "normalizer", "std"):
            assert check[group][0] == check[group][1], (group, check)
        assert check["rollout"][0] != check["rollout"][1]  # each rank simulated its own envs
    # Negative control: the check at iteration 3 saw different actors and raised on every rank.
    assert result["no_sync_error"] is not None and "differ across ranks" in result["no_sync_error"]
    assert checks[-1]["iteration"] == 3 and checks[-1]["actor"][0] != checks[-1]["actor"][1]


def _worker(out: Path, args: list[str]) -> None:
    from sonic_train.dist import DistContext, RankSyncError
    from sonic_train.train import resolve_config
    from sonic_train.trainer import Trainer

    ctx = DistContext.from_accelerate()
    trainer = Trainer(resolve_config(args)[0], ctx, console=None)
    try:
        trainer.train()
        iteration = trainer.iteration
        trainer.learner.sync_gradients = False  # negative control (test only)
        error = None
        try:
            trainer.train(until=3)
        except RankSyncError as err:
            error = str(err)
    finally:
        trainer.close()
    if ctx.is_main:
        assert trainer.run_dir is not None
        result = {
            "world_size": ctx.world_size,
            "iteration": iteration,
            "rank_sync": str(trainer.run_dir / "rank_sync.jsonl"),
            "no_sync_error": error,
        }
        out.write_text(json.dumps(result))
    ctx.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("args", nargs="*")
    parsed = parser.parse_args()
    _worker(parsed.out, parsed.args)
