#!/usr/bin/env bash
# GPU calls of session 7: the graphed full env with its resets inside the graphs (sonic_env.masked_reset: no host
# sync in the step) against the minimal env, issue 14's ratio. Parts 1-3 ran before, parts 4-5 after the kinematics
# were settled in the segments and the reset draws moved beside the physics (each part one call, same machine).
#   part 1: env_step.py minimal_varied and the full env (every CUDA graph, masked reset; top kernels) at 4,096 and
#           8,192 envs on the plane, and the full env with Isaac Lab's host-synced reset (--host-reset) at 4,096;
#   part 2: the pair again at 4,096 on the plane and on the sampled height field, with env_step.py's GPU split
#           (physics / rest, CUDA events);
#   part 3: the host-synced reset's split; env_graphs.py (eager against graphed: exact in eval mode, training-mode statistics, recapture, speed);
#           sonic_release training end to end (plane).
#
#   bash benchmarks/device_reset_session.sh 1 "$OUT"    # on the GPU machine, after staging; part 2 next call
set -uo pipefail
part=$1
out=$2
source "$(dirname "$0")/device_prelude.sh" && device_prelude "$out" sonic_reset_
step=(python benchmarks/env_step.py --device cuda:0 --data "$data" --warmup 10 --probe 3 --steps 40)
if [ "$part" = 1 ]; then
    timeout 230 "${step[@]}" --variant minimal_varied --num-envs 4096 8192 --terrain plane >"$out/plane.txt" 2>&1
    timeout 150 "${step[@]}" --variant full --cuda-graphs --num-envs 4096 8192 --terrain plane --kernel-profile 3 \
        >>"$out/plane.txt" 2>&1
    timeout 90 "${step[@]}" --variant full --cuda-graphs --host-reset --num-envs 4096 --terrain plane \
        >>"$out/plane.txt" 2>&1
elif [ "$part" = 2 ]; then
    timeout 400 "${step[@]}" --variant minimal_varied full --cuda-graphs --num-envs 4096 --terrain plane hfield \
        >"$out/split.txt" 2>&1
elif [ "$part" = 4 ]; then
    timeout 400 "${step[@]}" --variant minimal_varied full --cuda-graphs --num-envs 4096 8192 --terrain plane \
        >"$out/settle.txt" 2>&1
    for flag in --isaaclab-replay-kinematics --serial-reset-draws; do
        timeout 90 "${step[@]}" --variant full --cuda-graphs "$flag" --num-envs 4096 --terrain plane \
            >>"$out/settle.txt" 2>&1
    done
elif [ "$part" = 6 ]; then
    timeout 280 "${step[@]}" --variant minimal_varied minimal_sensor full --cuda-graphs --num-envs 4096 \
        --terrain plane >"$out/sensor.txt" 2>&1
elif [ "$part" = 5 ]; then
    timeout 200 python benchmarks/env_graphs.py --device cuda:0 --checks exact train --steps 120 \
        --data "$data" >"$out/graphs.txt" 2>&1
    timeout 150 python benchmarks/train_throughput.py --exp sonic_release --tf32 --bf16 --cuda-graphs --data "$data" \
        --num-envs 4096 --override ++manager_env.config.terrain_type=plane >"$out/train.txt" 2>&1
    grep -h "RESULT" "$out/graphs.txt" | cut -c1-600
else
    timeout 90 "${step[@]}" --variant full --cuda-graphs --host-reset --num-envs 4096 --terrain plane \
        >"$out/split_host.txt" 2>&1
    timeout 200 python benchmarks/env_graphs.py --device cuda:0 --checks exact train speed --steps 120 \
        --data "$data" >"$out/graphs.txt" 2>&1
    timeout 150 python benchmarks/train_throughput.py --exp sonic_release --tf32 --bf16 --cuda-graphs --data "$data" \
        --num-envs 4096 --override ++manager_env.config.terrain_type=plane >"$out/train.txt" 2>&1
    grep -h "RESULT" "$out/graphs.txt" | cut -c1-900
fi
python benchmarks/summarize_results.py "$out"/*.txt
grep -h -B2 -A12 "Traceback" "$out"/*.txt | tail -30
