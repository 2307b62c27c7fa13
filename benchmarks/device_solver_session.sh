#!/usr/bin/env bash
# One GPU call: what the solver's iterations cost (issue 14), at 4,096 envs on the plane.
#
#   bash benchmarks/device_solver_session.sh "$OUT"       # on the GPU machine, after staging
#
# env_step.py: the minimal env with identical worlds (the old best case) and with per-world joint
# offsets, the graphed full env with Isaac Lab's solver caps (100 / 50) and with mjlab's (10 / 20); each
# line's peak_usage has the busiest world's solver iterations, and mean_reward / done_rate.
set -uo pipefail
out=$1
source "$(dirname "$0")/device_prelude.sh" && device_prelude "$out" sonic_solver_
echo "$data" >"$out/data_dir.txt"
step=(--device cuda:0 --terrain plane --num-envs 4096 --steps 50 --warmup 10 --probe 5 --data "$data")
timeout 280 python benchmarks/env_step.py --variant minimal minimal_varied "${step[@]}" >"$out/env_step.txt" 2>&1
timeout 120 python benchmarks/env_step.py --variant full --cuda-graphs "${step[@]}" >>"$out/env_step.txt" 2>&1
timeout 150 python benchmarks/env_step.py --variant full minimal_varied --cuda-graphs --solver-iterations 10 20 \
    "${step[@]}" >>"$out/env_step.txt" 2>&1
grep -h "^{" "$out"/env_step.txt
grep -h -B2 -A12 "Traceback" "$out"/*.txt | tail -40
