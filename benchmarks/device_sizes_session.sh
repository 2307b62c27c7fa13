#!/usr/bin/env bash
# One GPU call: issue 15's end-to-end table at 1,024 / 4,096 / 8,192 envs with the current code, every CUDA graph
# on (sonic_release, TF32 + bf16), with the env alone (train_throughput.py) and the physics alone (env_step.py
# minimal_varied) at the same sizes in the same call, so the ratios compare; then the preset's own trimesh terrain
# at 4,096 (graphs with Newton's collision pipeline). Written in session 5, run in session 6 (benchmarks/README.md).
#
#   bash benchmarks/device_sizes_session.sh "$OUT"       # on the GPU machine, after staging
set -uo pipefail
out=$1
source "$(dirname "$0")/device_prelude.sh" && device_prelude "$out" sonic_sizes_
timeout 150 python benchmarks/env_step.py --device cuda:0 --variant minimal_varied --num-envs 1024 4096 8192 \
    --steps 50 --warmup 10 --probe 2 --data "$data" >"$out/env_step.txt" 2>&1
train=(--exp sonic_release --tf32 --bf16 --cuda-graphs --data "$data")
timeout 260 python benchmarks/train_throughput.py "${train[@]}" --num-envs 1024 4096 8192 \
    --override ++manager_env.config.terrain_type=plane >"$out/train.txt" 2>&1
timeout 150 python benchmarks/train_throughput.py "${train[@]}" --num-envs 4096 >>"$out/train.txt" 2>&1  # trimesh
grep -h "RESULT\|^{" "$out"/*.txt | sed 's/^RESULT //' | cut -c1-600
grep -h -B2 -A12 "Traceback" "$out"/*.txt | tail -30
