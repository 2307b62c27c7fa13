"""The 4-env G1 env on CPU: robot description, stepping, action permutation and replay writes.

The env is built once for the module (Warp compiles its kernels on the first build, ~20-40 s,
cached in ~/.cache/warp; later builds take ~5-10 s). It runs in eval mode on the generated
standing clip only, so every reset puts all four robots on the same reference frame 0 (no noise),
without domain randomisation or terminations (``events=None, terminations=None``): this module checks
the simulator itself against the MJCF. Every test starts from ``env.reset()``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import mujoco
import numpy as np
import pytest
import torch
from isaaclab.envs import ManagerBasedRLEnv

from sonic_data import g1
from sonic_data.kinematics import G1Kinematics
from sonic_env.config import EnvConfig
from sonic_env.env_cfg import make_env
from sonic_env.replay import write_reference_state

NUM_ENVS = 4


@pytest.fixture(scope="module")
def env(sample_env_config: Callable[..., EnvConfig]) -> Iterator[ManagerBasedRLEnv]:
    """One 4-env CPU env for the whole module, every robot on the standing clip."""
    config = sample_env_config(
        {"filter_motion_keys": ["stand_idle_neutral_001__A001"]}, mode="eval", events=None, terminations=None
    )
    assert config.num_envs == NUM_ENVS
    built = make_env(config)
    yield built
    built.close()


@pytest.fixture(scope="module")
def mj_model() -> mujoco.MjModel:
    """MuJoCo's own model of the vendored MJCF: the independent reference."""
    return mujoco.MjModel.from_xml_path(str(g1.MJCF_PATH))


def _t(x: object) -> torch.Tensor:
    """Isaac Lab 3.0 data fields are warp proxies; view them as torch tensors."""
    return x.torch if hasattr(x, "torch") else torch.as_tensor(x)  # pyright: ignore[reportAttributeAccessIssue]


def test_simulator_orders_are_canonical(env: ManagerBasedRLEnv) -> None:
    """Joints and bodies come out of the USD in the MJCF order; the contact sensor covers all bodies."""
    robot = env.scene["robot"]
    assert list(robot.data.joint_names) == list(g1.JOINT_NAMES)
    assert list(robot.data.body_names) == list(g1.BODY_NAMES)
    assert list(env.scene["contact_forces"].sensor_names) == list(g1.BODY_NAMES)


def test_simulated_masses_are_the_mjcf_masses(env: ManagerBasedRLEnv, mj_model: mujoco.MjModel) -> None:
    """Every body's simulated mass equals MuJoCo's for the MJCF; the robot weighs 33.341 kg."""
    masses = _t(env.scene["robot"].data.body_mass)
    expected = torch.tensor([mj_model.body(n).mass[0] for n in g1.BODY_NAMES], dtype=masses.dtype)
    torch.testing.assert_close(masses, expected.expand(NUM_ENVS, -1), atol=1e-5, rtol=0)
    assert masses.sum(-1) == pytest.approx([33.341142] * NUM_ENVS, abs=1e-4)


def test_drives_and_limits_follow_sonic_table(env: ManagerBasedRLEnv, mj_model: mujoco.MjModel) -> None:
    """kp/kd/armature/effort/velocity per joint are SONIC's; soft limits are 0.9 of the MJCF ranges."""
    data = env.scene["robot"].data
    for field, table in (
        ("joint_stiffness", g1.KP),
        ("joint_damping", g1.KD),
        ("joint_armature", g1.ARMATURE),
        ("joint_effort_limits", g1.EFFORT_LIMIT),
        ("joint_vel_limits", g1.VELOCITY_LIMIT),
    ):
        got = _t(getattr(data, field))
        torch.testing.assert_close(
            got, torch.tensor(table, dtype=got.dtype).expand(NUM_ENVS, -1), rtol=1e-5, atol=1e-6, msg=field
        )
    ranges = np.array([mj_model.joint(n).range for n in g1.JOINT_NAMES])
    mid, half = ranges.mean(1), 0.5 * (ranges[:, 1] - ranges[:, 0]) * 0.9
    soft = _t(data.soft_joint_pos_limits)[0].numpy()
    np.testing.assert_allclose(soft[:, 0], mid - half, atol=1e-5)
    np.testing.assert_allclose(soft[:, 1], mid + half, atol=1e-5)


def test_self_collisions_are_enabled(env: ManagerBasedRLEnv) -> None:
    """The articulation root carries newton:selfCollisionEnabled = True, as SONIC trains."""
    stage = env.sim.stage
    assert stage is not None
    pelvis = [
        p
        for p in stage.Traverse()  # pyright: ignore[reportOptionalIterable]
        if p.GetPath().pathString.startswith("/World/envs/env_0/") and p.GetName() == "pelvis"
    ]
    assert len(pelvis) == 1
    assert pelvis[0].GetAttribute("newton:selfCollisionEnabled").Get() is True


def test_reset_and_100_zero_action_steps_stay_finite(env: ManagerBasedRLEnv) -> None:
    """4 envs reset onto the reference (frame 0, no noise) and step 100 times with zero actions without NaN."""
    env.reset()
    robot = env.scene["robot"]
    reference = env.command_manager.get_term("motion").ref_joint_pos  # pyright: ignore[reportAttributeAccessIssue]
    torch.testing.assert_close(_t(robot.data.joint_pos), reference, atol=1e-5, rtol=0)
    actions = torch.zeros(NUM_ENVS, g1.NUM_JOINTS)
    for _ in range(100):
        obs, reward, terminated, truncated, _ = env.step(actions)
        policy = obs["policy"]
        assert isinstance(policy, torch.Tensor)
        assert torch.isfinite(policy).all()
        assert not terminated.any() and not truncated.any()
    assert policy.shape == (NUM_ENVS, 930)
    for field in ("root_link_pose_w", "joint_pos", "joint_vel", "body_link_pos_w"):
        assert torch.isfinite(_t(getattr(robot.data, field))).all(), field
    assert torch.isfinite(_t(env.scene["contact_forces"].data.net_forces_w)).all()
    # Nothing holds the robot up, but the ground does: the pelvis stays above the floor.
    assert (_t(robot.data.root_link_pos_w)[:, 2] > 0.05).all()


def test_one_action_slot_moves_exactly_its_joint(env: ManagerBasedRLEnv) -> None:
    """A nonzero action at Isaac Lab slot k changes only joint ISAACLAB_JOINT_NAMES[k] in the simulator.

    env 0: zero action (baseline); env 1: +1 at left_elbow (slot 21, canonical 18); env 2: -1 at
    waist_yaw (slot 2, canonical 12); env 3: +100 at left_knee (slot 9, canonical 3), clipped to 20.
    """
    env.reset()
    robot = env.scene["robot"]
    slots = {1: (21, 1.0), 2: (2, -1.0), 3: (9, 100.0)}
    actions = torch.zeros(NUM_ENVS, g1.NUM_JOINTS)
    for e, (slot, value) in slots.items():
        actions[e, slot] = value
    default = torch.tensor(g1.DEFAULT_JOINT_POS)
    scale = torch.tensor(g1.ACTION_SCALE)
    env.step(actions)
    targets = _t(robot.data.joint_pos_target)
    torch.testing.assert_close(targets[0], default, atol=1e-6, rtol=0)
    for e, (slot, value) in slots.items():
        joint = g1.JOINT_NAMES.index(g1.ISAACLAB_JOINT_NAMES[slot])
        expected = default.clone()
        expected[joint] += scale[joint] * max(-20.0, min(20.0, value))
        torch.testing.assert_close(targets[e], expected, atol=1e-6, rtol=0, msg=f"env {e}")
    for _ in range(4):
        env.step(actions)
    q = _t(robot.data.joint_pos)
    for e, (slot, value) in slots.items():
        joint = g1.JOINT_NAMES.index(g1.ISAACLAB_JOINT_NAMES[slot])
        delta = q[e] - q[0]
        assert int(delta.abs().argmax()) == joint, (
            f"env {e}: largest change at {g1.JOINT_NAMES[int(delta.abs().argmax())]}"
        )
        assert float(delta[joint]) * value > 0.0


def test_replay_write_puts_bodies_on_mujoco_fk(env: ManagerBasedRLEnv, mj_model: mujoco.MjModel) -> None:
    """Written root pose + joint angles give simulator body poses equal to sonic_data's and MuJoCo's FK (1 mm)."""
    env.reset()
    robot = env.scene["robot"]
    gen = torch.Generator().manual_seed(7)
    env_ids = [1, 3]
    n = len(env_ids)
    limits = torch.tensor(np.array([mj_model.joint(j).range for j in g1.JOINT_NAMES]), dtype=torch.float32)
    joint_pos = limits[:, 0] + (limits[:, 1] - limits[:, 0]) * torch.rand(n, g1.NUM_JOINTS, generator=gen)
    quat = torch.randn(n, 4, generator=gen)
    quat = quat / quat.norm(dim=-1, keepdim=True)
    origins = _t(env.scene.env_origins)[env_ids]
    root_pos = origins + torch.tensor([[0.3, -0.2, 1.1], [-0.5, 0.4, 0.9]])
    untouched_before = _t(robot.data.root_link_pos_w)[[0, 2]].clone()

    write_reference_state(robot, env_ids, root_pos, quat, joint_pos)

    body_pos = _t(robot.data.body_link_pos_w)
    body_quat_xyzw = _t(robot.data.body_link_quat_w)
    torch.testing.assert_close(_t(robot.data.root_link_pos_w)[[0, 2]], untouched_before)
    fk_pos, fk_quat = G1Kinematics()(root_pos, quat, joint_pos)
    torch.testing.assert_close(body_pos[env_ids], fk_pos, atol=1e-3, rtol=0)
    fk_dot = (body_quat_xyzw[env_ids][..., [3, 0, 1, 2]] * fk_quat).sum(-1).abs()
    torch.testing.assert_close(fk_dot, torch.ones_like(fk_dot), atol=1e-5, rtol=0)
    data = mujoco.MjData(mj_model)
    for i, e in enumerate(env_ids):
        data.qpos[:3] = root_pos[i].numpy()
        data.qpos[3:7] = quat[i].numpy()
        data.qpos[7:] = joint_pos[i].numpy()
        mujoco.mj_kinematics(mj_model, data)
        ref_pos = np.array([data.xpos[mj_model.body(b).id] for b in g1.BODY_NAMES])
        ref_quat = np.array([data.xquat[mj_model.body(b).id] for b in g1.BODY_NAMES])
        np.testing.assert_allclose(body_pos[e].numpy(), ref_pos, atol=1e-3)
        got_wxyz = body_quat_xyzw[e].numpy()[:, [3, 0, 1, 2]]
        same_rotation = np.abs((got_wxyz * ref_quat).sum(-1))
        np.testing.assert_allclose(same_rotation, 1.0, atol=1e-5)
        np.testing.assert_allclose(_t(robot.data.joint_pos)[e].numpy(), joint_pos[i].numpy(), atol=1e-6)


def test_solver_limits_come_from_the_config_and_usage_reports_iterations(env: ManagerBasedRLEnv) -> None:
    """SimConfig's iteration caps (100 / 50 by default) reach MuJoCo-Warp; contact_usage reads the iterations."""
    from isaaclab_newton.physics import NewtonManager

    from sonic_env.config import SimConfig
    from sonic_env.terrain import contact_usage

    opt = NewtonManager._solver.mjw_model.opt  # pyright: ignore[reportPrivateUsage, reportOptionalMemberAccess]
    assert (int(opt.iterations), int(opt.ls_iterations)) == (
        SimConfig().iterations,
        SimConfig().ls_iterations,
    )
    env.step(torch.zeros(NUM_ENVS, g1.NUM_JOINTS))
    usage = contact_usage()
    assert 1 <= usage["solver_iterations_max_world"] <= SimConfig().iterations
    assert 100 <= usage["solver_iterations_mean_x100"] <= 100 * usage["solver_iterations_max_world"]
