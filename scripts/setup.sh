#!/usr/bin/env bash
# Idempotent setup: find a working Python 3.12, make sure uv exists, sync the whole workspace from
# the committed lock (extra arguments go to `uv sync`, e.g. --group browser). Never uses this machine's pip configuration (PIP_CONFIG_FILE=/dev/null).
set -euo pipefail
cd "$(dirname "$0")/.."

find_python() {
    local candidates=()
    local c
    for c in python3.12 python3 python; do
        command -v "$c" >/dev/null 2>&1 && candidates+=("$(command -v "$c")")
    done
    for c in "$HOME"/.pyenv/versions/3.12*/bin/python3.12 /usr/bin/python3.12 /usr/local/bin/python3.12; do
        [ -x "$c" ] && candidates+=("$c")
    done
    for c in "${candidates[@]}"; do
        # Run each candidate: a pyenv shim may exist on PATH and still fail.
        if "$c" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 12) else 1)' >/dev/null 2>&1; then
            echo "$c"
            return 0
        fi
    done
    return 1
}

PY=$(find_python) || {
    echo "setup: no working Python 3.12 found (tried python3.12/python3/python on PATH and ~/.pyenv/versions/3.12*)." >&2
    echo "setup: install Python 3.12 (Isaac Lab 3.0 requires it) and run 'make setup' again." >&2
    exit 1
}

find_uv() {
    local c
    for c in "$(command -v uv 2>/dev/null || true)" "$HOME/.local/bin/uv" "$PWD/.tools/bin/uv"; do
        [ -n "$c" ] && [ -x "$c" ] && "$c" --version >/dev/null 2>&1 && { echo "$c"; return 0; }
    done
    return 1
}

UV=$(find_uv) || {
    echo "setup: installing uv into .tools/ with $PY" >&2
    "$PY" -m venv .tools
    env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null \
        .tools/bin/python -m pip install --quiet --disable-pip-version-check uv
    UV="$PWD/.tools/bin/uv"
}

export UV_PYTHON_DOWNLOADS=never
"$UV" sync --frozen --all-packages --python "$PY" "$@"
echo "setup: ok ($("$UV" --version), $(.venv/bin/python --version))"
