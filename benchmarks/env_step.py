"""Env-steps per second of the SONIC G1 env with zero actions, per terrain, full vs minimal env (JSON lines).

* ``full``: the SONIC env (motion command on the generated sample clips, every observation term, rewards,
  terminations, events, contact sensor).
* ``minimal``: the same scene physics (robot, ground, same solver settings) with one joint-position
  observation, the action term and a reset of the robot to its default pose on its env origin; no motion
  command, rewards, terminations, domain randomisation or contact sensor.
* ``minimal_varied``: ``minimal`` with per-world joint offsets at the reset (±0.1 rad, ±0.5 rad/s). In
  ``minimal`` every world is an exact copy of the others, and MuJoCo-Warp's solver, which iterates until
  the slowest of all worlds has converged, stops after about one iteration: a best case no training run
  has. With different worlds (as in the full env) it iterates longer; ``peak_usage`` reports the solver
  iterations of the busiest world (``solver_iterations_max_world``).
* ``minimal_sensor``: ``minimal_varied`` with the full env's contact sensor (every body, history, air time,
  updated every physics step): what the sensor adds to the physics.

Terrains (``EnvConfig.config.terrain_type``), each with its default collision (``--collision`` picks another):
``plane`` (flat USD plane, MuJoCo contacts), ``trimesh`` (SONIC's 20×20-tile terrain through Newton's collision
pipeline), ``hfield`` (the same surface as a height field, sampled closed-form contacts:
:mod:`sonic_env.hfield_contacts`). A policy step is ``decimation`` (4) physics steps of 5 ms; env-steps/s =
num_envs x policy steps / second. Warm-up steps (kernel compilation, CUDA-graph capture) are not timed.
After the timed loop, ``--probe`` more steps sample the solver's contact and constraint counts
(:func:`sonic_env.terrain.contact_usage`): their peaks are in the line, with the capacities and whether
any world ever overflowed.

Each (terrain, variant) runs in its own child process, which builds and closes one env per size in turn
(Isaac Lab holds one simulation at a time per process; the compiled kernels are reused between sizes).
``--process-per-size`` gives every size its own process instead.

The full env with ``--cuda-graphs`` resets its done envs inside the graphs, with no host sync in the step
(:mod:`sonic_env.masked_reset`; ``"reset": "masked"`` in its line); ``--host-reset`` gives it Isaac Lab's
reset of the listed envs after a host sync instead (``"reset": "isaac_lab"``), to compare; and
``--isaaclab-replay-kinematics`` leaves Isaac Lab's rerun of the forward kinematics at every body-state read
after a captured write (``SonicRLEnv.settle_kinematics = False``; ``"settle_kinematics"`` in the line), and
``--serial-reset-draws`` makes the motion command's reset draws after the physics instead of beside it
(``SonicRLEnv.overlap_reset_draws = False``).
``--compile-terms`` compiles the full env's terms and managers with ``torch.compile`` (``EnvConfig.compile_terms``,
:mod:`sonic_env.compiled_terms`; ``"compiled_terms"`` in the line counts what was compiled; the compilation runs
in the warm-up steps, ``"warmup_s"``).
On CUDA, ``gpu_ms_per_step`` splits the GPU's time per step (CUDA events over another ``--steps`` steps)
into ``physics`` (the decimation loop: action writes, simulation, scene reads) and ``rest`` (terminations,
rewards, resets, command, events, observations).

Usage::

    .venv/bin/python benchmarks/env_step.py                  # cpu, 1 / 8 / 64 envs, plane, full + minimal
    .venv/bin/python benchmarks/env_step.py --device cuda:0 --num-envs 1024 4096 8192 \\
        --terrain plane trimesh hfield --variant full minimal
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from typing import Any

TERRAINS = ("plane", "trimesh", "hfield")
VARIANTS = ("full", "minimal", "minimal_varied", "minimal_sensor")


def sample_data(data: str | None, prefix: str) -> str:
    """``data``, or the sample dataset generated into a new temporary folder (``sonic-data make-samples``)."""
    if data is not None:
        return data
    from sonic_data.samples import build_sample_dataset

    return str(build_sample_dataset(os.path.join(tempfile.mkdtemp(prefix=prefix), "sample_data")).root)


def env_config(
    terrain: str,
    num_envs: int,
    device: str,
    data_dir: str,
    cuda_graphs: bool = False,
    sim: dict[str, Any] | None = None,
    masked_reset: bool = True,
    compile_terms: bool = False,
) -> Any:
    """The SONIC env on the sample clips (``data_dir``) with one terrain, seed 0 (shared by the env benchmarks).

    ``sim``: ``EnvConfig.sim`` fields to set (e.g. ``iterations``, ``ls_iterations``, ``contact_gap``);
    ``masked_reset``: ``EnvConfig.masked_reset`` (with ``cuda_graphs``); ``compile_terms``:
    ``EnvConfig.compile_terms``.
    """
    from sonic_env.config import EnvConfig

    motion_lib = {
        "motion_file": f"{data_dir}/robot_filtered",
        "smpl_motion_file": f"{data_dir}/smpl_filtered",
        "multi_thread": False,
    }
    return EnvConfig.model_validate(
        {
            "num_envs": num_envs,
            "device": device,
            "seed": 0,
            "cuda_graphs": cuda_graphs,
            "masked_reset": masked_reset,
            "compile_terms": compile_terms,
            "config": {"terrain_type": terrain},
            "sim": sim or {},
            "commands": {"motion": {"motion_lib_cfg": motion_lib}},
        }
    )


def _minimal_env(config: Any, varied: bool = False, sensor: bool = False) -> Any:
    """Robot + ground with the full env's physics, one observation, the action, a reset to the default pose
    (``varied``: plus per-world joint offsets; ``sensor``: with the full env's contact sensor)."""
    from isaaclab.envs import ManagerBasedRLEnv, ManagerBasedRLEnvCfg
    from isaaclab.envs import mdp as il_mdp
    from isaaclab.managers import EventTermCfg, ObservationGroupCfg, ObservationTermCfg
    from isaaclab.utils import configclass

    from sonic_env.env_cfg import actions_cfg, contract_of, scene_cfg, sim_cfg

    @configclass
    class PolicyCfg(ObservationGroupCfg):
        joint_pos = ObservationTermCfg(func=il_mdp.joint_pos)

    @configclass
    class ObservationsCfg:
        policy: PolicyCfg = PolicyCfg()

    @configclass
    class EventsCfg:
        reset = EventTermCfg(func=il_mdp.reset_scene_to_default, mode="reset")
        vary = (
            EventTermCfg(
                func=il_mdp.reset_joints_by_offset,
                mode="reset",
                params={"position_range": (-0.1, 0.1), "velocity_range": (-0.5, 0.5)},
            )
            if varied
            else None
        )

    @configclass
    class MinimalCfg(ManagerBasedRLEnvCfg):
        observations: ObservationsCfg = ObservationsCfg()
        events: EventsCfg = EventsCfg()
        rewards = None
        terminations = None
        commands = None

    scene = scene_cfg(config)
    if not sensor:
        scene.contact_forces = None  # pyright: ignore[reportAttributeAccessIssue]
    env_cfg = MinimalCfg(
        scene=scene,
        actions=actions_cfg(config, contract_of(config)),
        sim=sim_cfg(config),
        decimation=config.sim.decimation,
        episode_length_s=config.episode_length_s,
        seed=config.seed,
    )
    return ManagerBasedRLEnv(env_cfg)


LAUNCH_SPEED = 10.0
"""Root speed (m/s) above which a probed world counts as launched: a falling G1 stays far below it."""


def _measure(
    terrain: str,
    variant: str,
    num_envs: int,
    device: str,
    steps: int,
    warmup: int,
    probe: int,
    data_dir: str,
    random_actions: bool = False,
    cuda_graphs: bool = False,
    sim: dict[str, Any] | None = None,
    kernel_profile: int = 0,
    masked_reset: bool = True,
    compile_terms: bool = False,
) -> dict[str, object]:
    """Build one env, step it, probe its contacts and robot states, close it; return the figures.

    Actions are zero, or with ``random_actions`` uniform in [-1, 1] per joint and step (flailing robots, the
    worst case for contacts and solver stability), drawn from a generator seeded with 0.
    """
    import torch

    from sonic_env.env_cfg import make_env
    from sonic_env.terrain import contact_usage, peak_usage

    config = env_config(terrain, num_envs, device, data_dir, cuda_graphs, sim, masked_reset, compile_terms)
    start = time.perf_counter()
    env = (
        make_env(config)
        if variant == "full"
        else _minimal_env(
            config, varied=variant in ("minimal_varied", "minimal_sensor"), sensor=variant == "minimal_sensor"
        )
    )
    build_s = time.perf_counter() - start
    env.reset()
    origins_z = env.scene.env_origins[:, 2]
    shape = (num_envs, env.action_manager.total_action_dim)
    generator = torch.Generator(device=device).manual_seed(0)
    zeros = torch.zeros(shape, device=device)

    def actions() -> torch.Tensor:
        if not random_actions:
            return zeros
        return torch.rand(shape, device=device, generator=generator) * 2.0 - 1.0

    cuda = device.startswith("cuda")
    start = time.perf_counter()
    for _ in range(warmup):
        env.step(actions())
    if cuda:
        torch.cuda.synchronize()
    warmup_s = time.perf_counter() - start
    reward_sum = torch.zeros((), device=device)
    done_sum = torch.zeros((), device=device)
    start = time.perf_counter()
    for _ in range(steps):
        _, reward, terminated, truncated, _ = env.step(actions())
        reward_sum += reward.sum()  # on the device: no host sync in the timed loop
        done_sum += (terminated | truncated).sum()
    if cuda:
        torch.cuda.synchronize()
    elapsed = time.perf_counter() - start
    samples = []
    robot = env.scene["robot"]
    nonfinite = torch.zeros(num_envs, dtype=torch.bool, device=device)
    launched = torch.zeros(num_envs, dtype=torch.bool, device=device)
    max_speed = torch.zeros((), device=device)
    for _ in range(probe):
        env.step(actions())
        samples.append(contact_usage())
        joint_pos = robot.data.joint_pos.torch  # pyright: ignore[reportAttributeAccessIssue]
        root_vel = robot.data.root_lin_vel_w.torch  # pyright: ignore[reportAttributeAccessIssue]
        nonfinite |= ~torch.isfinite(joint_pos).all(dim=-1) | ~torch.isfinite(root_vel).all(dim=-1)
        speed = torch.nan_to_num(root_vel.norm(dim=-1), nan=0.0, posinf=0.0)
        launched |= speed > LAUNCH_SPEED
        max_speed = torch.maximum(max_speed, speed.max())
    kernels = _kernel_profile(env, actions, kernel_profile) if kernel_profile and cuda else None
    split = _gpu_split(env, actions, steps) if cuda else None
    machine = torch.cuda.get_device_name(device) if cuda else platform.processor() or "cpu"
    reset_kind = "masked" if getattr(env, "masked_reset", None) is not None else "isaac_lab"
    compiled = len(getattr(env, "compiled_terms", ()))
    env.close()
    return {
        "benchmark": "env_step",
        "terrain": terrain,
        "variant": variant,
        "num_envs": num_envs,
        "device": device,
        "policy_steps": steps,
        "env_steps_per_s": round(num_envs * steps / elapsed, 1),
        "ms_per_policy_step": round(1000.0 * elapsed / steps, 2),
        "build_s": round(build_s, 1),
        "warmup_s": round(warmup_s, 1),
        "env_origin_z_range_m": [round(float(origins_z.min()), 4), round(float(origins_z.max()), 4)],
        "actions": "random" if random_actions else "zero",
        "cuda_graphs": cuda_graphs and variant == "full",
        "reset": reset_kind,
        "compiled_terms": compiled,
        **_graph_options(),
        "gpu_ms_per_step": split,
        "solver_iterations": [config.sim.iterations, config.sim.ls_iterations],
        "contact_gap": config.sim.contact_gap,
        "collision": config.sim.collision,
        "mean_reward": round(float(reward_sum) / (num_envs * steps), 5),
        "done_rate": round(float(done_sum) / (num_envs * steps), 5),
        "peak_usage": peak_usage(samples),
        "probe_steps": probe,
        "nonfinite_worlds": int(nonfinite.sum()),
        f"worlds_over_{LAUNCH_SPEED:g}_mps": int(launched.sum()),
        "max_root_speed_mps": round(float(max_speed), 2),
        "machine": f"{machine}, {os.cpu_count()} CPU cores, torch threads {torch.get_num_threads()}",
        **({"kernels_ms_per_policy_step": kernels} if kernels is not None else {}),
    }


def _graph_options() -> dict[str, bool]:
    from sonic_env.rl_env import SonicRLEnv

    return {
        "settle_kinematics": SonicRLEnv.settle_kinematics,
        "overlap_reset_draws": SonicRLEnv.overlap_reset_draws,
    }


def _gpu_split(env: Any, actions: Any, steps: int) -> dict[str, float]:
    """GPU time per policy step of the physics and of the rest, from CUDA events (``steps`` more steps).

    Events on torch's stream: at the step's start, after its last ``scene.update`` (the end of the physics
    loop: action writes, the simulation, the scene's reads) and at its end (terminations, rewards, resets,
    command, events, observations). No host sync inside the steps; one at the end.
    """
    import torch

    marks: list[tuple[Any, Any, Any]] = []
    update = env.scene.update
    last: list[Any] = [None]

    def marked_update(*args: Any, **kwargs: Any) -> Any:
        out = update(*args, **kwargs)
        last[0] = torch.cuda.Event(enable_timing=True)
        last[0].record()
        return out

    env.scene.update = marked_update
    try:
        for _ in range(steps):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            env.step(actions())
            end.record()
            marks.append((start, last[0], end))
        torch.cuda.synchronize()
    finally:
        env.scene.update = update
    physics = sum(a.elapsed_time(b) for a, b, _ in marks) / steps
    rest = sum(b.elapsed_time(c) for _, b, c in marks) / steps
    return {
        "physics": round(physics, 3),
        "rest": round(rest, 3),
        "rest_over_physics": round(rest / physics, 3),
    }


def _kernel_profile(env: Any, actions: Any, steps: int, top: int = 25) -> dict[str, float]:
    """GPU kernel time (ms per policy step) over ``steps`` more steps, by kernel name: the ``top`` kernels and
    ``total`` (CUPTI records kernels replayed from CUDA graphs too)."""
    import torch
    from torch.profiler import ProfilerActivity, profile

    totals: dict[str, float] = {}
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(steps):
            env.step(actions())
        torch.cuda.synchronize()
    results = prof.profiler.kineto_results if prof.profiler is not None else None
    for event in results.events() if results is not None else []:  # raw records: kernels of graphs included
        if event.device_type().name == "CUDA":
            name = event.name()[:90]
            totals[name] = totals.get(name, 0.0) + event.duration_ns() / 1e6 / steps
    ranked = sorted(totals.items(), key=lambda kv: -kv[1])
    result = {name: round(ms, 3) for name, ms in ranked[:top]}
    result["total"] = round(sum(totals.values()), 3)
    return result


def _sim_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The ``EnvConfig.sim`` fields set on the command line."""
    sim: dict[str, Any] = {}
    if args.solver_iterations:
        sim["iterations"], sim["ls_iterations"] = args.solver_iterations
    if args.contact_gap is not None:
        sim["contact_gap"] = args.contact_gap
    if args.collision is not None:
        sim["collision"] = args.collision
    return sim


def _child(args: argparse.Namespace) -> None:
    """Measure every size of one (terrain, variant) in this process; one RESULT line each."""
    from sonic_env.rl_env import SonicRLEnv

    SonicRLEnv.settle_kinematics = not args.isaaclab_replay_kinematics
    SonicRLEnv.overlap_reset_draws = not args.serial_reset_draws
    for n in args.num_envs:
        try:
            result = _measure(
                args.terrain[0],
                args.variant[0],
                n,
                args.device,
                args.steps,
                args.warmup,
                args.probe,
                args.data,
                args.actions == "random",
                args.cuda_graphs,
                _sim_overrides(args),
                args.kernel_profile,
                not args.host_reset,
                args.compile_terms,
            )
        except Exception as err:  # report and go on with the next size
            result = {"benchmark": "env_step", "terrain": args.terrain[0], "variant": args.variant[0],
                      "num_envs": n, "error": f"{type(err).__name__}: {err}"}  # fmt: skip
        print("RESULT " + json.dumps(result), flush=True)


def main() -> None:
    """Run each (terrain, variant) -- or each size too -- in a child process and print its JSON lines."""
    parser = argparse.ArgumentParser(
        description="Env-steps per second of the SONIC G1 env with zero actions."
    )
    parser.add_argument("--num-envs", type=int, nargs="+", default=[1, 8, 64])
    parser.add_argument("--terrain", nargs="+", choices=TERRAINS, default=["plane"])
    parser.add_argument("--variant", nargs="+", choices=VARIANTS, default=list(VARIANTS[:3]))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=50, help="timed policy steps")
    parser.add_argument("--warmup", type=int, default=10, help="untimed policy steps first")
    parser.add_argument(
        "--probe", type=int, default=10, help="untimed policy steps sampling contact counts after"
    )
    parser.add_argument(
        "--actions", choices=("zero", "random"), default="zero", help="random: uniform in [-1, 1], seed 0"
    )
    parser.add_argument(
        "--cuda-graphs", action="store_true", help="full env: EnvConfig.cuda_graphs (replayed manager math)"
    )
    parser.add_argument(
        "--solver-iterations",
        type=int,
        nargs=2,
        metavar=("ITERATIONS", "LS_ITERATIONS"),
        help="EnvConfig.sim.iterations / ls_iterations (default: the config's, 100 / 50)",
    )
    parser.add_argument(
        "--contact-gap",
        type=float,
        help="EnvConfig.sim.contact_gap (m; default: the terrain's, plane 0.01, trimesh and hfield 0)",
    )
    parser.add_argument(
        "--collision",
        choices=("auto", "newton", "mujoco", "sampled"),
        help="EnvConfig.sim.collision (default: auto)",
    )
    parser.add_argument(
        "--kernel-profile",
        type=int,
        default=0,
        metavar="STEPS",
        help="GPU only: after the probe, profile STEPS more steps and report the top kernels' time per step",
    )
    parser.add_argument(
        "--host-reset",
        action="store_true",
        help="full env with --cuda-graphs: Isaac Lab's host-synced reset (EnvConfig.masked_reset=False)",
    )
    parser.add_argument(
        "--isaaclab-replay-kinematics",
        action="store_true",
        help="with --cuda-graphs: SonicRLEnv.settle_kinematics=False (Isaac Lab reruns the kinematics at every read)",
    )
    parser.add_argument(
        "--serial-reset-draws",
        action="store_true",
        help="with --cuda-graphs: SonicRLEnv.overlap_reset_draws=False (the reset draws after the physics)",
    )
    parser.add_argument(
        "--compile-terms",
        action="store_true",
        help="full env: EnvConfig.compile_terms (the terms through torch.compile; compiled in the warm-up)",
    )
    parser.add_argument("--process-per-size", action="store_true", help="one child process per size too")
    parser.add_argument(
        "--data", default=None, help="sample dataset folder (default: generated once into a temp folder)"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    args.data = sample_data(args.data, "sonic_bench_env_")
    groups = [[n] for n in args.num_envs] if args.process_per_size else [args.num_envs]
    failed = False
    for terrain in args.terrain:
        for variant in args.variant:
            for sizes in groups:
                cmd = [sys.executable, __file__, "--child", "--terrain", terrain, "--variant", variant]
                cmd += ["--num-envs", *map(str, sizes), "--device", args.device, "--data", args.data]
                cmd += ["--steps", str(args.steps), "--warmup", str(args.warmup), "--probe", str(args.probe)]
                cmd += ["--actions", args.actions] + (["--cuda-graphs"] if args.cuda_graphs else [])
                if args.solver_iterations:
                    cmd += ["--solver-iterations", *map(str, args.solver_iterations)]
                if args.contact_gap is not None:
                    cmd += ["--contact-gap", str(args.contact_gap)]
                if args.collision is not None:
                    cmd += ["--collision", args.collision]
                cmd += ["--kernel-profile", str(args.kernel_profile)]
                cmd += ["--host-reset"] if args.host_reset else []
                cmd += ["--isaaclab-replay-kinematics"] if args.isaaclab_replay_kinematics else []
                cmd += ["--serial-reset-draws"] if args.serial_reset_draws else []
                cmd += ["--compile-terms"] if args.compile_terms else []
                proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
                out = (proc.stdout or "").splitlines()
                lines = [ln.removeprefix("RESULT ") for ln in out if ln.startswith("RESULT ")]
                for line in lines:
                    failed |= '"error"' in line
                    print(line, flush=True)
                if proc.returncode != 0 or len(lines) < len(sizes):
                    failed = True
                    error = {"benchmark": "env_step", "terrain": terrain, "variant": variant, "num_envs": sizes,
                             "returncode": proc.returncode, "error": (proc.stderr or "")[-2000:]}  # fmt: skip
                    print(json.dumps(error), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
