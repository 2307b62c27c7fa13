"""Write SONIC-compatible ONNX files from the ``policy`` part of a checkpoint (FORMATS.md "ONNX files").

Settings as SONIC's (SONIC_REFERENCE §10): opset 13, batch 1, no dynamic axes, one float32 input
``obs_dict``, output ``action`` (1, 29) or ``encoded_tokens`` (1, 64). Files are traced with torch's
TorchScript-based exporter (``torch.onnx.export(..., dynamo=False)``): it runs offline and emits
opset 13 directly, where the dynamo exporter targets opset 18 and converts down. Every file gets the
``sonic.*`` metadata of :mod:`sonic_export.metadata` and is written atomically (temp name + rename).
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx
import torch
from torch import nn

from sonic_export.graphs import DecoderGraph, EncoderDecoderGraph, EncoderGraph
from sonic_export.layout import FileKind, file_to_network_index, input_layout, layout_width
from sonic_export.metadata import ExportMetadata
from sonic_export.quantize import quantize_int8
from sonic_model import (
    FORMAT_VERSION,
    CheckpointError,
    LoadedPolicy,
    UniversalTokenPolicy,
    policy_from_checkpoint,
    tokenizer_to_network_index,
)
from sonic_model.atomic import atomic_write

OPSET = 13
INPUT_NAME = "obs_dict"


@dataclass(frozen=True)
class ExportResult:
    """Paths written by :func:`export`, keyed by file suffix (``g1``, ``teleop``, ``smpl``[, ``soma``],
    ``encoder``, ``decoder``); ``int8`` holds the reduced-precision copies (empty unless asked)."""

    fp32: dict[str, Path]
    int8: dict[str, Path] = field(default_factory=dict)

    def all_paths(self) -> list[Path]:
        """Every written file, fp32 first."""
        return [*self.fp32.values(), *self.int8.values()]


def loaded_from_policy_part(policy_part: Mapping[str, Any], source: str) -> LoadedPolicy:
    """Rebuild the policy (no critic) and its ``PolicyIO`` from a checkpoint's ``policy`` dict."""
    ckpt = {"format_version": FORMAT_VERSION, "policy": dict(policy_part)}
    return policy_from_checkpoint(ckpt, source=source, with_critic=False)


def atomic_write_onnx(model: onnx.ModelProto, path: Path) -> Path:
    """The serialised model (what ``onnx.save`` writes for a model without external data) through
    :func:`sonic_model.atomic.atomic_write` (no half-written files)."""
    return atomic_write(path, lambda handle: handle.write(model.SerializeToString()))


def trace_to_onnx(graph: nn.Module, width: int, output_name: str) -> onnx.ModelProto:
    """Trace ``graph`` on a (1, width) float32 input into an opset-13 model with fixed shapes."""
    example = torch.zeros(1, width)
    with (
        tempfile.TemporaryDirectory(prefix="sonic-export-") as tmp,
        warnings.catch_warnings(),
        torch.no_grad(),
    ):
        path = Path(tmp) / "graph.onnx"
        # The legacy exporter warns that it is deprecated, and the FSQ's shape check warns that it is
        # traced as a constant (the shape is fixed at batch 1, so it is one).
        warnings.simplefilter("ignore")
        torch.onnx.export(
            graph,
            (example,),
            path,
            input_names=[INPUT_NAME],
            output_names=[output_name],
            opset_version=OPSET,
            do_constant_folding=True,
            dynamo=False,
        )
        return onnx.load(path)


def with_metadata(model: onnx.ModelProto, meta: ExportMetadata) -> onnx.ModelProto:
    """Replace the model's ``sonic.*`` metadata props by ``meta`` (other props are kept)."""
    kept = {p.key: p.value for p in model.metadata_props if not p.key.startswith("sonic.")}
    onnx.helper.set_model_props(model, kept | meta.to_props())
    return model


def _file_specs(policy: UniversalTokenPolicy) -> list[tuple[str, FileKind, str, nn.Module]]:
    """(suffix, kind, encoder, graph) of every file, in SONIC's order (per encoder, encoder, decoder)."""
    contract = policy.contract
    specs: list[tuple[str, FileKind, str, nn.Module]] = []
    for name in contract.encoder_names:
        layout = input_layout(contract, "encoder_decoder", name)
        terms_width = sum(contract.tokenizer_term(n).size for n in contract.encoder(name).inputs)
        graph = EncoderDecoderGraph(policy, name, file_to_network_index(contract, name, layout), terms_width)
        specs.append((name, "encoder_decoder", name, graph))
    indices = [tokenizer_to_network_index(contract, n) for n in contract.encoder_names]
    specs.append(("encoder", "encoder", "", EncoderGraph(policy, indices)))
    specs.append(("decoder", "decoder", "", DecoderGraph(policy)))
    return specs


def export(
    policy_part: Mapping[str, Any], out_dir: str | Path, name: str, int8: bool = False
) -> ExportResult:
    """Export every SONIC file of one policy.

    Args:
        policy_part: the ``policy`` dict of a checkpoint (``model_config``, ``contract``, ``policy_io``,
            ``state_dict``), e.g. ``torch.load(ckpt)["policy"]`` or a converted GEAR-SONIC checkpoint.
        out_dir: directory for the files (created).
        name: file stem, e.g. ``model_step_002000`` -> ``model_step_002000_g1.onnx``.
        int8: also write int8 dynamically quantised copies under ``out_dir/int8/`` (same file names).

    Returns:
        The written paths.

    Raises:
        sonic_model.CheckpointError: the policy part is malformed, its tensors do not fit its config
            (an extra tensor such as an actor normaliser that the graphs would not apply is refused),
            or its ``PolicyIO`` joint order is not the contract's action order.
    """
    loaded = loaded_from_policy_part(policy_part, source=f"policy part of {name!r}")
    policy = loaded.policy.eval()
    contract = policy.contract
    if tuple(loaded.policy_io.joint_names) != contract.action_joint_names:
        # A deployment maps actions to joints by PolicyIO; it must be the order the decoder emits.
        raise CheckpointError(
            f"policy part of {name!r}: policy_io.joint_names {list(loaded.policy_io.joint_names)} differ from "
            f"the contract's action_joint_names {list(contract.action_joint_names)}"
        )
    out_dir = Path(out_dir)
    mode_ids = {n: i for i, n in enumerate(contract.encoder_names)}
    result = ExportResult(fp32={})
    for suffix, kind, encoder, graph in _file_specs(policy):
        layout = input_layout(contract, kind, encoder or None, policy.latent_dim)
        output_name = "encoded_tokens" if kind == "encoder" else "action"
        meta = ExportMetadata(
            file_kind=kind,
            encoder=encoder,
            mode_ids=mode_ids,
            output_name=output_name,
            input_layout=layout,
            output_width=policy.latent_dim if kind == "encoder" else policy.num_actions,
            contract=contract,
            contract_hash=contract.stable_hash(),
            policy_io=loaded.policy_io,
            network_config=policy.config,
            source=name,
        )
        model = with_metadata(trace_to_onnx(graph, layout_width(layout), output_name), meta)
        path = atomic_write_onnx(model, out_dir / f"{name}_{suffix}.onnx")
        result.fp32[suffix] = path
        if int8:
            result.int8[suffix] = quantize_int8(path, out_dir / "int8" / path.name)
    return result


def default_out_dir(checkpoint: str | Path) -> Path:
    """``exported/`` beside the checkpoint, as SONIC writes it."""
    return Path(checkpoint).resolve().parent / "exported"


def export_checkpoint(
    checkpoint: str | Path, out_dir: str | Path | None = None, name: str | None = None, int8: bool = False
) -> ExportResult:
    """Export a checkpoint file into ``exported/`` beside it, files named after its stem.

    Raises:
        FileNotFoundError: no file at ``checkpoint``.
        sonic_model.CheckpointError: the file is not a checkpoint of a supported format version, or its
            ``policy`` part is missing or malformed (the key is named).
    """
    path = Path(checkpoint)
    if not path.is_file():
        raise FileNotFoundError(f"sonic-export: no checkpoint file at {path}")
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict) or "policy" not in ckpt:
        found = sorted(ckpt) if isinstance(ckpt, dict) else type(ckpt).__name__
        raise CheckpointError(f"{path}: expected a checkpoint dict with a 'policy' part, found {found}")
    if ckpt.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path}: format_version {ckpt.get('format_version')!r} is not supported (expected {FORMAT_VERSION})"
        )
    return export(
        ckpt["policy"], out_dir if out_dir is not None else default_out_dir(path), name or path.stem, int8
    )
