"""sonic-model installs alone into a fresh venv and imports without Isaac Lab or sonic-data."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def find_uv() -> str | None:
    """uv on PATH, else the user install, else the copy that ``make setup`` may install."""
    for candidate in (shutil.which("uv"), Path.home() / ".local/bin/uv", REPO / ".tools/bin/uv"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def test_sonic_model_installs_alone_without_isaaclab_or_sonic_data(tmp_path: Path):
    """`uv pip install packages/sonic-model` gives an importable sonic_model and nothing of the robot side."""
    uv = find_uv()
    if uv is None:
        pytest.skip("uv not found on PATH, in ~/.local/bin or .tools/bin; run `make setup`")
    # Never this machine's pip configuration; no Python downloads; the shared uv cache is kept.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env.pop("VIRTUAL_ENV", None)
    # Pin every dependency to the version the workspace lock installed here, so the wheels come from
    # the uv cache instead of whatever PyPI published since.
    pins = sorted(
        f"{d.metadata['Name']}=={d.version}"
        for d in importlib.metadata.distributions()
        if not d.metadata["Name"].lower().startswith("sonic")
    )
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("\n".join(pins) + "\n")
    venv = tmp_path / "venv"
    base_python = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([uv, "venv", "-q", "--python", base_python, str(venv)], env=env, check=True, timeout=120)
    python = venv / "bin" / "python"
    install = subprocess.run(
        [
            uv,
            "pip",
            "install",
            "--python",
            str(python),
            "-c",
            str(constraints),
            str(REPO / "packages/sonic-model"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stderr

    probe = (
        "import importlib.util, sonic_model\n"
        "print(sonic_model.__version__)\n"
        "print(*(n for n in ('isaaclab', 'sonic_data', 'sonic_env', 'mujoco')"
        " if importlib.util.find_spec(n) is not None))\n"
    )
    result = subprocess.run(
        [str(python), "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    version, present = (result.stdout.splitlines() + ["", ""])[:2]
    declared = tomllib.loads((REPO / "packages/sonic-model/pyproject.toml").read_text())["project"]["version"]
    assert version == declared
    assert present == "", f"sonic-model pulled in {present}"
