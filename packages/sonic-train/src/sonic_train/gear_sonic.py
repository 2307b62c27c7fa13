"""Import GEAR-SONIC checkpoints (``policy_state_dict`` / ``value_state_dict``) into our format.

FORMATS.md "Checkpoint file (ours)" and SONIC_REFERENCE §12. A GEAR-SONIC ``.pt`` holds the actor as
``policy_state_dict`` and the critic as ``value_state_dict``; we keep only those two and rename:

=====================================================  ==========================================
GEAR-SONIC key                                         ours
=====================================================  ==========================================
``std`` (29)                                           ``policy.state_dict["std"]``
``actor_module.encoders.<name>.module.<i>.*``          ``policy.state_dict["encoders.<name>.module.<i>.*"]``
``actor_module.decoders.<g1_dyn|g1_kin>.module.<i>.*`` ``policy.state_dict["decoders.<...>.module.<i>.*"]``
``critic_module.module.<i>.*``                         ``critic.state_dict["module.<i>.*"]``
``running_mean_std.{running_mean,running_var,count}``  ``critic.normalizer[...]``
``actor_module.**.{_levels,_basis,implicit_codebook}`` ignored (FSQ buffers: no learned values)
=====================================================  ==========================================

**The key layout is assumed, not verified against a real GEAR-SONIC checkpoint** (none is available
here): every MLP is taken to be an ``nn.Sequential`` of Linear and SiLU modules, so Linear layers sit at
``module.0``, ``module.2``, … Any key outside the table, any expected key that is absent, and any
tensor whose shape differs from what the preset's architecture needs is refused, every one of them
listed, so a different real layout fails loudly instead of loading wrong weights.

The preset comes from the shapes unless given: a ``soma`` encoder or a 4096-wide ``g1_dyn`` hidden layer
means ``sonic_bones_seed``, anything else ``sonic_release``. The preset fixes the layout (encoders,
observation contract, token size); hidden widths are read from the file, so an explicit preset also
accepts other widths with the same layout (e.g. ``small``). ``PolicyIO`` is filled from ``sonic_data.g1``.
GEAR-SONIC's Hydra ``config.yaml`` is not parsed.

Files are read with ``torch.load(weights_only=True)``: no GEAR-SONIC (or TRL) class is imported and no
pickled code runs. Their checkpoints also pickle trainer objects (TRL's ``args``, ``state``); those
classes are named to the caller and, unless refused, loaded as inert stand-ins that are then dropped.
"""

from __future__ import annotations

import pickle
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from sonic_env.policy_io import g1_policy_io
from sonic_model import FORMAT_VERSION, PRESETS, ModelConfig, UniversalTokenPolicy
from sonic_model import preset as get_preset
from sonic_train.checkpoint_io import atomic_torch_save

__all__ = [
    "FSQ_BUFFER_NAMES",
    "GEAR_SONIC_KEYS",
    "GearSonicImport",
    "GearSonicImportError",
    "convert_gear_sonic",
    "convert_gear_sonic_file",
    "import_gear_sonic",
    "infer_preset",
    "is_gear_sonic_checkpoint",
    "read_gear_sonic_file",
]

GEAR_SONIC_KEYS = ("policy_state_dict", "value_state_dict")
"""Top-level keys of a GEAR-SONIC checkpoint that hold weights (the others are trainer state)."""

FSQ_BUFFER_NAMES = frozenset({"_levels", "_basis", "implicit_codebook"})
"""``vector_quantize_pytorch.FSQ`` buffers: derived from the levels, so they carry no learned values."""

BONES_SEED_WIDTH = 4096
"""A ``g1_dyn`` hidden layer this wide marks ``sonic_bones_seed`` (SONIC_REFERENCE §9.1)."""

_ENCODER = re.compile(r"^actor_module\.encoders\.([^.]+)\.(module\..+)$")
_DECODER = re.compile(r"^actor_module\.decoders\.([^.]+)\.(module\..+)$")
_CRITIC = re.compile(r"^critic_module\.(module\..+)$")
_NORMALIZER = re.compile(r"^running_mean_std\.([^.]+)$")


class GearSonicImportError(ValueError):
    """A GEAR-SONIC file cannot be converted; the message names the file and every offending key."""


@dataclass(frozen=True)
class GearSonicImport:
    """Result of a conversion.

    Attributes:
        checkpoint: ``{format_version, policy, critic}``, exactly what sonic-model's ``save_policy`` writes
            (plain data; tensors on the device they were read to), ready for ``policy_from_checkpoint`` or
            a file.
        preset: the preset whose layout was used.
        preset_reason: why that preset (given explicitly, or what in the shapes chose it).
        model_config: the architecture written into ``checkpoint["policy"]["model_config"]``.
        ignored_keys: file keys dropped on purpose (FSQ buffers).
        opaque_globals: pickled classes/functions found in the file and replaced by inert stand-ins.
    """

    checkpoint: dict[str, Any]
    preset: str
    preset_reason: str
    model_config: ModelConfig
    ignored_keys: tuple[str, ...]
    opaque_globals: tuple[str, ...]


def is_gear_sonic_checkpoint(obj: Any) -> bool:
    """True for a loaded dict that has GEAR-SONIC's weight keys and not our ``policy`` part."""
    return isinstance(obj, Mapping) and "policy_state_dict" in obj and "policy" not in obj


class _Opaque:
    """Inert stand-in for a pickled class or function: records its arguments, runs nothing."""

    pickled_name = "?"

    def __new__(cls, *args: Any, **kwargs: Any) -> _Opaque:
        return object.__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args

    def __setstate__(self, state: Any) -> None:
        self.state = state

    def __repr__(self) -> str:
        return f"<pickled {self.pickled_name}, not loaded>"


def read_gear_sonic_file(
    path: str | Path, allow_pickled_classes: bool = True, map_location: str | torch.device = "cpu"
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Load a GEAR-SONIC ``.pt`` with ``torch.load(weights_only=True)``, without importing their classes.

    Args:
        path: the checkpoint file.
        allow_pickled_classes: if the file pickles classes or functions (TRL's ``args`` and ``state`` do),
            load each as an inert :class:`_Opaque` stand-in; if False, refuse the file, naming them.
        map_location: where tensors go.

    Returns:
        (the loaded top-level dict, names of the pickled globals that were replaced).

    Raises:
        FileNotFoundError: no such file.
        GearSonicImportError: unreadable, pickled classes refused, or not a dict holding both state dicts.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"GEAR-SONIC checkpoint {path} does not exist")
    try:
        names = tuple(torch.serialization.get_unsafe_globals_in_checkpoint(path))
    except Exception:  # legacy (non-zip) files cannot be scanned; torch.load below still refuses classes
        names = ()
    if names and not allow_pickled_classes:
        raise GearSonicImportError(
            f"{path} contains pickled Python classes/functions {list(names)}; weights-only loading refuses "
            "them. Allow them to be loaded as inert stand-ins (they are dropped; only policy_state_dict "
            "and value_state_dict are read), or re-save just those two dicts with torch.save."
        )
    stand_ins: list[Callable[..., Any] | tuple[Callable[..., Any], str]] = [
        (type(f"_Opaque[{n}]", (_Opaque,), {"pickled_name": n}), n) for n in names
    ]
    try:
        with torch.serialization.safe_globals(stand_ins):
            loaded = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        raise GearSonicImportError(
            f"{path} contains pickled Python classes that weights-only loading refuses and that could not be "
            f"replaced by stand-ins ({str(err).splitlines()[0]}); re-save policy_state_dict and "
            "value_state_dict alone with torch.save"
        ) from err
    except (RuntimeError, EOFError) as err:
        raise GearSonicImportError(f"{path} is not a readable torch checkpoint: {err}") from err
    if not isinstance(loaded, dict):
        raise GearSonicImportError(f"{path}: expected a dict at the top level, got {type(loaded).__name__}")
    if not is_gear_sonic_checkpoint(loaded):
        hint = " (it is already in our format)" if "policy" in loaded else ""
        raise GearSonicImportError(
            f"{path} is not a GEAR-SONIC checkpoint{hint}: expected top-level keys {list(GEAR_SONIC_KEYS)}, "
            f"found {sorted(map(str, loaded))}"
        )
    return loaded, names


def _state_dict(raw: Mapping[str, Any], key: str, source: str) -> dict[str, Tensor]:
    part = raw.get(key)
    if not isinstance(part, Mapping):
        found = "missing" if part is None else f"a {type(part).__name__}"
        raise GearSonicImportError(f"{source}: {key!r} is {found}; expected a dict of tensors")
    bad = [f"{key}[{k!r}] is {repr(v)[:80]}" for k, v in part.items() if not isinstance(v, Tensor)]
    if bad:
        raise GearSonicImportError(f"{source}: non-tensor values in {key}:\n  " + "\n  ".join(bad))
    return {str(k): v for k, v in part.items()}


def _hidden_widths(state: Mapping[str, Tensor], prefix: str) -> tuple[int, ...] | None:
    """Output widths of all but the last Linear layer under ``prefix`` (``<prefix><i>.weight``), by index."""
    layers = sorted(
        (int(m.group(1)), t)
        for k, t in state.items()
        if (m := re.fullmatch(re.escape(prefix) + r"(\d+)\.weight", k)) and t.dim() == 2
    )
    if not layers:
        return None
    return tuple(int(t.shape[0]) for _, t in layers[:-1])


def infer_preset(policy_state: Mapping[str, Tensor]) -> tuple[str, str]:
    """The SONIC preset a GEAR-SONIC actor state dict was trained with, from its keys and shapes only.

    Works on meta tensors (no data is read).

    Returns:
        (preset name, the reason in words).
    """
    if any(_ENCODER.match(k) and k.split(".")[2] == "soma" for k in policy_state):
        return "sonic_bones_seed", "the file has a soma encoder"
    widths = _hidden_widths(policy_state, "actor_module.decoders.g1_dyn.module.") or ()
    if BONES_SEED_WIDTH in widths:
        return (
            "sonic_bones_seed",
            f"the g1_dyn decoder has a {BONES_SEED_WIDTH}-wide hidden layer {list(widths)}",
        )
    return "sonic_release", "no soma encoder and no 4096-wide g1_dyn layer"


def _preset_name(name: str) -> str:
    """Accept ``sonic_release`` or an ``+exp=`` path such as ``manager/universal_token/all_modes/sonic_release``."""
    base = name.rstrip("/").rsplit("/", 1)[-1]
    if base not in PRESETS:
        raise GearSonicImportError(f"unknown preset {name!r}; valid: {sorted(PRESETS)}")
    return base


def _rename(
    policy_sd: Mapping[str, Tensor], value_sd: Mapping[str, Tensor]
) -> tuple[
    dict[str, tuple[str, Tensor]],
    dict[str, tuple[str, Tensor]],
    dict[str, tuple[str, Tensor]],
    list[tuple[str, str, Tensor]],
    list[str],
]:
    """Split the file's keys into our actor / critic MLP / normaliser names; also ignored and unmapped keys.

    Each mapped entry keeps the file key (``our name -> (file key, tensor)``) so errors can name it.
    """
    actor: dict[str, tuple[str, Tensor]] = {}
    critic: dict[str, tuple[str, Tensor]] = {}
    norm: dict[str, tuple[str, Tensor]] = {}
    ignored: list[tuple[str, str, Tensor]] = []
    unmapped: list[str] = []
    for k, t in policy_sd.items():
        fk = f"policy_state_dict[{k!r}]"
        if k == "std":
            actor["std"] = (fk, t)
        elif m := _ENCODER.match(k):
            actor[f"encoders.{m.group(1)}.{m.group(2)}"] = (fk, t)
        elif m := _DECODER.match(k):
            actor[f"decoders.{m.group(1)}.{m.group(2)}"] = (fk, t)
        elif k.startswith("actor_module.") and k.rsplit(".", 1)[-1] in FSQ_BUFFER_NAMES:
            ignored.append((fk, k, t))
        else:
            unmapped.append(fk)
    for k, t in value_sd.items():
        fk = f"value_state_dict[{k!r}]"
        if m := _CRITIC.match(k):
            critic[m.group(1)] = (fk, t)
        elif m := _NORMALIZER.match(k):
            norm[m.group(1)] = (fk, t)
        else:
            unmapped.append(fk)
    return actor, critic, norm, ignored, unmapped


def _file_key(ours: str, part: str) -> str:
    """The GEAR-SONIC key an expected tensor of ours would come from (for 'missing' messages)."""
    if part == "critic":
        return f"value_state_dict['critic_module.{ours}']"
    if part == "normalizer":
        return f"value_state_dict['running_mean_std.{ours}']"
    if ours == "std":
        return "policy_state_dict['std']"
    return f"policy_state_dict['actor_module.{ours}']"


def _match(
    expected: Mapping[str, Tensor], found: Mapping[str, tuple[str, Tensor]], part: str, problems: list[str]
) -> dict[str, Tensor]:
    """Check names and shapes against ``expected``; return our-named tensors in the expected dtype."""
    problems += [f"missing {_file_key(k, part)}" for k in expected if k not in found]
    problems += [
        f"leftover {fk} (no such tensor in this architecture)"
        for k, (fk, _) in found.items()
        if k not in expected
    ]
    out: dict[str, Tensor] = {}
    for k, ref in expected.items():
        if k not in found:
            continue
        fk, t = found[k]
        if tuple(t.shape) != tuple(ref.shape):
            problems.append(f"shape of {fk}: {tuple(t.shape)} in the file, {tuple(ref.shape)} expected")
        elif not (t.is_floating_point() or t.dtype == ref.dtype):
            problems.append(f"dtype of {fk}: {t.dtype} in the file, a floating dtype expected")
        else:
            t = t.detach() if t.requires_grad else t
            out[k] = t if t.dtype == ref.dtype else t.to(dtype=ref.dtype)
    return out


def convert_gear_sonic(
    raw: Mapping[str, Any], preset: str | None = None, source: str = "GEAR-SONIC checkpoint"
) -> GearSonicImport:
    """Convert a loaded GEAR-SONIC checkpoint dict to our ``{format_version, policy, critic}`` parts.

    Args:
        raw: the loaded top-level dict (needs ``policy_state_dict`` and ``value_state_dict``; other keys,
            such as the optimiser or TRL state, are not read).
        preset: a sonic_model preset name (or ``+exp=`` path ending in one) whose layout to use; None
            infers it with :func:`infer_preset`.
        source: how to name the input in messages (usually the path).

    Raises:
        GearSonicImportError: lists every missing, leftover and wrongly shaped key (by its GEAR-SONIC name).
    """
    policy_sd = _state_dict(raw, "policy_state_dict", source)
    value_sd = _state_dict(raw, "value_state_dict", source)
    if preset is None:
        name, reason = infer_preset(policy_sd)
    else:
        name, reason = _preset_name(preset), "given explicitly"
    base = get_preset(name)

    actor, critic, norm, ignored, unmapped = _rename(policy_sd, value_sd)
    widths = {
        "encoder_hidden": _hidden_widths(
            policy_sd, f"actor_module.encoders.{base.model.encoders[0]}.module."
        ),
        "g1_dyn_hidden": _hidden_widths(policy_sd, "actor_module.decoders.g1_dyn.module."),
        "g1_kin_hidden": _hidden_widths(policy_sd, "actor_module.decoders.g1_kin.module."),
        "critic_hidden": _hidden_widths(value_sd, "critic_module.module."),
    }
    update = {k: v for k, v in widths.items() if v is not None}
    try:
        config = ModelConfig.model_validate({**base.model.model_dump(), **update})
    except ValueError as exc:
        raise GearSonicImportError(f"{source}: layer widths read from the file are invalid: {exc}") from exc
    # Expected names, shapes and dtypes from the model itself. Built on the CPU (0.4 s at release size,
    # 0.7 s for bones_seed): building on the meta device pulls in torch's decomposition machinery, which
    # costs seconds to import.
    reference = UniversalTokenPolicy(config, base.contract, with_critic=True)
    assert reference.critic is not None

    problems = [f"leftover {k} (not part of the assumed GEAR-SONIC layout)" for k in unmapped]
    actor_out = _match(reference.actor_state_dict(), actor, "actor", problems)
    critic_out = _match(reference.critic.mlp_state_dict(), critic, "critic", problems)
    norm_out = _match(reference.critic.normalizer.state_dict(), norm, "normalizer", problems)
    for fk, key, t in ignored:
        if key.endswith("._levels") and t.device.type != "meta":
            found_levels = [int(v) for v in t.flatten().tolist()]
            if found_levels != list(config.fsq_levels):
                problems.append(
                    f"{fk}: FSQ levels {found_levels} differ from the preset's {list(config.fsq_levels)}"
                )
    if problems:
        hint = (
            f"\n(preset {name!r}: {reason}; the key layout is assumed, see sonic_train.gear_sonic; "
            "pass a preset explicitly to override)"
        )
        raise GearSonicImportError(
            f"{source}: cannot convert to our format ({len(problems)} problem(s)):\n  "
            + "\n  ".join(problems)
            + hint
        )
    policy_io = g1_policy_io(base.contract.action_joint_names)
    checkpoint = {
        "format_version": FORMAT_VERSION,
        "policy": {
            "model_config": config.model_dump(mode="json"),
            "contract": base.contract.model_dump(mode="json"),
            "policy_io": policy_io.model_dump(mode="json"),
            "state_dict": actor_out,
        },
        "critic": {"state_dict": critic_out, "normalizer": norm_out},
    }
    return GearSonicImport(checkpoint, name, reason, config, tuple(fk for fk, _, _ in ignored), ())


def import_gear_sonic(
    path: str | Path,
    preset: str | None = None,
    allow_pickled_classes: bool = True,
    map_location: str | torch.device = "cpu",
) -> GearSonicImport:
    """Read a GEAR-SONIC file and convert it in memory (what ``+checkpoint=<their .pt>`` does).

    See :func:`read_gear_sonic_file` and :func:`convert_gear_sonic` for the arguments and errors.
    """
    raw, opaque = read_gear_sonic_file(path, allow_pickled_classes, map_location)
    result = convert_gear_sonic(raw, preset, source=str(path))
    return GearSonicImport(
        result.checkpoint,
        result.preset,
        result.preset_reason,
        result.model_config,
        result.ignored_keys,
        opaque,
    )


def convert_gear_sonic_file(
    src: str | Path, dst: str | Path, preset: str | None = None, allow_pickled_classes: bool = True
) -> GearSonicImport:
    """Convert ``src`` (GEAR-SONIC) and write our format to ``dst`` atomically (temp file + rename)."""
    result = import_gear_sonic(src, preset, allow_pickled_classes)
    atomic_torch_save(result.checkpoint, dst)
    return result
