"""SONIC's events in a 4-env CPU env: each changes what it should and nothing else; eval has no pushes.

References are independent of the event code: MuJoCo's own model of the vendored MJCF (masses,
centres of mass, inertias), ``sonic_data.g1.DEFAULT_JOINT_POS``, and the ground's configured
friction. Values are read both from Isaac Lab's data and from the MuJoCo-Warp model the solver
steps, so a randomisation that never reached the physics would fail.

The env is the SONIC scene, physics and action with only these events (no motion command: the
events do not read it), built once per preset: ``tracking/level0_4`` (train) and ``tracking/eval``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import MISSING
from typing import Any

import isaaclab.envs.mdp as il_mdp
import mujoco
import numpy as np
import pytest
import torch
from isaaclab.envs import ManagerBasedRLEnv, ManagerBasedRLEnvCfg
from isaaclab.managers import ObservationGroupCfg, ObservationTermCfg
from isaaclab.utils import configclass

from sonic_data import g1
from sonic_env.actions import sonic_action_cfg
from sonic_env.config import EnvConfig
from sonic_env.env_cfg import SonicSceneCfg, contact_sensor_cfg, ground_cfg, sim_cfg
from sonic_env.mdp.events import SonicEventsCfg, event_terms_cfg
from sonic_env.mdp.interval import MaskedIntervalEvents, supports_masked_interval
from sonic_env.mdp_config import EventsConfig
from sonic_env.robot import g1_articulation_cfg

NUM_ENVS = 4
EVENTS = EventsConfig()  # tracking/level0_4; eval has the same startup parameters
MASS_BODIES = ("left_wrist_yaw_link", "right_wrist_yaw_link", "torso_link")


@configclass
class _ActionsCfg:
    joint_pos = sonic_action_cfg(g1.ISAACLAB_JOINT_NAMES)


@configclass
class _ObservationsCfg:
    @configclass
    class PolicyCfg(ObservationGroupCfg):
        joint_pos = ObservationTermCfg(func=il_mdp.joint_pos_rel)

    policy: PolicyCfg = PolicyCfg()


@configclass
class _NoTermsCfg:
    pass


@configclass
class _EventsEnvCfg(ManagerBasedRLEnvCfg):
    scene: SonicSceneCfg = MISSING  # pyright: ignore[reportAssignmentType]
    actions: _ActionsCfg = _ActionsCfg()
    observations: _ObservationsCfg = _ObservationsCfg()
    events: SonicEventsCfg = MISSING  # pyright: ignore[reportAssignmentType]
    rewards: _NoTermsCfg = _NoTermsCfg()
    terminations: _NoTermsCfg = _NoTermsCfg()


def events_env_cfg(events: EventsConfig) -> _EventsEnvCfg:
    """SONIC's scene, physics and action for 4 CPU envs, with ``events`` as the only event terms."""
    config = EnvConfig(num_envs=NUM_ENVS, device="cpu", seed=0)
    scene = SonicSceneCfg(num_envs=NUM_ENVS, env_spacing=config.config.env_spacing)
    scene.ground = ground_cfg(config)
    scene.robot = g1_articulation_cfg()
    scene.contact_forces = contact_sensor_cfg()
    return _EventsEnvCfg(
        scene=scene,
        events=event_terms_cfg(events),
        sim=sim_cfg(config),
        decimation=config.sim.decimation,
        episode_length_s=config.episode_length_s,
        seed=0,
    )


@pytest.fixture(scope="module", params=["tracking/level0_4", "tracking/eval"])
def env(request: pytest.FixtureRequest) -> Iterator[ManagerBasedRLEnv]:
    """One 4-env CPU env per preset (the startup events ran at construction).

    Newton queues model changes and hands them to the solver at the next physics step, so the
    fixture steps once before the tests look at the solver's model.
    """
    built = ManagerBasedRLEnv(events_env_cfg(EventsConfig.model_validate(request.param)))
    built.reset()
    built.step(torch.zeros(NUM_ENVS, g1.NUM_JOINTS))
    yield built
    built.close()


@pytest.fixture(scope="module")
def mj_model() -> mujoco.MjModel:
    """MuJoCo's own model of the vendored MJCF: the unrandomised reference."""
    return mujoco.MjModel.from_xml_path(str(g1.MJCF_PATH))


def _solver_model(env: ManagerBasedRLEnv) -> Any:
    """The MuJoCo-Warp model that Newton's solver steps (no public accessor in Isaac Lab 3.0)."""
    return env.sim.physics_manager._solver.mjw_model  # pyright: ignore[reportAttributeAccessIssue]  # noqa: SLF001


def _mjw_body_index(mj_model: mujoco.MjModel) -> list[int]:
    """MuJoCo-Warp body index of each of ``g1.BODY_NAMES`` (the solver keeps the MJCF's body order)."""
    return [mj_model.body(n).id for n in g1.BODY_NAMES]


def test_presets_list_the_events_of_level0_4() -> None:
    """The train preset has SONIC's five events with their modes; eval drops only the push."""
    train = event_terms_cfg(EventsConfig())
    modes = {k: getattr(train, k).mode for k in vars(train) if getattr(train, k) is not None}
    assert modes == {
        "physics_material": "startup",
        "add_joint_default_pos": "startup",
        "base_com": "startup",
        "randomize_rigid_body_mass": "startup",
        "push_robot": "interval",
    }
    assert train.push_robot is not None and train.push_robot.interval_range_s == (4.0, 6.0)
    evaluation = event_terms_cfg(EventsConfig.model_validate("tracking/eval"))
    assert evaluation.push_robot is None
    assert {k for k in vars(evaluation) if getattr(evaluation, k) is not None} == set(modes) - {"push_robot"}


def test_event_ranges_are_validated() -> None:
    """A reversed range or a non-positive push interval is rejected, naming the field."""
    with pytest.raises(ValueError, match="x"):
        EventsConfig.model_validate({"push_robot": {"x": [0.5, -0.5]}})
    with pytest.raises(ValueError, match="interval_range_s"):
        EventsConfig.model_validate({"push_robot": {"interval_range_s": [0.0, 1.0]}})
    with pytest.raises(ValueError, match="scale_range"):
        EventsConfig.model_validate({"randomize_rigid_body_mass": {"scale_range": [0.0, 2.0]}})
    changed = EventsConfig.model_validate(
        {"name": "tracking/eval", "push_robot": {"interval_range_s": [1, 3]}}
    )
    assert changed.push_robot is not None and changed.push_robot.interval_range_s == (1.0, 3.0)


def test_friction_lands_on_every_robot_shape_within_range(env: ManagerBasedRLEnv) -> None:
    """Every robot geom of every world has a friction in [0.3, 1.6], differing per env; the ground stays 1.0."""
    model = _solver_model(env)
    friction = model.geom_friction.numpy()[..., 0]  # (worlds, geoms): sliding friction
    body = model.geom_bodyid.numpy()
    robot = body > 0
    lo, hi = EVENTS.physics_material.static_friction_range  # pyright: ignore[reportOptionalMemberAccess]
    assert friction.shape[0] == NUM_ENVS and robot.sum() >= 30
    assert ((friction[:, robot] >= lo) & (friction[:, robot] <= hi)).all()
    np.testing.assert_allclose(friction[:, ~robot], 1.0)
    # Drawn per env and shape, not one value for all.
    assert np.unique(friction[:, robot].round(6)).size > robot.sum()
    assert friction[:, robot].std() > 0.2


def test_restitution_lands_on_the_shapes_within_range(env: ManagerBasedRLEnv) -> None:
    """Newton's per-shape restitution of the robot shapes lies in [0, 0.5]; the ground keeps its own."""
    model = env.sim.physics_manager.get_model()  # pyright: ignore[reportAttributeAccessIssue]
    restitution = model.shape_material_restitution.numpy()
    owner = model.shape_body.numpy()
    lo, hi = EVENTS.physics_material.restitution_range  # pyright: ignore[reportOptionalMemberAccess]
    assert ((restitution[owner >= 0] >= lo) & (restitution[owner >= 0] <= hi)).all()
    assert restitution[owner >= 0].std() > 0.05
    np.testing.assert_allclose(restitution[owner < 0], 0.0)


def test_mass_scales_only_wrists_and_torso_within_bounds(
    env: ManagerBasedRLEnv, mj_model: mujoco.MjModel
) -> None:
    """Wrist_yaw and torso masses are ×[0.8, 2.5] of the MJCF's (inertia alike); all other bodies are unchanged."""
    data = env.scene["robot"].data
    masses = data.body_mass.torch  # (envs, 30)
    nominal = torch.tensor([mj_model.body(n).mass[0] for n in g1.BODY_NAMES], dtype=masses.dtype)
    ratio = masses / nominal
    chosen = torch.tensor([n in MASS_BODIES for n in g1.BODY_NAMES])
    lo, hi = EVENTS.randomize_rigid_body_mass.scale_range  # pyright: ignore[reportOptionalMemberAccess]
    assert ((ratio[:, chosen] >= lo - 1e-6) & (ratio[:, chosen] <= hi + 1e-6)).all()
    assert ratio[:, chosen].std() > 0.1
    torch.testing.assert_close(ratio[:, ~chosen], torch.ones_like(ratio[:, ~chosen]), atol=1e-6, rtol=0)
    # The solver steps the same masses.
    solver_mass = _solver_model(env).body_mass.numpy()[:, _mjw_body_index(mj_model)]
    np.testing.assert_allclose(solver_mass, masses.numpy(), rtol=1e-6)
    # Inertia scaled by the same ratio on the chosen bodies, unchanged elsewhere (diagonal vs MuJoCo's).
    inertia = data.body_inertia.torch.reshape(NUM_ENVS, len(g1.BODY_NAMES), 3, 3)
    trace = inertia.diagonal(dim1=-2, dim2=-1).sum(-1)
    nominal_trace = torch.tensor([mj_model.body(n).inertia.sum() for n in g1.BODY_NAMES], dtype=trace.dtype)
    torch.testing.assert_close(trace / nominal_trace, ratio, rtol=1e-4, atol=0)


def test_com_offset_on_torso_only_within_range(env: ManagerBasedRLEnv, mj_model: mujoco.MjModel) -> None:
    """The torso CoM moves by U(x ±0.025, y ±0.05, z ±0.05) m from the MJCF's; every other CoM is the MJCF's."""
    com = env.scene["robot"].data.body_com_pos_b.torch  # (envs, 30, 3), body frame
    nominal = torch.tensor(np.array([mj_model.body(n).ipos for n in g1.BODY_NAMES]), dtype=com.dtype)
    delta = com - nominal
    torso = g1.BODY_NAMES.index("torso_link")
    cfg = EVENTS.base_com
    assert cfg is not None
    for axis, (lo, hi) in enumerate((cfg.x, cfg.y, cfg.z)):
        assert ((delta[:, torso, axis] >= lo - 1e-6) & (delta[:, torso, axis] <= hi + 1e-6)).all()
    assert delta[:, torso].abs().amax() > 1e-3
    others = [i for i in range(len(g1.BODY_NAMES)) if i != torso]
    torch.testing.assert_close(delta[:, others], torch.zeros_like(delta[:, others]), atol=1e-6, rtol=0)
    solver_ipos = _solver_model(env).body_ipos.numpy()[:, _mjw_body_index(mj_model)]
    np.testing.assert_allclose(solver_ipos, com.numpy(), atol=1e-6)


def test_default_joint_offsets_within_range_and_action_offset_follows(env: ManagerBasedRLEnv) -> None:
    """Defaults move by at most 0.01 rad per joint and env; a zero action targets exactly the new defaults."""
    env.reset()
    robot = env.scene["robot"]
    default = robot.data.default_joint_pos.torch.clone()
    delta = default - torch.tensor(g1.DEFAULT_JOINT_POS)
    assert (delta.abs() <= 0.01 + 1e-6).all()
    assert delta.abs().amax() > 1e-3 and (delta[0] != delta[1]).any()
    env.step(torch.zeros(NUM_ENVS, g1.NUM_JOINTS))
    targets = env.action_manager.get_term("joint_pos").processed_actions
    policy_order = g1.joint_permutation(g1.JOINT_NAMES, g1.ISAACLAB_JOINT_NAMES)
    torch.testing.assert_close(targets, default[:, policy_order], atol=1e-7, rtol=0)


def test_push_adds_a_velocity_within_the_ranges_in_train_only(env: ManagerBasedRLEnv) -> None:
    """Train: the interval event changes each root velocity by a draw inside SONIC's push ranges. Eval: no push."""
    train = env.cfg.events.push_robot is not None  # pyright: ignore[reportAttributeAccessIssue]
    assert env.event_manager.active_terms["startup"] == [  # pyright: ignore[reportIndexIssue]
        "physics_material",
        "add_joint_default_pos",
        "base_com",
        "randomize_rigid_body_mass",
    ]
    if not train:
        assert "interval" not in env.event_manager.available_modes
        return
    assert env.event_manager.active_terms["interval"] == ["push_robot"]  # pyright: ignore[reportIndexIssue]
    env.reset()
    robot = env.scene["robot"]
    before = robot.data.root_vel_w.torch.clone()
    env.event_manager.apply(mode="interval", dt=10.0)  # longer than any interval: every env is pushed
    after = robot.data.root_vel_w.torch.clone()
    delta = after - before
    push = EVENTS.push_robot
    assert push is not None
    bounds = torch.tensor(list(push.velocity_range().values()))
    assert ((delta >= bounds[:, 0] - 1e-6) & (delta <= bounds[:, 1] + 1e-6)).all()
    assert (delta.abs().sum(-1) > 1e-3).all()


def test_masked_push_pushes_exactly_the_due_envs(env: ManagerBasedRLEnv) -> None:
    """The sync-free interval push (CUDA-graphed step): due envs pushed within the ranges, others untouched.

    It counts down Isaac Lab's own per-env timers: the due envs draw their next interval inside
    ``interval_range_s``, the others lose ``dt``.
    """
    events = env.event_manager
    assert supports_masked_interval(events)
    if env.cfg.events.push_robot is None:  # pyright: ignore[reportAttributeAccessIssue]
        assert not MaskedIntervalEvents(env)._terms  # noqa: SLF001
        return
    env.reset()
    masked = MaskedIntervalEvents(env)
    timers = events._interval_term_time_left[0]  # noqa: SLF001 (Isaac Lab's countdown, shared)
    timers.copy_(torch.tensor([0.01, 3.0, 0.01, 3.0]))
    robot = env.scene["robot"]
    before = robot.data.root_vel_w.torch.clone()  # pyright: ignore[reportAttributeAccessIssue]
    masked.apply(0.02)
    after = robot.data.root_vel_w.torch.clone()  # pyright: ignore[reportAttributeAccessIssue]
    due = torch.tensor([True, False, True, False])
    assert torch.equal(after[~due], before[~due])
    push = EVENTS.push_robot
    assert push is not None
    bounds = torch.tensor(list(push.velocity_range().values()))
    delta = after[due] - before[due]
    assert ((delta >= bounds[:, 0] - 1e-5) & (delta <= bounds[:, 1] + 1e-5)).all()
    assert (delta.abs().sum(-1) > 1e-3).all()
    low, high = push.interval_range_s
    assert ((timers[due] >= low) & (timers[due] <= high)).all()
    assert torch.allclose(timers[~due], torch.full((2,), 2.98))
