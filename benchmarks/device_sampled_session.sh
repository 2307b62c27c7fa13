#!/usr/bin/env bash
# One GPU call (session 6): the sampled heightfield contacts (EnvConfig.sim.collision="sampled", hfield terrain)
# against the plane and trimesh (contact gap 0, the new default), physics alone with the top kernels, the full env
# with every CUDA graph, and sonic_release training end to end on the sampled hfield. (Its session-6 run lost the
# plane line: the first build compiles Warp's kernels and its timeout was 150 s then.)
#
#   bash benchmarks/device_sampled_session.sh "$OUT"     # on the GPU machine, after staging
set -uo pipefail
out=$1
source "$(dirname "$0")/device_prelude.sh" && device_prelude "$out" sonic_sampled_
step=(python benchmarks/env_step.py --device cuda:0 --data "$data" --warmup 10 --probe 5 --steps 30)
timeout 220 "${step[@]}" --variant minimal_varied --num-envs 4096 --terrain plane --kernel-profile 3 >"$out/physics.txt" 2>&1
timeout 100 "${step[@]}" --variant minimal_varied --num-envs 4096 8192 --terrain hfield --collision sampled \
    --kernel-profile 3 >>"$out/physics.txt" 2>&1
timeout 120 "${step[@]}" --variant full --cuda-graphs --num-envs 4096 8192 --terrain hfield --collision sampled \
    >"$out/full.txt" 2>&1
timeout 90 "${step[@]}" --variant full --cuda-graphs --num-envs 4096 --terrain trimesh >>"$out/full.txt" 2>&1
timeout 120 python benchmarks/train_throughput.py --exp sonic_release --tf32 --bf16 --cuda-graphs --data "$data" \
    --num-envs 4096 --override ++manager_env.config.terrain_type=hfield ++manager_env.sim.collision=sampled \
    >"$out/train.txt" 2>&1
python benchmarks/summarize_results.py "$out"/*.txt
grep -h -B2 -A12 "Traceback" "$out"/*.txt | tail -30
