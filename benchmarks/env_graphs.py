"""The env step with CUDA graphs against the eager step: exactness, training-mode sanity, speed (GPU only).

``EnvConfig.cuda_graphs`` replays the step's manager math as CUDA graphs (``sonic_env.step_graphs``).
This script checks it on one GPU, in one process (each env is closed before the next is built), and
prints one JSON line per check:

* ``exact``: eval mode, observation noise off, the g1 encoder forced (every draw deterministic), the
  same seeded small random actions for all: the maximum absolute difference of every observation
  group, the rewards and the dones over ``--steps`` steps, the first step that differs and how many
  envs reset (the reset path must be exercised), for eager against graphs. The first env built in a
  process does not reproduce later ones (measured on an H200: it differs from the second from step 0
  on), so three envs are built: a first one (compared too, for the record), then eager, then graphs.
* ``train``: train mode (reset noise, push, adaptive sampling, random encoders): mean reward and done
  rate of both (different random streams, so close, not equal); the distinct start frames drawn in
  graphed steps (draws must not repeat from replay to replay); captures before and after a new
  resident clip set (the graphs must be recaptured), finite observations after it;
* ``recapture``: only that last part, on a graphed env.
* ``speed``: env-steps/s of both, train mode, zero actions, ``--speed-envs`` envs.

Usage (on the GPU machine)::

    python benchmarks/env_graphs.py --device cuda:0
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from env_step import env_config, sample_data  # noqa: E402


def _config(num_envs: int, device: str, data: str, *, graphs: bool, exact: bool) -> Any:
    from sonic_env.config import EnvConfig

    raw = env_config("plane", num_envs, device, data).model_dump()
    raw["cuda_graphs"] = graphs
    if exact:
        raw |= {"mode": "eval", "observation_noise": False}
        raw["commands"]["motion"]["use_encoder"] = "g1"
    return EnvConfig.model_validate(raw)


def _flat(obs: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for group, value in obs.items():
        if isinstance(value, dict):
            out |= {f"{group}/{k}": v.clone() for k, v in value.items()}
        else:
            out[group] = value.clone()
    return out


@contextmanager
def _env(config: Any) -> Iterator[Any]:
    """One env, closed even when a check fails (a process can build the next one only after a close)."""
    from sonic_env.env_cfg import make_env

    env = make_env(config)
    try:
        yield env
    finally:
        env.close()


def _rollout(config: Any, steps: int, scale: float) -> dict[str, Any]:
    with _env(config) as env:
        return _steps(env, config, steps, scale)


def _steps(env: Any, config: Any, steps: int, scale: float) -> dict[str, Any]:
    import torch

    env.reset()
    gen = torch.Generator().manual_seed(0)
    shape = (config.num_envs, env.action_manager.total_action_dim)
    record: dict[str, list[Any]] = {}
    resets = 0
    for _ in range(steps):
        actions = ((torch.rand(shape, generator=gen) * 2 - 1) * scale).to(config.device)
        obs, rew, terminated, truncated, _ = env.step(actions)
        done = terminated | truncated
        resets += int(done.sum())
        for key, value in (_flat(obs) | {"reward": rew.clone(), "done": done.clone()}).items():
            record.setdefault(key, []).append(value)
    graphs = env.step_graphs
    return {"record": record, "resets": resets, "captures": None if graphs is None else graphs.captures}


def _compare(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Max |difference| per quantity over the run, and the first step where anything differed."""
    diffs: dict[str, float] = {}
    first = None
    for key, values in a["record"].items():
        per_step = [
            float((x.float() - y.float()).abs().max()) for x, y in zip(values, b["record"][key], strict=True)
        ]
        diffs[key] = max(per_step)
        differs = [i for i, d in enumerate(per_step) if d > 0.0]
        if differs and (first is None or differs[0] < first):
            first = differs[0]
    return {"max_abs_diff": diffs, "first_differing_step": first, "resets": [a["resets"], b["resets"]]}


def check_exact(args: argparse.Namespace) -> dict[str, Any]:
    first = _rollout(_config(args.envs, args.device, args.data, graphs=False, exact=True), args.steps, 0.3)
    eager = _rollout(_config(args.envs, args.device, args.data, graphs=False, exact=True), args.steps, 0.3)
    graphed = _rollout(_config(args.envs, args.device, args.data, graphs=True, exact=True), args.steps, 0.3)
    return {
        "check": "exact",
        "num_envs": args.envs,
        "steps": args.steps,
        "captures": graphed["captures"],
        "first_env_of_process_vs_eager": _compare(first, eager),
        "eager_vs_graphs": _compare(eager, graphed),
        "equal": _compare(eager, graphed)["first_differing_step"] is None,
    }


def check_train(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"check": "train", "num_envs": args.envs, "steps": args.steps}
    for graphs in (False, True):
        config = _config(args.envs, args.device, args.data, graphs=graphs, exact=False)
        with _env(config) as env:
            out["graphs" if graphs else "eager"] = _train_run(env, config, args.steps)
    return out


def _train_run(env: Any, config: Any, steps: int) -> dict[str, Any]:
    import torch

    env.reset()
    cmd = env.motion_command
    gen = torch.Generator().manual_seed(0)
    shape = (config.num_envs, env.action_manager.total_action_dim)
    rewards, dones, starts = [], [], set()
    for _ in range(steps):
        actions = ((torch.rand(shape, generator=gen) * 2 - 1) * 0.3).to(config.device)
        _, rew, terminated, truncated, _ = env.step(actions)
        done = terminated | truncated
        rewards.append(float(rew.mean()))
        dones.append(float(done.float().mean()))
        pairs = zip(cmd.slots[done].tolist(), cmd.frames[done].tolist(), strict=True)
        starts.update((int(s), int(f)) for s, f in pairs)
    result: dict[str, Any] = {
        "mean_reward": round(sum(rewards) / len(rewards), 5),
        "done_rate": round(sum(dones) / len(dones), 5),
        "distinct_starts": len(starts),
    }
    graphs = env.step_graphs
    if graphs is not None:
        result |= _recapture(env, cmd, shape)
    return result


def _recapture(env: Any, cmd: Any, shape: tuple[int, int]) -> dict[str, Any]:
    """A new resident clip set (new tables): the graphs must be dropped and captured again, then stay sane."""
    import torch

    graphs = env.step_graphs
    before = graphs.captures
    cmd.lib.set_resident(cmd.lib.resident_clip_ids.flip(0))
    env.reset()
    finite = True
    for _ in range(6):
        obs, rew, *_ = env.step(torch.zeros(shape, device=env.device))
        finite &= bool(torch.isfinite(obs["policy"]).all()) and bool(torch.isfinite(rew).all())
    in_range = bool((cmd.frames < cmd.clip_lengths).all()) and bool((cmd.slots < cmd.lib.num_resident).all())
    return {
        "captures_before_new_resident": before,
        "captures_after": graphs.captures,
        "finite_after": finite,
        "frames_in_range_after": in_range,
    }


def check_recapture(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    config = _config(args.envs, args.device, args.data, graphs=True, exact=False)
    with _env(config) as env:
        env.reset()
        shape = (config.num_envs, env.action_manager.total_action_dim)
        for _ in range(5):
            env.step(torch.zeros(shape, device=config.device))
        return {"check": "recapture", "num_envs": args.envs} | _recapture(env, env.motion_command, shape)


def check_speed(args: argparse.Namespace) -> dict[str, Any]:
    import torch

    out: dict[str, Any] = {"check": "speed", "num_envs": args.speed_envs, "mode": "train", "actions": "zero"}
    for graphs in (False, True):
        config = _config(args.speed_envs, args.device, args.data, graphs=graphs, exact=False)
        with _env(config) as env:
            env.reset()
            zeros = torch.zeros((config.num_envs, env.action_manager.total_action_dim), device=config.device)
            for _ in range(10):
                env.step(zeros)
            torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(50):
                env.step(zeros)
            torch.cuda.synchronize()
            elapsed = time.perf_counter() - start
        out["graphs" if graphs else "eager"] = {
            "env_steps_per_s": round(config.num_envs * 50 / elapsed, 1),
            "ms_per_step": round(1000 * elapsed / 50, 2),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description="The env step with CUDA graphs against the eager step (GPU only)."
    )
    parser.add_argument("--device", default="cuda:0")
    parser.add_argument("--envs", type=int, default=256, help="envs of the exact and train checks")
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--speed-envs", type=int, default=4096)
    parser.add_argument("--checks", nargs="+", default=["exact", "train", "speed"])
    parser.add_argument("--data", default=None, help="sample dataset folder (default: generated)")
    args = parser.parse_args()
    if not args.device.startswith("cuda"):
        parser.error("CUDA graphs need a CUDA device")
    args.data = sample_data(args.data, "sonic_bench_graphs_")
    checks = {"exact": check_exact, "train": check_train, "speed": check_speed, "recapture": check_recapture}
    failed = False
    for name in args.checks:
        try:
            result = checks[name](args)
        except Exception as exc:  # noqa: BLE001 (report every check)
            import traceback

            traceback.print_exc()
            result = {"check": name, "error": f"{type(exc).__name__}: {exc}"}
            failed = True
        print("RESULT " + json.dumps(result), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
