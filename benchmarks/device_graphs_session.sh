#!/usr/bin/env bash
# One GPU call: CUDA graphs of the env step and the rollout's act against eager (issues 14/15).
#
#   bash benchmarks/device_graphs_session.sh "$OUT"       # on the GPU machine, after staging
#
# Prints JSON lines (also written under OUT): env_graphs.py (exactness against eager, training-mode
# sanity, speed at 4,096 envs), env_step.py for the minimal env and the graphed full env at 4,096 and
# 8,192 envs, and train_throughput.py at 4,096 envs: single_gpu (TF32) eager and graphed, sonic_release
# (TF32 + bf16) graphed.
set -uo pipefail
out=$1
source "$(dirname "$0")/device_prelude.sh" && device_prelude "$out" sonic_graphs_
timeout 240 python benchmarks/env_graphs.py --device cuda:0 --checks exact train speed --steps 120 --data "$data" \
    >"$out/graphs.txt" 2>&1
step=(--device cuda:0 --terrain plane --steps 50 --warmup 10 --probe 2 --data "$data")
timeout 60 python benchmarks/env_step.py --num-envs 4096 --variant minimal "${step[@]}" >"$out/env_step.txt" 2>&1
timeout 90 python benchmarks/env_step.py --num-envs 4096 8192 --variant full --cuda-graphs "${step[@]}" \
    >>"$out/env_step.txt" 2>&1
train=(--num-envs 4096 --data "$data")
timeout 100 python benchmarks/train_throughput.py --exp single_gpu --tf32 "${train[@]}" >"$out/train.txt" 2>&1
timeout 100 python benchmarks/train_throughput.py --exp single_gpu --tf32 --cuda-graphs "${train[@]}" >>"$out/train.txt" 2>&1
timeout 100 python benchmarks/train_throughput.py --exp sonic_release --tf32 --bf16 --cuda-graphs "${train[@]}" \
    >>"$out/train.txt" 2>&1
grep -h "RESULT\|^{" "$out"/*.txt | sed 's/^RESULT //'
grep -h -B2 -A12 "Traceback" "$out"/*.txt | tail -40
