"""The observation contract: what every network input means, in which order, in which joint order.

One contract is the single description of the policy border (FORMATS.md "Policy border"): the env
builds its observations from it, the trainer stores it in every checkpoint, the exporter writes it
into ONNX metadata, and loaders refuse a checkpoint whose contract differs, listing the differing
terms. It is plain data (pydantic, frozen, unknown keys rejected) so it round-trips through YAML and
``torch.load(weights_only=True)``.

Groups:

* ``tokenizer``: every reference term the encoders read, in the **file order** of SONIC's
  ``_encoder.onnx`` input (TokenizerCfg field order, FORMATS.md "ONNX files"), including the
  file-only ``mode_id`` head.
* ``encoders``: per encoder, its **network input order** (SONIC concatenates an encoder's terms on the
  last dimension, row by row for temporal encoders, then flattens; SONIC_REFERENCE §2.1).
* ``kinematic_target``: the layout of the ``g1_kin`` decoder output (same assembly as the g1 encoder).
* ``proprioception``: the decoder's robot-state input, concatenated in order (§2.2).
* ``critic``: the privileged observations, concatenated in order (§2.3).

Identity (hash, :meth:`ObservationContract.diff`) covers layout only; ``description`` and ``noise`` are
annotations and do not make two contracts different.
"""

from __future__ import annotations

import hashlib
import json
import math
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

ANNOTATION_FIELDS: frozenset[str] = frozenset({"description", "noise"})
"""Term fields that document a term but do not change its layout (excluded from hash and diff)."""


class ContractMismatchError(ValueError):
    """Two observation contracts differ; ``differences`` lists each difference as one line."""

    def __init__(self, context: str, differences: list[str]) -> None:
        self.differences = differences
        lines = "\n  ".join(differences)
        super().__init__(
            f"{context}: observation contracts differ in {len(differences)} place(s):\n  {lines}"
        )


class ObservationTerm(BaseModel):
    """One named observation term.

    The values of a term for one env form a tensor of ``shape``; ``size`` values flattened row-major.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Term name, as the env and ONNX metadata spell it.")
    shape: tuple[int, ...] = Field(description="Per-env shape, e.g. (10, 58); the flat size is its product.")
    frame: str = Field(description="Coordinate frame of the values, or 'joint space' / 'none'.")
    units: str = Field(description="Units of the values (m, rad, rad/s, 6D rotation, wxyz quaternion, ...).")
    temporal: Literal["none", "future", "history"] = Field(
        default="none", description="Whether the term stacks future reference frames or past steps."
    )
    num_frames: int = Field(default=1, ge=1, description="Number of stacked frames (future or history).")
    frame_spacing_s: float = Field(default=0.0, ge=0.0, description="Time between stacked frames, seconds.")
    layout: str = Field(default="", description="How values are laid out in the flat vector, if not obvious.")
    joint_names: tuple[str, ...] | None = Field(
        default=None, description="For joint-valued terms: the joint order of every per-joint block."
    )
    body_names: tuple[str, ...] | None = Field(
        default=None, description="For body-valued terms: the body (or skeleton joint) order."
    )
    body_skeleton: Literal["g1", "smpl", "soma"] = Field(
        default="g1", description="Which skeleton body_names refer to."
    )
    body_offsets_m: tuple[tuple[float, float, float], ...] | None = Field(
        default=None, description="Per body, a point offset in that body's frame (m), if the term uses one."
    )
    file_only: bool = Field(
        default=False, description="Present only in exported files (e.g. mode_id), never produced by the env."
    )
    noise: float = Field(
        default=0.0, ge=0.0, description="Uniform training corruption half-width (annotation)."
    )
    description: str = Field(default="", description="What the term is (annotation).")

    @property
    def size(self) -> int:
        """Number of values per env."""
        return math.prod(self.shape)

    @model_validator(mode="after")
    def _check(self) -> ObservationTerm:
        where = f"observation term {self.name!r}"
        if not self.shape or any(d <= 0 for d in self.shape):
            raise ValueError(f"{where}: shape must be non-empty with positive sizes, got {self.shape}")
        if self.temporal == "none" and self.num_frames != 1:
            raise ValueError(f"{where}: num_frames={self.num_frames} needs temporal 'future' or 'history'")
        for label, names in (("joint_names", self.joint_names), ("body_names", self.body_names)):
            if names is None:
                continue
            if len(set(names)) != len(names):
                raise ValueError(f"{where}: {label} repeats names")
            if self.size % len(names) != 0:
                raise ValueError(f"{where}: size {self.size} is not a multiple of len({label})={len(names)}")
        if self.body_offsets_m is not None and (
            self.body_names is None or len(self.body_offsets_m) != len(self.body_names)
        ):
            raise ValueError(f"{where}: body_offsets_m needs one offset per entry of body_names")
        return self


class EncoderInputs(BaseModel):
    """The network input order of one encoder (or of the kinematic decoder's output).

    ``inputs`` are tokenizer term names in network order. With ``rows`` set, every input is viewed as
    (rows, size / rows) and the inputs are concatenated row by row (SONIC's temporal encoders: the g1
    input is 10 rows of [58 cmf values | 6 anchor-orientation values]); without it they are flattened
    and concatenated.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    inputs: tuple[str, ...] = Field(min_length=1)
    rows: int | None = Field(default=None, ge=1)


def _term_identity(term: ObservationTerm) -> dict[str, Any]:
    return term.model_dump(mode="json", exclude=set(ANNOTATION_FIELDS))


def _diff_terms(
    group: str, mine: tuple[ObservationTerm, ...], theirs: tuple[ObservationTerm, ...]
) -> list[str]:
    out: list[str] = []
    a = {t.name: t for t in mine}
    b = {t.name: t for t in theirs}
    out += [f"{group} term {n!r}: only in this contract" for n in a if n not in b]
    out += [f"{group} term {n!r}: only in the other contract" for n in b if n not in a]
    common_a = [n for n in a if n in b]
    common_b = [n for n in b if n in a]
    if common_a != common_b:
        out.append(f"{group}: term order {common_a} != {common_b}")
    for n in common_a:
        da, db = _term_identity(a[n]), _term_identity(b[n])
        for key in da:
            if da[key] != db[key]:
                out.append(f"{group} term {n!r}: {key} {da[key]!r} != {db[key]!r}")
    return out


class ObservationContract(BaseModel):
    """Ordered, named observation terms of every policy input; see the module docstring."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(description="Layout name, e.g. 'g1_sonic_release'.")
    tokenizer: tuple[ObservationTerm, ...] = Field(description="Reference terms in file (tokenizer) order.")
    encoders: tuple[EncoderInputs, ...] = Field(
        min_length=1, description="Encoders in activation order (g1, teleop, smpl[, soma]): the mask columns."
    )
    kinematic_target: EncoderInputs = Field(description="Layout of the g1_kin decoder output.")
    proprioception: tuple[ObservationTerm, ...] = Field(
        description="Decoder robot-state terms, concatenated."
    )
    critic: tuple[ObservationTerm, ...] = Field(description="Privileged critic terms, concatenated.")
    action_joint_names: tuple[str, ...] = Field(description="Joint order of the action vector.")

    @model_validator(mode="after")
    def _check(self) -> ObservationContract:
        for group in ("tokenizer", "proprioception", "critic"):
            names = [t.name for t in getattr(self, group)]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"contract {self.name!r}: {group} repeats term names {dupes}")
        enc_names = [e.name for e in self.encoders]
        if len(set(enc_names)) != len(enc_names):
            raise ValueError(f"contract {self.name!r}: encoder names repeat: {enc_names}")
        if len(set(self.action_joint_names)) != len(self.action_joint_names):
            raise ValueError(f"contract {self.name!r}: action_joint_names repeats names")
        terms = {t.name: t for t in self.tokenizer}
        for enc in (*self.encoders, self.kinematic_target):
            for name in enc.inputs:
                if name not in terms:
                    raise ValueError(
                        f"contract {self.name!r}: encoder {enc.name!r} reads {name!r}, which is not a "
                        f"tokenizer term (known: {sorted(terms)})"
                    )
                if terms[name].file_only:
                    raise ValueError(f"contract {self.name!r}: encoder {enc.name!r} reads file-only {name!r}")
                if enc.rows is not None and terms[name].size % enc.rows != 0:
                    raise ValueError(
                        f"contract {self.name!r}: encoder {enc.name!r} has {enc.rows} rows but term "
                        f"{name!r} has {terms[name].size} values"
                    )
        return self

    # ---- lookups and widths -------------------------------------------------------------------

    @property
    def encoder_names(self) -> tuple[str, ...]:
        """Encoder names in activation order (the columns of the encoder mask)."""
        return tuple(e.name for e in self.encoders)

    def tokenizer_term(self, name: str) -> ObservationTerm:
        """The tokenizer term called ``name``; KeyError listing the known names otherwise."""
        for t in self.tokenizer:
            if t.name == name:
                return t
        raise KeyError(
            f"contract {self.name!r}: no tokenizer term {name!r}; known: {[t.name for t in self.tokenizer]}"
        )

    def encoder(self, name: str) -> EncoderInputs:
        """The input layout of encoder ``name`` (or ``kinematic_target.name``)."""
        for e in (*self.encoders, self.kinematic_target):
            if e.name == name:
                return e
        raise KeyError(f"contract {self.name!r}: no encoder {name!r}; known: {list(self.encoder_names)}")

    def input_width(self, name: str) -> int:
        """Network input width of encoder ``name`` (or output width of the kinematic target)."""
        return sum(self.tokenizer_term(t).size for t in self.encoder(name).inputs)

    def tokenizer_offsets(self) -> dict[str, tuple[int, int]]:
        """``{term: (start, size)}`` of every tokenizer term in the flat file-order vector."""
        out: dict[str, tuple[int, int]] = {}
        start = 0
        for t in self.tokenizer:
            out[t.name] = (start, t.size)
            start += t.size
        return out

    @property
    def tokenizer_width(self) -> int:
        """Width of the flat file-order tokenizer vector (1751 for sonic_release)."""
        return sum(t.size for t in self.tokenizer)

    @property
    def proprioception_width(self) -> int:
        """Width of the decoder proprioception vector (930 for SONIC)."""
        return sum(t.size for t in self.proprioception)

    @property
    def critic_width(self) -> int:
        """Width of the critic observation vector (1645 for SONIC)."""
        return sum(t.size for t in self.critic)

    @property
    def num_actions(self) -> int:
        """Number of action values (29 for the G1)."""
        return len(self.action_joint_names)

    # ---- identity -----------------------------------------------------------------------------

    def identity(self) -> dict[str, Any]:
        """The layout-defining content as JSON-able data (annotations removed)."""
        data = self.model_dump(mode="json")
        for group in ("tokenizer", "proprioception", "critic"):
            data[group] = [{k: v for k, v in t.items() if k not in ANNOTATION_FIELDS} for t in data[group]]
        return data

    def stable_hash(self) -> str:
        """SHA-256 (hex) of :meth:`identity` as canonical JSON; equal across processes and machines."""
        blob = json.dumps(self.identity(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def diff(self, other: ObservationContract) -> list[str]:
        """Every layout difference between this contract and ``other``, one line each (empty if none)."""
        out: list[str] = []
        if self.name != other.name:
            out.append(f"name {self.name!r} != {other.name!r}")
        for group in ("tokenizer", "proprioception", "critic"):
            out += _diff_terms(group, getattr(self, group), getattr(other, group))
        mine = {e.name: e for e in (*self.encoders, self.kinematic_target)}
        theirs = {e.name: e for e in (*other.encoders, other.kinematic_target)}
        if self.encoder_names != other.encoder_names:
            out.append(f"encoders {list(self.encoder_names)} != {list(other.encoder_names)}")
        for name in mine.keys() & theirs.keys():
            a, b = mine[name], theirs[name]
            if a.inputs != b.inputs:
                out.append(f"encoder {name!r}: inputs {list(a.inputs)} != {list(b.inputs)}")
            if a.rows != b.rows:
                out.append(f"encoder {name!r}: rows {a.rows} != {b.rows}")
        if self.action_joint_names != other.action_joint_names:
            out.append(
                f"action_joint_names {list(self.action_joint_names)} != {list(other.action_joint_names)}"
            )
        return sorted(out, key=lambda line: not line.startswith("name"))

    def check_matches(self, other: ObservationContract, context: str = "observation contract") -> None:
        """Raise :class:`ContractMismatchError` listing every difference, if there is any."""
        differences = self.diff(other)
        if differences:
            raise ContractMismatchError(context, differences)
