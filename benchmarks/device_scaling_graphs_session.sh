#!/usr/bin/env bash
# One GPU call on a 4-GPU host (session 5): data-parallel scaling of sonic_release with every CUDA graph on
# (env step, rollout act, learner), TF32 + bf16 learning, 4,096 envs per GPU, on 1, 2 and 4 GPUs in turn,
# with the ranks' sync check (issue 15).
#
#   bash benchmarks/device_scaling_graphs_session.sh "$OUT"       # on the GPU machine, after staging
set -uo pipefail
out=$1
source "$(dirname "$0")/device_prelude.sh" && device_prelude "$out" sonic_scaling_
# Compile Warp's kernels once before the timed runs (4 ranks would otherwise compile them together).
timeout 150 python benchmarks/env_step.py --device cuda:0 --variant full --num-envs 64 --steps 2 --warmup 1 \
    --probe 1 --data "$data" >"$out/warm.txt" 2>&1
python benchmarks/train_scaling.py --gpus 1 2 4 --iterations 20 --skip 5 --exp sonic_release --num-envs 4096 \
    --data "$data" --extra tf32=True bf16=True ++manager_env.cuda_graphs=True --timeout 170 --out "$out" \
    | tee "$out/scaling.jsonl"
grep -h -B2 -A12 "Traceback" "$out"/*.log 2>/dev/null | tail -30
