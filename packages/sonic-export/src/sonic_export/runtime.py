"""Load an exported file with onnxruntime, check its contract, and run it.

:func:`load` is the one entry point a deployment or an evaluation script needs: it reads the
``sonic.*`` metadata, checks that the file is what the metadata says (input name and width, output
name), and, given the contract the caller's observations follow, refuses a file built for another
layout, naming every differing term.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort

from sonic_export.metadata import ExportMetadata, MetadataError, from_props
from sonic_model import ContractMismatchError, ObservationContract


def session_options(num_threads: int | None = None) -> ort.SessionOptions:
    """onnxruntime options; ``num_threads`` fixes intra-op threads (1 for deploy-like latency)."""
    options = ort.SessionOptions()
    if num_threads is not None:
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    return options


@dataclass
class ExportedPolicy:
    """An onnxruntime session over one exported file, with its metadata.

    Attributes:
        path: the file.
        session: the onnxruntime session (CPU provider).
        metadata: the file's ``sonic.*`` metadata.
    """

    path: Path
    session: ort.InferenceSession
    metadata: ExportMetadata

    def run(self, obs_dict: np.ndarray) -> np.ndarray:
        """Outputs (N, out) for inputs (N, W) or (W,); the file is batch 1, so rows run one by one."""
        x = np.asarray(obs_dict, dtype=np.float32)
        x = x.reshape(1, -1) if x.ndim == 1 else x
        width = self.metadata.input_width
        if x.ndim != 2 or x.shape[1] != width:
            raise ValueError(f"{self.path.name}: obs_dict must be (N, {width}), got shape {tuple(x.shape)}")
        name = self.metadata.input_name
        rows = [np.asarray(self.session.run(None, {name: x[i : i + 1]})[0]) for i in range(x.shape[0])]
        return np.concatenate(rows, axis=0)

    def assemble(self, arrays: Mapping[str, np.ndarray], mode_id: int | None = None) -> np.ndarray:
        """Build ``obs_dict`` rows (N, W) from contract-named arrays, each (N, *term shape) or (N, width).

        Args:
            arrays: one array per input term of this file (``metadata.input_layout`` names them);
                ``encoder_index`` may be left out (the graphs ignore it; zeros are written).
            mode_id: which encoder's token the ``_encoder`` file outputs (``metadata.mode_ids``);
                required for that file, ignored by the others.
        """
        n = next(iter(arrays.values())).shape[0] if arrays else 1
        parts: list[np.ndarray] = []
        for slot in self.metadata.input_layout:
            if slot.name == "mode_id":
                if mode_id is None:
                    raise ValueError(
                        f"{self.path.name}: the encoder file needs mode_id {self.metadata.mode_ids}"
                    )
                parts.append(np.full((n, 1), float(mode_id), dtype=np.float32))
                continue
            if slot.name not in arrays:
                if slot.name == "encoder_index":
                    parts.append(np.zeros((n, slot.width), dtype=np.float32))
                    continue
                raise KeyError(
                    f"{self.path.name}: input term {slot.name!r} is missing; this file reads "
                    f"{[s.name for s in self.metadata.input_layout]}, got {sorted(arrays)}"
                )
            value = np.asarray(arrays[slot.name], dtype=np.float32)
            if value.shape[0] != n or value[0].size != slot.width:
                raise ValueError(
                    f"{self.path.name}: term {slot.name!r} must be ({n}, {slot.width}) or ({n}, *shape) "
                    f"with {slot.width} values, got shape {value.shape}"
                )
            parts.append(value.reshape(n, slot.width))
        return np.concatenate(parts, axis=1)


def read_metadata(path: str | Path) -> ExportMetadata:
    """The ``sonic.*`` metadata of an ONNX file (weights are not loaded)."""
    model = onnx.load(str(path), load_external_data=False)
    return from_props({p.key: p.value for p in model.metadata_props}, str(path))


def load(
    path: str | Path, expected_contract: ObservationContract | None = None, num_threads: int | None = None
) -> ExportedPolicy:
    """Open an exported file and check it.

    Args:
        path: an ``.onnx`` file written by :func:`sonic_export.export`.
        expected_contract: the layout the caller's observations follow; the file must carry the same.
        num_threads: onnxruntime intra-op threads (None: onnxruntime's default).

    Raises:
        FileNotFoundError: no file at ``path``.
        MetadataError: no or malformed ``sonic.*`` metadata, or a graph that disagrees with it.
        ContractMismatchError: the file's contract differs from ``expected_contract``; each differing
            term is listed.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"sonic_export.load: no ONNX file at {path}")
    meta = read_metadata(path)
    if expected_contract is not None:
        differences = meta.contract.diff(expected_contract)
        if differences:
            raise ContractMismatchError(
                f"{path} (contract {meta.contract.name!r}, 'this') vs the expected contract "
                f"{expected_contract.name!r} ('other')",
                differences,
            )
    session = ort.InferenceSession(
        str(path), session_options(num_threads), providers=["CPUExecutionProvider"]
    )
    inputs, outputs = session.get_inputs(), session.get_outputs()
    expected = [(meta.input_name, [1, meta.input_width]), (meta.output_name, [1, meta.output_width])]
    found = [(inputs[0].name, list(inputs[0].shape)), (outputs[0].name, list(outputs[0].shape))]
    if len(inputs) != 1 or len(outputs) != 1 or found != expected:
        raise MetadataError(
            f"{path}: graph input/output {found} (of {len(inputs)} inputs, {len(outputs)} outputs) "
            f"differ from the metadata {expected}"
        )
    return ExportedPolicy(path=path, session=session, metadata=meta)
