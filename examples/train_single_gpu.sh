#!/usr/bin/env bash
# The single-GPU recipe (examples/train_single_gpu.md, issue 16), as plain commands:
#   1. the sample motions (sonic-data make-samples --pipeline),
#   2. training with +exp=single_gpu for a wall-clock budget (max_train_time_s; the first env build on a fresh
#      machine also compiles Warp's kernels, ~100 s, before the budget starts),
#   3. the metrics eval (eval terminations, every sample motion once) with ++use_encoder=g1, smpl and teleop, and
#      eval videos of three motions (OpenCV/imageio writer), all four in parallel on the same GPU,
#   4. learning curves (examples/plot_curves.py) and a summary (summary.json) of the three evals.
#
# usage: bash examples/train_single_gpu.sh OUT_DIR [TRAIN_SECONDS] [TRAIN_OVERRIDE ...]
# env:   EXP (single_gpu), NUM_ENVS (4096), EVAL_ENVS (128), DEVICE (auto), PYTHON (python),
#        RENDER (1: videos; 0: none), DATA (an existing sample-data folder; default OUT_DIR/data)
# Everything lands in OUT_DIR: train.log, logs_rl/<run>/ (config, TensorBoard, last.pt), eval_<enc>/
# (metrics_eval.json, motions.csv), videos/, curves.png, summary.json. Exit status: non-zero if a step failed.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: train_single_gpu.sh OUT_DIR [TRAIN_SECONDS] [TRAIN_OVERRIDE ...]}
budget=${2:-300}
shift $(($# >= 2 ? 2 : 1))
py=${PYTHON:-python}
exp=${EXP:-single_gpu}
mkdir -p "$out"
out=$(cd "$out" && pwd)
data=${DATA:-$out/data}
motion=++manager_env.commands.motion.motion_lib_cfg
stamp() { echo "[$(date +%H:%M:%S)] $*"; }

if [ ! -d "$data/robot_filtered" ]; then
    stamp "sample motions -> $data"
    $py -m sonic_data.cli make-samples --output "$data" --pipeline >"$out/samples.log" 2>&1 || {
        tail -20 "$out/samples.log"
        exit 1
    }
fi

stamp "train +exp=$exp num_envs=${NUM_ENVS:-4096} for ${budget}s"
$py -m sonic_train.train +exp="$exp" num_envs="${NUM_ENVS:-4096}" headless=True device="${DEVICE:-auto}" \
    base_dir="$out/logs_rl" "$motion.motion_file=$data/robot_filtered" "$motion.smpl_motion_file=$data/smpl_filtered" \
    max_train_time_s="$budget" "$@" 2>&1 | tee "$out/train.log" | grep -E --line-buffered "^it [0-9]*0/|sonic-train" || true
ckpt=$(sed -n 's/^sonic-train: done at iteration [0-9]*; checkpoint //p' "$out/train.log" | tail -1)
if [ -z "$ckpt" ] || [ ! -f "$ckpt" ]; then
    stamp "training failed"
    tail -40 "$out/train.log"
    exit 1
fi
run=$(dirname "$ckpt")

# Videos of three motions: a motion file of links to them (robot and SMPL, same names).
videos=()
if [ "${RENDER:-1}" = 1 ]; then
    mkdir -p "$out/video_data/robot/clips" "$out/video_data/smpl/clips"
    for name in walk_forward_slow_001__A011 squat_slow_001__A002 wave_both_arms_001__A004; do
        for kind in robot smpl; do
            found=$(find "$data/${kind}_filtered" -name "$name.pkl" | head -1)
            [ -n "$found" ] && ln -sf "$found" "$out/video_data/$kind/clips/$name.pkl"
        done
    done
fi
if [ "${RENDER:-1}" = 1 ] && [ -z "$(ls "$out/video_data/robot/clips")" ]; then
    stamp "no video: none of the three video motions is in $data"
elif [ "${RENDER:-1}" = 1 ]; then
    clips=$(find "$out/video_data/robot/clips" -name "*.pkl" | wc -l)
    videos=(+checkpoint="$ckpt" +headless=True ++eval_callbacks=im_eval ++run_eval_loop=False ++num_envs="$clips"
        "+manager_env/terminations=tracking/eval" ++use_encoder=g1 "++eval_output_dir=$out/eval_render"
        "$motion.motion_file=$out/video_data/robot" "$motion.smpl_motion_file=$out/video_data/smpl"
        ++manager_env.config.render_results=True "++manager_env.config.save_rendering_dir=$out/videos"
        ++manager_env.config.env_spacing=10.0 "~manager_env/recorders=empty" "+manager_env/recorders=render")
fi

stamp "eval with use_encoder g1, smpl, teleop$([ ${#videos[@]} -gt 0 ] && echo ' + videos') (in parallel)"
pids=()
for enc in g1 smpl teleop; do
    $py -m sonic_train.eval +checkpoint="$ckpt" +headless=True ++eval_callbacks=im_eval ++run_eval_loop=False \
        ++num_envs="${EVAL_ENVS:-128}" "+manager_env/terminations=tracking/eval" \
        "$motion.max_unique_motions=512" ++use_encoder=$enc "++eval_output_dir=$out/eval_$enc" \
        >"$out/eval_$enc.log" 2>&1 &
    pids+=($!)
done
if [ ${#videos[@]} -gt 0 ]; then
    $py -m sonic_train.eval "${videos[@]}" >"$out/render.log" 2>&1 &
    pids+=($!)
fi
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
for log in "$out"/eval_*.log "$out"/render.log; do
    [ -f "$log" ] || continue
    grep -qE "Traceback|Error" "$log" && { echo "== $log"; tail -15 "$log"; }
done

stamp "curves and summary"
$py examples/plot_curves.py "$run=$exp" --out "$out/curves.png" || status=1
$py - "$out" <<'PY' || status=1
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
summary = {}
for enc in ("g1", "smpl", "teleop"):
    path = out / f"eval_{enc}" / "metrics_eval.json"
    if not path.is_file():
        summary[enc] = None
        continue
    m = json.loads(path.read_text())
    summary[enc] = {
        "success_rate": m["success_rate"],
        "motions": m["info"]["num_motions"],
        "failed": m.get("failed_keys", []),
        "mpjpe_l_mm": m.get("eval/all/mpjpe_l"),
        "mpjpe_g_mm": m.get("eval/all/mpjpe_g"),
    }
(out / "summary.json").write_text(json.dumps(summary, indent=1))
print(json.dumps(summary))
PY
stamp "done (status $status)"
exit $status
