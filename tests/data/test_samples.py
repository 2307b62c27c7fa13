"""make-samples: generated motions are G1-feasible (MuJoCo check) and the real pipeline builds SONIC's layout."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path

import joblib
import mujoco
import numpy as np
import pytest

from sonic_data.formats import SMPL_PKL_KEYS, read_robot_pkl, read_smpl_pkl, read_soma_pkl
from sonic_data.g1 import JOINT_NAMES, MJCF_PATH
from sonic_data.samples import build_sample_dataset, generate_samples
from sonic_data.samples.motions import SAMPLE_MOTIONS, build_motion, mirror_motion

SUBSET = ["walk_forward_slow_001__A011", "wave_right_hand_001__A003", "sit_down_chair_001__A012"]


@pytest.fixture(scope="module")
def model() -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_path(str(MJCF_PATH))


def _lowest_foot_point(model: mujoco.MjModel, data: mujoco.MjData) -> float:
    """Lowest point of the foot capsules (MuJoCo geoms), an independent ground-contact reference."""
    low = math.inf
    for g in range(model.ngeom):
        name = mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_GEOM, g) or ""
        if "_foot" not in name:
            continue
        axis = data.geom_xmat[g].reshape(3, 3)[:, 2]
        half, radius = model.geom_size[g][1], model.geom_size[g][0]
        for end in (data.geom_xpos[g] + half * axis, data.geom_xpos[g] - half * axis):
            low = min(low, end[2] - radius)
    return low


def test_at_least_ten_feasible_motions_and_filter_names() -> None:
    """≥10 kept motions of the required kinds plus names that SONIC's keywords remove."""
    names = [s.name for s in SAMPLE_MOTIONS]
    kinds = ["stand", "squat", "wave", "reach", "torso_turn", "step_in_place", "walk_forward_slow"]
    assert all(any(k in n for n in names) for k in kinds)
    from sonic_data.filter import DEFAULT_FILTER_KEYWORDS, match_keyword

    removed = [n for n in names if match_keyword(f"s/{n}.pkl", DEFAULT_FILTER_KEYWORDS)]
    assert len(names) - len(removed) >= 10 and len(removed) >= 3


@pytest.mark.parametrize("spec", SAMPLE_MOTIONS, ids=lambda s: s.name)
def test_motion_respects_joint_limits_and_stands_on_the_ground(model: mujoco.MjModel, spec) -> None:  # noqa: ANN001
    """Joints stay inside MuJoCo's jnt_range and the lowest sole point is at z = 0 (±0.5 mm) in every frame checked."""
    m = build_motion(spec)
    ranges = np.array([model.jnt_range[model.joint(n).id] for n in JOINT_NAMES])
    assert (m.joint_pos >= ranges[:, 0] - 1e-6).all() and (m.joint_pos <= ranges[:, 1] + 1e-6).all()
    data = mujoco.MjData(model)
    lows = []
    for t in range(0, m.num_frames, 12):
        data.qpos[:] = np.concatenate([m.root_pos[t], m.root_quat[t], m.joint_pos[t]])
        mujoco.mj_kinematics(model, data)
        lows.append(_lowest_foot_point(model, data))
    assert np.abs(lows).max() < 5e-4


def test_mirror_keeps_limits() -> None:
    """The _M copy of every motion stays inside the joint limits (G1 ranges are left/right symmetric)."""
    from sonic_data.g1 import JOINT_LOWER, JOINT_UPPER

    for spec in SAMPLE_MOTIONS[:11]:
        q = mirror_motion(build_motion(spec, fps=30.0)).joint_pos
        assert (q >= np.asarray(JOINT_LOWER) - 1e-6).all() and (q <= np.asarray(JOINT_UPPER) + 1e-6).all(), (
            spec.name
        )


def test_unknown_motion_name_is_an_error(tmp_path: Path) -> None:
    """Asking for a motion that does not exist names the valid ones."""
    with pytest.raises(ValueError, match="unknown sample motions"):
        generate_samples(tmp_path, motions=["moonwalk"])


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("samples") / "sample_data"
    build_sample_dataset(out, motions=SUBSET)
    return out


def test_pipeline_builds_sonic_layout_and_filters(dataset: Path) -> None:
    """robot_filtered / smpl_filtered / soma_filtered hold the same kept clips; the chair clip is gone."""
    kept = {
        "walk_forward_slow_001__A011",
        "walk_forward_slow_001__A011_M",
        "wave_right_hand_001__A003",
        "wave_right_hand_001__A003_M",
    }
    for folder in ("robot_filtered", "smpl_filtered", "soma_filtered"):
        assert {p.stem for p in (dataset / folder).rglob("*.pkl")} == kept, folder
    assert (dataset / "g1" / "csv" / "240104" / "sit_down_chair_001__A012.csv").exists()
    assert (dataset / "soma_uniform" / "bvh" / "240103" / "walk_forward_slow_001__A011.bvh").exists()


def test_smpl_frame_counts_match_robot_clip_at_50fps(dataset: Path) -> None:
    """Every SMPL key has N50 = ceil(50·(T−1)/30) of the converted robot clip; fps is 50; SOMA has T."""
    for robot_file in (dataset / "robot_filtered").rglob("*.pkl"):
        (motion,) = read_robot_pkl(robot_file).values()
        n50 = math.ceil(50 * (motion.num_frames - 1) / motion.fps)
        raw = joblib.load(dataset / "smpl_filtered" / robot_file.parent.name / robot_file.name)
        assert set(raw) == set(SMPL_PKL_KEYS) and raw["fps"] == 50
        assert (
            raw["pose_aa"].shape == (n50, 72)
            and raw["smpl_joints"].shape == (n50, 24, 3)
            and raw["transl"].shape == (n50, 3)
        )
        smpl = read_smpl_pkl(dataset / "smpl_filtered" / robot_file.parent.name / robot_file.name)
        np.testing.assert_allclose(smpl.joints[:, 0], 0.0, atol=1e-6)  # root-translation-free
        np.testing.assert_allclose(smpl.transl[0, 1], motion.root_pos[0, 2], atol=1e-4)  # Y up height
        (soma,) = read_soma_pkl(dataset / "soma_filtered" / robot_file.parent.name / robot_file.name).values()
        assert soma.num_frames == motion.num_frames


def test_generation_is_deterministic(dataset: Path, tmp_path: Path) -> None:
    """A second generation writes byte-identical CSV, BVH and SMPL files."""
    again = generate_samples(tmp_path, motions=SUBSET[:1])
    for path in again:
        rel = path.relative_to(tmp_path)
        assert (
            hashlib.sha256(path.read_bytes()).digest()
            == hashlib.sha256((dataset / rel).read_bytes()).digest()
        ), rel
