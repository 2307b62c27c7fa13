"""ExperimentConfig and its presets: SONIC's exp values (SONIC_REFERENCE §1.1, §1.2, typed in here), the
top-level keys that win over their env copies, YAML round trips and the validation errors."""

from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from sonic_train.config import EXP_PATH_PREFIX, ExperimentConfig, exp_preset, exp_preset_name

RELEASE_PREFIXES = [
    "2025",
    "sonic_mixed_walking_running",
    "sonic_squating_different_height_switching",
    "sonic_running",
    "sonic_walking",
    "sonic_squating_different_height_hold",
    "sonic_walking_other_style",
    "balance",
]


def test_sonic_release_carries_the_exp_values() -> None:
    """§1.1: 4096 envs, 24 steps, grad clip 0.1, clamped std [0.001, 0.5], adaptive max/mean 200, 3 points."""
    cfg = exp_preset(EXP_PATH_PREFIX + "sonic_release")
    ppo, motion = cfg.algo.config, cfg.manager_env.commands.motion
    assert cfg.num_envs == cfg.manager_env.num_envs == 4096
    assert cfg.experiment_name == "manager/universal_token/all_modes/sonic_release_test"
    assert cfg.project_name == "TRL_G1_Track" and cfg.base_dir == "logs_rl"
    assert (ppo.num_steps_per_env, ppo.max_grad_norm, ppo.use_clampped_std) == (24, 0.1, True)
    assert (ppo.std_clamp_min, ppo.std_clamp_max, ppo.init_noise_std) == (0.001, 0.5, 0.05)
    assert motion.motion_lib_cfg.adaptive_sampling.adp_samp_failure_rate_max_over_mean == 200
    assert motion.encoder_sample_probs == {"g1": 1.0, "teleop": 1.0, "smpl": 1.0}
    assert motion.reward_point_body == ["torso_link", "left_wrist_yaw_link", "right_wrist_yaw_link"]
    assert motion.motion_lib_cfg.motion_file == "data/motion_lib_bones_seed/robot_filtered"
    assert motion.motion_lib_cfg.smpl_motion_file == "data/bones_seed_smpl"
    assert motion.motion_lib_cfg.upper_body_augment_prefixes == RELEASE_PREFIXES
    assert cfg.manager_env.rewards.feet_acc.weight == -2.5e-6
    terminations, events = cfg.manager_env.terminations, cfg.manager_env.events
    assert terminations is not None and terminations.name == "tracking/base_adaptive_strict_ori_foot_xyz"
    assert events is not None and events.name == "tracking/level0_4"
    assert cfg.model.g1_dyn_hidden == (2048, 2048, 1024, 1024, 512, 512)
    assert cfg.manager_env.config.terrain_type == "trimesh"  # SONIC_REFERENCE §7


def test_sonic_bones_seed_differs_as_the_reference_says() -> None:
    """§1.2: + soma (encoder, probability, latent loss, file), 4096-wide decoder/critic, smpl file 'dummy'."""
    cfg = exp_preset("sonic_bones_seed")
    lib = cfg.manager_env.commands.motion.motion_lib_cfg
    assert cfg.model.encoders == ("g1", "teleop", "smpl", "soma")
    assert cfg.model.aux.g1_soma_latent == 1.0
    assert cfg.model.g1_dyn_hidden[:2] == (4096, 4096) and cfg.model.critic_hidden[:2] == (4096, 4096)
    assert cfg.manager_env.commands.motion.encoder_sample_probs == dict.fromkeys(cfg.model.encoders, 1.0)
    assert (
        lib.smpl_motion_file == "dummy" and lib.soma_motion_file == "data/motion_lib_bones_seed/soma_filtered"
    )
    assert lib.upper_body_augment_prefixes == ["2025", "walking_2025", "running_2025", "slow_walk_2025"]
    assert cfg.manager_env.contract == "sonic_bones_seed"
    assert cfg.experiment_name == "sonic_bones_seed_test"
    assert cfg.manager_env.config.terrain_type == "trimesh"


def test_small_is_release_layout_with_narrow_layers() -> None:
    """small: the sonic_release contract and encoders, narrow widths, 8 envs (divisible by 4 minibatches)."""
    cfg = exp_preset("small")
    assert cfg.manager_env.contract == "small" and cfg.model.encoders == ("g1", "teleop", "smpl")
    assert max(cfg.model.g1_dyn_hidden) <= 64 and cfg.num_envs == 8
    assert cfg.manager_env.config.terrain_type == "plane"  # tests and the demo on the flat plane


def test_exp_names_accept_bare_and_sonic_paths_only() -> None:
    """+exp= takes <name> or manager/universal_token/all_modes/<name>; anything else lists the forms."""
    assert exp_preset_name("sonic_release") == exp_preset_name(EXP_PATH_PREFIX + "sonic_release")
    with pytest.raises(KeyError, match="valid"):
        exp_preset_name("manager/other/sonic_release2")


def test_top_level_num_envs_seed_device_and_std_win() -> None:
    """num_envs/seed/device land in manager_env; algo.config's std settings land in model."""
    data = exp_preset("small").model_dump()
    data.update(num_envs=12, seed=7, device="cpu")
    data["manager_env"]["num_envs"] = 999
    data["algo"]["config"].update(init_noise_std=0.1, std_clamp_max=0.3)
    cfg = ExperimentConfig.model_validate(data)
    assert (cfg.manager_env.num_envs, cfg.manager_env.seed, cfg.manager_env.device) == (12, 7, "cpu")
    assert (cfg.model.init_std, cfg.model.std_max) == (0.1, 0.3)


def test_yaml_round_trip_is_exact() -> None:
    """config.yaml (model_dump json -> YAML -> validate) gives back an equal config."""
    cfg = exp_preset("sonic_bones_seed")
    assert ExperimentConfig.model_validate(yaml.safe_load(yaml.safe_dump(cfg.model_dump(mode="json")))) == cfg


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"num_envs": 6}, "multiple of algo.config.num_mini_batches"),
        ({"resume": True}, "resume=True needs"),
        ({"unknown_key": 1}, "unknown_key"),
        ({"model": {"encoders": ["g1", "teleop"]}}, "differ from the encoders"),
    ],
)
def test_invalid_configs_name_the_problem(change: dict[str, object], message: str) -> None:
    """Indivisible minibatches, resume without checkpoint, unknown keys, encoders vs contract fail clearly."""
    data = exp_preset("small").model_dump() | change
    with pytest.raises(ValidationError, match=message):
        ExperimentConfig.model_validate(data)


def test_single_gpu_preset_changes_only_what_it_documents() -> None:
    """single_gpu = sonic_release's env and contract + its model preset, SINGLE_GPU_ALGO and tf32."""
    from sonic_model import preset as model_preset
    from sonic_train.config import SINGLE_GPU_ALGO

    single, release = exp_preset("single_gpu"), exp_preset("sonic_release")
    assert single.manager_env.model_dump(exclude={"contract", "config"}) == release.manager_env.model_dump(
        exclude={"contract", "config"}
    )
    single_env, release_env = single.manager_env.config.model_dump(), release.manager_env.config.model_dump()
    assert {k for k in single_env if single_env[k] != release_env[k]} == {"terrain_type"}
    assert (single.manager_env.config.terrain_type, release.manager_env.config.terrain_type) == (
        "plane",
        "trimesh",
    )
    assert single.manager_env.contract == "sonic_release"
    assert single.model == model_preset("single_gpu").model.model_copy(
        update={"init_std": 0.5, "std_max": 2.0}
    )
    algo, base = single.algo.config.model_dump(), release.algo.config.model_dump()
    changed = {k for k in algo if algo[k] != base[k]}
    assert changed == set(SINGLE_GPU_ALGO)
    assert all(algo[k] == v for k, v in SINGLE_GPU_ALGO.items())
    assert single.tf32 and not release.tf32 and not single.bf16
    assert exp_preset("manager/universal_token/all_modes/single_gpu").experiment_name.endswith(
        "single_gpu_test"
    )
    with pytest.raises(ValidationError, match="max_train_time_s"):
        ExperimentConfig.model_validate(release.model_dump() | {"max_train_time_s": 0})
