"""Parity of exported files with the torch policy they came from.

Both sides start from the same contract-named observations. The torch side runs the policy's own API
(``encode`` on a term dict, ``decode``), which assembles network inputs with sonic_model's layout code;
the ONNX side gets ``obs_dict`` built from the file's metadata layout and does its own gather inside
the graph. A wrong offset, order or permutation on either side shows up as a large error.

Inputs are random contract-shaped values and, when given, recorded observations: an ``.npz`` whose
arrays are named after contract terms (tokenizer terms (N, *shape), proprioception terms (N, width);
``encoder_index`` optional), e.g. written by the evaluation loop.

Pass criteria: fp32 files, max |onnx - torch| of the file's output < 1e-4; int8 files, max action
error < 1e-2 (for the ``_encoder`` file, the torch decoder is applied to its tokens and to torch's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from sonic_export.export import loaded_from_policy_part
from sonic_export.layout import TOKEN_TERM
from sonic_export.runtime import ExportedPolicy, load
from sonic_model import ObservationContract, UniversalTokenPolicy

FP32_TOLERANCE = 1e-4
"""Max abs error of an fp32 file's output against torch."""
INT8_TOLERANCE = 1e-2
"""Max abs action error of an int8 file against the fp32 torch policy."""


@dataclass(frozen=True)
class VerifyResult:
    """One file checked on one input set.

    Attributes:
        file: file name.
        precision: ``fp32`` or ``int8``.
        inputs: ``random`` or the recording's file name.
        samples: number of ONNX runs compared (0 if skipped).
        max_abs_err: max |onnx - torch| of the file's output (tokens or actions).
        max_action_err: max |action error|; for the ``_encoder`` file, torch's decoder on both token sets.
        tolerance: the bound the criterion uses.
        passed: whether the criterion held (True when skipped).
        skipped: why the file was not checked on these inputs (missing terms), else empty.
    """

    file: str
    precision: str
    inputs: str
    samples: int
    max_abs_err: float
    max_action_err: float
    tolerance: float
    passed: bool
    skipped: str = ""

    def line(self) -> str:
        """One human-readable line."""
        if self.skipped:
            return f"SKIP {self.file} [{self.inputs}]: {self.skipped}"
        status = "ok  " if self.passed else "FAIL"
        return (
            f"{status} {self.file} [{self.precision}, {self.inputs}, {self.samples} runs] "
            f"max abs err {self.max_abs_err:.2e}, max action err {self.max_action_err:.2e} "
            f"(limit {self.tolerance:.0e})"
        )


def random_observations(contract: ObservationContract, n: int, seed: int = 0) -> dict[str, Tensor]:
    """Standard-normal values for every env-produced tokenizer and proprioception term, (n, *shape);
    ``encoder_index`` is a random multi-hot."""
    gen = torch.Generator().manual_seed(seed)
    out = {
        t.name: torch.randn(n, *t.shape, generator=gen)
        for t in (*contract.tokenizer, *contract.proprioception)
        if not t.file_only
    }
    if "encoder_index" in out:
        out["encoder_index"] = (out["encoder_index"] > 0).float()
    return out


def load_recorded(path: str | Path, contract: ObservationContract) -> dict[str, Tensor]:
    """Contract-named arrays of an ``.npz``; keys that are not contract terms are ignored.

    Raises:
        ValueError: no contract term in the file, or a term with the wrong size or row count (named).
    """
    path = Path(path)
    terms = {t.name: t for t in (*contract.tokenizer, *contract.proprioception) if not t.file_only}
    out: dict[str, Tensor] = {}
    with np.load(path) as data:
        for key in data.files:
            if key not in terms:
                continue
            value = np.asarray(data[key], dtype=np.float32)
            if value.ndim < 1 or value[0].size != terms[key].size:
                raise ValueError(
                    f"{path}: array {key!r} must be (N, *{terms[key].shape}) or (N, {terms[key].size}), "
                    f"got shape {value.shape}"
                )
            out[key] = torch.from_numpy(value.reshape(value.shape[0], *terms[key].shape).copy())
    if not out:
        raise ValueError(f"{path}: no array is named after a term of contract {contract.name!r}")
    rows = {k: v.shape[0] for k, v in out.items()}
    if len(set(rows.values())) != 1:
        raise ValueError(f"{path}: arrays have different row counts {rows}")
    return out


def _proprio(contract: ObservationContract, obs: Mapping[str, Tensor]) -> Tensor:
    return torch.cat([obs[t.name].reshape(obs[t.name].shape[0], -1) for t in contract.proprioception], dim=-1)


def _numpy(obs: Mapping[str, Tensor]) -> dict[str, np.ndarray]:
    return {k: v.numpy() for k, v in obs.items()}


def _missing(exported: ExportedPolicy, obs: Mapping[str, Tensor], policy: UniversalTokenPolicy) -> list[str]:
    """Terms the file (or its torch reference) needs that ``obs`` lacks."""
    meta = exported.metadata
    needed = {s.name for s in meta.input_layout} - {"mode_id", "encoder_index", TOKEN_TERM}
    missing = sorted(needed - set(obs))
    if meta.file_kind == "decoder" and not _available_encoders(policy, obs):
        missing.append("(the terms of at least one encoder, for its tokens)")
    return missing


def _available_encoders(policy: UniversalTokenPolicy, obs: Mapping[str, Tensor]) -> list[str]:
    return [n for n in policy.encoder_names if set(policy.contract.encoder(n).inputs) <= set(obs)]


@torch.no_grad()
def _compare(
    policy: UniversalTokenPolicy, exported: ExportedPolicy, obs: Mapping[str, Tensor]
) -> tuple[int, float, float]:
    """(runs, max output error, max action error) of one file on one observation set."""
    meta = exported.metadata
    proprio = _proprio(policy.contract, obs)
    arrays = _numpy(obs)
    if meta.file_kind == "encoder_decoder":
        _, token = policy.encode(meta.encoder, obs)
        expected = policy.decode(token, proprio)
        got = torch.from_numpy(exported.run(exported.assemble(arrays)))
        err = float((got - expected).abs().max())
        return got.shape[0], err, err
    runs, out_err, act_err = 0, 0.0, 0.0
    for name in _available_encoders(policy, obs):
        _, token = policy.encode(name, obs)
        expected_action = policy.decode(token, proprio)
        if meta.file_kind == "encoder":
            got_token = torch.from_numpy(exported.run(exported.assemble(arrays, meta.mode_ids[name])))
            out_err = max(out_err, float((got_token - token).abs().max()))
            got_action = policy.decode(got_token, proprio)
        else:
            inputs = exported.assemble({TOKEN_TERM: token.numpy(), **arrays})
            got_action = torch.from_numpy(exported.run(inputs))
            out_err = max(out_err, float((got_action - expected_action).abs().max()))
        act_err = max(act_err, float((got_action - expected_action).abs().max()))
        runs += token.shape[0]
    return runs, out_err, act_err


def verify(
    policy: UniversalTokenPolicy | Mapping[str, Any],
    files: Sequence[str | Path],
    recorded: str | Path | None = None,
    num_random: int = 16,
    seed: int = 0,
) -> list[VerifyResult]:
    """Compare exported files against the torch policy on random and recorded observations.

    Args:
        policy: the torch policy, or the ``policy`` part of its checkpoint.
        files: exported ``.onnx`` files of that policy (fp32 or int8).
        recorded: optional ``.npz`` of contract-named observation arrays.
        num_random: number of random observation rows.
        seed: seed of the random rows.

    Returns:
        One result per file and input set; a file whose terms are absent from the recording is
        reported as skipped.

    Raises:
        ContractMismatchError: a file was exported for another contract.
    """
    if not isinstance(policy, UniversalTokenPolicy):
        policy = loaded_from_policy_part(policy, source="verify: policy part").policy
    policy = policy.eval()
    contract = policy.contract
    sets = [("random", random_observations(contract, num_random, seed))]
    if recorded is not None:
        sets.append((Path(recorded).name, load_recorded(recorded, contract)))
    results: list[VerifyResult] = []
    for path in files:
        exported = load(path, expected_contract=contract)
        precision = exported.metadata.precision
        tolerance = FP32_TOLERANCE if precision == "fp32" else INT8_TOLERANCE
        for label, obs in sets:
            missing = _missing(exported, obs, policy)
            if missing:
                skipped = f"terms {missing} are not in the inputs"
                results.append(
                    VerifyResult(Path(path).name, precision, label, 0, 0.0, 0.0, tolerance, True, skipped)
                )
                continue
            runs, out_err, act_err = _compare(policy, exported, obs)
            criterion = out_err if precision == "fp32" else act_err
            results.append(
                VerifyResult(
                    Path(path).name,
                    precision,
                    label,
                    runs,
                    out_err,
                    act_err,
                    tolerance,
                    criterion < tolerance,
                )
            )
    return results
