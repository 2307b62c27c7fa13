#!/usr/bin/env bash
# One GPU call (session 5): the graphed step with its kinematics settled per segment against Isaac Lab's
# rerun-at-every-read (SonicRLEnv.settle_kinematics), correctness against eager, then speed at 4,096 envs.
#
#   bash benchmarks/device_kinematics_session.sh "$OUT"       # on the GPU machine, after staging
set -uo pipefail
out=$1
mkdir -p "$out"
export WARP_CACHE_PATH=${WARP_CACHE_PATH:-/tmp/sonic-warp-cache}
data=$(python -c "import sys; sys.path.insert(0, 'benchmarks'); from env_step import sample_data; print(sample_data(None, 'sonic_kin_'))" | tail -1)
timeout 200 python benchmarks/env_graphs.py --device cuda:0 --checks exact train --steps 120 --data "$data" \
    >"$out/graphs.txt" 2>&1
step=(--device cuda:0 --terrain plane --num-envs 4096 --steps 50 --warmup 10 --probe 2 --data "$data" --variant full --cuda-graphs)
timeout 70 python benchmarks/env_step.py "${step[@]}" >"$out/env_step.txt" 2>&1
timeout 70 python benchmarks/env_step.py "${step[@]}" --isaaclab-replay-kinematics >>"$out/env_step.txt" 2>&1
timeout 70 python benchmarks/env_step.py "${step[@]}" >>"$out/env_step.txt" 2>&1
(cd benchmarks && timeout 60 python learn_speed.py --device cuda:0 --envs 4096 --iterations 1 --warmup 2 \
    --profile 3 --configs single_gpu:tf32:graphs) >"$out/learn.txt" 2>&1
grep -h "RESULT\|^{" "$out"/*.txt | sed 's/^RESULT //' | cut -c1-700
grep -h -B2 -A12 "Traceback" "$out"/*.txt | tail -30
