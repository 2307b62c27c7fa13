"""CUDA graphs of the env step's manager math: capture once, replay every step.

On the GPU the full SONIC env step was bound by the CPU (``benchmarks/README.md``, "Env step on one
H200"): the GPU was busy ≈8 ms of a ≈20 ms step, the rest was Python issuing ≈900 small kernels for
the terminations, rewards, motion command and observations. :class:`SegmentGraphs` records each such
*segment* of the step (a Python callable) into a ``torch.cuda.CUDAGraph`` once and then replays it:
one launch instead of hundreds. :class:`sonic_env.rl_env.SonicRLEnv` decides what the segments are.

What a segment may do (the discipline a captured callable must keep; CUDA records kernels and
pointers, not Python):

* read and write only tensors that outlive the graph at fixed addresses (Isaac Lab's manager buffers,
  the simulator's arrays, the motion command's pinned reference windows); tensors it allocates live in
  the graphs' private pool and are rewritten in place by every replay, so its return value is the
  same tensors, refreshed;
* no host synchronisation (``.item()``, ``nonzero``, printing a tensor), no Python branch on tensor
  values: the branch taken at capture is the one replayed;
* Python side effects (flags, counters) happen once, at capture: the caller redoes the ones it needs
  after each replay;
* random draws: the default CUDA generator and the ``generators`` given here advance on every replay
  (registered with the graph), so draws differ from step to step as in eager mode, though not
  bit-identical to an eager run's.

Warp kernels (Isaac Lab's simulator reads and writes) are launched on Warp's current stream; during a
capture that stream is the capturing one (``wp.ScopedStream``), so they are recorded with the torch
kernels and Isaac Lab's own capture checks (``capture_unsafe``) see the capture.

Invalidation: ``key()`` is called at every step; when its value changes (the motion library built a
new resident clip set: new tables, new addresses), every graph is dropped and the next ``warmup``
steps run eagerly (lazy allocations and host-syncing one-time setup happen there), then the segments
are captured again.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from contextlib import ExitStack
from typing import Any, Protocol

import torch

__all__ = ["CudaGraphBackend", "GraphBackend", "SegmentGraphs"]


class GraphBackend(Protocol):
    """How :class:`SegmentGraphs` captures and replays (CUDA graphs; a recording double in tests)."""

    def capture(self, fn: Callable[[], Any]) -> tuple[Any, Any]:
        """Record ``fn`` and run it once; returns ``(handle, fn's return value)``."""
        ...

    def replay(self, handle: Any) -> None:
        """Run the recorded work again."""
        ...

    def reset(self) -> None:
        """Drop every recorded graph."""
        ...


class CudaGraphBackend:
    """``torch.cuda.CUDAGraph`` capture on a side stream that Warp launches onto too.

    Args:
        device: the CUDA device of the env.
        generators: non-default CUDA generators the segments draw from (registered with every graph).
        warp: launch Warp kernels onto the capture stream too (the env's segments); False for torch-only
            segments (the learner), which then need no Warp runtime.
    """

    def __init__(
        self, device: torch.device | str, generators: Sequence[torch.Generator] = (), warp: bool = True
    ) -> None:
        self.device = torch.device(device)
        if self.device.type != "cuda":
            raise ValueError(f"CUDA graphs need a CUDA device, got {self.device}")
        self.generators = tuple(generators)
        self._stream = torch.cuda.Stream(self.device)
        self._wp_stream = None
        if warp:
            import warp as wp

            self._wp_stream = wp.stream_from_torch(self._stream)
        self._pool = torch.cuda.graph_pool_handle()
        self._graphs: list[torch.cuda.CUDAGraph] = []

    def capture(self, fn: Callable[[], Any]) -> tuple[Any, Any]:
        torch.cuda.synchronize(self.device)  # Warp's stream and torch's must be idle before the capture
        graph = torch.cuda.CUDAGraph()
        for generator in self.generators:
            graph.register_generator_state(generator)
        with ExitStack() as scopes:
            scopes.enter_context(torch.cuda.graph(graph, pool=self._pool, stream=self._stream))
            if self._wp_stream is not None:
                import warp as wp

                scopes.enter_context(wp.ScopedStream(self._wp_stream, sync_enter=False))
            out = fn()
        self._graphs.append(graph)
        graph.replay()  # a capture records the work without running it
        return graph, out

    def replay(self, handle: Any) -> None:
        handle.replay()

    def reset(self) -> None:
        torch.cuda.synchronize(self.device)
        for graph in self._graphs:
            graph.reset()
        self._graphs.clear()
        # The next graphs get a new memory pool: once every graph of a pool is reset, torch's caching allocator
        # refuses new captures into it while tensors it holds are still alive (the segments' outputs the env
        # keeps: INTERNAL ASSERT "use_count > 0", seen on an H200 with torch 2.11). The old pool is freed with
        # its last tensor.
        self._pool = torch.cuda.graph_pool_handle()


class SegmentGraphs:
    """Named step segments, eager for ``warmup`` steps after each (re)start, then captured and replayed.

    Call :meth:`begin_step` at the start of every env step, :meth:`run` for each segment in a fixed
    order, :meth:`end_step` at the end.

    Args:
        backend: capture/replay implementation (:class:`CudaGraphBackend`).
        key: returns a value that changes whenever a captured address may have changed.
        warmup: eager steps before capturing (≥ 1: the first steps allocate lazily and sync the host).
    """

    def __init__(self, backend: GraphBackend, key: Callable[[], Hashable], warmup: int = 2) -> None:
        if warmup < 1:
            raise ValueError(f"SegmentGraphs: warmup must be >= 1 eager step, got {warmup}")
        self.backend = backend
        self.key = key
        self.warmup = warmup
        self._key: Hashable = object()
        self._eager_left = warmup
        self._captured: dict[str, tuple[Any, Any]] = {}
        self.captures = 0
        """Segments captured so far (each recapture counts again)."""

    @property
    def replaying(self) -> bool:
        """Whether this step's segments replay (or capture) graphs rather than run eagerly."""
        return self._eager_left == 0

    def begin_step(self) -> None:
        """Drop the graphs when :attr:`key` changed; then this and the next ``warmup - 1`` steps are eager."""
        key = self.key()
        if key != self._key:
            self.invalidate()
            self._key = key

    def invalidate(self) -> None:
        """Drop every graph; the segments run eagerly for ``warmup`` steps, then are captured again."""
        if self._captured:
            self._captured.clear()
            self.backend.reset()
        self._eager_left = self.warmup

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        """Run segment ``name``: eagerly while warming up, else capture it once and replay it.

        Returns:
            ``fn``'s return value; once captured, the same tensors every step, refreshed in place.
        """
        if not self.replaying:
            return fn()
        captured = self._captured.get(name)
        if captured is None:
            captured = self.backend.capture(fn)
            self._captured[name] = captured
            self.captures += 1
            return captured[1]
        self.backend.replay(captured[0])
        return captured[1]

    def end_step(self) -> None:
        """Count one finished step toward the warmup."""
        if self._eager_left > 0:
            self._eager_left -= 1
