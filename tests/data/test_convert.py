"""convert: CSV → robot PKL round trip through FK, resampling, layouts, bad files, resume, atomicity."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from sonic_data.convert import convert_csv_tree
from sonic_data.formats import RobotMotion, read_robot_pkl, write_g1_csv
from sonic_data.formats.atomic import atomic_path
from sonic_data.kinematics import G1Kinematics
from sonic_data.samples.motions import SAMPLE_MOTIONS, build_motion


@pytest.fixture(scope="module")
def walk() -> RobotMotion:
    spec = next(s for s in SAMPLE_MOTIONS if s.name.startswith("walk_forward"))
    return build_motion(spec, fps=120.0)


def _tree(root: Path, walk: RobotMotion) -> Path:
    src = root / "csv"
    write_g1_csv(src / "240101" / "walk_a.csv", walk)
    short = RobotMotion(walk.root_pos[:121], walk.root_quat[:121], walk.joint_pos[:121], 120)
    write_g1_csv(src / "240102" / "walk_b.csv", short)
    return src


def test_csv_to_pkl_to_fk_matches_fk_of_the_csv_angles(tmp_path: Path, walk: RobotMotion) -> None:
    """Body positions from the PKL equal FK of the raw CSV numbers parsed here with scipy (every 4th frame)."""
    src = _tree(tmp_path, walk)
    report = convert_csv_tree(src, tmp_path / "out", fps=30, fps_source=120, individual=True, num_workers=1)
    assert report.ok
    pkl = read_robot_pkl(tmp_path / "out" / "240101" / "walk_a.pkl")["walk_a"]
    raw = np.loadtxt(src / "240101" / "walk_a.csv", delimiter=",", skiprows=1)[::4]
    q = Rotation.from_euler("xyz", raw[:, 4:7], degrees=True).as_quat()[:, [3, 0, 1, 2]]
    fk = G1Kinematics(dtype=torch.float64)
    ref_pos, _ = fk(torch.tensor(raw[:, 1:4] / 100), torch.tensor(q), torch.tensor(np.deg2rad(raw[:, 7:])))
    got_pos, _ = fk(
        torch.tensor(pkl.root_pos, dtype=torch.float64),
        torch.tensor(pkl.root_quat, dtype=torch.float64),
        torch.tensor(pkl.joint_pos, dtype=torch.float64),
    )
    assert pkl.num_frames == len(raw) == -(-walk.num_frames // 4)
    assert (got_pos - ref_pos).abs().max() < 1e-5


def test_individual_layout_mirrors_sessions_and_fps(tmp_path: Path, walk: RobotMotion) -> None:
    """--individual writes <out>/<session>/<name>.pkl holding {name: entry} with fps 30."""
    src = _tree(tmp_path, walk)
    convert_csv_tree(src, tmp_path / "out", individual=True, num_workers=1)
    files = sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*.pkl"))
    assert files == ["240101/walk_a.pkl", "240102/walk_b.pkl"]
    data = joblib.load(tmp_path / "out" / "240102" / "walk_b.pkl")
    assert (
        list(data) == ["walk_b"] and data["walk_b"]["fps"] == 30 and data["walk_b"]["dof"].shape == (31, 29)
    )


def test_combined_file_holds_every_motion(tmp_path: Path, walk: RobotMotion) -> None:
    """Without --individual one file {name: entry} holds all motions; 120 → 50 interpolates."""
    src = _tree(tmp_path, walk)
    report = convert_csv_tree(src, tmp_path / "all.pkl", fps=50, num_workers=1)
    assert report.combined_path == tmp_path / "all.pkl"
    data = read_robot_pkl(tmp_path / "all.pkl")
    assert sorted(data) == ["walk_a", "walk_b"]
    assert data["walk_b"].num_frames == 50 and data["walk_b"].fps == 50  # ceil(50·120/120)


def test_existing_outputs_are_skipped(tmp_path: Path, walk: RobotMotion) -> None:
    """A second run leaves existing PKLs untouched and reports them skipped."""
    src = _tree(tmp_path, walk)
    convert_csv_tree(src, tmp_path / "out", individual=True, num_workers=1)
    target = tmp_path / "out" / "240101" / "walk_a.pkl"
    before = target.stat().st_mtime_ns
    report = convert_csv_tree(src, tmp_path / "out", individual=True, num_workers=1)
    assert [r.status for r in report.results] == ["skipped", "skipped"]
    assert target.stat().st_mtime_ns == before


def test_bad_files_fail_others_convert_and_nothing_half_written(tmp_path: Path, walk: RobotMotion) -> None:
    """Truncated, wrong-header, non-numeric, NaN and empty CSVs fail with reasons; good files convert; 2 workers."""
    src = _tree(tmp_path, walk)
    good = (src / "240102" / "walk_b.csv").read_text()
    bad = src / "240103"
    bad.mkdir()
    (bad / "truncated.csv").write_text(good[: len(good) // 2])
    (bad / "header.csv").write_text(good.replace("root_rotateZ", "root_rotZ", 1))
    (bad / "text.csv").write_text(good.replace("\n3,", "\nthree,", 1))
    (bad / "nan.csv").write_text(good.replace("\n5,", "\nnan,", 1))
    (bad / "empty.csv").write_text("")
    report = convert_csv_tree(src, tmp_path / "out", individual=True, num_workers=2)
    status = {Path(r.source).name: r for r in report.results}
    assert {n for n, r in status.items() if r.status == "converted"} == {"walk_a.csv", "walk_b.csv"}
    assert not report.ok
    for name in ("truncated.csv", "header.csv", "text.csv", "nan.csv", "empty.csv"):
        assert status[name].status == "failed" and name in status[name].reason
    assert "line" in status["truncated.csv"].reason and "root_rotZ" in status["header.csv"].reason
    assert "'Frame'" in status["text.csv"].reason and "not finite" in status["nan.csv"].reason
    assert not (tmp_path / "out" / "240103").exists()
    assert not list((tmp_path / "out").rglob("*.tmp"))


def test_atomic_path_removes_the_temporary_file_on_error(tmp_path: Path) -> None:
    """An exception inside the write leaves neither the target nor a temporary file."""
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "x.pkl") as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []
