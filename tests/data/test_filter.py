"""filter: SONIC's keyword rule, defaults, --dry-run, --add-keywords / --filter-keywords / --filter_file."""

from __future__ import annotations

import contextlib
import io
import subprocess
from pathlib import Path

import pytest

from sonic_data.cli import main
from sonic_data.filter import DEFAULT_FILTER_KEYWORDS, match_keyword, plan_filter

SONIC_KEYWORDS = """bed, bike, chair, climb, com_up_50cm, sitting, step_on, seat, table, _sit_,
sit_, ladder, crutch, _bed_, _ride_, scooter, stepdown, acrobatics_, box_HSPU, cartwheel, 50cm_box_,
on_box, fall_from, handstand_ff_, on_1m, form_box, off_1m, 230m, jump_over_obstacle_,
lift_crate_come_up_, jump_to_shoulder_roll, kozak_dance, stair, handstand, box_jump, monkey_jump,
safety_roll, box_dips, walking_on_edge, push_obstacle"""

NAMES = {
    "240101/walk_forward_001__A001.pkl": None,
    "240101/sit_down_Chair_001__A002.pkl": "chair",
    "240101/wave_hand_001__A003.pkl": None,
    "240102/Stair_ascent_001__A004.pkl": "stair",
    "240102/jog_001__A005.pkl": None,
    "240102/metadata.pkl": None,
    "bike_session/nested/walk_001__A006.pkl": None,  # parent is "nested": not matched by "bike"
}


def _tree(root: Path) -> Path:
    src = root / "src"
    for rel in NAMES:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(rel.encode())
    (src / "toplevel_chair.pkl").write_bytes(b"ignored: only sub-folders are scanned")
    return src


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``sonic-data filter`` in this process (the subprocess route is covered in test_convert_cli)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["filter", *args])
    return subprocess.CompletedProcess(["sonic-data", "filter", *args], code, out.getvalue(), err.getvalue())


def test_default_keywords_are_sonics_40_in_order() -> None:
    """The 40 defaults equal SONIC_REFERENCE §11.2, in order."""
    assert list(DEFAULT_FILTER_KEYWORDS) == [k.strip() for k in SONIC_KEYWORDS.replace("\n", " ").split(",")]
    assert len(DEFAULT_FILTER_KEYWORDS) == 40


def test_rule_is_case_insensitive_substring_of_parent_slash_basename() -> None:
    """Keywords match '<parent>/<basename>' case-insensitively, including the parent folder name."""
    assert match_keyword("240101/box_HSPU_01.pkl".lower(), DEFAULT_FILTER_KEYWORDS) == "box_HSPU"
    assert match_keyword("sit_session/walk.pkl", DEFAULT_FILTER_KEYWORDS) == "sit_"
    assert match_keyword("240101/walk_forward.pkl", DEFAULT_FILTER_KEYWORDS) is None


def test_copy_layout_and_counts(tmp_path: Path) -> None:
    """Kept files land in <dest>/<top-level subdir>/<basename>; metadata.pkl kept; exit 0."""
    src = _tree(tmp_path)
    res = _run("--source", str(src), "--dest", str(tmp_path / "dst"), "--workers", "1")
    assert res.returncode == 0, res.stderr
    got = sorted(p.relative_to(tmp_path / "dst").as_posix() for p in (tmp_path / "dst").rglob("*.pkl"))
    assert got == [
        "240101/walk_forward_001__A001.pkl", "240101/wave_hand_001__A003.pkl",
        "240102/jog_001__A005.pkl", "240102/metadata.pkl", "bike_session/walk_001__A006.pkl",
    ]  # fmt: skip
    assert (tmp_path / "dst" / "240102" / "jog_001__A005.pkl").read_bytes() == b"240102/jog_001__A005.pkl"
    assert "removed 2 of 7 files (28.6%)" in res.stdout


def test_dry_run_writes_nothing_and_reports(tmp_path: Path) -> None:
    """--dry-run lists removals, counts per keyword and the percentage, and creates no directory."""
    src = _tree(tmp_path)
    res = _run("--source", str(src), "--dest", str(tmp_path / "dst"), "--dry-run")
    assert res.returncode == 0
    assert not (tmp_path / "dst").exists()
    assert "would remove 2 of 7 files (28.6%)" in res.stdout
    assert "  chair: 1" in res.stdout and "  stair: 1" in res.stdout
    assert res.stdout.count("would remove ") == 3  # two files + the total line


def test_add_keywords_extends_the_list(tmp_path: Path) -> None:
    """--add-keywords jog removes the jog clip too; both flag spellings work."""
    src = _tree(tmp_path)
    for flag in ("--add-keywords", "--add_keywords"):
        plan_out = _run("--source", str(src), "--dest", str(tmp_path / "d"), "--dry_run", flag, "jog")
        assert "would remove 3 of 7" in plan_out.stdout and "  jog: 1" in plan_out.stdout


def test_filter_keywords_replace_the_list(tmp_path: Path) -> None:
    """--filter-keywords wave replaces the defaults: chair and stair clips are kept."""
    src = _tree(tmp_path)
    plan = plan_filter(src, tmp_path / "d", ["wave"])
    assert [p.name for p, _ in plan.removed] == ["wave_hand_001__A003.pkl"]
    res = _run("--source", str(src), "--dest", str(tmp_path / "d"), "--dry-run", "--filter-keywords", "wave")
    assert "would remove 1 of 7" in res.stdout


def test_filter_file_keeps_only_listed_matches_and_metadata(tmp_path: Path) -> None:
    """--filter_file keeps files matching one of its lines (and metadata.pkl), drops the rest."""
    src = _tree(tmp_path)
    lst = tmp_path / "keep.txt"
    lst.write_text("walk_forward\njog\n")
    res = _run(
        "--source", str(src), "--dest", str(tmp_path / "dst"), "--filter_file", str(lst), "--workers", "2"
    )
    assert res.returncode == 0, res.stderr
    got = sorted(p.name for p in (tmp_path / "dst").rglob("*.pkl"))
    assert got == ["jog_001__A005.pkl", "metadata.pkl", "walk_forward_001__A001.pkl"]


@pytest.mark.parametrize("keywords", [["metadata"], ["pkl"]])
def test_metadata_pkl_is_never_dropped(tmp_path: Path, keywords: list[str]) -> None:
    """Even a keyword matching 'metadata.pkl' leaves it in place."""
    plan = plan_filter(_tree(tmp_path), tmp_path / "d", keywords)
    assert any(p.name == "metadata.pkl" for p, _ in plan.keep)
