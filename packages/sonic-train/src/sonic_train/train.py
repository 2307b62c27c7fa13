"""``sonic-train ARGS``: SONIC's training command lines, unchanged (FORMATS.md "Seed command lines" 4–9, 13).

Also ``python -m sonic_train.train ARGS`` and, data-parallel,
``accelerate launch --num_processes=N -m sonic_train.train ARGS`` (or ``--no_python sonic-train ARGS``).

How an argument list becomes an :class:`~sonic_train.config.ExperimentConfig` (:func:`resolve_config`):

1. ``+exp=<preset>`` picks the base (``sonic_release``, ``sonic_bones_seed``, ``small``, bare or as
   ``manager/universal_token/all_modes/<name>``). Without it, ``+checkpoint=<file>`` supplies the base: our
   trainer's checkpoint its stored config, a GEAR-SONIC file the preset inferred from its shapes; otherwise
   ``sonic_release``.
2. Every other argument is an override in the guide's syntax (:mod:`sonic_train.overrides`), applied in
   order and validated; an unknown key fails with the closest valid keys.

Then: ``headless=False`` opens the live viewer on rank 0 (:mod:`sonic_env.viewer`) and prints where;
``++replay=True`` plays the clips once (:mod:`sonic_train.replay`) and exits; otherwise the
:class:`~sonic_train.trainer.Trainer` trains and the path of ``last.pt`` is printed. Exit status: 0 done,
2 bad arguments or checkpoint.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from sonic_train.checkpoint_io import CheckpointFormatError
from sonic_train.checkpoints import StartCheckpoint, base_config_from_checkpoint, read_start_checkpoint
from sonic_train.config import EXP_PATH_PREFIX, EXP_PRESETS, TERRAIN_NOTE, ExperimentConfig, exp_preset
from sonic_train.overrides import Override, OverrideError, apply_overrides, parse_override

__all__ = ["VIEWER_MESSAGE", "help_text", "main", "resolve_config", "viewer_line", "with_viewer"]

VIEWER_MESSAGE = "sonic-train: live viewer"
"""Start of the line printed when ``headless=False`` opens the viewer (followed by where it is)."""


def with_viewer[C: ExperimentConfig](config: C, is_main: bool) -> C:
    """``config`` as this process runs it: the viewer (``manager_env.viewer``, set by ``headless=False``) on rank 0 only."""
    if is_main or config.manager_env.viewer is None:
        return config
    env = config.manager_env.model_copy(update={"viewer": None})
    return config.model_copy(update={"manager_env": env})


def viewer_line(config: ExperimentConfig) -> str:
    """What the user is told when the viewer opens: the Newton window, or Viser's URL."""
    from sonic_env.viewer import resolve_viewer_kind, viewer_url

    viewer = config.manager_env.viewer
    assert viewer is not None
    if resolve_viewer_kind(viewer) == "newton":
        return f"{VIEWER_MESSAGE}: Newton GL window"
    return f"{VIEWER_MESSAGE}: open {viewer_url(viewer)} (Viser; bound to {viewer.host}:{viewer.port})"


DEFAULT_EXP = EXP_PATH_PREFIX + "sonic_release"

MAIN_KEYS = (
    "num_envs",
    "headless",
    "seed",
    "device",
    "use_wandb",
    "wandb.wandb_project",
    "wandb.wandb_entity",
    "checkpoint",
    "resume",
    "replay",
    "experiment_name",
    "save_interval",
    "last_interval",
    "check_rank_sync",
    "algo.config.num_learning_iterations",
    "algo.config.num_steps_per_env",
    "algo.config.actor_learning_rate",
    "manager_env.commands.motion.motion_lib_cfg.motion_file",
    "manager_env.commands.motion.motion_lib_cfg.smpl_motion_file",
    "manager_env.commands.motion.motion_lib_cfg.soma_motion_file",
    "manager_env.commands.motion.motion_lib_cfg.max_unique_motions",
    "manager_env.terminations",
    "manager_env.events",
    "model.aux.g1_recon",
)


def _description(path: str) -> str:
    model: type[BaseModel] = ExperimentConfig
    info: Any = None
    for part in path.split("."):
        info = model.model_fields[part]
        annotation = info.annotation
        nested = [a for a in (annotation, *getattr(annotation, "__args__", ())) if isinstance(a, type)]
        model = next((a for a in nested if issubclass(a, BaseModel)), model)
    return (info.description or "").split(". ")[0] if info is not None else ""


def help_text() -> str:
    """``sonic-train --help``: usage, presets and the main keys."""
    keys = "\n".join(f"  {k:<62} {_description(k)}" for k in MAIN_KEYS)
    presets = "\n".join(
        f"  +exp={n:<18} (or +exp={EXP_PATH_PREFIX}{n})  {(EXP_PRESETS[n].__doc__ or '').splitlines()[0].replace('``', '')}"
        for n in EXP_PRESETS
    )
    return f"""usage: sonic-train [+exp=PRESET] [KEY=VALUE | +KEY=VALUE | ++KEY=VALUE | +GROUP/PATH=CHOICE | ~KEY] ...
       accelerate launch --num_processes=N -m sonic_train.train ARGS

Train SONIC's universal-token G1 controller with PPO + auxiliary losses. Arguments are the training
guide's, unchanged: key=value, +key=value and ++key=value set the validated field at a dotted path;
+group/path=choice selects a named option (e.g. +manager_env/terminations=tracking/eval); ~key removes an
optional group; values are YAML scalars. An unknown key fails with the closest valid keys.

presets:
{presets}
Note: {TERRAIN_NOTE}.

main keys:
{keys}

examples:
  sonic-train +exp=manager/universal_token/all_modes/sonic_release num_envs=4096 headless=True \\
      ++manager_env.commands.motion.motion_lib_cfg.motion_file=data/motion_lib_bones_seed/robot_filtered \\
      ++manager_env.commands.motion.motion_lib_cfg.smpl_motion_file=data/smpl_filtered
  sonic-train ... +checkpoint=sonic_release/last.pt                 finetune (weights only, new folder)
  sonic-train ... +checkpoint=logs_rl/.../last.pt ++resume=True     resume (same folder and iteration)
  sonic-train ... ++replay=True num_envs=4                          play every clip once and exit

Runs are written to <base_dir>/<project_name>/<experiment_name>-<YYYYmmdd_HHMMSS>/ (config.yaml,
TensorBoard events, model_step_XXXXXX.pt, last.pt).
"""


def _last(overrides: Sequence[Override], path: str) -> Override | None:
    found = [o for o in overrides if o.path == path]
    return found[-1] if found else None


def resolve_config(args: Sequence[str]) -> tuple[ExperimentConfig, StartCheckpoint | None]:
    """Turn command-line arguments into a validated config (and the start checkpoint if it was read).

    The checkpoint is read here only when it chooses the base config (no ``+exp=``); the trainer reads it
    otherwise.

    Raises:
        OverrideError: malformed argument or unknown key (closest keys suggested).
        KeyError: unknown ``+exp=`` preset.
        pydantic.ValidationError: a value of the wrong type or range (the field is named).
        FileNotFoundError, CheckpointFormatError: the base-choosing checkpoint is missing or unreadable.
    """
    overrides = [parse_override(a) for a in args]
    exp = _last(overrides, "exp")
    if exp is not None and (exp.op == "remove" or not isinstance(exp.value, str)):
        raise OverrideError(f"override {exp.raw!r}: +exp= takes a preset name, e.g. +exp={DEFAULT_EXP}")
    rest = [o for o in overrides if o.path != "exp"]
    checkpoint = _last(rest, "checkpoint")
    start: StartCheckpoint | None = None
    if exp is not None:
        base = exp_preset(exp.value)
    elif checkpoint is not None and checkpoint.op != "remove" and checkpoint.value:
        start = read_start_checkpoint(str(checkpoint.value))
        stored, inferred = base_config_from_checkpoint(start)
        base = stored if stored is not None else exp_preset(inferred or DEFAULT_EXP)
    else:
        base = exp_preset(DEFAULT_EXP)
    data = apply_overrides(base.model_dump(), rest, ExperimentConfig)
    return ExperimentConfig.model_validate(data), start


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``sonic-train``; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if any(a in ("-h", "--help") for a in args):
        print(help_text())
        return 0
    try:
        config, start = resolve_config(args)
    except (OverrideError, KeyError, ValidationError, FileNotFoundError, CheckpointFormatError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        print(f"sonic-train: {message}", file=sys.stderr)
        return 2
    if config.use_wandb and importlib.util.find_spec("wandb") is None:
        from sonic_train.logger import WANDB_INSTALL_HINT

        print(
            f"sonic-train: use_wandb=true but the wandb package is not installed: {WANDB_INSTALL_HINT}",
            file=sys.stderr,
        )
        return 2
    from sonic_train.dist import DistContext

    ctx = DistContext.from_accelerate()
    try:
        config = with_viewer(config, ctx.is_main)
        if config.manager_env.viewer is not None:
            print(viewer_line(config), flush=True)
        if config.replay:
            from sonic_train.replay import run_replay

            run_replay(config, ctx)
            return 0
        from sonic_model import CheckpointError, ContractMismatchError
        from sonic_train.trainer import Trainer

        try:
            trainer = Trainer(config, ctx, start=start)
        except (ContractMismatchError, CheckpointError, CheckpointFormatError, FileNotFoundError) as err:
            print(f"sonic-train: {err}", file=sys.stderr)
            return 2
        try:
            trainer.train()
        finally:
            trainer.close()
        if trainer.run_dir is not None:
            print(
                f"sonic-train: done at iteration {trainer.iteration}; checkpoint {trainer.run_dir / 'last.pt'}"
            )
    finally:
        ctx.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
