#!/usr/bin/env bash
# One GPU call: the env step and the training iteration of this tree against an older tree (issues 14/15).
#
#   git archive <base> packages/sonic-data/src packages/sonic-env/src | tar -x -C .bench_base   # here
#   bash benchmarks/device_overlap_session.sh .bench_base "$OUT"                                 # there
#
# Prints JSON lines (also written under OUT): env_step full env on the plane at 4,096 and 8,192 envs (new,
# then the base tree's sonic-data/sonic-env first on PYTHONPATH), hfield at 4,096 (new), the per-manager
# sections at 4,096, and train_throughput at 4,096 envs for sonic_release (TF32 + bf16) and single_gpu.
set -uo pipefail
base=$1
out=$2
source "$(dirname "$0")/device_prelude.sh" && device_prelude "$out" sonic_overlap_
step=(--device cuda:0 --terrain plane --variant full --steps 50 --warmup 10 --probe 2 --data "$data")
python benchmarks/env_step.py --num-envs 4096 8192 "${step[@]}" 2>"$out/env_new.err" | tee "$out/env_new.jsonl"
PYTHONPATH="$base/packages/sonic-env/src:$base/packages/sonic-data/src:${PYTHONPATH:-}" \
    python benchmarks/env_step.py --num-envs 4096 8192 "${step[@]}" 2>"$out/env_base.err" | tee "$out/env_base.jsonl"
python benchmarks/env_step.py --num-envs 4096 --device cuda:0 --terrain hfield --variant full --steps 50 --warmup 10 \
    --probe 2 --data "$data" 2>>"$out/env_new.err" | tee -a "$out/env_new.jsonl"
python benchmarks/env_profile.py --device cuda:0 --num-envs 4096 --steps 30 --mode sections --data "$data" \
    2>"$out/sections.err" | grep '^{' | tee "$out/sections.jsonl"
python benchmarks/train_throughput.py --num-envs 4096 --exp sonic_release --tf32 --bf16 --data "$data" \
    2>"$out/train.err" | tee "$out/train.jsonl"
python benchmarks/train_throughput.py --num-envs 4096 --exp single_gpu --tf32 --data "$data" \
    2>>"$out/train.err" | tee -a "$out/train.jsonl"
