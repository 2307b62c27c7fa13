"""extract-soma: SONIC's processing steps on the real SOMA frame and on generated BVHs; resume; errors."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import joblib
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from sonic_data.cli import main
from sonic_data.extract_soma import extract_soma_tree
from sonic_data.formats import SOMA_JOINT_NAMES, read_soma_pkl, write_bvh
from sonic_data.formats.frames import soma_root_quat_z_up
from sonic_data.kinematics import G1Kinematics
from sonic_data.resample import resample_robot
from sonic_data.samples.motions import SAMPLE_MOTIONS, build_motion
from sonic_data.samples.skeletons import SOMA_ON_G1, soma_bvh_from_robot

FIXTURE = Path(__file__).parent / "fixtures" / "soma_zero_frame0.bvh"


def test_real_soma_frame_extracts_sonic_keys_and_frames(tmp_path: Path) -> None:
    """Hips-relative Z-up metres, Hips rotation wxyz kept Y up, Hips translation in metres Y up."""
    shutil.copy(FIXTURE, tmp_path / "zero.bvh")
    results = extract_soma_tree(tmp_path / "zero.bvh", tmp_path / "out", num_workers=1)
    assert [r.status for r in results] == ["converted"]
    entry = joblib.load(tmp_path / "out" / "zero.pkl")["zero"]
    assert entry["joint_names"] == list(SOMA_JOINT_NAMES) and entry["fps"] == 30
    assert entry["soma_joints"].shape == (1, 26, 3) and entry["soma_joints"].dtype == np.float32
    np.testing.assert_allclose(entry["soma_transl"][0], [0.0, 1.01, 0.0], atol=1e-6)
    j = dict(zip(SOMA_JOINT_NAMES, entry["soma_joints"][0], strict=True))
    np.testing.assert_allclose(j["Hips"], 0.0, atol=1e-7)
    assert j["Head"][2] > 0.5 and j["LeftFoot"][2] < -0.8  # Z up after (x, y, z) → (x, −z, y)
    assert j["LeftFoot"][0] > 0.05  # BVH +X (person's left) stays +X
    # BVH forward is +Z; in the Z-up frame that is −Y: the toes point to −y.
    assert j["LeftToeBase"][1] < j["LeftFoot"][1] - 0.05
    ref = Rotation.from_euler("ZYX", [90.0, 0.19044625881393973, 89.99999998162323], degrees=True).as_quat()
    assert abs(np.dot(ref[[3, 0, 1, 2]], entry["soma_root_quat"][0])) > 1 - 1e-6


def test_generated_bvh_extracts_to_the_g1_bodies(tmp_path: Path) -> None:
    """A BVH generated from a G1 clip extracts to its FK points, and SONIC's root map gives back the pelvis."""
    spec = next(s for s in SAMPLE_MOTIONS if s.name.startswith("walk_forward"))
    fk = G1Kinematics(dtype=torch.float64)
    m120 = build_motion(spec, fk=fk)
    write_bvh(tmp_path / "bvh" / "240103" / "walk.bvh", soma_bvh_from_robot(m120, fk))
    extract_soma_tree(tmp_path / "bvh", tmp_path / "out", fps=30, num_workers=1)
    soma = read_soma_pkl(tmp_path / "out" / "240103" / "walk.pkl")["walk"]
    m30 = resample_robot(m120, 30)
    assert soma.num_frames == m30.num_frames
    pos, _ = fk(*(torch.tensor(a, dtype=torch.float64) for a in (m30.root_pos, m30.root_quat, m30.joint_pos)))
    rows = {row[0]: row for row in SOMA_ON_G1}
    for name in ("LeftShin", "RightFoot", "LeftForeArm", "RightHand"):
        body = fk.body_index(rows[name][2])
        want = (pos[:, body] - pos[:, 0]).numpy()
        np.testing.assert_allclose(soma.joints[:, SOMA_JOINT_NAMES.index(name)], want, atol=2e-5)
    np.testing.assert_allclose(soma.transl[:, 1], m30.root_pos[:, 2], atol=2e-5)  # Y up = pelvis height
    q = soma_root_quat_z_up(torch.tensor(soma.root_quat, dtype=torch.float64)).numpy()
    assert np.abs((q * m30.root_quat).sum(-1)).min() > 1 - 1e-6


def test_skip_existing_resumes_and_bad_bvh_fails_with_exit_1(tmp_path: Path) -> None:
    """--skip_existing keeps finished outputs; a BVH with a wrong channel count fails, the others convert."""
    src = tmp_path / "bvh" / "s1"
    src.mkdir(parents=True)
    shutil.copy(FIXTURE, src / "a.bvh")
    shutil.copy(FIXTURE, src / "b.bvh")
    text = FIXTURE.read_text().replace("CHANNELS 6 Xposition", "CHANNELS 5 Xposition", 1)
    (src / "bad.bvh").write_text(text)
    out = tmp_path / "out"
    (out / "s1").mkdir(parents=True)
    (out / "s1" / "a.pkl").write_bytes(b"finished earlier")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(
            [
                "extract-soma",
                "--input",
                str(tmp_path / "bvh"),
                "--output",
                str(out),
                "--skip-existing",
                "--num_workers",
                "1",
            ]
        )
    assert code == 1
    assert (out / "s1" / "a.pkl").read_bytes() == b"finished earlier"
    assert read_soma_pkl(out / "s1" / "b.pkl")["b"].num_frames == 1
    assert not (out / "s1" / "bad.pkl").exists() and not list(out.rglob("*.tmp"))
    report = buf.getvalue()
    assert (
        "1 converted, 1 skipped, 1 failed" in report and "bad.bvh" in report and "CHANNELS says 5" in report
    )


def test_skeleton_without_the_kept_joints_is_rejected(tmp_path: Path) -> None:
    """A BVH lacking SOMA joints fails naming the missing ones."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.bvh").write_text(
        "HIERARCHY\nROOT Hips\n{\nOFFSET 0 0 0\nCHANNELS 3 Xposition Yposition Zposition\n}\nMOTION\nFrames: 1\nFrame Time: 0.0083333\n0 0 0\n"
    )
    (r,) = extract_soma_tree(tmp_path / "in", tmp_path / "out", num_workers=1)
    assert r.status == "failed" and "Spine1" in r.reason


@pytest.mark.parametrize("fps", [30.0, 50.0])
def test_fps_field_follows_the_target(tmp_path: Path, fps: float) -> None:
    """The written fps is the target rate (stride for 120→30, interpolation for 120→50)."""
    shutil.copy(FIXTURE, tmp_path / "z.bvh")
    extract_soma_tree(tmp_path / "z.bvh", tmp_path / "o", fps=fps, num_workers=1)
    assert joblib.load(tmp_path / "o" / "z.pkl")["z"]["fps"] == int(fps)
