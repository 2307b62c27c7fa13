"""BVH reader/writer on the real SOMA frame (6 channels, 6-value OFFSETs) and on standard BVH."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from sonic_data.formats import SOMA_JOINT_NAMES, FormatError, read_bvh, write_bvh

FIXTURE = Path(__file__).parent / "fixtures" / "soma_zero_frame0.bvh"

STANDARD = """HIERARCHY
ROOT hip
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT knee
  {
    OFFSET 0 -10 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 -10 0
    }
  }
}
MOTION
Frames: 2
Frame Time: 0.0333333
1 2 3 0 0 0 0 0 0
0 0 0 90 0 0 0 90 0
"""


def test_real_soma_frame_has_78_six_channel_joints() -> None:
    """The SOMA zero frame parses: 78 joints, 6 channels each, 120 fps, the 26 kept joints present."""
    m = read_bvh(FIXTURE)
    assert len(m.joints) == 78 and m.num_frames == 1
    assert all(len(j.channels) == 6 and j.rest_rotation_deg is not None for j in m.joints)
    assert m.joints[0].name == "Root" and m.joints[1].name == "Hips"
    assert abs(m.fps - 120.0) < 0.01
    assert set(SOMA_JOINT_NAMES) <= set(m.joint_names)
    assert m.joints[m.joint_names.index("HeadEnd")].end_site == (0.0, 0.0, 0.0)


def test_real_soma_frame_fk_matches_a_scipy_chain() -> None:
    """FK of LeftToeBase equals chaining scipy intrinsic ZYX rotations and position channels by hand."""
    m = read_bvh(FIXTURE)
    pos, rot = m.forward_kinematics()
    names = m.joint_names
    chain = []
    i = names.index("LeftToeBase")
    while i >= 0:
        chain.append(i)
        i = m.joints[i].parent
    r_world = Rotation.identity()
    p_world = np.zeros(3)
    for i in reversed(chain):
        v = m.values[0, 6 * i : 6 * i + 6]
        p_world = p_world + r_world.apply(v[:3])
        r_world = r_world * Rotation.from_euler("ZYX", v[3:], degrees=True)
    np.testing.assert_allclose(pos[0, names.index("LeftToeBase")], p_world, atol=1e-9)
    np.testing.assert_allclose(rot[0, names.index("LeftToeBase")], r_world.as_matrix(), atol=1e-12)
    # SOMA is cm and Y up: Hips about a metre high, head above it, left foot on +X.
    assert 90 < pos[0, names.index("Hips"), 1] < 110
    assert pos[0, names.index("Head"), 1] > pos[0, names.index("Hips"), 1] + 40
    assert pos[0, names.index("LeftFoot"), 0] > 0


def test_standard_three_channel_bvh_uses_offsets(tmp_path: Path) -> None:
    """Joints without position channels use OFFSET; rotation order follows the channel list."""
    p = tmp_path / "s.bvh"
    p.write_text(STANDARD)
    m = read_bvh(p)
    pos, _ = m.forward_kinematics()
    np.testing.assert_allclose(pos[0], [[1, 2, 3], [1, -8, 3]], atol=1e-12)
    # Frame 1: root Zrot 90° maps the knee offset (0,-10,0) to (10,0,0).
    np.testing.assert_allclose(pos[1, 1], [10, 0, 0], atol=1e-9)
    assert m.joints[1].end_site == (0.0, -10.0, 0.0)


def test_write_read_round_trip_keeps_six_value_offsets(tmp_path: Path) -> None:
    """Writing the SOMA frame and reading it back keeps hierarchy, rest rotations and FK."""
    m = read_bvh(FIXTURE)
    write_bvh(tmp_path / "w.bvh", m, precision=9)
    back = read_bvh(tmp_path / "w.bvh")
    assert back.joint_names == m.joint_names
    assert [j.parent for j in back.joints] == [j.parent for j in m.joints]
    assert back.joints[1].rest_rotation_deg == pytest.approx(m.joints[1].rest_rotation_deg)
    np.testing.assert_allclose(back.forward_kinematics()[0], m.forward_kinematics()[0], atol=1e-6)


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        (
            "CHANNELS 3 Zrotation Xrotation Yrotation",
            "CHANNELS 4 Zrotation Xrotation Yrotation",
            "CHANNELS says 4",
        ),
        ("0 0 0 90 0 0 0 90 0", "0 0 0 90 0 0 0 90", "expected 9 channel values, got 8"),
        ("Frames: 2", "Frames: 3", "announces 3 frames"),
        ("1 2 3 0", "1 x 3 0", "expected numbers"),
        (
            "CHANNELS 3 Zrotation Xrotation Yrotation",
            "CHANNELS 3 Zrotation Xrotation Wrotation",
            "bad channel",
        ),
    ],
)
def test_bad_bvh_is_a_clear_error(tmp_path: Path, old: str, new: str, match: str) -> None:
    """Wrong channel counts, short frame lines, truncation and junk name the file (and line)."""
    p = tmp_path / "bad.bvh"
    p.write_text(STANDARD.replace(old, new))
    with pytest.raises(FormatError, match=match) as info:
        read_bvh(p)
    assert str(p) in str(info.value)


def test_empty_bvh_is_an_error(tmp_path: Path) -> None:
    """An empty file is rejected by name."""
    p = tmp_path / "e.bvh"
    p.write_text("")
    with pytest.raises(FormatError, match="empty"):
        read_bvh(p)


def test_writer_orders_values_depth_first(tmp_path: Path) -> None:
    """Joints listed parents-first but not depth-first are written so that a reader gets the same FK."""
    from sonic_data.formats import BvhJoint, BvhMotion

    ch = ("Xposition", "Yposition", "Zposition", "Zrotation", "Yrotation", "Xrotation")
    joints = (
        BvhJoint("root", -1, (0, 0, 0), ch),
        BvhJoint("a", 0, (1, 0, 0), ch),
        BvhJoint("b", 0, (0, 1, 0), ch),
        BvhJoint("c", 1, (0, 0, 1), ch),  # child of a, listed after b
    )
    values = np.arange(2 * 24, dtype=np.float64).reshape(2, 24) % 7
    m = BvhMotion(joints=joints, frame_time=0.01, values=values)
    write_bvh(tmp_path / "o.bvh", m)
    back = read_bvh(tmp_path / "o.bvh")
    assert back.joint_names == ("root", "a", "c", "b")
    pos, _ = m.forward_kinematics()
    pos2, _ = back.forward_kinematics()
    np.testing.assert_allclose(pos2[:, [0, 1, 3, 2]], pos, atol=1e-5)
