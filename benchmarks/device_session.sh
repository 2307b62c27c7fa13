#!/usr/bin/env bash
# The GPU figures of issues 14 and 15 in one device call, after the simulator is staged
# (../shared/device/README.md: parts 1 and 2 in their own calls, then part 3 + this script):
#   bash .device/part-3/stage.sh && source /tmp/sonic-device/env.sh && bash benchmarks/device_session.sh plane,hfield
#   source /tmp/sonic-device/env.sh && bash benchmarks/device_session.sh trimesh      (next call, same warm machine)
# Writes JSON lines to $OUT (or ./device_out) and prints them. The first env build compiles Warp
# kernels (~100 s); later builds on the same machine reuse ~/.cache/warp.
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-device_out}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1
terrains="${1:-plane}"
train="${2:-yes}"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
data=/tmp/sonic_bench_data
[ -d "$data/robot_filtered" ] || python -m sonic_data.cli make-samples --output "$data" --pipeline >/dev/null
for t in ${terrains//,/ }; do
    timeout 420 python benchmarks/env_step.py --device cuda:0 --num-envs 1024 4096 8192 --terrain "$t" \
        --variant full minimal --steps 50 --warmup 10 --probe 10 --data "$data" | tee -a "$out/env_step.jsonl"
done
if [ "$train" = yes ]; then
    timeout 240 python benchmarks/train_throughput.py --device cuda:0 --num-envs 4096 --iterations 3 --warmup 2 \
        --data "$data" | tee -a "$out/train_throughput.jsonl"
fi
# The render writer's OpenCV path (the GPU image has cv2 but no imageio-ffmpeg): write, then decode.
python - <<'PY' | tee -a "$out/video_cv2.txt"
import numpy as np, cv2, tempfile, pathlib
from sonic_env.render.video import Mp4Writer, available_backend
path = pathlib.Path(tempfile.mkdtemp()) / "000000.mp4"
w = Mp4Writer(path, 64, 48, 50)
for i in range(20):
    w.append(np.full((48, 64, 3), i * 10, np.uint8))
w.close()
cap = cv2.VideoCapture(str(path))
n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
print(f"video backend {available_backend()}: wrote 20 frames, decoded {n} frames of "
      f"{int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))}x{int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))}")
PY
