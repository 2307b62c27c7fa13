"""Bones-SEED G1 CSV reader/writer: units, the Euler convention, and clear errors on bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from sonic_data.formats import CSV_COLUMNS, FormatError, RobotMotion, read_g1_csv, write_g1_csv
from sonic_data.g1 import JOINT_NAMES


def _write_rows(path: Path, rows: np.ndarray, header: str | None = None) -> Path:
    lines = [header if header is not None else ",".join(CSV_COLUMNS)]
    lines += [",".join(f"{v:.6f}" for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def _random_rows(rng: np.random.Generator, t: int) -> np.ndarray:
    rows = np.zeros((t, 36))
    rows[:, 0] = np.arange(t)
    rows[:, 1:4] = rng.uniform(-200, 200, (t, 3))
    rows[:, 4:7] = rng.uniform(-170, 170, (t, 3)) * np.array([1.0, 0.5, 1.0])
    rows[:, 7:] = rng.uniform(-60, 60, (t, 29))
    return rows


def _rotate(q_wxyz: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Hand-written quaternion rotation (independent of sonic_data.rotations)."""
    w, xyz = q_wxyz[0], q_wxyz[1:]
    t = 2.0 * np.cross(xyz, v)
    return v + w * t + np.cross(xyz, t)


def test_header_is_frame_root_then_29_joints_in_canonical_order() -> None:
    """The 36 columns are Frame, 3 translations, 3 rotations, then <joint>_dof in canonical order."""
    assert len(CSV_COLUMNS) == 36
    assert CSV_COLUMNS[:7] == (
        "Frame", "root_translateX", "root_translateY", "root_translateZ",
        "root_rotateX", "root_rotateY", "root_rotateZ",
    )  # fmt: skip
    assert [c.removesuffix("_dof") for c in CSV_COLUMNS[7:]] == list(JOINT_NAMES)


def test_units_become_metres_and_radians(tmp_path: Path) -> None:
    """Translations in cm are read as m, joint degrees as radians."""
    rows = _random_rows(np.random.default_rng(0), 5)
    m = read_g1_csv(_write_rows(tmp_path / "a.csv", rows))
    np.testing.assert_allclose(m.root_pos, rows[:, 1:4] / 100.0, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(m.joint_pos, np.deg2rad(rows[:, 7:]), rtol=1e-6, atol=1e-6)
    assert m.fps == 120 and m.num_frames == 5


def test_root_euler_matches_scipy_extrinsic_xyz(tmp_path: Path) -> None:
    """root_rotateX/Y/Z are extrinsic x→y→z degrees: the quaternion equals scipy from_euler("xyz")."""
    rows = _random_rows(np.random.default_rng(1), 50)
    m = read_g1_csv(_write_rows(tmp_path / "a.csv", rows))
    ref = Rotation.from_euler("xyz", rows[:, 4:7], degrees=True).as_quat()  # xyzw
    ref_wxyz = np.concatenate([ref[:, 3:], ref[:, :3]], axis=1)
    dot = np.abs((ref_wxyz * m.root_quat).sum(-1))
    np.testing.assert_allclose(dot, 1.0, atol=1e-6)
    # And it is not the intrinsic reading that SONIC's comment claims.
    intr = Rotation.from_euler("XYZ", rows[:, 4:7], degrees=True).as_quat()
    assert np.abs((np.concatenate([intr[:, 3:], intr[:, :3]], 1) * m.root_quat).sum(-1)).min() < 0.999


@pytest.mark.parametrize(
    ("euler_deg", "v", "expected"),
    [
        ((0, 0, 90), (1, 0, 0), (0, 1, 0)),  # yaw 90°: x → y
        ((90, 0, 0), (0, 1, 0), (0, 0, 1)),  # roll 90°: y → z
        ((0, 90, 0), (0, 0, 1), (1, 0, 0)),  # pitch 90°: z → x
        ((90, 0, 90), (1, 0, 0), (0, 1, 0)),  # X first then Z (fixed axes): x stays x, then → y
        ((90, 0, 90), (0, 1, 0), (0, 0, 1)),  # y → z (by X), z unchanged by Z
        ((90, 0, 90), (0, 0, 1), (1, 0, 0)),  # z → -y (by X) → x (by Z)
    ],
)
def test_hand_computed_90_degree_rotations(
    tmp_path: Path, euler_deg: tuple[float, float, float], v: tuple[float, ...], expected: tuple[float, ...]
) -> None:
    """Hand-worked 90° cases of R = Rz·Ry·Rx applied to unit vectors."""
    rows = np.zeros((1, 36))
    rows[0, 4:7] = euler_deg
    m = read_g1_csv(_write_rows(tmp_path / "a.csv", rows))
    np.testing.assert_allclose(
        _rotate(m.root_quat[0].astype(np.float64), np.array(v, float)), expected, atol=1e-6
    )


def test_write_then_read_round_trip(tmp_path: Path) -> None:
    """write_g1_csv then read_g1_csv gives back the motion (quaternions up to sign)."""
    rows = _random_rows(np.random.default_rng(2), 20)
    m = read_g1_csv(_write_rows(tmp_path / "a.csv", rows))
    write_g1_csv(tmp_path / "b.csv", m)
    m2 = read_g1_csv(tmp_path / "b.csv")
    np.testing.assert_allclose(m2.root_pos, m.root_pos, atol=1e-6)
    np.testing.assert_allclose(m2.joint_pos, m.joint_pos, atol=1e-6)
    np.testing.assert_allclose(np.abs((m2.root_quat * m.root_quat).sum(-1)), 1.0, atol=1e-6)
    assert not list(tmp_path.glob(".*.tmp"))


def _error(path: Path) -> FormatError:
    with pytest.raises(FormatError) as info:
        read_g1_csv(path)
    assert str(path) in str(info.value)
    return info.value


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    """An empty file names itself and says it is empty."""
    p = tmp_path / "empty.csv"
    p.write_text("")
    assert "empty" in _error(p).reason


def test_header_only_is_an_error(tmp_path: Path) -> None:
    """A header without frames is rejected at line 2."""
    p = _write_rows(tmp_path / "h.csv", np.zeros((0, 36)))
    assert _error(p).line == 2


def test_wrong_header_names_the_column(tmp_path: Path) -> None:
    """A misnamed column is reported with its position, name and the expected name."""
    header = ",".join(CSV_COLUMNS).replace("left_knee_joint_dof", "left_knee_dof")
    err = _error(_write_rows(tmp_path / "w.csv", np.zeros((2, 36)), header=header))
    assert err.line == 1 and "left_knee_dof" in str(err) and "left_knee_joint_dof" in str(err)


def test_truncated_row_names_the_line(tmp_path: Path) -> None:
    """A file cut in the middle of a row reports that line and the column count."""
    p = _write_rows(tmp_path / "t.csv", _random_rows(np.random.default_rng(3), 4))
    text = p.read_text()
    p.write_text(text[: len(text) - 100])
    err = _error(p)
    assert err.line == 5 and "36" in err.reason


def test_non_numeric_cell_names_line_and_column(tmp_path: Path) -> None:
    """A non-numeric cell is located by line and column name."""
    rows = _random_rows(np.random.default_rng(4), 3)
    p = _write_rows(tmp_path / "n.csv", rows)
    lines = p.read_text().splitlines()
    cells = lines[2].split(",")
    cells[10] = "abc"
    lines[2] = ",".join(cells)
    p.write_text("\n".join(lines))
    err = _error(p)
    assert (err.line, err.column) == (3, CSV_COLUMNS[10]) and "abc" in err.reason


def test_nan_cell_names_line_and_column(tmp_path: Path) -> None:
    """NaN values are rejected with their location."""
    rows = _random_rows(np.random.default_rng(5), 3)
    rows[1, 5] = np.nan
    err = _error(_write_rows(tmp_path / "nan.csv", rows))
    assert (err.line, err.column) == (3, "root_rotateY")


def test_frame_column_must_increase(tmp_path: Path) -> None:
    """A repeated Frame number is an error at that line."""
    rows = _random_rows(np.random.default_rng(6), 4)
    rows[2, 0] = rows[1, 0]
    err = _error(_write_rows(tmp_path / "f.csv", rows))
    assert (err.line, err.column) == (4, "Frame")


def test_container_rejects_wrong_shapes() -> None:
    """RobotMotion validates shapes and unit quaternions on construction."""
    q = np.tile([1.0, 0, 0, 0], (3, 1))
    with pytest.raises(ValueError, match="joint_pos"):
        RobotMotion(root_pos=np.zeros((3, 3)), root_quat=q, joint_pos=np.zeros((3, 28)), fps=30)
    with pytest.raises(ValueError, match="unit"):
        RobotMotion(root_pos=np.zeros((3, 3)), root_quat=2 * q, joint_pos=np.zeros((3, 29)), fps=30)
