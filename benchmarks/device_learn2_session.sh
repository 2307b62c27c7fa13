#!/usr/bin/env bash
# One GPU call (session 5, second machine): the learning phase eager against CUDA graphs, profiled, and the
# minimal env with per-world variety at the default solver caps (issues 14 / 15).
#
#   bash benchmarks/device_learn2_session.sh "$OUT"       # on the GPU machine, after staging
set -uo pipefail
out=$1
mkdir -p "$out"
export WARP_CACHE_PATH=${WARP_CACHE_PATH:-/tmp/sonic-warp-cache}
(cd benchmarks && timeout 200 python learn_speed.py --device cuda:0 --envs 4096 --iterations 5 --warmup 2 \
    --profile 12 --configs single_gpu:tf32 single_gpu:tf32:graphs sonic_release:tf32:bf16 \
    sonic_release:tf32:bf16:graphs) >"$out/learn.txt" 2>&1
data=$(python -c "import sys; sys.path.insert(0, 'benchmarks'); from env_step import sample_data; print(sample_data(None, 'sonic_learn2_'))" | tail -1)
step=(--device cuda:0 --terrain plane --steps 50 --warmup 10 --probe 5 --data "$data")
timeout 240 python benchmarks/env_step.py --variant minimal_varied --num-envs 4096 8192 "${step[@]}" \
    >"$out/env_step.txt" 2>&1
timeout 90 python benchmarks/env_step.py --variant full --cuda-graphs --num-envs 8192 "${step[@]}" \
    >>"$out/env_step.txt" 2>&1
grep -h "^{" "$out"/*.txt
grep -h -B2 -A12 "Traceback" "$out"/*.txt | tail -40
