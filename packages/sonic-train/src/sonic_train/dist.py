"""Data-parallel helpers over ``accelerate``, and rank-synchronisation checksums.

Each process owns its envs and a full copy of the model. :class:`DistContext` reads rank, world size and
device from accelerate's ``PartialState`` (which sets up the process group from the variables that
``accelerate launch`` exports: NCCL on GPUs, gloo on CPUs) and wraps the few collectives the
trainer needs. With one process no process group exists and every collective is the identity, so the same
code runs under plain ``python``.

Gradients are averaged by :func:`all_reduce_gradients`, one flat all-reduce per step (what DDP does, without
its wrapper): the universal-token policy calls different encoders on different envs, so a rank may leave
some parameters without a gradient, which DDP would reject; here a missing gradient counts as zero.

``check_rank_sync`` (issue 11, trainer option ``check_rank_sync=N``) compares checksums across ranks:
parameters, buffers, the critic normaliser and ``std`` must be identical on every rank after an update,
while each rank's rollout data should differ (different seeds and envs).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import torch
import torch.distributed as tdist
from torch import Tensor, nn

__all__ = [
    "Checksum",
    "DistContext",
    "RankSyncError",
    "all_reduce_gradients",
    "assert_ranks_identical",
    "check_rank_sync",
    "gather_checksums",
    "module_checksum",
    "tensors_checksum",
]


@dataclass(frozen=True)
class DistContext:
    """Where this process sits in a data-parallel run.

    Attributes:
        rank: global process index.
        world_size: number of processes.
        local_rank: index on this machine (selects ``cuda:<local_rank>``).
        device: this process's device.
    """

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @classmethod
    def from_accelerate(cls, cpu: bool | None = None) -> DistContext:
        """Build from accelerate's ``PartialState`` (initialises the process group when launched).

        Args:
            cpu: run on the CPU with gloo. ``None`` chooses the CPU when CUDA is absent. On a CPU-only
                machine, start several processes with ``accelerate launch --multi_gpu --num_processes=N``
                (accelerate 1.x's ``--cpu`` flag starts a single process unless MPI is configured); the
                processes then form a gloo group.
        """
        from accelerate import PartialState

        if cpu is None:
            cpu = not torch.cuda.is_available()
        state = PartialState(cpu=cpu)
        return cls(
            rank=state.process_index,
            world_size=state.num_processes,
            local_rank=state.local_process_index,
            device=torch.device(state.device if state.device is not None else "cpu"),
        )

    @property
    def is_main(self) -> bool:
        """True on rank 0 (the one that logs and writes checkpoints)."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        """True when collectives go through a process group."""
        return self.world_size > 1

    def _check_group(self) -> None:
        if not tdist.is_available() or not tdist.is_initialized():
            raise RuntimeError(
                f"world size is {self.world_size} but no torch.distributed process group is initialised; "
                "build the context with DistContext.from_accelerate() under `accelerate launch`"
            )

    def all_reduce_sum(self, tensor: Tensor) -> Tensor:
        """Element-wise sum over ranks; returns a new tensor (the input is untouched)."""
        out = tensor.clone()
        if self.distributed:
            self._check_group()
            tdist.all_reduce(out, op=tdist.ReduceOp.SUM)
        return out

    def all_reduce_mean(self, tensor: Tensor) -> Tensor:
        """Element-wise mean over ranks (floating tensors); a new tensor."""
        if not tensor.is_floating_point():
            raise TypeError(f"all_reduce_mean needs a floating tensor, got {tensor.dtype}")
        return self.all_reduce_sum(tensor) / self.world_size

    def broadcast(self, tensor: Tensor, src: int = 0) -> Tensor:
        """Overwrite ``tensor`` in place with rank ``src``'s value and return it."""
        if self.distributed:
            self._check_group()
            tdist.broadcast(tensor, src=src)
        return tensor

    def all_gather(self, tensor: Tensor) -> Tensor:
        """Stack every rank's tensor (same shape on all ranks): ``(world_size, *tensor.shape)``."""
        if not self.distributed:
            return tensor.unsqueeze(0).clone()
        self._check_group()
        parts = [torch.empty_like(tensor) for _ in range(self.world_size)]
        tdist.all_gather(parts, tensor.contiguous())
        return torch.stack(parts)

    def barrier(self) -> None:
        """Wait for every rank."""
        if self.distributed:
            self._check_group()
            tdist.barrier()

    def shutdown(self) -> None:
        """Wait for every rank, then destroy the process group.

        Call it once at the end of a distributed run: a gloo group left alive until interpreter exit can
        abort the process ("terminate called without an active exception") while its threads are torn down.
        """
        if self.distributed and tdist.is_initialized():
            tdist.barrier()
            tdist.destroy_process_group()


@torch.no_grad()
def all_reduce_gradients(parameters: Iterable[nn.Parameter], ctx: DistContext) -> None:
    """Average gradients over ranks in one flat all-reduce; a missing gradient counts as zero.

    Every rank must pass the same parameters in the same order. After the call every parameter has a
    gradient (zeros where no rank produced one).
    """
    params = [p for p in parameters if p.requires_grad]
    if not ctx.distributed or not params:
        return
    flat = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p)).reshape(-1) for p in params])
    flat = ctx.all_reduce_sum(flat) / ctx.world_size
    offset = 0
    for p in params:
        n = p.numel()
        mean = flat[offset : offset + n].view_as(p)
        if p.grad is None:
            p.grad = mean.clone()
        else:
            p.grad.copy_(mean)  # in place: a CUDA-graphed step reads the gradients by address
        offset += n


@dataclass(frozen=True)
class Checksum:
    """Fingerprint of a set of named tensors.

    Attributes:
        total: float64 sum of every value (readable; near-equal sums still flag a desync).
        digest: first 8 bytes of a SHA-256 over names, dtypes, shapes and raw bytes, as a signed int64
            (bit-exact equality).
    """

    total: float
    digest: int


def tensors_checksum(named: Mapping[str, Tensor] | Iterable[tuple[str, Tensor]]) -> Checksum:
    """Checksum of named tensors, in the given order (copies to host; meant for every N iterations)."""
    items = named.items() if isinstance(named, Mapping) else named
    sha = hashlib.sha256()
    total = 0.0
    for name, tensor in items:
        t = tensor.detach()
        total += float(t.to(torch.float64).sum()) if t.numel() else 0.0
        host = t.cpu().contiguous().reshape(-1)
        sha.update(f"{name}|{t.dtype}|{tuple(t.shape)}|".encode())
        sha.update(host.view(torch.uint8).numpy().tobytes())
    return Checksum(total=total, digest=int.from_bytes(sha.digest()[:8], "little", signed=True))


def module_checksum(module: nn.Module, include_buffers: bool = True) -> Checksum:
    """Checksum of a module's parameters (and buffers), by state-dict name."""
    named: list[tuple[str, Tensor]] = list(module.named_parameters())
    if include_buffers:
        named += [(f"buffer:{n}", b) for n, b in module.named_buffers()]
    return tensors_checksum(named)


def gather_checksums(ctx: DistContext, checksum: Checksum) -> list[Checksum]:
    """Every rank's checksum, indexed by rank (identical list on all ranks)."""
    totals = ctx.all_gather(torch.tensor([checksum.total], dtype=torch.float64, device=ctx.device))
    digests = ctx.all_gather(torch.tensor([checksum.digest], dtype=torch.int64, device=ctx.device))
    return [
        Checksum(total=float(t), digest=int(d))
        for t, d in zip(totals[:, 0].tolist(), digests[:, 0].tolist(), strict=True)
    ]


class RankSyncError(RuntimeError):
    """State that must be identical on every rank differs; the message lists the ranks and checksums."""


def assert_ranks_identical(checksums: list[Checksum], what: str) -> None:
    """Raise :class:`RankSyncError` unless every rank's checksum equals rank 0's.

    Args:
        checksums: one per rank, from :func:`gather_checksums`.
        what: the name of the checked state, for the message (e.g. ``"parameters"``).
    """
    reference = checksums[0]
    bad = [r for r, c in enumerate(checksums) if c != reference]
    if bad:
        lines = ", ".join(
            f"rank {r}: sum={c.total!r} digest={c.digest:#018x}" for r, c in enumerate(checksums)
        )
        raise RankSyncError(f"{what} differ across ranks (ranks {bad} differ from rank 0): {lines}")


def check_rank_sync(
    ctx: DistContext,
    synced: Mapping[str, nn.Module | Mapping[str, Tensor]],
    per_rank: Mapping[str, Mapping[str, Tensor]] | None = None,
) -> dict[str, list[Checksum]]:
    """Gather checksums of state that must agree, and of per-rank data, across ranks.

    Args:
        ctx: this process's context (collective: every rank must call it).
        synced: named groups that must be identical on all ranks (a module = its parameters and buffers,
            or a mapping of named tensors, e.g. the critic normaliser's statistics).
        per_rank: named groups expected to differ per rank (rollout observations, rewards); only reported.

    Returns:
        ``{group name: [checksum of rank 0, rank 1, ...]}`` for every group, for logging.

    Raises:
        RankSyncError: a ``synced`` group differs between ranks.
    """
    report: dict[str, list[Checksum]] = {}
    for name, value in synced.items():
        checksum = module_checksum(value) if isinstance(value, nn.Module) else tensors_checksum(value)
        report[name] = gather_checksums(ctx, checksum)
    for name, value in (per_rank or {}).items():
        report[name] = gather_checksums(ctx, tensors_checksum(value))
    for name in synced:
        assert_ranks_identical(report[name], name)
    return report
