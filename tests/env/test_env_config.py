"""EnvConfig validation and its translation into Isaac Lab configclasses (no simulator)."""

from __future__ import annotations

import pytest
from isaaclab.sim import UsdFileCfg
from pxr import Usd, UsdPhysics
from pydantic import ValidationError

from sonic_data import g1
from sonic_env.config import EnvConfig
from sonic_env.env_cfg import build_env_cfg


def test_defaults_are_sonic_values() -> None:
    """dt 0.005, decimation 4, env spacing 2.0, clip 20, 10 s episodes, hand-less robot."""
    cfg = EnvConfig()
    assert (cfg.sim.dt, cfg.sim.decimation, cfg.config.env_spacing) == (0.005, 4, 2.0)
    assert (cfg.actions.clip, cfg.episode_length_s, cfg.config.robot.hand_mass) == (20.0, 10.0, 0.0)
    assert cfg.num_envs == 4096


def test_unknown_keys_are_errors_naming_the_key() -> None:
    """A typo in an override fails validation and names the offending key."""
    with pytest.raises(ValidationError, match="env_spacng"):
        EnvConfig.model_validate({"config": {"env_spacng": 3.0}})
    with pytest.raises(ValidationError, match="hand_mass"):
        EnvConfig.model_validate({"config": {"robot": {"hand_mass": -1.0}}})


def test_round_trips_through_a_dict() -> None:
    """model_dump -> model_validate gives back an equal config."""
    cfg = EnvConfig.model_validate({"num_envs": 8, "device": "cpu", "config": {"env_spacing": 10.0}})
    assert EnvConfig.model_validate(cfg.model_dump()) == cfg


def test_build_env_cfg_carries_the_config() -> None:
    """The Isaac Lab cfg gets the envs, spacing, timing, contact sensor and robot of the EnvConfig."""
    cfg = EnvConfig.model_validate(
        {"num_envs": 3, "device": "cpu", "config": {"env_spacing": 5.0}, "sim": {"decimation": 2}}
    )
    env_cfg = build_env_cfg(cfg)
    assert (env_cfg.scene.num_envs, env_cfg.scene.env_spacing) == (3, 5.0)
    assert (env_cfg.sim.dt, env_cfg.decimation, env_cfg.sim.device) == (0.005, 2, "cpu")
    assert env_cfg.episode_length_s == 10.0
    sensor = env_cfg.scene.contact_forces
    assert (sensor.history_length, sensor.track_air_time, sensor.update_period) == (3, True, 0.005)
    robot = env_cfg.scene.robot
    assert robot.soft_joint_pos_limit_factor == 0.9
    assert robot.init_state.pos == (0.0, 0.0, g1.DEFAULT_ROOT_HEIGHT)
    assert robot.init_state.joint_pos == dict(zip(g1.JOINT_NAMES, g1.DEFAULT_JOINT_POS, strict=True))
    actuated = sorted(j for act in robot.actuators.values() for j in act.joint_names_expr)
    assert actuated == sorted(g1.JOINT_NAMES)


def test_hand_mass_reaches_the_spawned_usd() -> None:
    """config.robot.hand_mass=m spawns a USD whose bodies weigh 33.341 + 2m kg."""
    m = 0.526
    env_cfg = build_env_cfg(EnvConfig.model_validate({"config": {"robot": {"hand_mass": m}}}))
    spawn = env_cfg.scene.robot.spawn
    assert isinstance(spawn, UsdFileCfg)
    stage = Usd.Stage.Open(spawn.usd_path)
    total = sum(
        UsdPhysics.MassAPI(p).GetMassAttr().Get()
        for p in stage.Traverse()
        if p.HasAPI(UsdPhysics.RigidBodyAPI)
    )
    assert total == pytest.approx(33.341142 + 2 * m, abs=1e-5)


def test_observation_noise_stays_on_in_eval_mode_unless_switched_off() -> None:
    """SONIC's eval keeps enable_corruption (§5): eval mode corrupts tokenizer/policy; the field turns it off."""
    for mode in ("train", "eval"):
        groups = build_env_cfg(EnvConfig.model_validate({"mode": mode})).observations
        assert groups["tokenizer"].enable_corruption and groups["policy"].enable_corruption, mode
        assert groups["policy"].joint_vel.noise is not None, mode
        assert not groups["critic"].enable_corruption
    quiet = build_env_cfg(EnvConfig.model_validate({"mode": "eval", "observation_noise": False})).observations
    assert not quiet["tokenizer"].enable_corruption and not quiet["policy"].enable_corruption
    assert quiet["policy"].joint_vel.noise is None


def test_solver_iteration_caps_reach_the_solver_config() -> None:
    """sim.iterations / ls_iterations (mjlab's 10 / 20 here) are what MJWarpSolverCfg gets."""
    from sonic_env.env_cfg import sim_cfg

    config = EnvConfig.model_validate({"sim": {"iterations": 10, "ls_iterations": 20}})
    solver = sim_cfg(config).physics.solver_cfg  # pyright: ignore[reportAttributeAccessIssue, reportOptionalMemberAccess]
    assert (solver.iterations, solver.ls_iterations) == (10, 20)
