"""Batched torch forward kinematics against MuJoCo's own mj_kinematics."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import mujoco
import numpy as np
import pytest
import torch

from sonic_data.g1 import BODY_NAMES, JOINT_LOWER, JOINT_UPPER, MJCF_PATH
from sonic_data.g1.mjcf import MjcfError, parse_mjcf
from sonic_data.kinematics import G1Kinematics
from sonic_data.rotations import quat_error_angle

NUM_POSES = 128


def random_poses(model: mujoco.MjModel, num: int, seed: int) -> np.ndarray:
    """qpos rows: random root position, random unit root quaternion, joints uniform within limits."""
    rng = np.random.default_rng(seed)
    hinge_adr = model.jnt_qposadr[1:]
    lo, hi = model.jnt_range[1:, 0], model.jnt_range[1:, 1]
    unlimited = ~model.jnt_limited[1:].astype(bool)
    lo, hi = np.where(unlimited, -np.pi, lo), np.where(unlimited, np.pi, hi)
    qpos = np.zeros((num, model.nq))
    qpos[:, :3] = rng.uniform(-2.0, 2.0, size=(num, 3))
    quat = rng.normal(size=(num, 4))
    qpos[:, 3:7] = quat / np.linalg.norm(quat, axis=1, keepdims=True)
    qpos[:, hinge_adr] = rng.uniform(lo, hi, size=(num, len(hinge_adr)))
    return qpos


def mujoco_body_poses(model: mujoco.MjModel, qpos: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """MuJoCo's xpos/xquat of every body but the world, for each qpos row."""
    data = mujoco.MjData(model)
    pos, quat = [], []
    for row in qpos:
        data.qpos[:] = row
        mujoco.mj_kinematics(model, data)
        pos.append(data.xpos[1:].copy())
        quat.append(data.xquat[1:].copy())
    return np.stack(pos), np.stack(quat)


def run_fk(fk: G1Kinematics, qpos: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """Our FK on MuJoCo qpos rows (the 7 free-joint numbers, then the hinges)."""
    q = torch.from_numpy(qpos)
    return fk(q[:, :3], q[:, 3:7], q[:, 7:])


@pytest.fixture(scope="module")
def g1_model() -> mujoco.MjModel:
    """The vendored G1 compiled by MuJoCo."""
    return mujoco.MjModel.from_xml_path(str(MJCF_PATH))


@pytest.mark.parametrize(
    ("dtype", "pos_tol", "ang_tol"), [(torch.float32, 1e-5, 1e-5), (torch.float64, 1e-12, 1e-12)]
)
def test_g1_fk_matches_mujoco_on_random_poses(g1_model, dtype, pos_tol, ang_tol):
    """On 128 random poses within limits, every body's position and orientation equal MuJoCo's."""
    qpos = random_poses(g1_model, NUM_POSES, seed=0)
    ref_pos, ref_quat = mujoco_body_poses(g1_model, qpos)
    pos, quat = run_fk(G1Kinematics(dtype=dtype), qpos)
    assert pos.shape == (NUM_POSES, 30, 3) and quat.shape == (NUM_POSES, 30, 4)
    assert pos.dtype == dtype and quat.dtype == dtype
    assert np.abs(pos.double().numpy() - ref_pos).max() < pos_tol
    assert quat_error_angle(quat.double(), torch.from_numpy(ref_quat)).max().item() < ang_tol


def test_fk_matches_mujoco_with_joint_pos_ref_degrees_and_defaults(tmp_path: Path):
    """A model using joint pos, ref, degree units, default classes, body quats and a welded body."""
    xml = """
    <mujoco>
      <compiler angle="degree"/>
      <default>
        <default class="bent"><joint axis="0 1 1" pos="0.1 -0.2 0.05" ref="15"/></default>
      </default>
      <worldbody>
        <body name="base" pos="0 0 1" quat="0.9 0.1 0 0.2">{I}
          <freejoint name="root"/>
          <body name="a" pos="0.3 0 0" quat="0.7 0.7 0 0" childclass="bent">{I}
            <joint name="ja" range="-90 120"/>
            <body name="b" pos="0 0.2 -0.1">{I}
              <joint name="jb" axis="1 0 0" range="-45 45"/>
              <body name="welded" pos="0.05 0.05 0" quat="0 0 0 1">{I}
                <body name="c" pos="0 0 -0.2">{I}
                  <joint name="jc" class="main" axis="2 0 0" pos="0 0.03 0" range="-30 30"/>
                </body>
              </body>
            </body>
          </body>
          <body name="d" pos="-0.1 0.1 0">{I}
            <joint name="jd" type="hinge" axis="0 0 1"/>
          </body>
        </body>
      </worldbody>
    </mujoco>
    """.replace("{I}", '<inertial pos="0 0 0" mass="1" diaginertia="0.01 0.01 0.01"/>')
    path = tmp_path / "chain.xml"
    path.write_text(xml)
    model = mujoco.MjModel.from_xml_path(str(path))
    fk = G1Kinematics(dtype=torch.float64, mjcf_path=path)
    assert fk.body_names == ("base", "a", "b", "welded", "c", "d")
    assert fk.joint_names == ("ja", "jb", "jc", "jd")
    tree = parse_mjcf(path)
    assert tree.joints[0].range == pytest.approx((-np.pi / 2, 2 * np.pi / 3))
    assert tree.joints[3].range is None
    qpos = random_poses(model, 32, seed=1)
    ref_pos, ref_quat = mujoco_body_poses(model, qpos)
    pos, quat = run_fk(fk, qpos)
    assert np.abs(pos.numpy() - ref_pos).max() < 1e-12
    assert quat_error_angle(quat, torch.from_numpy(ref_quat)).max().item() < 1e-12


def test_root_pose_replaces_pelvis_and_zero_pose_offsets_match_mjcf():
    """The pelvis is the root pose (normalized), not MJCF z=0.793; the hip sits at its MJCF offset."""
    fk = G1Kinematics(dtype=torch.float64)
    root_pos = torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64)
    root_quat = torch.tensor([2.0, 0.0, 0.0, 0.0], dtype=torch.float64)
    pos, quat = fk(root_pos, root_quat, torch.zeros(29, dtype=torch.float64))
    np.testing.assert_array_equal(pos[0].numpy(), root_pos.numpy())
    np.testing.assert_array_equal(quat[0].numpy(), [1.0, 0.0, 0.0, 0.0])
    hip = fk.body_index("left_hip_pitch_link")
    np.testing.assert_allclose(pos[hip].numpy(), [1.0, -2.0 + 0.064452, 0.5 - 0.1027], atol=1e-15)


def test_batch_shapes_broadcast_and_agree_with_flat_batch():
    """(2, 3)-batched joints with one shared root give the same poses as the flat (6,) batch."""
    fk = G1Kinematics(dtype=torch.float64)
    gen = torch.Generator().manual_seed(0)
    joints = torch.rand(2, 3, 29, generator=gen, dtype=torch.float64) - 0.5
    root_pos = torch.tensor([0.1, 0.2, 0.8], dtype=torch.float64)
    root_quat = torch.tensor([0.9, 0.1, -0.2, 0.3], dtype=torch.float64)
    pos, quat = fk(root_pos, root_quat, joints)
    assert pos.shape == (2, 3, 30, 3) and quat.shape == (2, 3, 30, 4)
    flat_pos, flat_quat = fk(root_pos.expand(6, 3), root_quat.expand(6, 4), joints.reshape(6, 29))
    torch.testing.assert_close(pos.reshape(6, 30, 3), flat_pos, rtol=0, atol=1e-15)
    torch.testing.assert_close(quat.reshape(6, 30, 4), flat_quat, rtol=0, atol=1e-15)


def test_fk_gradcheck_float64():
    """Analytic gradients through root pose and joint angles equal finite differences."""
    fk = G1Kinematics(dtype=torch.float64)
    gen = torch.Generator().manual_seed(1)
    root_pos = torch.randn(2, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    root_quat = torch.randn(2, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    lo = torch.tensor(JOINT_LOWER, dtype=torch.float64)
    hi = torch.tensor(JOINT_UPPER, dtype=torch.float64)
    joints = (lo + (hi - lo) * torch.rand(2, 29, generator=gen, dtype=torch.float64)).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda p, q, j: fk(p, q, j), (root_pos, root_quat, joints))


def test_body_lookup_and_device_copy():
    """body_index follows BODY_NAMES, unknown names raise listing the bodies; to() returns a copy."""
    fk = G1Kinematics()
    assert fk.body_names == BODY_NAMES
    assert fk.body_index("left_wrist_yaw_link") == BODY_NAMES.index("left_wrist_yaw_link")
    assert fk.body_indices(["torso_link", "pelvis"]) == [BODY_NAMES.index("torso_link"), 0]
    with pytest.raises(KeyError, match="nose_link"):
        fk.body_index("nose_link")
    moved = fk.to("cpu", dtype=torch.float64)
    assert isinstance(moved, G1Kinematics) and moved.dtype == torch.float64 and fk.dtype == torch.float32
    pos, _ = moved(torch.zeros(3), torch.tensor([1.0, 0, 0, 0]), torch.zeros(29))
    assert pos.dtype == torch.float64


def test_fk_rejects_wrong_shape_and_device():
    """A joint vector of the wrong length, or an input on another device, raises naming the problem."""
    fk = G1Kinematics()
    with pytest.raises(ValueError, match=r"joint_pos must have shape \(\.\.\., 29\)"):
        fk(torch.zeros(3), torch.tensor([1.0, 0, 0, 0]), torch.zeros(28))
    with pytest.raises(ValueError, match="root_pos is on meta"):
        fk(torch.zeros(3, device="meta"), torch.tensor([1.0, 0, 0, 0]), torch.zeros(29))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('<body name="x" euler="0 0 1"><joint name="j"/></body>', "orientation given as 'euler'"),
        ('<body name="x"><joint name="j" type="slide"/></body>', "type 'slide' is not supported"),
        ('<body name="x"><joint name="j1"/><joint name="j2"/></body>', "2 joints on one body"),
        ('<frame><body name="x"/></frame>', "<frame> inside a body"),
    ],
)
def test_parser_rejects_unsupported_mjcf(tmp_path: Path, body: str, message: str):
    """Features the FK does not model fail at parse time, naming the file and the element."""
    path = tmp_path / "bad.xml"
    path.write_text(f'<mujoco><worldbody><body name="root"><freejoint/>{body}</body></worldbody></mujoco>')
    with pytest.raises(MjcfError, match=message) as info:
        parse_mjcf(path)
    assert "bad.xml" in str(info.value)


def test_kinematics_import_does_not_load_mujoco():
    """sonic_data.kinematics runs without MuJoCo: importing it leaves mujoco unimported."""
    code = "import sys, sonic_data.kinematics; sys.exit('mujoco' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_fk_on_cuda_matches_cpu():
    """The CUDA FK gives the CPU result on a large batch."""
    fk = G1Kinematics(dtype=torch.float32)
    gen = torch.Generator().manual_seed(2)
    args = (
        torch.randn(4096, 3, generator=gen),
        torch.randn(4096, 4, generator=gen),
        torch.randn(4096, 29, generator=gen),
    )
    cpu_pos, cpu_quat = fk(*args)
    gpu_pos, gpu_quat = fk.to("cuda")(*(a.cuda() for a in args))
    assert gpu_pos.device.type == "cuda"
    torch.testing.assert_close(gpu_pos.cpu(), cpu_pos, rtol=0, atol=1e-5)
    torch.testing.assert_close(gpu_quat.cpu(), cpu_quat, rtol=0, atol=1e-5)
