"""``sonic-export <checkpoint>``: write SONIC's ONNX files beside a checkpoint, optionally verify and time them.

Examples::

    sonic-export logs_rl/TRL_G1_Track/run/model_step_002000.pt            # -> run/exported/model_step_002000_*.onnx
    sonic-export model_step_002000.pt --int8 --verify --recorded obs.npz --bench

Exit status: 0 on success; 1 if a verification failed; 2 for a missing or malformed checkpoint.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from sonic_export.bench import bench
from sonic_export.export import default_out_dir, export_checkpoint
from sonic_export.verify import verify
from sonic_model import CheckpointError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (every option documented in its help)."""
    parser = argparse.ArgumentParser(
        prog="sonic-export",
        description="Export a SONIC checkpoint to ONNX files (opset 13, batch 1, input 'obs_dict') with "
        "observation-contract metadata: <stem>_{g1,teleop,smpl[,soma],encoder,decoder}.onnx.",
    )
    parser.add_argument(
        "checkpoint", type=Path, help="Checkpoint file with a 'policy' part (save_policy / sonic-train)."
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=None,
        help="Output folder (default: 'exported/' beside the checkpoint).",
    )
    parser.add_argument("--name", default=None, help="File stem (default: the checkpoint's stem).")
    parser.add_argument(
        "--int8",
        action="store_true",
        help="Also write int8 dynamically quantised copies under <out-dir>/int8/.",
    )
    parser.add_argument("--verify", action="store_true", help="Compare onnxruntime against torch afterwards.")
    parser.add_argument(
        "--recorded", type=Path, default=None, help="With --verify: an .npz of contract-named observations."
    )
    parser.add_argument("--num-random", type=int, default=16, help="With --verify: random observation rows.")
    parser.add_argument(
        "--bench", action="store_true", help="Print CPU latency (batch 1, one thread) as JSON lines."
    )
    parser.add_argument(
        "--bench-iterations", type=int, default=300, help="With --bench: timed runs per file."
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        result = export_checkpoint(
            args.checkpoint, args.out_dir or default_out_dir(args.checkpoint), args.name, args.int8
        )
    except (FileNotFoundError, CheckpointError) as exc:
        print(f"sonic-export: {exc}", file=sys.stderr)
        return 2
    for path in result.all_paths():
        print(f"wrote {path}")
    status = 0
    if args.verify:
        policy_part = torch.load(args.checkpoint, map_location="cpu", weights_only=True)["policy"]
        for r in verify(policy_part, result.all_paths(), args.recorded, num_random=args.num_random):
            print(r.line())
            status = status if r.passed else 1
    if args.bench:
        for b in bench(result.all_paths(), iterations=args.bench_iterations):
            print(json.dumps(b.as_dict()))
    return status
