"""Drop motions the G1 cannot perform and copy the rest (``filter_and_copy_bones_data``, §11.2).

SONIC's rule, reproduced exactly: a file is dropped when any keyword is a case-insensitive
substring of ``"<parent_dir>/<basename>"`` (basename with ``.pkl``); with an include list
(``--filter_file``, one keyword per line) a file is also dropped when it matches none of its lines;
``metadata.pkl`` is never dropped. Only subdirectories of the source are scanned, and kept files
are copied flat to ``<dest>/<top-level subdir>/<basename>``. The same code filters robot PKL and
SOMA PKL trees. Deviation: two kept files that would land on the same destination are reported as
failed instead of silently overwriting each other.
"""

from __future__ import annotations

import shutil
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sonic_data.cli.batch import JobResult, run_jobs
from sonic_data.formats.atomic import atomic_path

__all__ = ["DEFAULT_FILTER_KEYWORDS", "FilterPlan", "copy_one", "match_keyword", "plan_filter", "run_filter"]

DEFAULT_FILTER_KEYWORDS: tuple[str, ...] = (
    "bed", "bike", "chair", "climb", "com_up_50cm", "sitting", "step_on", "seat", "table", "_sit_",
    "sit_", "ladder", "crutch", "_bed_", "_ride_", "scooter", "stepdown", "acrobatics_", "box_HSPU",
    "cartwheel", "50cm_box_", "on_box", "fall_from", "handstand_ff_", "on_1m", "form_box", "off_1m",
    "230m", "jump_over_obstacle_", "lift_crate_come_up_", "jump_to_shoulder_roll", "kozak_dance",
    "stair", "handstand", "box_jump", "monkey_jump", "safety_roll", "box_dips", "walking_on_edge",
    "push_obstacle",
)  # fmt: skip
"""SONIC's 40 default keywords (furniture, vehicles, acrobatics, elevated surfaces), in its order."""

METADATA_NAME = "metadata.pkl"


def match_keyword(parent_and_name: str, keywords: Sequence[str]) -> str | None:
    """The first keyword that is a case-insensitive substring of ``parent_and_name``, or None."""
    key = parent_and_name.lower()
    return next((kw for kw in keywords if kw.lower() in key), None)


@dataclass
class FilterPlan:
    """What a filter run will do.

    Attributes:
        keep: ``(source, destination)`` pairs to copy.
        removed: ``(source, reason)`` for every dropped file; reason is the keyword or ``not in filter_file``.
        per_keyword: number of dropped files per reason.
        collisions: sources whose destination another kept file already takes.
    """

    keep: list[tuple[Path, Path]] = field(default_factory=list)
    removed: list[tuple[Path, str]] = field(default_factory=list)
    per_keyword: Counter[str] = field(default_factory=Counter)
    collisions: list[tuple[Path, Path]] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Number of files considered."""
        return len(self.keep) + len(self.removed) + len(self.collisions)


def plan_filter(
    source: str | Path,
    dest: str | Path,
    keywords: Sequence[str] = DEFAULT_FILTER_KEYWORDS,
    include: Sequence[str] | None = None,
) -> FilterPlan:
    """Decide, for every ``*.pkl`` in the subdirectories of ``source``, whether it is kept and where it goes."""
    source, dest = Path(source), Path(dest)
    if not source.is_dir():
        raise FileNotFoundError(f"{source}: not a directory")
    plan = FilterPlan()
    taken: set[Path] = set()
    for top in sorted(p for p in source.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for f in sorted(top.rglob("*.pkl")):
            if f.name.startswith("."):
                continue
            key = f"{f.parent.name}/{f.name}"
            if f.name != METADATA_NAME:
                kw = match_keyword(key, keywords)
                if kw is None and include is not None and match_keyword(key, include) is None:
                    kw = "not in filter_file"
                if kw is not None:
                    plan.removed.append((f, kw))
                    plan.per_keyword[kw] += 1
                    continue
            target = dest / top.name / f.name
            if target in taken:
                plan.collisions.append((f, target))
            else:
                taken.add(target)
                plan.keep.append((f, target))
    return plan


def copy_one(src: str, dst: str) -> JobResult:
    """Copy ``src`` to ``dst`` atomically (temp name + rename); never raises for I/O errors."""
    try:
        with atomic_path(dst) as tmp:
            shutil.copyfile(src, tmp)
        return JobResult(src, "converted", output=dst)
    except OSError as exc:
        return JobResult(src, "failed", f"copy failed: {exc}")


def _reason(kw: str) -> str:
    return "removed: not in filter_file" if kw == "not in filter_file" else f"removed by keyword {kw!r}"


def run_filter(plan: FilterPlan, *, workers: int) -> list[JobResult]:
    """Copy the kept files (in ``workers`` processes); removed files count as skipped."""
    results = run_jobs(copy_one, [(str(s), str(d)) for s, d in plan.keep], num_workers=workers, desc="filter")
    results += [JobResult(str(s), "skipped", _reason(kw)) for s, kw in plan.removed]
    results += [
        JobResult(str(s), "failed", f"destination {d} is taken by another kept file")
        for s, d in plan.collisions
    ]
    return results
