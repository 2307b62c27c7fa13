#!/usr/bin/env bash
# GPU calls of session 8: the terms through torch.compile (EnvConfig.compile_terms, sonic_env.compiled_terms) in the
# graphed full env, against the graphed env without it and the minimal env (issue 14's ratio), each part one call.
#   part 1: env_step.py minimal_varied, full (every CUDA graph) and full with --compile-terms at 4,096 envs on the
#           plane, with the GPU split (physics / rest);
#   part 2: after the termination manager, the command's advance and the masked reset's bookkeeping were compiled
#           too: minimal_varied and full --compile-terms at 4,096 and 8,192 envs, full without it at 4,096 (plane);
#   part 3: the same pair on the sampled height field; sonic_release training end to end with compile_terms.
#   part 4: after the reward manager's compute and the command's prepare_resets were compiled too: minimal_varied
#           and full --compile-terms at 4,096 envs (plane), then the training line again.
#
#   bash benchmarks/device_compile_session.sh 1 "$OUT"    # on the GPU machine, after staging
set -uo pipefail
part=$1
out=$2
source "$(dirname "$0")/device_prelude.sh" && device_prelude "$out" sonic_compile_
step=(python benchmarks/env_step.py --device cuda:0 --data "$data" --warmup 10 --probe 3 --steps 40)
train=(python benchmarks/train_throughput.py --exp sonic_release --tf32 --bf16 --cuda-graphs --compile-terms --data "$data"
    --num-envs 4096 --override ++manager_env.config.terrain_type=plane)
if [ "$part" = 1 ]; then
    python -c "import torch, triton; print('torch', torch.__version__, 'triton', triton.__version__)" 2>&1 | tail -1
    timeout 200 "${step[@]}" --variant minimal_varied full --cuda-graphs --num-envs 4096 --terrain plane \
        >"$out/compile.txt" 2>&1
    timeout 300 "${step[@]}" --variant full --cuda-graphs --compile-terms --num-envs 4096 --terrain plane \
        >>"$out/compile.txt" 2>&1
elif [ "$part" = 2 ]; then
    timeout 250 "${step[@]}" --variant minimal_varied full --cuda-graphs --compile-terms --num-envs 4096 8192 \
        --terrain plane >"$out/compile2.txt" 2>&1
    timeout 100 "${step[@]}" --variant full --cuda-graphs --num-envs 4096 --terrain plane >>"$out/compile2.txt" 2>&1
elif [ "$part" = 3 ]; then
    timeout 250 "${step[@]}" --variant minimal_varied full --cuda-graphs --compile-terms --num-envs 4096 \
        --terrain hfield >"$out/hfield.txt" 2>&1
    timeout 200 "${train[@]}" >"$out/train.txt" 2>&1
elif [ "$part" = 4 ]; then
    timeout 300 "${step[@]}" --variant minimal_varied full --cuda-graphs --compile-terms --num-envs 4096 \
        --terrain plane >"$out/compile4.txt" 2>&1
    timeout 170 "${train[@]}" >"$out/train4.txt" 2>&1
fi
python benchmarks/summarize_results.py "$out"/*.txt
grep -h -B2 -A12 "Traceback" "$out"/*.txt | tail -30
