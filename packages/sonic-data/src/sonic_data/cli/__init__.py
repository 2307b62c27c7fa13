"""``sonic-data`` console script: ``convert``, ``filter``, ``extract-soma`` and ``make-samples``.

The seed's script names are aliases that take the same flags (FORMATS.md "Seed command lines"):
``convert_soma_csv_to_motion_lib`` = ``sonic-data convert``, ``filter_and_copy_bones_data`` =
``sonic-data filter``, ``extract_soma_joints_from_bvh`` = ``sonic-data extract-soma``. Every flag
accepts both ``--snake_case`` and ``--kebab-case`` spellings. Exit status: 0 when every file went
through, 1 when any failed (each failure is listed in the summary), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

__all__ = ["convert_main", "extract_main", "filter_main", "main"]


def _flag(name: str) -> list[str]:
    """Both spellings of a flag: ``--num_workers`` and ``--num-workers``."""
    a, b = "--" + name.replace("-", "_"), "--" + name.replace("_", "-")
    return [a] if a == b else [a, b]


def _add_convert(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        *_flag("input"),
        required=True,
        type=Path,
        help="Bones-SEED G1 CSV file or folder (walked recursively; session sub-folders kept).",
    )
    p.add_argument(
        *_flag("output"),
        required=True,
        type=Path,
        help="Output folder (with --individual), else the combined .pkl file or a folder to hold <input name>.pkl.",
    )
    p.add_argument(
        *_flag("fps"),
        type=float,
        default=30,
        help="Target frame rate (default 30). An integer ratio fps_source/fps takes every k-th frame; otherwise frames are interpolated (slerp for the root).",
    )
    p.add_argument(
        *_flag("fps_source"),
        type=float,
        default=120,
        help="Frame rate of the CSVs (default 120, Bones-SEED).",
    )
    p.add_argument(
        *_flag("individual"),
        action="store_true",
        help="Write one PKL per motion at <output>/<session>/<name>.pkl (existing files are skipped, as SONIC does) instead of one combined file.",
    )
    p.add_argument(
        *_flag("num_workers"),
        type=int,
        default=8,
        help="Worker processes (default 8; 1 runs in this process).",
    )


def _add_filter(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        *_flag("source"),
        type=Path,
        default=Path("data/bones_gmr/0903_all/"),
        help="Folder whose sub-folders hold the PKLs (robot or SOMA). Default: data/bones_gmr/0903_all/.",
    )
    p.add_argument(
        *_flag("dest"),
        type=Path,
        default=Path("data/single_pkls/"),
        help="Kept files are copied to <dest>/<top-level sub-folder>/<basename>. Default: data/single_pkls/.",
    )
    p.add_argument(
        *_flag("workers"),
        type=int,
        default=None,
        help="Copy processes (default: all CPUs, capped at the number of sub-folders).",
    )
    p.add_argument(
        *_flag("dry-run"),
        dest="dry_run",
        action="store_true",
        help="Print what would be removed, counts per keyword and the percentage; create and copy nothing.",
    )
    p.add_argument(
        *_flag("add-keywords"),
        dest="add_keywords",
        nargs="+",
        default=[],
        metavar="KW",
        help="Keywords appended to the list.",
    )
    p.add_argument(
        *_flag("filter-keywords"),
        dest="filter_keywords",
        nargs="+",
        default=None,
        metavar="KW",
        help="Replace SONIC's 40 default keywords with these.",
    )
    p.add_argument(
        *_flag("filter_file"),
        type=Path,
        default=None,
        help="Text file with one keyword per line: keep only files matching at least one of them (metadata.pkl is always kept).",
    )


def _add_extract(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        *_flag("input"),
        required=True,
        type=Path,
        help="SOMA BVH file or folder (walked recursively; session sub-folders kept).",
    )
    p.add_argument(
        *_flag("output"), required=True, type=Path, help="Output folder: <output>/<session>/<motion>.pkl."
    )
    p.add_argument(*_flag("fps"), type=float, default=30, help="Target frame rate (default 30).")
    p.add_argument(
        *_flag("num_workers"),
        type=int,
        default=4,
        help="Worker processes (default 4; 1 runs in this process).",
    )
    p.add_argument(
        *_flag("skip_existing"),
        action="store_true",
        help="Leave existing outputs untouched, so an interrupted run resumes.",
    )


def _add_samples(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        *_flag("output"),
        type=Path,
        default=Path("sample_data"),
        help="Folder for the generated dataset (default sample_data).",
    )
    p.add_argument(
        *_flag("pipeline"),
        action="store_true",
        help="Also run convert, filter and extract-soma to produce <output>/{robot_filtered,smpl_filtered,soma_filtered}.",
    )
    p.add_argument(
        *_flag("fps"),
        type=float,
        default=30,
        help="Frame rate the pipeline converts to (default 30); sets the SMPL files' frame count.",
    )
    p.add_argument(
        *_flag("num_workers"),
        type=int,
        default=1,
        help="Worker processes for the pipeline steps (default 1).",
    )
    p.add_argument(
        *_flag("motions"),
        nargs="+",
        default=None,
        metavar="NAME",
        help="Generate only these motions (names in sonic_data.samples.SAMPLE_MOTIONS; default all).",
    )


def _run_convert(a: argparse.Namespace) -> int:
    from sonic_data.cli.batch import print_summary
    from sonic_data.convert import convert_csv_tree

    report = convert_csv_tree(
        a.input,
        a.output,
        fps=a.fps,
        fps_source=a.fps_source,
        individual=a.individual,
        num_workers=a.num_workers,
    )
    if report.combined_path is not None:
        print(f"wrote {report.combined_path}")
    return 0 if print_summary("convert", report.results) else 1


def _run_filter(a: argparse.Namespace) -> int:
    from sonic_data.cli.batch import print_summary
    from sonic_data.filter import DEFAULT_FILTER_KEYWORDS, plan_filter, run_filter

    keywords = list(a.filter_keywords if a.filter_keywords is not None else DEFAULT_FILTER_KEYWORDS) + list(
        a.add_keywords
    )
    include = None
    if a.filter_file is not None:
        try:
            include = [ln.strip() for ln in a.filter_file.read_text().splitlines() if ln.strip()]
        except OSError as exc:
            print(f"filter: cannot read --filter_file: {exc}", file=sys.stderr)
            return 2
    try:
        plan = plan_filter(a.source, a.dest, keywords, include)
    except FileNotFoundError as exc:
        print(f"filter: {exc}", file=sys.stderr)
        return 2
    n_removed = len(plan.removed)
    pct = 100.0 * n_removed / plan.total if plan.total else 0.0
    if a.dry_run:
        for src, kw in plan.removed:
            print(f"would remove {src} ({kw})")
    print(
        f"{'would remove' if a.dry_run else 'removed'} {n_removed} of {plan.total} files ({pct:.1f}%), keep {len(plan.keep)}"
    )
    for kw, n in plan.per_keyword.most_common():
        print(f"  {kw}: {n}")
    if a.dry_run:
        return 0
    subdirs = len({d.parent for _, d in plan.keep}) or 1
    workers = a.workers if a.workers is not None else min(os.cpu_count() or 1, subdirs)
    return 0 if print_summary("filter", run_filter(plan, workers=workers)) else 1


def _run_extract(a: argparse.Namespace) -> int:
    from sonic_data.cli.batch import print_summary
    from sonic_data.extract_soma import extract_soma_tree

    results = extract_soma_tree(
        a.input, a.output, fps=a.fps, num_workers=a.num_workers, skip_existing=a.skip_existing
    )
    return 0 if print_summary("extract-soma", results) else 1


def _run_samples(a: argparse.Namespace) -> int:
    from sonic_data.samples import build_sample_dataset, generate_samples

    if a.pipeline:
        try:
            ds = build_sample_dataset(a.output, fps=a.fps, num_workers=a.num_workers, motions=a.motions)
        except RuntimeError as exc:
            print(f"make-samples: {exc}", file=sys.stderr)
            return 1
        print(f"sample dataset ready: {ds.robot_filtered}, {ds.smpl_filtered}, {ds.soma_filtered}")
        return 0
    written = generate_samples(a.output, fps=a.fps, motions=a.motions)
    print(f"wrote {len(written)} files under {a.output}")
    return 0


_COMMANDS: dict[
    str, tuple[Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int], str]
] = {
    "convert": (
        _add_convert,
        _run_convert,
        "Bones-SEED G1 CSVs → SONIC robot motion-library PKLs (alias convert_soma_csv_to_motion_lib).",
    ),
    "filter": (
        _add_filter,
        _run_filter,
        "Drop motions the G1 cannot perform (SONIC's keyword rule) and copy the rest (alias filter_and_copy_bones_data).",
    ),
    "extract-soma": (
        _add_extract,
        _run_extract,
        "SOMA BVHs → SONIC SOMA PKLs with the 26 kept joints (alias extract_soma_joints_from_bvh).",
    ),
    "make-samples": (
        _add_samples,
        _run_samples,
        "Generate a small deterministic dataset (G1 CSV, SOMA BVH, SMPL PKL) in Bones-SEED's layout.",
    ),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sonic-data", description=__doc__.split("\n")[0] if __doc__ else None
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (add, _, help_text) in _COMMANDS.items():
        add(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def _dispatch(args: argparse.Namespace, command: str) -> int:
    return _COMMANDS[command][1](args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``sonic-data``; returns the exit status."""
    args = _parser().parse_args(argv)
    return _dispatch(args, args.command)


def _alias(command: str, prog: str, argv: Sequence[str] | None) -> int:
    add, run, help_text = _COMMANDS[command]
    parser = argparse.ArgumentParser(prog=prog, description=help_text)
    add(parser)
    return run(parser.parse_args(argv))


def convert_main(argv: Sequence[str] | None = None) -> int:
    """``convert_soma_csv_to_motion_lib`` (= ``sonic-data convert``)."""
    return _alias("convert", "convert_soma_csv_to_motion_lib", argv)


def filter_main(argv: Sequence[str] | None = None) -> int:
    """``filter_and_copy_bones_data`` (= ``sonic-data filter``)."""
    return _alias("filter", "filter_and_copy_bones_data", argv)


def extract_main(argv: Sequence[str] | None = None) -> int:
    """``extract_soma_joints_from_bvh`` (= ``sonic-data extract-soma``)."""
    return _alias("extract-soma", "extract_soma_joints_from_bvh", argv)
