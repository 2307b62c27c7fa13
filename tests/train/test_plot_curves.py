"""examples/plot_curves.py: TensorBoard scalars of several runs -> one PNG; missing tags noted, missing runs exit 2."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import matplotlib.image
import numpy as np
import pytest
from torch.utils.tensorboard import SummaryWriter

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "examples" / "plot_curves.py"
T0 = 1_800_000_000.0


def _plot_curves() -> ModuleType:
    spec = importlib.util.spec_from_file_location("plot_curves", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def _write_run(path: Path, iterations: int, seconds_per_it: float, with_length: bool = True) -> None:
    """A fake run: reward 0.1 * it, errors 1 / it, fps 1000, two aux losses; ``Episode/length`` optional."""
    writer = SummaryWriter(log_dir=str(path))
    for it in range(1, iterations + 1):
        wall = T0 + seconds_per_it * it
        scalars = {
            "rewards/total": 0.1 * it,
            "rewards/anchor_pos_err": 1.0 / it,
            "rewards/body_pos_err": 0.5 / it,
            "throughput/fps": 1000.0,
            "loss/aux/g1_recon": 0.2 / it,
            "loss/aux/g1_smpl_latent": 0.01 / it,
        }
        if with_length:
            scalars["Episode/length"] = 10.0 * it
        for tag, value in scalars.items():
            writer.add_scalar(tag, value, global_step=it, walltime=wall)
    writer.close()


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_two_runs_make_one_png_of_the_expected_size(tmp_path: Path) -> None:
    """Two runs (one without Episode/length) -> a decodable 1500x800 PNG; the missing tag is noted on stderr."""
    _write_run(tmp_path / "a", 6, 2.0)
    _write_run(tmp_path / "b", 4, 5.0, with_length=False)
    out = tmp_path / "plots" / "curves.png"
    result = _run(f"{tmp_path / 'a'}=single_gpu", str(tmp_path / "b"), "--out", str(out), "--x", "time")
    assert result.returncode == 0, result.stderr
    image = matplotlib.image.imread(out)
    assert image.shape[:2] == (800, 1500)
    assert float(np.std(image[..., :3])) > 0.01  # something is drawn
    assert "b" in result.stderr and "Episode/length" in result.stderr
    assert [p.name for p in out.parent.iterdir()] == ["curves.png"]  # no temporary left behind


def test_missing_run_dir_exits_2_naming_it(tmp_path: Path) -> None:
    """A directory that does not exist is an error naming it (exit 2, no PNG)."""
    _write_run(tmp_path / "a", 2, 1.0)
    out = tmp_path / "c.png"
    result = _run(str(tmp_path / "a"), str(tmp_path / "nowhere"), "--out", str(out))
    assert result.returncode == 2
    assert str(tmp_path / "nowhere") in result.stderr
    assert not out.exists()


def test_run_dir_without_events_exits_2_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A directory without event files is an error naming it (exit 2, no PNG)."""
    (tmp_path / "empty").mkdir()
    out = tmp_path / "c.png"
    assert _plot_curves().main([str(tmp_path / "empty"), "--out", str(out)]) == 2
    assert str(tmp_path / "empty") in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.parametrize("x", ["iteration", "time"])
def test_lines_hold_the_written_values(tmp_path: Path, x: str) -> None:
    """Each panel's line is the run's written (x, value) series: iterations, or seconds since the first event."""
    plot_curves = _plot_curves()
    _write_run(tmp_path / "a", 5, 3.0)
    run = plot_curves.load_run(tmp_path / "a", "a", x)
    fig = plot_curves.figure([run], x)
    axes = {ax.get_title(): ax for ax in fig.axes}
    its = np.arange(1, 6, dtype=np.float64)
    expected_x = its if x == "iteration" else 3.0 * (its - 1)
    (reward,) = axes["rewards/total"].lines
    np.testing.assert_allclose(reward.get_xdata(), expected_x, atol=1e-3)
    np.testing.assert_allclose(reward.get_ydata(), 0.1 * its, rtol=1e-6)
    aux = {line.get_label(): line for line in axes["loss/aux/*"].lines}
    assert set(aux) == {"g1_recon", "g1_smpl_latent"}
    np.testing.assert_allclose(aux["g1_smpl_latent"].get_ydata(), 0.01 / its, rtol=1e-6)
    assert axes["loss/aux/*"].get_yscale() == "log"


def test_run_argument_label_and_default() -> None:
    """``DIR=LABEL`` splits at the last '='; a bare DIR is labelled by its name."""
    plot_curves = _plot_curves()
    assert plot_curves.parse_run_arg("/x/run-1=single gpu") == (Path("/x/run-1"), "single gpu")
    assert plot_curves.parse_run_arg("/x/run-2") == (Path("/x/run-2"), "run-2")


def test_aux_legend_lists_losses_and_runs_once(tmp_path: Path) -> None:
    """Two runs: the aux panel's legend names each loss once (colour) and each run once (line style)."""
    plot_curves = _plot_curves()
    _write_run(tmp_path / "a", 3, 1.0)
    _write_run(tmp_path / "b", 3, 1.0)
    runs = [plot_curves.load_run(tmp_path / n, n.upper(), "iteration") for n in ("a", "b")]
    fig = plot_curves.figure(runs, "iteration")
    aux = next(ax for ax in fig.axes if ax.get_title() == "loss/aux/*")
    legend = aux.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["g1_recon", "g1_smpl_latent", "A", "B"]
    assert len(aux.lines) == 4  # two losses x two runs
