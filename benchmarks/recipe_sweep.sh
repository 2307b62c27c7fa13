#!/usr/bin/env bash
# Variants of the single-GPU recipe side by side, one per GPU of one host (issue 16): each variant runs
# examples/train_single_gpu.sh whole (training for TRAIN_SECONDS, evals, videos, curves) on its own GPU with
# its own, empty Warp kernel cache (as on a fresh machine), all sharing one generated sample dataset.
#
# usage: bash benchmarks/recipe_sweep.sh TRAIN_SECONDS DEADLINE_SECONDS ROOT VARIANT [VARIANT ...]
#   VARIANT = NAME:EXP[:OVERRIDE,OVERRIDE,...]   e.g. recipe:single_gpu  std05:single_gpu:++algo.config.init_noise_std=0.5
#   DEADLINE_SECONDS: the variants are stopped after this long (what they wrote so far is still packed).
# Packs ROOT/NAME (logs, TensorBoard events, config, eval JSON/CSV, curves; videos of the first variant only;
# no checkpoints, no kernel cache) into $OUT/NAME.tgz (or ROOT/NAME.tgz) and prints each variant's summary.json.
set -uo pipefail
cd "$(dirname "$0")/.."
budget=${1:?TRAIN_SECONDS}
deadline=${2:?DEADLINE_SECONDS}
root=${3:?ROOT}
shift 3
[ $# -ge 1 ] || { echo "recipe_sweep: give at least one VARIANT" >&2; exit 2; }
out=${OUT:-$root}
mkdir -p "$root" "$out"
root=$(cd "$root" && pwd)
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=index,name,memory.total,driver_version --format=csv,noheader >"$root/gpus.txt" 2>/dev/null
data=$root/data
[ -d "$data/robot_filtered" ] || python -m sonic_data.cli make-samples --output "$data" --pipeline >"$root/samples.log" 2>&1 || {
    tail -20 "$root/samples.log"
    exit 1
}

names=()
gpu=0
for variant in "$@"; do
    IFS=: read -r name exp extra <<<"$variant"
    IFS=, read -ra overrides <<<"${extra:-}"
    names+=("$name")
    (
        export CUDA_VISIBLE_DEVICES=$gpu WARP_CACHE_PATH=$root/$name/warp OMP_NUM_THREADS=4 EXP=$exp DATA=$data
        timeout "$deadline" bash examples/train_single_gpu.sh "$root/$name" "$budget" "${overrides[@]}" >"$root/$name.log" 2>&1
        echo "$name exit $?" >>"$root/status.txt"
    ) &
    gpu=$((gpu + 1))
done
wait

status=0
for i in "${!names[@]}"; do
    name=${names[$i]}
    cp "$root/$name.log" "$root/$name/sweep.log" 2>/dev/null
    excludes=(--exclude=warp --exclude='*.pt' --exclude=video_data --exclude=data)
    [ "$i" -gt 0 ] && excludes+=(--exclude=videos)
    tar czf "$out/$name.tgz" "${excludes[@]}" -C "$root" "$name"
    echo "== $name ($(du -h "$out/$name.tgz" | cut -f1)): $(grep "^$name " "$root/status.txt" 2>/dev/null)"
    if [ -f "$root/$name/summary.json" ]; then
        cat "$root/$name/summary.json" | tr -d '\n'
        echo
    else
        status=1
        tail -5 "$root/$name.log"
    fi
done
cp "$root/status.txt" "$root/gpus.txt" "$out/" 2>/dev/null
exit $status
