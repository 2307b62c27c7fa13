#!/usr/bin/env bash
# Two GPU calls on one machine (session 7): the graphed full env with its resets on masks and its forward
# kinematics settled inside the segments (SonicRLEnv.settle_kinematics) against the minimal env, issue 14's ratio.
#   part 1: env_step.py minimal_varied and the full env at 4,096 and 8,192 envs on the plane (GPU split), and at
#           4,096 the full env with Isaac Lab's rerun of the kinematics at every read (--isaaclab-replay-kinematics)
#           and with the reset draws after the physics (--serial-reset-draws);
#   part 2: env_graphs.py (eager against graphed: exact in eval mode; training-mode statistics and the recapture
#           after a new resident set); sonic_release training end to end (plane).
#
#   bash benchmarks/device_settle_session.sh 1 "$OUT"    # on the GPU machine, after staging; part 2 next call
set -uo pipefail
part=$1
out=$2
mkdir -p "$out"
export WARP_CACHE_PATH=${WARP_CACHE_PATH:-/tmp/sonic-warp-cache}
data=$(python -c "import sys; sys.path.insert(0, 'benchmarks'); from env_step import sample_data; print(sample_data(None, 'sonic_settle_'))" | tail -1)
step=(python benchmarks/env_step.py --device cuda:0 --data "$data" --warmup 10 --probe 3 --steps 40)
if [ "$part" = 1 ]; then
    timeout 400 "${step[@]}" --variant minimal_varied full --cuda-graphs --num-envs 4096 8192 --terrain plane \
        >"$out/settle.txt" 2>&1
    timeout 90 "${step[@]}" --variant full --cuda-graphs --isaaclab-replay-kinematics --num-envs 4096 \
        --terrain plane >>"$out/settle.txt" 2>&1
    timeout 90 "${step[@]}" --variant full --cuda-graphs --serial-reset-draws --num-envs 4096 \
        --terrain plane >>"$out/settle.txt" 2>&1
else
    timeout 200 python benchmarks/env_graphs.py --device cuda:0 --checks exact train --steps 120 \
        --data "$data" >"$out/graphs.txt" 2>&1
    timeout 150 python benchmarks/train_throughput.py --exp sonic_release --tf32 --bf16 --cuda-graphs --data "$data" \
        --num-envs 4096 --override ++manager_env.config.terrain_type=plane >"$out/train.txt" 2>&1
    grep -h "RESULT" "$out/graphs.txt" | cut -c1-600
fi
python benchmarks/summarize_results.py "$out"/*.txt
grep -h -B2 -A12 "Traceback" "$out"/*.txt | tail -30
