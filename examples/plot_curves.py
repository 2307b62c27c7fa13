"""Learning curves of one or more SONIC training runs, from their TensorBoard scalars, in one PNG.

Usage::

    python examples/plot_curves.py RUN_DIR[=LABEL] [RUN_DIR[=LABEL] ...] --out curves.png [--x iteration|time]

A run directory is the folder ``sonic-train`` writes its event files into
(``logs_rl/TRL_G1_Track/<experiment_name>-<timestamp>/``). The figure has six panels: ``rewards/total``,
``rewards/anchor_pos_err``, ``rewards/body_pos_err``, ``Episode/length``, every ``loss/aux/<name>`` (one
panel, one line per auxiliary loss, log y) and ``throughput/fps``. Several runs overlay on the same panels
under their labels (default: the directory name). ``--x time`` puts seconds since the run's first event on
the x axis, which compares presets (e.g. ``sonic_release`` against ``single_gpu``) at equal wall clock
rather than at equal iteration count.

A tag a run does not have is skipped with a note on stderr; a run directory without event files is an
error naming it (exit 2). Only matplotlib (Agg backend, no display), numpy, tensorboard and
``sonic_train.logger`` are imported, so the script runs wherever the trainer does.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from sonic_train.logger import read_scalars_timed  # noqa: E402

__all__ = ["AUX_PREFIX", "PANEL_TAGS", "Run", "figure", "load_run", "main", "parse_run_arg", "write_png"]

PANEL_TAGS: tuple[tuple[str, str], ...] = (
    ("rewards/total", "reward (mean per step)"),
    ("rewards/anchor_pos_err", "anchor position error (m)"),
    ("rewards/body_pos_err", "body position error (m)"),
    ("Episode/length", "episode length (steps)"),
    ("throughput/fps", "env steps / s"),
)
"""Single-tag panels: (TensorBoard tag, y label). The aux-loss panel goes before ``throughput/fps``."""

AUX_PREFIX = "loss/aux/"
"""Every tag under this prefix is one line of the auxiliary-loss panel."""

XAxis = Literal["iteration", "time"]

FIG_SIZE_IN = (15.0, 8.0)
"""Figure size in inches; the PNG is ``FIG_SIZE_IN * dpi`` pixels (1500 x 800 at the default 100 dpi)."""


@dataclass(frozen=True)
class Run:
    """One run's curves.

    Attributes:
        label: legend name.
        path: the run directory.
        series: tag -> (x, y) arrays of shape (num_events,), x in iterations or seconds since the first event.
    """

    label: str
    path: Path
    series: dict[str, tuple[np.ndarray, np.ndarray]]


def parse_run_arg(arg: str) -> tuple[Path, str]:
    """``RUN_DIR`` or ``RUN_DIR=LABEL`` -> (path, label); the label defaults to the directory name.

    An argument that names an existing path as a whole is a path even if it contains ``=``.
    """
    if "=" in arg and not Path(arg).exists():
        path_text, label = arg.rsplit("=", 1)
        path = Path(path_text)
        return path, label or path.resolve().name
    path = Path(arg)
    return path, path.resolve().name


def load_run(path: Path, label: str, x: XAxis) -> Run:
    """Read every scalar of the run at ``path``; with ``x="time"`` the x values are seconds since its first event.

    Raises:
        FileNotFoundError: ``path`` is not a directory or holds no TensorBoard event file.
    """
    if not path.is_dir():
        raise FileNotFoundError(f"run directory {path} does not exist")
    timed = read_scalars_timed(path)
    start = min((events[0][1] for events in timed.values() if events), default=0.0)
    series: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for tag, events in timed.items():
        if not events:
            continue
        steps, walls, values = (np.asarray(col, dtype=np.float64) for col in zip(*events, strict=True))
        series[tag] = (walls - start if x == "time" else steps, values)
    return Run(label=label, path=path, series=series)


def _note(message: str) -> None:
    print(f"plot_curves: {message}", file=sys.stderr)


def figure(runs: Sequence[Run], x: XAxis, dpi: float = 100.0) -> Figure:
    """The six-panel figure of ``runs`` (one colour per run; in the aux panel, one colour per loss).

    Notes on stderr name every (run, tag) that is missing.
    """
    fig, axes = plt.subplots(2, 3, figsize=FIG_SIZE_IN, dpi=dpi, layout="constrained")
    flat = list(axes.flat)
    xlabel = "seconds since the run's first event" if x == "time" else "PPO iteration"
    run_colors = [f"C{i % 10}" for i in range(len(runs))]
    styles = ["-", "--", ":", "-."]

    single = [*PANEL_TAGS[:4], None, PANEL_TAGS[4]]
    for ax, spec in zip(flat, single, strict=True):
        ax.set_xlabel(xlabel)
        ax.grid(True, alpha=0.3)
        if spec is None:
            _aux_panel(ax, runs, styles)
            continue
        tag, ylabel = spec
        ax.set_title(tag)
        ax.set_ylabel(ylabel)
        for run, color in zip(runs, run_colors, strict=True):
            if tag not in run.series:
                _note(f"{run.label} ({run.path}) has no {tag}; skipped")
                continue
            xs, ys = run.series[tag]
            ax.plot(xs, ys, color=color, label=run.label, marker="." if len(xs) < 30 else None)
        _finish(ax)
    return fig


def _aux_panel(ax: Axes, runs: Sequence[Run], styles: Sequence[str]) -> None:
    """Every ``loss/aux/<name>`` of every run on a log y axis: colour per loss name, line style per run."""
    ax.set_title("loss/aux/*")
    ax.set_ylabel("auxiliary loss (unweighted)")
    names = sorted({t.removeprefix(AUX_PREFIX) for r in runs for t in r.series if t.startswith(AUX_PREFIX)})
    colors = {name: f"C{i % 10}" for i, name in enumerate(names)}
    for k, run in enumerate(runs):
        mine = [n for n in names if AUX_PREFIX + n in run.series]
        if not mine:
            _note(f"{run.label} ({run.path}) has no {AUX_PREFIX}* tag; skipped")
        for name in mine:
            xs, ys = run.series[AUX_PREFIX + name]
            ax.plot(xs, ys, color=colors[name], linestyle=styles[k % len(styles)], label=name)
    if names:
        ax.set_yscale("log", nonpositive="mask")
    if len(runs) > 1 and ax.lines:
        # one legend entry per loss (colour) and per run (line style), not one per pair
        from matplotlib.lines import Line2D

        handles = [Line2D([], [], color=colors[n], label=n) for n in names]
        handles += [
            Line2D([], [], color="gray", linestyle=cast(Any, styles[k % len(styles)]), label=run.label)
            for k, run in enumerate(runs)
        ]
        ax.legend(handles=handles, fontsize="x-small", ncol=2)
        return
    _finish(ax)


def _finish(ax: Axes) -> None:
    if ax.lines:
        ax.legend(fontsize="small")
    else:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes, color="gray")


def write_png(fig: Figure, out: Path) -> None:
    """Save ``fig`` as a PNG at ``out`` atomically (temporary name in the same folder, then rename)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    try:
        fig.savefig(tmp, format="png")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Plot the runs named on the command line; 0 on success, 2 for a missing run or event files."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("runs", nargs="+", metavar="RUN_DIR[=LABEL]", help="run directories with event files")
    parser.add_argument("--out", type=Path, required=True, help="PNG to write")
    parser.add_argument(
        "--x",
        choices=("iteration", "time"),
        default="iteration",
        help="x axis: PPO iteration, or seconds since each run's first event",
    )
    parser.add_argument("--dpi", type=float, default=100.0, help="PNG resolution (1500x800 px at 100)")
    parser.add_argument("--title", default=None, help="figure title")
    args = parser.parse_args(argv)

    runs: list[Run] = []
    for arg in args.runs:
        path, label = parse_run_arg(arg)
        try:
            runs.append(load_run(path, label, args.x))
        except FileNotFoundError as err:
            print(
                f"plot_curves: {err} (expected a sonic-train run folder holding events.out.tfevents.*)",
                file=sys.stderr,
            )
            return 2
    fig = figure(runs, args.x, dpi=args.dpi)
    if args.title:
        fig.suptitle(args.title)
    write_png(fig, args.out)
    plt.close(fig)
    print(f"plot_curves: wrote {args.out} ({', '.join(r.label for r in runs)})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
