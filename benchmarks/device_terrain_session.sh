#!/usr/bin/env bash
# Two GPU calls on one machine (session 6): what the rough terrain's physics costs and which collision is cheap.
#   part 1: env_step.py minimal_varied at 4,096 envs on plane / trimesh / hfield (hfield through Newton's pipeline,
#           the default) with the top GPU kernels, then hfield through MuJoCo's contacts and trimesh with contact
#           gap 0;
#   part 2: the full env with every CUDA graph at 4,096 / 8,192 envs on hfield and trimesh, and sonic_release
#           training end to end on hfield at 4,096 envs.
#
#   bash benchmarks/device_terrain_session.sh 1 "$OUT"    # on the GPU machine, after staging; part 2 next call
set -uo pipefail
part=$1
out=$2
source "$(dirname "$0")/device_prelude.sh" && device_prelude "$out" sonic_terrain_
step=(python benchmarks/env_step.py --device cuda:0 --data "$data" --warmup 10 --probe 5)
if [ "$part" = 1 ]; then
    timeout 330 "${step[@]}" --variant minimal_varied --num-envs 4096 --terrain plane trimesh hfield --steps 30 \
        --kernel-profile 5 >"$out/kernels.txt" 2>&1
    timeout 100 "${step[@]}" --variant minimal_varied --num-envs 4096 --terrain hfield --collision mujoco \
        --steps 30 >"$out/options.txt" 2>&1
    timeout 100 "${step[@]}" --variant minimal_varied --num-envs 4096 --terrain trimesh --contact-gap 0 \
        --steps 30 >>"$out/options.txt" 2>&1
else
    timeout 300 "${step[@]}" --variant full --cuda-graphs --num-envs 4096 8192 --terrain hfield trimesh \
        --steps 30 >"$out/full.txt" 2>&1
    timeout 200 python benchmarks/train_throughput.py --exp sonic_release --tf32 --bf16 --cuda-graphs --data "$data" \
        --num-envs 4096 --override ++manager_env.config.terrain_type=hfield >"$out/train.txt" 2>&1
fi
python benchmarks/summarize_results.py "$out"/*.txt
grep -h -B2 -A12 "Traceback" "$out"/*.txt | tail -30
