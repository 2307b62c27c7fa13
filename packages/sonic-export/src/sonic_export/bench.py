"""CPU latency of exported files at batch 1 on one thread, as a robot's control loop runs them.

Each session uses ``intra_op_num_threads=1`` and sequential execution; the input is a fixed random
``obs_dict`` (the graphs have no data-dependent branches, so values do not change the work). A chain
(``_encoder`` then ``_decoder``, SONIC's deploy pattern) is timed as one step: encoder run, token
copied into the decoder's input, decoder run. Figures are wall-clock per step after warm-up:
median, 90th percentile and minimum, in milliseconds.
"""

from __future__ import annotations

import os
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnxruntime

from sonic_export.layout import TOKEN_TERM
from sonic_export.runtime import ExportedPolicy, load


@dataclass(frozen=True)
class BenchResult:
    """Latency of one file or chain (milliseconds per batch-1 step, one thread)."""

    name: str
    precision: str
    iterations: int
    median_ms: float
    p90_ms: float
    min_ms: float
    machine: str

    def as_dict(self) -> dict[str, object]:
        """JSON-able figures."""
        return {"benchmark": "onnx_latency", **asdict(self)}


def machine_description() -> str:
    """CPU model and core count (from /proc/cpuinfo where present) and the onnxruntime version."""
    model = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return f"{model}, {os.cpu_count()} cores, onnxruntime {onnxruntime.__version__}"


def _time(step: Callable[[], object], iterations: int, warmup: int) -> np.ndarray:
    for _ in range(warmup):
        step()
    times = np.empty(iterations)
    for i in range(iterations):
        start = time.perf_counter()
        step()
        times[i] = time.perf_counter() - start
    return times * 1e3


def _result(name: str, precision: str, times_ms: np.ndarray) -> BenchResult:
    return BenchResult(
        name=name,
        precision=precision,
        iterations=len(times_ms),
        median_ms=round(float(np.median(times_ms)), 4),
        p90_ms=round(float(np.percentile(times_ms, 90)), 4),
        min_ms=round(float(times_ms.min()), 4),
        machine=machine_description(),
    )


def _random_input(exported: ExportedPolicy, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((1, exported.metadata.input_width)).astype(np.float32)
    if exported.metadata.input_layout[0].name == "mode_id":
        x[0, 0] = 0.0  # the g1 token; every encoder runs whatever the id
    return x


def bench_file(path: str | Path, iterations: int = 500, warmup: int = 50, seed: int = 0) -> BenchResult:
    """Latency of one exported file at batch 1, one thread."""
    exported = load(path, num_threads=1)
    x = _random_input(exported, seed)
    feeds = {exported.metadata.input_name: x}
    times = _time(lambda: exported.session.run(None, feeds), iterations, warmup)
    return _result(Path(path).name, exported.metadata.precision, times)


def bench_chain(
    encoder_path: str | Path,
    decoder_path: str | Path,
    mode_id: int = 0,
    iterations: int = 500,
    warmup: int = 50,
    seed: int = 0,
) -> BenchResult:
    """Latency of one deploy step: ``_encoder`` (mode ``mode_id``) then ``_decoder``, one thread each."""
    encoder = load(encoder_path, num_threads=1)
    decoder = load(decoder_path, num_threads=1)
    x_enc = _random_input(encoder, seed)
    x_enc[0, 0] = float(mode_id)
    x_dec = _random_input(decoder, seed + 1)
    width = decoder.metadata.slot(TOKEN_TERM).width
    enc_feeds = {encoder.metadata.input_name: x_enc}
    dec_name = decoder.metadata.input_name

    def step() -> object:
        x_dec[:, :width] = encoder.session.run(None, enc_feeds)[0]
        return decoder.session.run(None, {dec_name: x_dec})

    times = _time(step, iterations, warmup)
    name = f"{Path(encoder_path).name} + {Path(decoder_path).name}"
    return _result(name, decoder.metadata.precision, times)


def bench(paths: Sequence[str | Path], iterations: int = 500, warmup: int = 50) -> list[BenchResult]:
    """Latency of every file, and of each ``_encoder`` + ``_decoder`` pair found in the same folder."""
    results = [bench_file(p, iterations, warmup) for p in paths]
    for p in map(Path, paths):
        if p.name.endswith("_encoder.onnx"):
            decoder = p.with_name(p.name.removesuffix("_encoder.onnx") + "_decoder.onnx")
            if decoder.is_file():
                results.append(bench_chain(p, decoder, iterations=iterations, warmup=warmup))
    return results
