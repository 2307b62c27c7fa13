# Sourced by the device_*_session.sh scripts (on the GPU machine, after staging): makes the output folder, keeps
# Warp's kernel cache between the calls of one machine, and generates the sample clips once per prefix.
#   source "$(dirname "$0")/device_prelude.sh" && device_prelude "$out" sonic_x_    # sets $data
device_prelude() {
    mkdir -p "$1"
    export WARP_CACHE_PATH=${WARP_CACHE_PATH:-/tmp/sonic-warp-cache}
    data=$(python -c "import sys; sys.path.insert(0, 'benchmarks'); from env_step import sample_data; print(sample_data(None, '$2'))" | tail -1)
}
