"""Data-parallel helpers: single-process identities, checksums, and a real 2-process gloo run.

The 2-process test launches this file under ``accelerate launch --multi_gpu --num_processes=2`` (on a machine
without CUDA the processes form a gloo group; accelerate 1.x's ``--cpu`` starts one process); the worker at
the bottom trains a tiny MLP on different data per rank, once with gradient all-reduce and once without
(negative control), and rank 0 writes what it saw as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from sonic_train.algo.gae import normalize_advantages
from sonic_train.dist import (
    Checksum,
    DistContext,
    RankSyncError,
    all_reduce_gradients,
    assert_ranks_identical,
    check_rank_sync,
    gather_checksums,
    module_checksum,
    tensors_checksum,
)


def test_single_process_collectives_are_identities() -> None:
    """World size 1 needs no process group: sum/mean/broadcast return the input, gather adds a rank dim."""
    ctx = DistContext()
    t = torch.tensor([1.0, 2.0])
    assert torch.equal(ctx.all_reduce_sum(t), t) and torch.equal(ctx.all_reduce_mean(t), t)
    assert torch.equal(ctx.broadcast(t.clone()), t)
    assert ctx.all_gather(t).shape == (1, 2)
    assert ctx.is_main and not ctx.distributed
    report = check_rank_sync(ctx, {"params": nn.Linear(2, 2)}, {"rollout": {"obs": t}})
    assert len(report["params"]) == 1 and len(report["rollout"]) == 1


def test_context_from_accelerate_without_launcher() -> None:
    """Under plain python, accelerate reports one process on this machine."""
    ctx = DistContext.from_accelerate(cpu=True)
    assert (ctx.rank, ctx.world_size, ctx.device.type) == (0, 1, "cpu")


def test_world_size_above_one_without_group_is_a_clear_error() -> None:
    """A context claiming 2 ranks without a process group says how to build one."""
    with pytest.raises(RuntimeError, match="accelerate launch"):
        DistContext(rank=0, world_size=2).all_reduce_sum(torch.zeros(1))


def test_checksum_detects_a_single_bit_and_a_renamed_tensor() -> None:
    """Equal tensors give equal checksums; one changed ulp or a different name changes the digest."""
    a = {"w": torch.linspace(0, 1, 100), "mask": torch.tensor([True, False])}
    assert tensors_checksum(a) == tensors_checksum({k: v.clone() for k, v in a.items()})
    bumped = dict(a, w=a["w"].clone())
    bumped["w"][50] = torch.nextafter(bumped["w"][50], torch.tensor(2.0))
    assert tensors_checksum(bumped).digest != tensors_checksum(a).digest
    assert tensors_checksum({"v": a["w"], "mask": a["mask"]}).digest != tensors_checksum(a).digest
    assert tensors_checksum(a).total == pytest.approx(float(a["w"].double().sum()) + 1.0)


def test_assert_ranks_identical_names_the_odd_rank() -> None:
    """Rank 2 differing from rank 0 is reported by number."""
    same, odd = Checksum(1.0, 7), Checksum(1.0, 8)
    assert_ranks_identical([same, same], "parameters")
    with pytest.raises(RankSyncError, match=r"ranks \[2\]"):
        assert_ranks_identical([same, same, odd], "parameters")


def test_all_reduce_gradients_single_process_keeps_gradients() -> None:
    """With one rank the gradients are untouched."""
    layer = nn.Linear(2, 1)
    layer(torch.ones(1, 2)).sum().backward()
    before = [p.grad.clone() for p in layer.parameters()]  # type: ignore[union-attr]
    all_reduce_gradients(layer.parameters(), DistContext())
    assert all(torch.equal(p.grad, b) for p, b in zip(layer.parameters(), before, strict=True))  # type: ignore[arg-type]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _launch_and_check(tmp_path: Path, cpu: bool) -> None:
    out = tmp_path / "result.json"
    env = dict(os.environ, OMP_NUM_THREADS="1", HF_HOME=str(tmp_path / "hf"), PYTHONUNBUFFERED="1")
    cmd = [
        sys.executable, "-m", "accelerate.commands.launch",
        "--multi_gpu", "--num_processes", "2", "--num_machines", "1", "--mixed_precision", "no",
        "--dynamo_backend", "no", "--main_process_port", str(_free_port()),
        __file__, "--out", str(out), *(["--cpu"] if cpu else []),
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["world_size"] == 2
    assert result["device_type"] == ("cpu" if cpu else "cuda")
    synced, unsynced = result["sync"], result["no_sync"]
    # Per-rank data really differ (different seeds), so identical parameters are not trivial.
    assert synced["data"][0] != synced["data"][1]
    assert synced["params"][0] == synced["params"][1]
    assert synced["buffers"][0] == synced["buffers"][1]
    assert synced["rank_sync_error"] is None
    # Negative control: same init, no gradient sync -> parameters diverge and check_rank_sync says so.
    assert unsynced["params"][0] != unsynced["params"][1]
    assert unsynced["rank_sync_error"] is not None and "differ across ranks" in unsynced["rank_sync_error"]
    # Global advantage whitening equals whitening of the concatenated shards.
    assert result["adv_norm_max_err"] < 1e-5


def test_two_gloo_processes_stay_in_sync_only_with_gradient_all_reduce(tmp_path: Path) -> None:
    """2 CPU ranks: data checksums differ; with grad all-reduce parameters and buffers match, without they diverge."""
    _launch_and_check(tmp_path, cpu=True)


@pytest.mark.gpu
@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs 2 CUDA devices")
def test_two_nccl_processes_stay_in_sync_only_with_gradient_all_reduce(tmp_path: Path) -> None:
    """The same check on 2 GPUs with NCCL (what the GPU training runs use)."""
    _launch_and_check(tmp_path, cpu=False)


class _Net(nn.Module):
    """Tiny MLP plus a buffer updated from (all-reduced) data statistics, like a critic normaliser."""

    running_mean: torch.Tensor

    def __init__(self) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Linear(16, 1))
        self.register_buffer("running_mean", torch.zeros(4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x - self.running_mean)


def _train(ctx: DistContext, sync: bool) -> dict:
    torch.manual_seed(0)  # identical initial weights on every rank
    net = _Net().to(ctx.device)
    gen = torch.Generator().manual_seed(100 + ctx.rank)  # different data per rank
    x = torch.randn(64, 4, generator=gen).to(ctx.device)
    y = torch.sin(x.sum(dim=1, keepdim=True))
    for _ in range(5):
        with torch.no_grad():
            batch_mean = x.mean(dim=0)
            net.running_mean.copy_(ctx.all_reduce_mean(batch_mean) if sync else batch_mean)
        net.zero_grad(set_to_none=True)
        (net(x) - y).square().mean().backward()
        if sync:
            grads = [p.grad for p in net.parameters()]
            all_reduce_gradients(net.parameters(), ctx)
            # in place: a CUDA-graphed optimiser step reads the gradients by address
            assert all(p.grad is g for p, g in zip(net.parameters(), grads, strict=True))
        # Plain SGD by hand: a torch.optim step would import torch._dynamo (~10 s per process on 2 cores).
        with torch.no_grad():
            for p in net.parameters():
                p.add_(p.grad, alpha=-0.05)  # type: ignore[arg-type]
    error = None
    try:
        check_rank_sync(ctx, {"parameters": net}, {"rollout": {"x": x, "y": y}})
    except RankSyncError as err:
        error = str(err)

    def gathered(c: Checksum) -> list:
        return [[g.total, g.digest] for g in gather_checksums(ctx, c)]

    return {
        "data": gathered(tensors_checksum({"x": x, "y": y})),
        "params": gathered(tensors_checksum(list(net.named_parameters()))),
        "buffers": gathered(tensors_checksum(list(net.named_buffers()))),
        "module": gathered(module_checksum(net)),
        "rank_sync_error": error,
    }


def _worker(out: Path, cpu: bool) -> None:
    ctx = DistContext.from_accelerate(cpu=cpu)
    result = {
        "world_size": ctx.world_size,
        "device_type": ctx.device.type,
        "sync": _train(ctx, True),
        "no_sync": _train(ctx, False),
    }
    shard = (
        torch.randn(24, 8, generator=torch.Generator().manual_seed(7 + ctx.rank)).to(ctx.device)
        + 2.0 * ctx.rank
    )
    mine = normalize_advantages(shard, ctx.all_reduce_sum)
    everything = ctx.all_gather(shard).reshape(-1)
    expected = (everything - everything.mean()) / (everything.std() + 1e-8)
    ours = ctx.all_gather(mine).reshape(-1)
    result["adv_norm_max_err"] = float((ours - expected).abs().max())
    if ctx.is_main:
        out.write_text(json.dumps(result))
    ctx.shutdown()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cpu", action="store_true", help="gloo on CPUs instead of NCCL on GPUs")
    args = parser.parse_args()
    _worker(args.out, args.cpu)
