"""Print the key fields of benchmark JSON lines (``RESULT {...}`` or ``{...}``) from log files, one line each.

The device scripts call it last so that a call's reply ends with a short table; ``kernels_ms_per_policy_step``
(``env_step.py --kernel-profile``) follows on its own line, its first 12 kernels and the total.

Usage::

    python benchmarks/summarize_results.py "$OUT"/*.txt
"""

from __future__ import annotations

import json
import sys

KEEP = (
    "terrain", "variant", "num_envs", "collision", "contact_gap", "env_steps_per_s", "ms_per_policy_step",
    "mean_reward", "done_rate", "peak_usage", "error", "collect_ms_per_iter", "learn_ms_per_iter",
    "env_only_env_steps_per_s", "nonfinite_worlds", "max_root_speed_mps", "peak_gpu_mem_gib", "reset", "settle_kinematics", "overlap_reset_draws", "gpu_ms_per_step",
    "compiled_terms", "warmup_s",
)  # fmt: skip


def main(paths: list[str]) -> None:
    for path in paths:
        with open(path, encoding="utf-8", errors="replace") as file:
            for line in file:
                line = line.removeprefix("RESULT ").strip()
                if not line.startswith("{"):
                    continue
                try:
                    result = json.loads(line)
                except json.JSONDecodeError:
                    continue
                kernels = result.pop("kernels_ms_per_policy_step", None)
                print(json.dumps({key: result[key] for key in KEEP if key in result}))
                if kernels:
                    top = dict(list(kernels.items())[:12])
                    print("  kernels:", json.dumps(top)[:1200], "total", kernels.get("total"))


if __name__ == "__main__":
    main(sys.argv[1:])
