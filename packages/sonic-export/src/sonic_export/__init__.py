"""sonic_export: SONIC-compatible ONNX files with a checked observation contract (packages/sonic-export/README.md).

Depends on sonic-model, onnx and onnxruntime only: neither the robot package nor the simulator.
"""

from __future__ import annotations

from sonic_export.bench import BenchResult, bench, bench_chain, bench_file, machine_description
from sonic_export.export import ExportResult, default_out_dir, export, export_checkpoint
from sonic_export.layout import InputSlot, encoder_file_terms, file_to_network_index, input_layout
from sonic_export.metadata import METADATA_VERSION, ExportMetadata, MetadataError, from_props
from sonic_export.quantize import quantize_int8
from sonic_export.runtime import ExportedPolicy, load, read_metadata
from sonic_export.verify import (
    FP32_TOLERANCE,
    INT8_TOLERANCE,
    VerifyResult,
    load_recorded,
    random_observations,
    verify,
)

__version__ = "0.1.0"

__all__ = [
    "FP32_TOLERANCE",
    "INT8_TOLERANCE",
    "METADATA_VERSION",
    "VerifyResult",
    "BenchResult",
    "ExportMetadata",
    "ExportResult",
    "ExportedPolicy",
    "InputSlot",
    "MetadataError",
    "bench",
    "bench_chain",
    "bench_file",
    "default_out_dir",
    "encoder_file_terms",
    "export",
    "export_checkpoint",
    "file_to_network_index",
    "from_props",
    "input_layout",
    "load",
    "load_recorded",
    "machine_description",
    "quantize_int8",
    "random_observations",
    "read_metadata",
    "verify",
]
