"""Running one function over many files: worker pool, progress bar, and the end-of-run summary.

Every batch command (convert, filter, extract-soma) maps a top-level job function over its inputs.
A job never raises for a bad input: it returns a :class:`JobResult` saying ``converted``, ``skipped``
or ``failed`` with the reason, so one bad file is reported and the others still go through. The
caller exits non-zero when anything failed.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal, TextIO

from tqdm import tqdm

__all__ = ["JobResult", "print_summary", "run_jobs"]

Status = Literal["converted", "skipped", "failed"]


@dataclass(frozen=True)
class JobResult:
    """Outcome of one job.

    Attributes:
        source: the input file.
        status: ``converted`` (output written), ``skipped`` (output kept as it was) or ``failed``.
        reason: why it was skipped or failed (empty when converted).
        output: the output file, if any.
        payload: optional data returned to the parent process (e.g. an entry for a combined file).
    """

    source: str
    status: Status
    reason: str = ""
    output: str = ""
    payload: Any = None


def _init_worker() -> None:
    # One worker per core: keep torch/BLAS from starting more threads than that.
    import torch

    torch.set_num_threads(1)


def run_jobs(
    fn: Callable[..., JobResult],
    jobs: Sequence[tuple[Any, ...]],
    *,
    num_workers: int,
    desc: str,
    chunksize: int = 8,
) -> list[JobResult]:
    """Apply ``fn(*job)`` to every job with a tqdm bar; results in job order.

    ``num_workers <= 1`` runs in this process (no pool); otherwise a ``ProcessPoolExecutor`` with
    ``min(num_workers, len(jobs))`` processes. ``fn`` must be a module-level function.
    """
    bar_args = {"total": len(jobs), "desc": desc, "unit": "file", "file": sys.stderr, "dynamic_ncols": True}
    if num_workers <= 1 or len(jobs) <= 1:
        return [fn(*job) for job in tqdm(jobs, **bar_args)]
    workers = min(num_workers, len(jobs))
    # spawn, not fork: forking a process that already runs torch threads can deadlock.
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker) as pool:
        it: Iterable[JobResult] = pool.map(_star, [(fn, job) for job in jobs], chunksize=chunksize)
        return list(tqdm(it, **bar_args))


def _star(args: tuple[Callable[..., JobResult], tuple[Any, ...]]) -> JobResult:
    fn, job = args
    return fn(*job)


def print_summary(title: str, results: Sequence[JobResult], *, stream: TextIO | None = None) -> bool:
    """Print counts per status and every failure with its reason; return True if none failed."""
    out = stream if stream is not None else sys.stdout
    counts = Counter(r.status for r in results)
    print(
        f"{title}: {counts['converted']} converted, {counts['skipped']} skipped, {counts['failed']} failed "
        f"(of {len(results)})",
        file=out,
    )
    reasons = Counter(r.reason for r in results if r.status == "skipped")
    for reason, n in reasons.most_common():
        print(f"  skipped {n}: {reason}", file=out)
    for r in results:
        if r.status == "failed":
            print(f"  FAILED {r.source}: {r.reason}", file=out)
    out.flush()
    return counts["failed"] == 0
