"""Bones-SEED G1 CSVs → SONIC robot motion-library PKLs (``convert_soma_csv_to_motion_lib``, §11.1).

Walks the input tree for ``*.csv``, reads each at ``fps_source``, resamples to ``fps`` (stride for
an integer ratio, as SONIC; interpolation otherwise) and writes either one PKL per motion mirroring
the session folders (``individual``: ``<output>/<session>/<name>.pkl``, an existing file is skipped
as SONIC does) or one combined ``{name: entry}`` file. Only the Bones-SEED CSV input mode of SONIC's
script is supported (not its ``joint_pos.csv`` folders or deploy PKLs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sonic_data.cli.batch import JobResult, run_jobs
from sonic_data.formats import FormatError, read_g1_csv, robot_entry
from sonic_data.formats.atomic import atomic_joblib_dump
from sonic_data.resample import resample_robot

__all__ = ["ConvertReport", "combined_output_path", "convert_csv_tree", "convert_one_csv", "find_files"]


def find_files(root: Path, suffix: str) -> list[Path]:
    """``root`` itself if it is a file, else every ``*<suffix>`` below it (sorted, hidden names skipped)."""
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: no such file or directory")
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [Path(dirpath) / f for f in filenames if f.endswith(suffix) and not f.startswith(".")]
    return sorted(found)


def _load(csv_path: Path, fps: float, fps_source: float) -> dict:
    motion = resample_robot(read_g1_csv(csv_path, fps=fps_source), fps)
    return robot_entry(motion)


def convert_one_csv(csv_path: str, out_path: str | None, fps: float, fps_source: float) -> JobResult:
    """Convert one CSV; write ``out_path`` (individual mode) or return the entry as payload.

    Never raises for bad input: returns ``failed`` with the reason.
    """
    src = Path(csv_path)
    if out_path is not None and Path(out_path).exists():
        return JobResult(csv_path, "skipped", "output exists", out_path)
    try:
        entry = _load(src, fps, fps_source)
        if out_path is None:
            return JobResult(csv_path, "converted", payload=(src.stem, entry))
        atomic_joblib_dump({src.stem: entry}, out_path, compress=True)
        return JobResult(csv_path, "converted", output=out_path)
    except (FormatError, ValueError, OSError) as exc:
        return JobResult(csv_path, "failed", str(exc))


@dataclass(frozen=True)
class ConvertReport:
    """Results per input file and the combined output (if any)."""

    results: list[JobResult]
    combined_path: Path | None = None

    @property
    def ok(self) -> bool:
        """True when no file failed."""
        return all(r.status != "failed" for r in self.results)


def combined_output_path(input_root: Path, output: Path) -> Path:
    """``output`` if it ends in ``.pkl``, else ``<output>/<input folder name>.pkl``."""
    if output.suffix == ".pkl":
        return output
    return output / f"{input_root.resolve().name}.pkl"


def convert_csv_tree(
    input_root: str | Path,
    output: str | Path,
    *,
    fps: float = 30,
    fps_source: float = 120,
    individual: bool = False,
    num_workers: int = 8,
) -> ConvertReport:
    """Convert every CSV below ``input_root``; see the module docstring for the layout."""
    input_root, output = Path(input_root), Path(output)
    csvs = find_files(input_root, ".csv")
    base = input_root if input_root.is_dir() else input_root.parent
    if individual:
        jobs = [
            (str(c), str(output / c.relative_to(base).with_suffix(".pkl")), fps, fps_source) for c in csvs
        ]
        results = run_jobs(convert_one_csv, jobs, num_workers=num_workers, desc="convert")
        return ConvertReport(results)
    jobs = [(str(c), None, fps, fps_source) for c in csvs]
    results = run_jobs(convert_one_csv, jobs, num_workers=num_workers, desc="convert")
    entries: dict[str, dict] = {}
    final: list[JobResult] = []
    for r in results:
        if r.status == "converted":
            name, entry = r.payload
            if name in entries:
                r = JobResult(r.source, "failed", f"duplicate motion name {name!r} in the combined file")
            else:
                entries[name] = entry
                r = JobResult(r.source, "converted")
        final.append(r)
    path = combined_output_path(input_root, output)
    if entries:
        atomic_joblib_dump(entries, path, compress=True)
    return ConvertReport(final, path if entries else None)
