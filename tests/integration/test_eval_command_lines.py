"""The guide's eval lines 10 and 12 (FORMATS.md "Seed command lines"), verbatim, through ``sonic-eval``.

One short CPU training run (small preset, 4 envs, 1 iteration) on 16 short clips supplies the checkpoint;
its ``config.yaml`` supplies the motion paths, so line 10 needs no data override. The same weights in
GEAR-SONIC's key layout are evaluated with the guide's ``motion_file`` override and ``++use_encoder``,
recording observations that ``sonic_export.verify`` replays.
"""

from __future__ import annotations

import csv
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from sonic_data.samples import build_sample_dataset
from sonic_train.eval import main as eval_main
from sonic_train.train import main as train_main

ROOT = Path(__file__).resolve().parents[2]
PARTS, PART_FRAMES = 4, 7
LINE_10 = (
    "+checkpoint={ckpt} +headless=True ++eval_callbacks=im_eval ++run_eval_loop=False ++num_envs=128 "
    '"+manager_env/terminations=tracking/eval" "++manager_env.commands.motion.motion_lib_cfg.max_unique_motions=512"'
)
LINE_11 = (
    "+checkpoint={ckpt} +headless=True ++eval_callbacks=im_eval ++run_eval_loop=False ++num_envs=8 "
    '++manager_env.config.render_results=True "++manager_env.config.save_rendering_dir={out}" '
    '++manager_env.config.env_spacing=10.0 "~manager_env/recorders=empty" "+manager_env/recorders=render"'
)
LINE_12 = "+checkpoint={ckpt} +headless=True ++num_envs=1 +export_onnx_only=true"
LIB = "++manager_env.commands.motion.motion_lib_cfg"


def _short_clips(out: Path, samples: Path) -> Path:
    """Each sample clip cut into 4 pieces of 7 frames at 30 fps (10 at 50 fps): 16 clips."""
    from sonic_data.formats import RobotMotion, read_robot_pkl, write_robot_pkl

    for pkl in sorted(samples.rglob("*.pkl")):
        for name, m in read_robot_pkl(pkl).items():
            for j in range(PARTS):
                s = slice(j * (PART_FRAMES - 1), j * (PART_FRAMES - 1) + PART_FRAMES)
                piece = RobotMotion(
                    root_pos=m.root_pos[s], root_quat=m.root_quat[s], joint_pos=m.joint_pos[s], fps=m.fps
                )
                write_robot_pkl(out / f"{name}_part{j}.pkl", {f"{name}_part{j}": piece})
    return out


def _run(module: str, args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=600
    )
    assert result.returncode == 0, (
        f"{module} {args}\nstdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    )
    return result


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Short clips, a private cache, and one 1-iteration CPU training run; yields paths and the subprocess env."""
    root = tmp_path_factory.mktemp("eval-lines")
    samples = build_sample_dataset(
        root / "samples",
        motions=("stand_idle_neutral_001__A001", "squat_slow_001__A002", "wave_right_hand_001__A003"),
    )
    clips = _short_clips(root / "short", samples.robot_filtered)
    old = os.environ.get("SONIC_CACHE_DIR")
    os.environ["SONIC_CACHE_DIR"] = str(root / "cache")  # for this module's in-process runs and subprocesses
    env = dict(os.environ)
    train = [
        "+exp=small",
        "num_envs=4",
        "device=cpu",
        f"{LIB}.motion_file={clips}",
        f"{LIB}.smpl_motion_file=null",
        f"{LIB}.multi_thread=False",
        "++algo.config.num_learning_iterations=1",
        "++algo.config.num_steps_per_env=8",
        f"base_dir={root / 'runs'}",
    ]
    assert train_main(train) == 0  # in-process: the Isaac Lab imports are paid once per session
    (ckpt,) = sorted((root / "runs").rglob("last.pt"))
    yield {"root": root, "clips": clips, "env": env, "ckpt": ckpt}
    if old is None:
        os.environ.pop("SONIC_CACHE_DIR", None)
    else:
        os.environ["SONIC_CACHE_DIR"] = old


@pytest.fixture(scope="module")
def line_10(run: dict[str, Any]) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Line 10 verbatim on the training run's checkpoint; returns the process and the output folder."""
    args = shlex.split(LINE_10.format(ckpt=run["ckpt"]))
    result = _run("sonic_train.eval", args, run["env"], run["root"])
    return result, run["ckpt"].parent / "eval" / "last"


def _motions(folder: Path) -> list[dict[str, str]]:
    with open(folder / "motions.csv", newline="") as handle:
        return list(csv.DictReader(handle))


def test_line_10_evaluates_every_motion_once_and_writes_sonics_files(
    line_10: tuple[Any, Path], run: dict
) -> None:
    """16 motions (from config.yaml's motion_file), one row each; SONIC's keys; aggregates = the rows' micro-average."""
    result, folder = line_10
    rows = _motions(folder)
    names = sorted(p.stem for p in run["clips"].glob("*.pkl"))
    assert sorted(r["motion"] for r in rows) == names
    metrics = json.loads((folder / "metrics_eval.json").read_text())
    for key in (
        "eval/all/mpjpe_l",
        "eval/all/mpjpe_g",
        "eval/success/mpjpe_l",
        "eval/success/success_rate",
        "success_rate",
    ):
        assert key in metrics, key
    assert metrics["info"]["terminations"] == "tracking/eval" and metrics["info"]["num_envs"] == 128
    assert metrics["info"]["observation_noise"] is True
    success = [r["success"] == "True" for r in rows]
    assert metrics["success_rate"] == pytest.approx(sum(success) / 16)
    frames = np.array([int(r["eval_frames"]) for r in rows], dtype=float)
    for key in ("mpjpe_l", "mpjpe_g"):
        values = np.array([float(r[key]) for r in rows])
        assert metrics[f"eval/all/{key}"] == pytest.approx((values * frames).sum() / frames.sum())
    assert sorted(metrics["failed_keys"]) == sorted(
        r["motion"] for r, ok in zip(rows, success, strict=True) if not ok
    )
    assert json.loads((folder / "motions.json").read_text())[0].keys() >= {
        "motion",
        "success",
        "mpjpe_l",
        "encoder",
    }
    assert "success_rate" in result.stdout and "worst motions" in result.stdout
    assert "1 batch(es)" in result.stdout  # 128 envs hold all 16 clips


def test_line_12_exports_without_an_env(run: dict[str, Any]) -> None:
    """Line 12 verbatim: sonic-export's files in exported/ beside the checkpoint; the env is never built."""
    result = _run("sonic_train.eval", shlex.split(LINE_12.format(ckpt=run["ckpt"])), run["env"], run["root"])
    exported = run["ckpt"].parent / "exported"
    names = {p.name for p in exported.glob("*.onnx")}
    assert names == {f"last_{s}.onnx" for s in ("g1", "teleop", "smpl", "encoder", "decoder")}
    assert "Completed setting up the environment" not in result.stdout + result.stderr
    assert "isaaclab" not in result.stderr.lower()


def _gear_sonic_file(ckpt: Path, out: Path) -> Path:
    """The checkpoint's weights under GEAR-SONIC's keys (SONIC_REFERENCE §12, as sonic_train.gear_sonic assumes)."""
    ours = torch.load(ckpt, map_location="cpu", weights_only=True)
    policy = {
        ("std" if k == "std" else f"actor_module.{k}"): v for k, v in ours["policy"]["state_dict"].items()
    }
    value = {f"critic_module.{k}": v for k, v in ours["critic"]["state_dict"].items()}
    value |= {f"running_mean_std.{k}": v for k, v in ours["critic"]["normalizer"].items()}
    torch.save({"policy_state_dict": policy, "value_state_dict": value}, out)
    return out


def test_gear_sonic_checkpoint_with_use_encoder_and_recorded_observations(
    run: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Line 10 + the guide's motion_file override + ++use_encoder=teleop on a GEAR-SONIC file (4 envs: 4 batches).

    Every motion is driven by teleop; the recorded observations replay through sonic-export's verify; on them
    the action is the teleop token's decoding, not the g1 token's.
    """
    from sonic_export import export, verify
    from sonic_model import policy_from_checkpoint

    gear = _gear_sonic_file(run["ckpt"], tmp_path / "sonic_release_last.pt")
    record = tmp_path / "obs.npz"
    args = shlex.split(LINE_10.format(ckpt=gear)) + [
        f"{LIB}.motion_file={run['clips']}",
        f"{LIB}.smpl_motion_file=null",
        "++use_encoder=teleop",
        "++num_envs=4",
        f"++record_observations={record}",
        "++record_rows=8",
    ]
    assert eval_main(args) == 0  # in-process (lines 10 and 12 above run as subprocesses)
    out = capsys.readouterr().out
    assert "GEAR-SONIC" in out and "4 batch(es)" in out
    rows = _motions(tmp_path / "eval" / "sonic_release_last_teleop")
    assert len(rows) == 16 and {r["encoder"] for r in rows} == {"teleop"}

    ours = torch.load(run["ckpt"], map_location="cpu", weights_only=True)
    files = export(ours["policy"], tmp_path / "onnx", "last")
    checks = verify(ours["policy"], files.all_paths(), recorded=record)
    replayed = [c for c in checks if c.inputs == record.name and not c.skipped]
    assert len(replayed) == len(files.fp32) and all(c.samples > 0 for c in replayed), checks
    assert all(c.passed for c in checks), [c.line() for c in checks]
    policy = policy_from_checkpoint(ours, "ours").policy.eval()
    with np.load(record) as data:
        terms = {k: torch.from_numpy(data[k]) for k in data.files}
    contract = policy.contract
    tokenizer = {t.name: terms[t.name].reshape(-1, *t.shape) for t in contract.tokenizer if t.name in terms}
    proprio = torch.cat([terms[t.name] for t in contract.proprioception], dim=-1)
    mask = tokenizer["encoder_index"] > 0.5
    assert mask.tolist() == [[False, True, False]] * 8
    with torch.no_grad():
        action = policy.act_inference(tokenizer, mask, proprio)
        teleop = policy.decode(policy.encode("teleop", tokenizer)[1], proprio)
        g1 = policy.decode(policy.encode("g1", tokenizer)[1], proprio)
    assert torch.allclose(action, teleop) and not torch.allclose(action, g1, atol=1e-4)


def test_sonic_eval_without_a_mode_or_checkpoint_fails_clearly(run: dict[str, Any]) -> None:
    """No +checkpoint, or neither im_eval nor export: exit status 2 with a message saying what to pass."""
    assert eval_main(["+headless=True"]) == 2
    assert eval_main([f"+checkpoint={run['ckpt']}", "++num_envs=4"]) == 2


def test_line_11_renders_one_decodable_video_per_motion(run: dict[str, Any]) -> None:
    """Line 11 verbatim: 16 motions -> 000000.mp4 ... 000015.mp4, each decodes at 320x240 with its index's frames."""
    import imageio.v2 as iio

    out = run["root"] / "renders"
    result = _run(
        "sonic_train.eval", shlex.split(LINE_11.format(ckpt=run["ckpt"], out=out)), run["env"], run["root"]
    )
    assert f"16 videos in {out}" in result.stdout
    assert sorted(p.name for p in out.glob("*.mp4")) == [f"{i:06d}.mp4" for i in range(16)]
    index = [json.loads(line) for line in (out / "videos.jsonl").read_text().splitlines()]
    assert sorted(line["clip"] for line in index) == sorted(p.stem for p in run["clips"].glob("*.pkl"))
    for line in index:
        with iio.get_reader(out / line["video"]) as reader:  # pyright: ignore[reportGeneralTypeIssues]
            frames = [frame for frame in reader.iter_data()]  # pyright: ignore[reportAttributeAccessIssue]
        assert len(frames) == line["frames"] >= 1 and frames[0].shape == (240, 320, 3)
