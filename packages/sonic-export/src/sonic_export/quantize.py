"""Reduced-precision copies of exported files: int8 weights by onnxruntime's dynamic quantisation.

At batch 1 the release-size g1 encoder + ``g1_dyn`` (≈14M parameters, ≈58 MB in fp32) is bound by
memory traffic, not arithmetic; int8 weights cut that traffic by four and let the whole network sit
in a typical server L3 cache. ``onnxruntime.quantization.quantize_dynamic`` stores every MatMul/Gemm
weight as int8 (per tensor, symmetric) and quantises activations to uint8 on the fly, per call. The
FSQ and SiLU stay fp32. The fp32 file stays the reference; ``verify`` reports the action error of
the int8 file against it.

fp16 is not offered: onnxruntime's x86 CPU provider has no fp16 matrix kernels, so fp16 weights
would be cast back to fp32 when the session is built and save nothing at run time.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import onnx
from onnxruntime.quantization import QuantType, quantize_dynamic

from sonic_export.metadata import from_props


def quantize_int8(src: str | Path, dst: str | Path) -> Path:
    """Write an int8 dynamically quantised copy of exported file ``src`` to ``dst`` (atomically).

    The copy keeps the input/output names and shapes and the ``sonic.*`` metadata, with
    ``sonic.precision`` set to ``int8``.
    """
    src, dst = Path(src), Path(dst)
    model = onnx.load(src)
    meta = from_props({p.key: p.value for p in model.metadata_props}, str(src))
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.tmp-{os.getpid()}")
    root = logging.getLogger()
    level = root.level
    try:
        # quantize_dynamic logs a root-level hint to run its pre-processing (shape inference and graph
        # fusions, aimed at convolutional nets); the MLP graphs here are already plain Gemm chains.
        root.setLevel(logging.ERROR)
        quantize_dynamic(src, tmp, weight_type=QuantType.QInt8)
        root.setLevel(level)
        quantized = onnx.load(tmp)
        kept = {p.key: p.value for p in quantized.metadata_props if not p.key.startswith("sonic.")}
        props = meta.model_copy(update={"precision": "int8"}).to_props()
        onnx.helper.set_model_props(quantized, kept | props)
        onnx.save(quantized, tmp)
        os.replace(tmp, dst)
    finally:
        root.setLevel(level)
        if tmp.exists():
            tmp.unlink()
    return dst
