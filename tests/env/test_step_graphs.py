"""SegmentGraphs: eager warm-up, one capture per segment, replays, recapture when the key changes.

The CUDA backend needs a GPU (``benchmarks/env_graphs.py`` checks it against eager steps there); here a
recording double stands in for it, so the bookkeeping is tested on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import torch

from sonic_env.step_graphs import CudaGraphBackend, SegmentGraphs


class RecordingBackend:
    """Captures by running ``fn`` once; a replay re-runs the recorded callable (like a graph, no Python of the caller)."""

    def __init__(self) -> None:
        self.log: list[str] = []

    def capture(self, fn: Callable[[], Any]) -> tuple[Any, Any]:
        self.log.append("capture")
        return fn, fn()

    def replay(self, handle: Any) -> None:
        self.log.append("replay")
        handle()

    def reset(self) -> None:
        self.log.append("reset")


def _step(graphs: SegmentGraphs, calls: list[str]) -> Any:
    graphs.begin_step()
    out = graphs.run("a", lambda: calls.append("a") or torch.tensor(len(calls)))
    graphs.run("b", lambda: calls.append("b"))
    graphs.end_step()
    return out


def test_warmup_steps_run_eagerly_then_each_segment_is_captured_once_and_replayed() -> None:
    backend, calls = RecordingBackend(), []
    graphs = SegmentGraphs(backend, key=lambda: 0, warmup=2)
    for _ in range(2):
        _step(graphs, calls)
    assert backend.log == [] and calls == ["a", "b", "a", "b"] and graphs.replaying
    first = _step(graphs, calls)
    assert backend.log == ["capture", "capture"] and graphs.captures == 2
    again = _step(graphs, calls)
    assert backend.log[2:] == ["replay", "replay"]
    assert again is first, "a replayed segment returns its captured outputs"
    assert calls == ["a", "b"] * 4


def test_a_changed_key_drops_the_graphs_warms_up_again_and_recaptures() -> None:
    backend, calls, key = RecordingBackend(), [], [0]
    graphs = SegmentGraphs(backend, key=lambda: key[0], warmup=1)
    for _ in range(3):
        _step(graphs, calls)
    assert graphs.captures == 2
    key[0] = 1  # e.g. a new resident clip set
    graphs.begin_step()
    assert backend.log[-1] == "reset" and not graphs.replaying
    graphs.end_step()
    _step(graphs, calls)
    assert graphs.captures == 4 and backend.log[-2:] == ["capture", "capture"]


def test_invalid_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="warmup"):
        SegmentGraphs(RecordingBackend(), key=lambda: 0, warmup=0)
    with pytest.raises(ValueError, match="CUDA device"):
        CudaGraphBackend("cpu")
