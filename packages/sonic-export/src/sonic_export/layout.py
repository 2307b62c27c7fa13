"""Input layouts of the exported files, and the gathers from file order to network order.

FORMATS.md "ONNX files" fixes one input vector ``obs_dict`` (1, W) per file:

* ``<name>_<encoder>.onnx`` (``encoder_decoder``): that encoder's tokenizer terms in the **file
  (tokenizer) order**, then the proprioception terms (930): g1 1570, teleop 1197, smpl 1770, soma 1830.
* ``<name>_encoder.onnx`` (``encoder``): the whole tokenizer vector, ``mode_id`` first (1751, or 2652
  with soma).
* ``<name>_decoder.onnx`` (``decoder``): the token (64) then the proprioception terms (994).

An encoder's first Linear layer sees its **network order** instead (rows of concatenated terms,
SONIC_REFERENCE §2.1). The graphs gather file order into network order with a constant index built
here from :func:`sonic_model.encoder_input` applied to position-valued terms, so the interleaving
rule lives in sonic_model only.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor

from sonic_model import ObservationContract, encoder_input

FileKind = Literal["encoder_decoder", "encoder", "decoder"]
"""What a file computes: one encoder + decoder (action), every encoder (token), or the decoder (action)."""

TOKEN_TERM = "encoded_tokens"
"""Name of the token slot at the head of the decoder file's input (the encoder file's output name)."""


class InputSlot(BaseModel):
    """One named term of a file's input vector: values ``obs_dict[0, offset : offset + width]``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Contract term name (or 'encoded_tokens' for the decoder's token).")
    offset: int = Field(ge=0, description="First column of the term in obs_dict.")
    width: int = Field(gt=0, description="Number of values (flattened term size).")


def _slots(named_widths: list[tuple[str, int]]) -> tuple[InputSlot, ...]:
    out: list[InputSlot] = []
    offset = 0
    for name, width in named_widths:
        out.append(InputSlot(name=name, offset=offset, width=width))
        offset += width
    return tuple(out)


def encoder_file_terms(contract: ObservationContract, encoder: str) -> tuple[str, ...]:
    """The terms encoder ``encoder`` reads, in file (tokenizer) order, as its per-modality file lays them out."""
    wanted = set(contract.encoder(encoder).inputs)
    return tuple(t.name for t in contract.tokenizer if t.name in wanted)


def proprioception_widths(contract: ObservationContract) -> list[tuple[str, int]]:
    """``[(term, width)]`` of the decoder proprioception terms, in order (930 values for SONIC)."""
    return [(t.name, t.size) for t in contract.proprioception]


def input_layout(
    contract: ObservationContract, kind: FileKind, encoder: str | None = None, latent_dim: int = 64
) -> tuple[InputSlot, ...]:
    """The committed input layout of one file kind.

    Args:
        contract: the policy's observation contract.
        kind: ``encoder_decoder`` (needs ``encoder``), ``encoder`` or ``decoder``.
        encoder: encoder name for ``encoder_decoder`` files.
        latent_dim: token width at the head of the decoder file (64 for SONIC).
    """
    if kind == "encoder":
        return _slots([(t.name, t.size) for t in contract.tokenizer])
    if kind == "decoder":
        return _slots([(TOKEN_TERM, latent_dim), *proprioception_widths(contract)])
    if encoder is None:
        raise ValueError("input_layout: an encoder_decoder file needs the encoder name")
    terms = [(n, contract.tokenizer_term(n).size) for n in encoder_file_terms(contract, encoder)]
    return _slots([*terms, *proprioception_widths(contract)])


def layout_width(layout: tuple[InputSlot, ...]) -> int:
    """Total width W of a layout (the ``obs_dict`` columns)."""
    return layout[-1].offset + layout[-1].width if layout else 0


def file_to_network_index(
    contract: ObservationContract, encoder: str, layout: tuple[InputSlot, ...]
) -> Tensor:
    """Long tensor ``idx`` (encoder input width,) with ``network_input = obs_dict[:, idx]``.

    Each of the encoder's terms is filled with its own column numbers in ``layout``; assembling those
    with :func:`sonic_model.encoder_input` yields, at every network position, the file column that
    feeds it.
    """
    slots = {s.name: s for s in layout}
    missing = [n for n in contract.encoder(encoder).inputs if n not in slots]
    if missing:
        raise ValueError(f"file layout lacks terms {missing} that encoder {encoder!r} reads")
    positions = {
        n: torch.arange(slots[n].offset, slots[n].offset + slots[n].width, dtype=torch.float64).unsqueeze(0)
        for n in contract.encoder(encoder).inputs
    }
    return encoder_input(contract, encoder, positions)[0].to(torch.int64)
