"""``sonic-convert-gear-sonic <in.pt> <out.pt> [--preset NAME]``: a GEAR-SONIC checkpoint to our format.

Writes ``{format_version, policy, critic}`` (what sonic-model's ``save_policy`` writes) atomically, so
``load_policy``, ``sonic-export`` and ``+checkpoint=`` read the result. See :mod:`sonic_train.gear_sonic`
for the key mapping, which is assumed rather than verified against a real GEAR-SONIC file.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from sonic_model import PRESETS
from sonic_train.gear_sonic import GearSonicImportError, convert_gear_sonic_file

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The command's argument parser."""
    parser = argparse.ArgumentParser(
        prog="sonic-convert-gear-sonic",
        description=(
            "Convert a GEAR-SONIC checkpoint (policy_state_dict / value_state_dict) to sonic's checkpoint "
            "format. The preset is inferred from the shapes (soma encoder or 4096-wide g1_dyn -> "
            "sonic_bones_seed, else sonic_release) unless --preset is given; PolicyIO comes from "
            "sonic_data.g1. The GEAR-SONIC key layout is assumed, not verified against a real checkpoint: "
            "any unmapped, missing or mis-shaped key is refused and listed."
        ),
    )
    parser.add_argument("input", help="GEAR-SONIC .pt file (e.g. sonic_release/last.pt)")
    parser.add_argument("output", help="where to write the converted checkpoint (.pt)")
    parser.add_argument(
        "--preset",
        default=None,
        help=f"layout to use instead of inferring it: one of {sorted(PRESETS)} (or an +exp= path ending in one); "
        "hidden widths are always read from the file",
    )
    parser.add_argument(
        "--refuse-pickled-classes",
        action="store_true",
        help="fail if the file pickles Python classes (by default they are loaded as inert stand-ins and "
        "dropped; no pickled code runs either way)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (0 ok, 1 conversion refused, 2 bad arguments)."""
    args = build_parser().parse_args(argv)
    try:
        result = convert_gear_sonic_file(
            args.input, args.output, args.preset, allow_pickled_classes=not args.refuse_pickled_classes
        )
    except (GearSonicImportError, FileNotFoundError) as err:
        print(f"sonic-convert-gear-sonic: {err}", file=sys.stderr)
        return 1
    cfg = result.model_config
    print(f"preset {result.preset} ({result.preset_reason})")
    print(
        f"encoders {list(cfg.encoders)}; hidden widths: encoders {list(cfg.encoder_hidden)}, "
        f"g1_dyn {list(cfg.g1_dyn_hidden)}, g1_kin {list(cfg.g1_kin_hidden)}, critic {list(cfg.critic_hidden)}"
    )
    if result.ignored_keys:
        print(f"ignored FSQ buffers: {', '.join(result.ignored_keys)}")
    if result.opaque_globals:
        print(f"pickled objects not loaded (trainer state, dropped): {', '.join(result.opaque_globals)}")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
