"""``sonic-eval ARGS``: SONIC's eval command lines, unchanged (FORMATS.md "Seed command lines" 10 and 12).

Also ``python -m sonic_train.eval ARGS``. Two modes:

* **metrics** (line 10): ``+checkpoint=C +headless=True ++eval_callbacks=im_eval ++run_eval_loop=False
  ++num_envs=128 "+manager_env/terminations=tracking/eval"
  "++manager_env.commands.motion.motion_lib_cfg.max_unique_motions=512"`` evaluates every selected motion
  once (:mod:`sonic_train.evaluator`), writes ``metrics_eval.json``, ``motions.csv`` and ``motions.json``
  (:mod:`sonic_train.eval_report`) and prints the rates, the ``eval/all`` and ``eval/success`` metrics and
  the worst motions. ``++use_encoder=<g1|teleop|smpl|soma>`` fixes the encoder that drives the action.
* **export** (line 12): ``+checkpoint=C +headless=True ++num_envs=1 +export_onnx_only=true`` writes
  sonic-export's ONNX files into ``exported/`` beside the checkpoint and exits without building the env.

How the config is found (SONIC_REFERENCE §12): ``+exp=<preset>`` if given; for our checkpoints the
``config.yaml`` in the checkpoint's directory or its parent (the run folder), else the
``training.experiment_config`` stored in the file; a GEAR-SONIC checkpoint is converted in memory and its
preset inferred from the weights (its Hydra ``config.yaml`` is not parsed, so the motion paths come from the
guide's ``motion_file`` override). Then SONIC's ``eval_overrides`` (``headless=False``, ``num_envs=1``,
``use_wandb=False``), then the command line. The env is built in eval mode: sequential clips from frame 0,
no reset noise, no push, no augmentation, observation noise as configured (on, as SONIC).

Exit status: 0 done, 2 bad arguments or checkpoint.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import torch
import yaml
from pydantic import Field, ValidationError, model_validator

from sonic_train.checkpoint_io import CheckpointFormatError
from sonic_train.checkpoints import StartCheckpoint, base_config_from_checkpoint, read_start_checkpoint
from sonic_train.config import EXP_PATH_PREFIX, ExperimentConfig, exp_preset, exp_preset_name
from sonic_train.overrides import Override, OverrideError, apply_overrides, parse_override

__all__ = [
    "EVAL_OVERRIDES",
    "EvalConfig",
    "eval_output_dir",
    "find_config_yaml",
    "main",
    "resolve_eval_config",
]

EVAL_OVERRIDES: dict[str, Any] = {"headless": False, "num_envs": 1, "use_wandb": False}
"""SONIC's ``eval_overrides``, merged over the checkpoint's config before the command line (§12)."""


def _as_dict(value: Any) -> dict[str, Any]:
    if hasattr(value, "model_dump"):
        return value.model_dump()
    return dict(value) if isinstance(value, dict) else {}


class EvalConfig(ExperimentConfig):
    """An experiment config plus the eval keys of SONIC's ``eval_agent_trl.py`` (and a few of ours)."""

    eval_callbacks: Literal["im_eval"] | None = Field(
        default=None, description="'im_eval': the metrics pass over every selected motion (SONIC's callback)."
    )
    run_eval_loop: bool = Field(
        default=False,
        description="SONIC: keep stepping for watching after the pass; needs the viewer (issue 13), so ignored.",
    )
    use_encoder: Literal["g1", "teleop", "smpl", "soma"] | None = Field(
        default=None,
        description="Fix the encoder that drives the action (manager_env.commands.motion.use_encoder); None: "
        "sampled per episode as in training.",
    )
    export_onnx_only: bool = Field(
        default=False, description="Write the ONNX files into exported/ beside the checkpoint and exit."
    )
    export_int8: bool = Field(
        default=False, description="(ours) With export_onnx_only: also write int8 copies."
    )
    eval_output_dir: str | None = Field(
        default=None,
        description="(ours) Where metrics_eval.json and motions.{csv,json} go; None: "
        "<checkpoint dir>/eval/<checkpoint stem>[_<use_encoder>].",
    )
    eval_reference: Literal["targeted", "advanced"] = Field(
        default="targeted",
        description="(ours) Compare the robot with the frame its action aimed at ('targeted') or with the "
        "reference after the step ('advanced', SONIC's reading); see sonic_train.evaluator.",
    )
    record_observations: str | None = Field(
        default=None,
        description="(ours) Write the policy inputs of the first steps to this .npz (contract-named arrays) for "
        "'sonic-export CKPT --verify --recorded FILE'.",
    )
    record_rows: int = Field(default=64, ge=1, description="(ours) Rows written by record_observations.")
    num_worst_motions: int = Field(default=10, ge=0, description="(ours) Worst motions printed.")

    @model_validator(mode="before")
    @classmethod
    def _eval_env(cls, data: Any) -> Any:
        """Eval mode for the env, ``use_encoder`` copied into the motion command, no minibatch check.

        Eval never forms PPO minibatches, so ``algo.config.num_mini_batches`` is set to 1: the training
        check ``num_envs % num_mini_batches == 0`` must not refuse SONIC's ``num_envs=1`` / ``128``.
        """
        if not isinstance(data, dict):
            return data
        data = dict(data)
        env = _as_dict(data.get("manager_env"))
        env["mode"] = "eval"
        if data.get("use_encoder") is not None:
            commands = _as_dict(env.get("commands"))
            motion = _as_dict(commands.get("motion"))
            motion["use_encoder"] = data["use_encoder"]
            commands["motion"] = motion
            env["commands"] = commands
        data["manager_env"] = env
        algo = _as_dict(data.get("algo"))
        algo["config"] = {**_as_dict(algo.get("config")), "num_mini_batches": 1}
        data["algo"] = algo
        return data


def find_config_yaml(checkpoint: Path) -> Path | None:
    """``config.yaml`` in the checkpoint's directory or its parent (SONIC's eval lookup), else None."""
    for folder in (checkpoint.parent, checkpoint.parent.parent):
        candidate = folder / "config.yaml"
        if candidate.is_file():
            return candidate
    return None


def _last(overrides: Sequence[Override], path: str) -> Override | None:
    found = [o for o in overrides if o.path == path]
    return found[-1] if found else None


def _base_config(start: StartCheckpoint, exp: str | None) -> tuple[ExperimentConfig, str]:
    """The config the eval builds on, and where it came from (printed)."""
    if exp is not None:
        return exp_preset(exp), f"+exp={exp}"
    if start.gear_sonic_preset is not None:
        name = start.gear_sonic_preset
        return exp_preset(
            name
        ), f"preset {name} inferred from the GEAR-SONIC weights (its config.yaml is not read)"
    found = find_config_yaml(start.path)
    if found is not None:
        try:
            data = yaml.safe_load(found.read_text())
            return ExperimentConfig.model_validate(data), str(found)
        except (yaml.YAMLError, ValueError) as err:
            raise CheckpointFormatError(f"{found}: not a sonic-train config.yaml: {err}") from err
    stored, _ = base_config_from_checkpoint(start)
    if stored is not None:
        return stored, f"{start.path} (training.experiment_config)"
    return exp_preset(EXP_PATH_PREFIX + "sonic_release"), "the sonic_release preset (no config found)"


def resolve_eval_config(args: Sequence[str]) -> tuple[EvalConfig, StartCheckpoint, str]:
    """Turn command-line arguments into the eval config, the loaded checkpoint and the config's source.

    Raises:
        OverrideError: malformed argument, unknown key, or no ``+checkpoint=``.
        KeyError: unknown ``+exp=`` preset.
        pydantic.ValidationError: a value of the wrong type or range.
        FileNotFoundError, CheckpointFormatError: the checkpoint (or its config.yaml) is missing or unreadable.
    """
    overrides = [parse_override(a) for a in args]
    checkpoint = _last(overrides, "checkpoint")
    if checkpoint is None or checkpoint.op == "remove" or not checkpoint.value:
        raise OverrideError("sonic-eval needs +checkpoint=<path to a .pt file> (ours or GEAR-SONIC's)")
    exp = _last(overrides, "exp")
    if exp is not None and (exp.op == "remove" or not isinstance(exp.value, str)):
        raise OverrideError(f"override {exp.raw!r}: +exp= takes a preset name")
    exp_name = exp_preset_name(exp.value) if exp is not None else None
    start = read_start_checkpoint(str(checkpoint.value), preset=exp_name)
    base, source = _base_config(start, exp.value if exp is not None else None)
    data = base.model_dump() | EVAL_OVERRIDES | {"checkpoint": None, "resume": False}
    data = apply_overrides(data, [o for o in overrides if o.path != "exp"], EvalConfig)
    return EvalConfig.model_validate(data), start, source


def eval_output_dir(config: EvalConfig, checkpoint: Path) -> Path:
    """``eval_output_dir`` or ``<checkpoint dir>/eval/<stem>[_<use_encoder>]``."""
    if config.eval_output_dir is not None:
        return Path(config.eval_output_dir)
    suffix = f"_{config.use_encoder}" if config.use_encoder else ""
    return checkpoint.resolve().parent / "eval" / f"{checkpoint.stem}{suffix}"


def run_export(config: EvalConfig, start: StartCheckpoint) -> int:
    """Line 12: sonic-export's files beside the checkpoint (no env)."""
    from sonic_export import export
    from sonic_export.export import default_out_dir

    result = export(
        start.checkpoint["policy"], default_out_dir(start.path), start.path.stem, int8=config.export_int8
    )
    for path in result.all_paths():
        print(f"sonic-eval: wrote {path}")
    return 0


def _device(name: str) -> str:
    if name != "auto":
        return name
    return "cuda:0" if torch.cuda.is_available() else "cpu"


def run_metrics(config: EvalConfig, start: StartCheckpoint, source: str) -> int:
    """Line 10: build the eval env, run the pass, write and print the results."""
    from sonic_env.config import EnvConfig
    from sonic_env.env import SonicEnv
    from sonic_model import policy_from_checkpoint
    from sonic_train.checkpoints import contract_for
    from sonic_train.eval_report import format_summary, write_report
    from sonic_train.evaluator import Evaluator, ObservationRecorder
    from sonic_train.trainer import seed_everything

    device = _device(config.device)
    seed_everything(config.seed)
    contract = contract_for(config)
    loaded = policy_from_checkpoint(start.checkpoint, str(start.path), expected_contract=contract)
    policy = loaded.policy.to(device)
    env_config = EnvConfig.model_validate(
        config.manager_env.model_dump() | {"device": device, "seed": config.seed}
    )
    terminations = env_config.terminations.name if env_config.terminations is not None else "none"
    kind = f"GEAR-SONIC, converted as {start.gear_sonic_preset}" if start.gear_sonic_preset else "sonic-train"
    print(
        f"sonic-eval: checkpoint {start.path} ({kind}); config from {source}\n"
        f"sonic-eval: {config.num_envs} envs on {device}; terminations {terminations}; observation noise "
        f"{'on' if env_config.observation_noise else 'off'}; encoder "
        f"{config.manager_env.commands.motion.use_encoder or 'sampled per episode'}; reference {config.eval_reference}",
        flush=True,
    )
    env = SonicEnv(env_config)
    recorder = ObservationRecorder(contract, config.record_rows) if config.record_observations else None
    try:
        lib = env.command.lib
        print(
            f"sonic-eval: {lib.num_clips} motions in {len(env.eval_batches())} batch(es) of <= {lib.capacity}"
        )
        result = Evaluator(env, policy, reference=config.eval_reference, recorder=recorder).run()
    finally:
        env.close()
    if env_config.config.render_results:
        videos = sorted(Path(env_config.config.save_rendering_dir).expanduser().glob("*.mp4"))
        print(
            f"sonic-eval: {len(videos)} videos in {env_config.config.save_rendering_dir} (index: videos.jsonl)"
        )
    info = {
        "checkpoint": str(start.path),
        "config_source": source,
        "num_envs": config.num_envs,
        "device": device,
        "terminations": terminations,
        "observation_noise": env_config.observation_noise,
        "use_encoder": config.manager_env.commands.motion.use_encoder,
        "reference": config.eval_reference,
        "motion_file": config.manager_env.commands.motion.motion_lib_cfg.motion_file,
    }
    paths = write_report(result, eval_output_dir(config, start.path), info)
    format_summary(result, config.num_worst_motions, sys.stdout)
    for label, path in paths.items():
        print(f"sonic-eval: {label} -> {path}")
    if recorder is not None and config.record_observations is not None:
        saved = recorder.save(config.record_observations)
        print(
            f"sonic-eval: {recorder.count} observation rows -> {saved} (sonic-export CKPT --verify --recorded {saved})"
        )
    return 0


HELP = """usage: sonic-eval +checkpoint=CKPT [KEY=VALUE | +KEY=VALUE | ++KEY=VALUE | +GROUP/PATH=CHOICE | ~KEY] ...

Evaluate a SONIC checkpoint (ours or GEAR-SONIC's) with the training guide's arguments, unchanged.

metrics (every selected motion once, eval terminations, deterministic actions):
  sonic-eval +checkpoint=CKPT +headless=True ++eval_callbacks=im_eval ++run_eval_loop=False ++num_envs=128 \\
      "+manager_env/terminations=tracking/eval" \\
      "++manager_env.commands.motion.motion_lib_cfg.max_unique_motions=512"
  add ++use_encoder=<g1|teleop|smpl|soma> to fix the driving encoder; for a GEAR-SONIC checkpoint add
  ++manager_env.commands.motion.motion_lib_cfg.motion_file=P (and smpl_motion_file=P).
export (ONNX files into exported/ beside the checkpoint, no env):
  sonic-eval +checkpoint=CKPT +headless=True ++num_envs=1 +export_onnx_only=true

eval keys: eval_callbacks, run_eval_loop, use_encoder, export_onnx_only, export_int8, eval_output_dir,
eval_reference (targeted|advanced), record_observations (.npz for sonic-export --verify --recorded),
record_rows, num_worst_motions; every sonic-train key (manager_env.*, num_envs, device, seed, ...) too.
Outputs: metrics_eval.json, motions.csv, motions.json in <checkpoint dir>/eval/<stem>[_<encoder>]/.
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``sonic-eval``; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(HELP)
        return 0
    try:
        config, start, source = resolve_eval_config(args)
    except (OverrideError, KeyError, ValidationError, FileNotFoundError, CheckpointFormatError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"sonic-eval: {message}", file=sys.stderr)
        return 2
    if config.export_onnx_only:
        from sonic_model import CheckpointError

        try:
            return run_export(config, start)
        except CheckpointError as err:
            print(f"sonic-eval: {err}", file=sys.stderr)
            return 2
    if config.eval_callbacks != "im_eval":
        print(
            "sonic-eval: nothing to do: pass ++eval_callbacks=im_eval (metrics) or +export_onnx_only=true; SONIC's "
            "interactive eval loop needs the viewer (issue 13)",
            file=sys.stderr,
        )
        return 2
    from sonic_train.train import viewer_line, with_viewer

    config = with_viewer(config, is_main=True)
    if config.manager_env.viewer is not None:
        print(viewer_line(config).replace("sonic-train", "sonic-eval"), flush=True)
    if config.run_eval_loop:
        print("sonic-eval: run_eval_loop=True needs the viewer (issue 13); running one pass", flush=True)
    from sonic_model import CheckpointError, ContractMismatchError

    try:
        return run_metrics(config, start, source)
    except (CheckpointError, ContractMismatchError, ValueError) as err:
        print(f"sonic-eval: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
