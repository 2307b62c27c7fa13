#!/usr/bin/env bash
# One GPU call: the CUDA-graphed learning phase against eager, then end-to-end training (issue 15).
#
#   bash benchmarks/device_learn_session.sh "$OUT"       # on the GPU machine, after staging
#
# Prints JSON lines (also written under OUT): learn_speed.py at 4,096 envs (single_gpu TF32 and
# sonic_release TF32 + bf16, eager and graphed, same start parameters and rollout), the GPU-only tests of
# the optimiser and the learner, and train_throughput.py at 4,096 envs with every CUDA graph on (sonic_release
# also with mjlab's solver caps, 10 / 20).
set -uo pipefail
out=$1
mkdir -p "$out"
export WARP_CACHE_PATH=${WARP_CACHE_PATH:-/tmp/sonic-warp-cache}
(cd benchmarks && timeout 150 python learn_speed.py --device cuda:0 --envs 4096 --iterations 5 --warmup 2 \
    --configs single_gpu:tf32 single_gpu:tf32:graphs sonic_release:tf32:bf16 sonic_release:tf32:bf16:graphs \
    sonic_release:tf32:graphs) >"$out/learn.txt" 2>&1
timeout 90 python -m pytest -q --import-mode=importlib -m gpu -p no:cacheprovider tests/train/test_kl_schedule.py \
    tests/train/test_trainer.py >"$out/gpu_tests.txt" 2>&1
data=$(python -c "import sys; sys.path.insert(0, 'benchmarks'); from env_step import sample_data; print(sample_data(None, 'sonic_learn_'))" | tail -1)
train=(--num-envs 4096 --data "$data" --cuda-graphs)
timeout 130 python benchmarks/train_throughput.py --exp single_gpu --tf32 "${train[@]}" >"$out/train.txt" 2>&1
timeout 100 python benchmarks/train_throughput.py --exp sonic_release --tf32 --bf16 "${train[@]}" >>"$out/train.txt" 2>&1
timeout 100 python benchmarks/train_throughput.py --exp sonic_release --tf32 --bf16 "${train[@]}" \
    --override ++manager_env.sim.iterations=10 ++manager_env.sim.ls_iterations=20 >>"$out/train.txt" 2>&1
grep -h "RESULT\|^{" "$out"/*.txt | sed 's/^RESULT //'
tail -3 "$out/gpu_tests.txt"
grep -h -B2 -A12 "Traceback" "$out"/*.txt | tail -40
