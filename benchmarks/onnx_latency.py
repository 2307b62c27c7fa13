"""CPU latency of SONIC's exported ONNX files at release size, batch 1, one thread (JSON lines).

Exports a ``sonic_release`` policy with random weights (the timing does not depend on the values)
to a temporary folder, fp32 and int8, then times:

* ``_g1.onnx``: g1 encoder + ``g1_dyn`` decoder in one graph (≈14.4M parameters, ≈58 MB fp32);
* ``_encoder.onnx`` + ``_decoder.onnx``: SONIC's deploy pattern (all three encoders run, then the
  decoder), one step = both runs;
* ``_decoder.onnx`` alone.

It also prints the int8 files' max action error against the fp32 torch policy on random
observations (``sonic_export.verify``), and for the int8 encoder + decoder pair end to end.

Usage::

    .venv/bin/python benchmarks/onnx_latency.py [--iterations 500] [--preset sonic_release]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from sonic_env.policy_io import g1_policy_io
from sonic_export import (
    bench_chain,
    bench_file,
    export,
    load,
    machine_description,
    random_observations,
    verify,
)
from sonic_model import UniversalTokenPolicy, policy_checkpoint, preset


@torch.no_grad()
def pair_action_error(
    policy: UniversalTokenPolicy, encoder_path: Path, decoder_path: Path, n: int
) -> tuple[float, float]:
    """(max |action error|, max |action|) of an encoder file + decoder file chain against torch, all modes.

    The second figure puts the first in scale: random-weight policies output small actions.
    """
    encoder, decoder = load(encoder_path), load(decoder_path)
    obs = random_observations(policy.contract, n, seed=11)
    arrays = {k: v.numpy() for k, v in obs.items()}
    proprio = torch.cat([obs[t.name] for t in policy.contract.proprioception], dim=-1)
    worst = scale = 0.0
    for name, mode in encoder.metadata.mode_ids.items():
        tokens = encoder.run(encoder.assemble(arrays, mode_id=mode))
        got = decoder.run(decoder.assemble({"encoded_tokens": tokens, **arrays}))
        expected = policy.decode(policy.encode(name, obs)[1], proprio).numpy()
        worst = max(worst, float(np.abs(got - expected).max()))
        scale = max(scale, float(np.abs(expected).max()))
    return worst, scale


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--preset", default="sonic_release", help="Model preset to export (default sonic_release)."
    )
    parser.add_argument("--iterations", type=int, default=500, help="Timed runs per file.")
    parser.add_argument("--samples", type=int, default=32, help="Random observation rows for the int8 error.")
    args = parser.parse_args()

    torch.manual_seed(0)
    p = preset(args.preset)
    policy = UniversalTokenPolicy(p.model, p.contract, with_critic=False).eval()
    counts = policy.parameter_counts()
    machine = machine_description()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        files = export(policy_checkpoint(policy, g1_policy_io())["policy"], Path(tmp), "model", int8=True)
        export_s = time.perf_counter() - start
        print(json.dumps({
            "benchmark": "onnx_export", "preset": args.preset, "export_s_fp32_and_int8": round(export_s, 1),
            "g1_file_params_M": round((counts["encoder/g1"] + counts["decoder/g1_dyn"]) / 1e6, 3),
            "file_MB": {f"{k}/{n}": round(v.stat().st_size / 1e6, 1)
                        for k, d in (("fp32", files.fp32), ("int8", files.int8)) for n, v in d.items()},
            "machine": machine,
        }))  # fmt: skip
        for d in (files.fp32, files.int8):
            for result in (
                bench_file(d["g1"], args.iterations),
                bench_chain(d["encoder"], d["decoder"], mode_id=0, iterations=args.iterations),
                bench_file(d["decoder"], args.iterations),
            ):
                print(json.dumps({**result.as_dict(), "preset": args.preset}))
        for r in verify(policy, list(files.int8.values()), num_random=args.samples):
            print(json.dumps({"benchmark": "onnx_int8_error", "preset": args.preset, "file": r.file,
                              "max_action_err": r.max_action_err, "max_output_err": r.max_abs_err,
                              "samples": r.samples, "within_1e-2": r.passed}))  # fmt: skip
        for precision, d in (("fp32", files.fp32), ("int8", files.int8)):
            err, scale = pair_action_error(policy, d["encoder"], d["decoder"], args.samples)
            print(json.dumps({"benchmark": "onnx_pair_error", "preset": args.preset, "precision": precision,
                              "files": "encoder+decoder", "max_action_err": err, "max_abs_action_torch": scale,
                              "samples": args.samples}))  # fmt: skip


if __name__ == "__main__":
    main()
