"""The sonic-export console script and ``python -m sonic_export``, driven through subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch

from sonic_export import load
from sonic_model import UniversalTokenPolicy, preset, save_policy

SCRIPT = Path(sys.executable).parent / "sonic-export"


def _checkpoint(tmp_path: Path, io) -> Path:
    torch.manual_seed(0)
    p = preset("small")
    return save_policy(
        tmp_path / "run" / "model_step_000300.pt", UniversalTokenPolicy(p.model, p.contract), io
    )


def test_console_script_exports_verifies_and_benches(tmp_path: Path, g1_io):
    """`sonic-export <ckpt> --int8 --verify --bench` writes exported/ beside the checkpoint, passes, prints figures."""
    ckpt = _checkpoint(tmp_path, g1_io)
    proc = subprocess.run(
        [str(SCRIPT), str(ckpt), "--int8", "--verify", "--num-random", "4", "--bench", "--bench-iterations", "5"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out_dir = ckpt.parent / "exported"
    names = {f"model_step_000300_{k}.onnx" for k in ("g1", "teleop", "smpl", "encoder", "decoder")}
    assert {p.name for p in out_dir.glob("*.onnx")} == names
    assert {p.name for p in (out_dir / "int8").glob("*.onnx")} == names
    assert load(out_dir / "model_step_000300_g1.onnx", expected_contract=preset("small").contract)
    lines = proc.stdout.splitlines()
    assert sum(line.startswith("ok ") for line in lines) == 10
    figures = [json.loads(line) for line in lines if line.startswith("{")]
    assert len(figures) == 12 and all(
        f["median_ms"] > 0 for f in figures
    )  # 10 files + 2 encoder/decoder chains


def test_module_entry_point_reports_a_missing_checkpoint(tmp_path: Path):
    """`python -m sonic_export` on a missing file exits 2 and names the path."""
    missing = tmp_path / "nope.pt"
    proc = subprocess.run(
        [sys.executable, "-m", "sonic_export", str(missing)], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2 and str(missing) in proc.stderr


def test_module_entry_point_honours_out_dir_and_name(tmp_path: Path, g1_io):
    """--out-dir and --name override SONIC's default location and stem."""
    ckpt = _checkpoint(tmp_path, g1_io)
    proc = subprocess.run(
        [sys.executable, "-m", "sonic_export", str(ckpt), "--out-dir", str(tmp_path / "o"), "--name", "policy"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "o" / "policy_decoder.onnx").is_file() and not (ckpt.parent / "exported").exists()
