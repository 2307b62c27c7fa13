"""What every exported file says about itself, stored in ONNX ``metadata_props`` (SONIC's runtime ignores it).

One key per field, prefixed ``sonic.``; structured values are JSON:

| key | value |
|---|---|
| ``sonic.format_version`` | version of this metadata layout (:data:`METADATA_VERSION`) |
| ``sonic.file_kind`` | ``encoder_decoder`` / ``encoder`` / ``decoder`` |
| ``sonic.encoder`` | the encoder of an ``encoder_decoder`` file (empty otherwise) |
| ``sonic.mode_ids`` | JSON ``{encoder: mode_id}`` (the ``_encoder`` file's head value) |
| ``sonic.precision`` | ``fp32`` (reference) or ``int8`` (dynamic quantisation) |
| ``sonic.input_name`` / ``sonic.output_name`` | ``obs_dict`` / ``action`` or ``encoded_tokens`` |
| ``sonic.input_layout`` | JSON ``[{name, offset, width}, ...]`` of ``obs_dict`` |
| ``sonic.output_width`` | 29 or 64 |
| ``sonic.contract`` / ``sonic.contract_hash`` | the observation contract (JSON) and its ``stable_hash()`` |
| ``sonic.policy_io`` | JSON ``PolicyIO``: joint names/order, default pose, kp, kd, action scale, dt, clip |
| ``sonic.network_config`` | JSON ``ModelConfig`` of the exported policy (the checkpoint's ``model_config``) |
| ``sonic.source`` | the export name (checkpoint stem) |
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sonic_export.layout import FileKind, InputSlot
from sonic_model import ModelConfig, ObservationContract, PolicyIO

METADATA_VERSION = 1
"""Version of the ``sonic.*`` metadata layout; :func:`from_props` refuses other versions."""

PREFIX = "sonic."
_JSON_FIELDS = ("mode_ids", "input_layout", "contract", "policy_io", "network_config")


class MetadataError(ValueError):
    """An ONNX file carries no SONIC metadata, or metadata that is malformed or inconsistent."""


class ExportMetadata(BaseModel):
    """The ``sonic.*`` metadata of one exported file (see the module docstring for the keys)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: int = Field(default=METADATA_VERSION)
    file_kind: FileKind
    encoder: str = Field(default="", description="Encoder of an encoder_decoder file, else empty.")
    mode_ids: dict[str, int] = Field(description="mode_id of every encoder (the _encoder file's head).")
    precision: Literal["fp32", "int8"] = "fp32"
    input_name: str = "obs_dict"
    output_name: Literal["action", "encoded_tokens"]
    input_layout: tuple[InputSlot, ...]
    output_width: int
    contract: ObservationContract
    contract_hash: str
    policy_io: PolicyIO
    network_config: ModelConfig = Field(description="The exported policy's ModelConfig.")
    source: str = ""

    @property
    def input_width(self) -> int:
        """Width W of ``obs_dict``."""
        last = self.input_layout[-1]
        return last.offset + last.width

    def slot(self, name: str) -> InputSlot:
        """The input slot called ``name``; KeyError naming the slots otherwise."""
        for s in self.input_layout:
            if s.name == name:
                return s
        raise KeyError(f"no input term {name!r} in this file; terms: {[s.name for s in self.input_layout]}")

    def to_props(self) -> dict[str, str]:
        """``{key: string}`` for ``onnx.helper.set_model_props``."""
        data: dict[str, Any] = self.model_dump(mode="json")
        return {
            PREFIX + k: json.dumps(v, sort_keys=True) if k in _JSON_FIELDS else str(v)
            for k, v in data.items()
        }


def from_props(props: dict[str, str], source: str = "ONNX file") -> ExportMetadata:
    """Parse and check ``sonic.*`` metadata props.

    Raises:
        MetadataError: no SONIC metadata (e.g. a file exported by SONIC itself), an unknown format
            version, a missing or malformed key, or a contract whose hash differs from the stored one.
    """
    mine = {k.removeprefix(PREFIX): v for k, v in props.items() if k.startswith(PREFIX)}
    if not mine:
        raise MetadataError(
            f"{source}: no 'sonic.*' metadata_props (a file not written by sonic-export?); "
            f"found keys {sorted(props)}"
        )
    version = mine.get("format_version")
    if version != str(METADATA_VERSION):
        raise MetadataError(
            f"{source}: sonic.format_version {version!r} is not supported (expected {METADATA_VERSION})"
        )
    data: dict[str, Any] = {}
    for key, value in mine.items():
        if key in _JSON_FIELDS:
            try:
                data[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise MetadataError(f"{source}: sonic.{key} is not valid JSON: {exc}") from exc
        else:
            data[key] = value
    try:
        meta = ExportMetadata.model_validate(data)
    except ValidationError as exc:
        raise MetadataError(f"{source}: invalid sonic.* metadata:\n{exc}") from exc
    actual = meta.contract.stable_hash()
    if actual != meta.contract_hash:
        raise MetadataError(
            f"{source}: sonic.contract_hash {meta.contract_hash} does not match the stored contract "
            f"(hash {actual}); the metadata was edited or corrupted"
        )
    return meta
