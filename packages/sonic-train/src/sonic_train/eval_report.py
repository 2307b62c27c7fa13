"""What ``sonic-eval`` writes and prints: ``metrics_eval.json``, per-motion CSV/JSON, the worst motions.

Files, in the eval output directory (atomic writes):

* ``metrics_eval.json``: SONIC's keys (``eval/all/<metric>``, ``eval/success/<metric>``,
  ``eval/success/success_rate``, ``eval/success/progress_rate``, ``eval/all_metrics_dict`` with per-motion
  lists, ``failed_keys``, ``failed_idxes``), plus ``success_rate`` / ``progress_rate`` at the top level and
  ``info`` (checkpoint, settings, motion count, seconds);
* ``motions.csv`` and ``motions.json``: one record per motion (name, clip id, frames, success, progress,
  failure step and terms, driving encoder, every metric in mm).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, TextIO

from sonic_model.atomic import atomic_write
from sonic_train.evaluator import EvalResult, MotionResult

__all__ = ["format_summary", "metrics_json", "write_report"]

HEADLINE = ("mpjpe_l", "mpjpe_g", "mpjpe_pa", "vel_dist", "accel_dist")


def _finite(value: Any) -> Any:
    """JSON has no NaN: write null instead."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def metrics_json(result: EvalResult, info: Mapping[str, Any]) -> dict[str, Any]:
    """The ``metrics_eval.json`` document (see the module docstring)."""
    aggregates = result.aggregates()
    per_motion: dict[str, list[Any]] = {
        k: [_finite(m.metrics[k]) for m in result.motions] for k in result.keys
    }
    per_motion["terminated"] = [not m.success for m in result.motions]
    per_motion["progress"] = [m.progress for m in result.motions]
    per_motion["motion_keys"] = [m.motion for m in result.motions]
    failed = [i for i, m in enumerate(result.motions) if not m.success]
    return {
        **{k: _finite(v) for k, v in aggregates.items()},
        "eval/all_metrics_dict": per_motion,
        "failed_keys": [result.motions[i].motion for i in failed],
        "failed_idxes": failed,
        "info": {**info, "num_motions": len(result.motions), "seconds": round(result.seconds, 3)},
    }


def _text(write_text: str) -> Any:
    def write(handle: IO[bytes]) -> None:
        handle.write(write_text.encode())

    return write


def write_report(result: EvalResult, out_dir: str | Path, info: Mapping[str, Any]) -> dict[str, Path]:
    """Write ``metrics_eval.json``, ``motions.csv`` and ``motions.json`` into ``out_dir``; returns the paths."""
    out = Path(out_dir)
    rows = [m.row() for m in result.motions]
    document = json.dumps(metrics_json(result, info), indent=2)
    buffer = io.StringIO()
    fields = list(rows[0]) if rows else ["motion"]
    writer = csv.DictWriter(buffer, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    motions = json.dumps([{k: _finite(v) for k, v in r.items()} for r in rows], indent=2)
    return {
        "metrics": atomic_write(out / "metrics_eval.json", _text(document + "\n")),
        "csv": atomic_write(out / "motions.csv", _text(buffer.getvalue())),
        "json": atomic_write(out / "motions.json", _text(motions + "\n")),
    }


def _describe(m: MotionResult) -> str:
    state = (
        f"FAILED at step {m.fail_step}/{m.num_frames} ({'+'.join(m.fail_terms) or '?'})"
        if not m.success
        else "ok"
    )
    errors = " ".join(f"{k} {m.metrics.get(k, math.nan):.1f}" for k in ("mpjpe_l", "mpjpe_g"))
    return f"  {m.motion:<48} {state:<36} progress {m.progress:.2f} | {errors} mm | encoder {m.encoder}"


def format_summary(result: EvalResult, worst: int, stream: TextIO | None = None) -> str:
    """The console summary: rates, ``eval/all`` and ``eval/success`` headline metrics, the worst motions."""
    agg = result.aggregates()
    n = len(result.motions)
    ok = sum(result.success_mask())
    lines = [
        f"sonic-eval: {n} motions in {result.seconds:.1f} s: success_rate {agg['success_rate']:.4f} ({ok}/{n}), "
        f"progress_rate {agg['progress_rate']:.4f}"
    ]
    for group in ("all", "success"):
        values = " ".join(f"{k} {agg.get(f'eval/{group}/{k}', math.nan):.2f}" for k in HEADLINE)
        lines.append(f"  eval/{group + ':':<9}{values} (mm)")
    if worst > 0 and n:
        lines.append(f"worst motions ({min(worst, n)} of {n}):")
        lines += [_describe(m) for m in result.worst(worst)]
    text = "\n".join(lines)
    if stream is not None:
        print(text, file=stream, flush=True)
    return text
