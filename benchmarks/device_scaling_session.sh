#!/usr/bin/env bash
# Issue 15's training figures in one device call on a multi-GPU host (after staging the simulator; see
# benchmarks/README.md): data-parallel scaling of sonic_release at 4,096 envs per GPU on 1, 2 and 4 GPUs
# (train_scaling.py, tf32=True), then end-to-end throughput on one GPU in fp32, TF32 and TF32 + bf16 learning
# (train_throughput.py). Writes JSON lines to $OUT (or ./device_out).
# usage: bash benchmarks/device_scaling_session.sh [DATA_DIR] [GPU COUNTS, e.g. "1 2 4"] [ITERATIONS]
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-device_out}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
data=${1:-/tmp/sonic_bench_data}
gpus=${2:-1 2 4}
iterations=${3:-25}
[ -d "$data/robot_filtered" ] || python -m sonic_data.cli make-samples --output "$data" --pipeline >/dev/null
nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader | tee "$out/gpus.txt"
status=0
# shellcheck disable=SC2086  # the GPU counts are words
python benchmarks/train_scaling.py --gpus $gpus --iterations "$iterations" --skip 5 --exp sonic_release \
    --num-envs 4096 --data "$data" --extra tf32=True --timeout 240 --out "$out" | tee "$out/scaling.jsonl" || status=1
for flags in "" "--tf32" "--tf32 --bf16"; do
    # shellcheck disable=SC2086
    timeout 150 python benchmarks/train_throughput.py --device cuda:0 --num-envs 4096 --iterations 3 --warmup 2 \
        --data "$data" $flags | tee -a "$out/train_throughput.jsonl" || status=1
done
exit $status
