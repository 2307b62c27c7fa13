"""MotionLibrary: resident set, queries, augmentation, redraw, eval assignment, subsets."""

from __future__ import annotations

from collections.abc import Iterator

import mujoco
import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation
from scipy.stats import chisquare

from sonic_data.g1 import DEFAULT_JOINT_POS, MJCF_PATH, TRACKED_BODY_NAMES
from sonic_data.motion_lib import HostClip, HostLibrary, MotionLibConfig, MotionLibrary


@pytest.fixture(autouse=True)
def _one_thread() -> Iterator[None]:
    """Small tensors: one intra-op thread avoids OpenMP spin contention on the shared 2-core CI box."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _clip(name: str, frames: int, seed: int, smpl: bool = False, soma: bool = False) -> HostClip:
    rng = np.random.default_rng(seed)
    t = np.arange(frames)[:, None] * 0.02
    joints = np.asarray(DEFAULT_JOINT_POS) + 0.3 * np.sin(
        t * rng.uniform(1, 3, size=29) + rng.uniform(0, 6, size=29)
    )
    quat = Rotation.from_rotvec(np.outer(t[:, 0], rng.normal(size=3))).as_quat(scalar_first=True)
    return HostClip(
        name=name,
        root_pos=np.array([0.0, 0.0, 0.8]) + t * rng.normal(size=3),
        root_quat=quat,
        joint_pos=joints,
        smpl_joints=rng.normal(size=(frames, 24, 3)) if smpl else None,
        smpl_root_quat=Rotation.random(frames, rng=np.random.default_rng(seed)).as_quat(scalar_first=True)
        if smpl
        else None,
        soma_joints=rng.normal(size=(frames, 26, 3)) if soma else None,
        soma_root_quat=Rotation.random(frames, rng=np.random.default_rng(seed + 1)).as_quat(scalar_first=True)
        if soma
        else None,
    )


def _cfg(**kw: object) -> MotionLibConfig:
    base = {
        "motion_file": "in-memory",
        "use_cache": False,
        "freeze_frame_aug": False,
        "cat_upper_body_poses": False,
    }
    return MotionLibConfig.model_validate({**base, **kw})


def _host(n: int = 4, frames: int = 30) -> HostLibrary:
    return HostLibrary.from_clips(
        [_clip(f"clip{i}", frames + 7 * i, i, smpl=i % 2 == 0, soma=i % 3 == 0) for i in range(n)]
    )


def test_state_matches_mujoco_kinematics() -> None:
    """Tracked-body poses equal MuJoCo's xpos/xquat for the same qpos (independent FK)."""
    host = _host()
    lib = MotionLibrary(_cfg(), num_envs=4, host=host)
    model = mujoco.MjModel.from_xml_path(str(MJCF_PATH))
    data = mujoco.MjData(model)
    ids = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, b) for b in TRACKED_BODY_NAMES]
    slots, frames = torch.tensor([0, 2, 3]), torch.tensor([0, 11, 40])
    s = lib.state(slots, frames)
    for k, (slot, frame) in enumerate(zip(slots.tolist(), frames.tolist(), strict=True)):
        row = host.robot[host.offsets[slot] + frame]
        data.qpos[:] = row
        mujoco.mj_kinematics(model, data)
        np.testing.assert_allclose(s.robot.body_pos_w[k].numpy(), data.xpos[ids], atol=1e-5)
        dots = np.abs((s.robot.body_quat_w[k].numpy() * data.xquat[ids]).sum(-1))
        np.testing.assert_allclose(dots, 1.0, atol=1e-6)
        np.testing.assert_allclose(s.robot.joint_pos[k].numpy(), row[7:], atol=1e-7)


def test_teleop_targets_by_hand() -> None:
    """3-point targets = q_pelvis⁻¹·(p_body + q_body·offset − p_pelvis) and q_pelvis⁻¹·q_body (scipy)."""
    lib = MotionLibrary(_cfg(), num_envs=4, host=_host())
    s = lib.state(torch.tensor([1]), torch.tensor([5]))
    assert s.teleop is not None
    names = list(TRACKED_BODY_NAMES)
    pos, quat = s.robot.body_pos_w[0].numpy(), s.robot.body_quat_w[0].numpy()
    pelvis = Rotation.from_quat(quat[0], scalar_first=True)
    bodies = ["left_wrist_yaw_link", "right_wrist_yaw_link", "torso_link"]
    offsets = [(0.18, -0.025, 0.0), (0.18, 0.025, 0.0), (0.0, 0.0, 0.35)]
    for i, (b, off) in enumerate(zip(bodies, offsets, strict=True)):
        j = names.index(b)
        rb = Rotation.from_quat(quat[j], scalar_first=True)
        want = pelvis.inv().apply(pos[j] + rb.apply(off) - pos[0])
        np.testing.assert_allclose(s.teleop.local_pos[0, i].numpy(), want, atol=1e-5)
        got_q = Rotation.from_quat(s.teleop.local_quat[0, i].numpy(), scalar_first=True)
        assert ((pelvis.inv() * rb).inv() * got_q).magnitude() < 1e-5


def test_future_windows_clamp_at_clip_end() -> None:
    """Window frames t + k·skip are clamped at the last frame; clamped rows equal the last frame."""
    lib = MotionLibrary(_cfg(), num_envs=4, host=_host())
    length = int(lib.resident_lengths[3])
    assert length == 51
    f = lib.future(torch.tensor([3, 3]), torch.tensor([0, length - 12]), 10, 5)
    assert f.frames.shape == (2, 10)
    assert f.frames[0].tolist() == list(range(0, 50, 5))
    assert f.frames[1].tolist() == [length - 12, length - 7, length - 2] + [length - 1] * 7
    last = lib.state(torch.tensor([3]), torch.tensor([length - 1]))
    torch.testing.assert_close(f.robot.body_pos_w[1, 3:], last.robot.body_pos_w.expand(7, -1, -1))
    g = lib.future(torch.tensor([0]), torch.tensor([3]), 10, 1, parts=("smpl", "soma"))
    assert g.smpl is not None and g.smpl.joints.shape == (1, 10, 24, 3)
    assert g.frames[0].tolist() == list(range(3, 13))


def test_modalities_per_clip() -> None:
    """Clips without SMPL/SOMA read zeros with valid false; others read their host data."""
    host = _host()
    lib = MotionLibrary(_cfg(), num_envs=4, host=host)
    assert lib.has_smpl.tolist() == [True, False, True, False]
    assert lib.has_soma.tolist() == [True, False, False, True]
    s = lib.state(torch.tensor([0, 1, 3]), torch.tensor([4, 4, 4]))
    assert s.smpl is not None and s.soma is not None
    assert s.smpl.valid.tolist() == [True, False, False]
    np.testing.assert_allclose(s.smpl.joints[0].numpy(), host.smpl_joints[4], atol=1e-7)
    assert s.smpl.joints[1].abs().max() == 0 and s.smpl.root_quat[1].tolist() == [1.0, 0.0, 0.0, 0.0]
    soma_row = host.soma_offsets[3] + 4
    np.testing.assert_allclose(s.soma.joints[2].numpy(), host.soma_joints[soma_row], atol=1e-7)


def test_joints_local_are_the_joints_in_each_frames_root_frame() -> None:
    """``joints_local`` (precomputed per frame) = scipy's inverse root rotation of the joints; zeros where absent."""
    host = _host()
    lib = MotionLibrary(_cfg(), num_envs=4, host=host)
    s = lib.state(torch.tensor([0, 0, 1, 3]), torch.tensor([0, 7, 4, 9]), parts=("smpl", "soma"))
    assert s.smpl is not None and s.soma is not None
    for i, frame in ((0, 0), (1, 7)):
        want = (
            Rotation.from_quat(host.smpl_root_quat[frame], scalar_first=True)
            .inv()
            .apply(host.smpl_joints[frame])
        )
        np.testing.assert_allclose(s.smpl.joints_local[i].numpy(), want.reshape(-1), atol=1e-5)
    assert s.smpl.joints_local.shape == (4, 72) and s.smpl.joints_local[2].abs().max() == 0
    soma_row = host.soma_offsets[3] + 9
    want = (
        Rotation.from_quat(host.soma_root_quat[soma_row], scalar_first=True)
        .inv()
        .apply(host.soma_joints[soma_row])
    )
    np.testing.assert_allclose(s.soma.joints_local[3].numpy(), want.reshape(-1), atol=1e-5)


def test_resident_set_is_bounded_and_small_library_skips_redraw() -> None:
    """At most min(num_envs, max_resident_clips) slots; a library that fits is never redrawn."""
    host = _host(n=6)
    lib = MotionLibrary(_cfg(max_resident_clips=4), num_envs=16, seed=1, host=host)
    for _ in range(3):
        assert lib.redraw()
        assert lib.num_resident == 4
    lib = MotionLibrary(_cfg(), num_envs=3, host=host)
    assert lib.num_resident == 3
    small = MotionLibrary(_cfg(), num_envs=16, host=host)
    assert small.num_resident == 6 and small.resident_clip_ids.tolist() == list(range(6))
    assert not small.redraw()


def test_redraw_follows_clip_probabilities() -> None:
    """Resident clips drawn over several redraws match the adaptive clip probabilities (χ², fixed seed)."""
    host = HostLibrary.from_clips([_clip(f"c{i:02d}", 4, i) for i in range(12)])
    lib = MotionLibrary(_cfg(max_resident_clips=11), num_envs=500, seed=3, host=host)
    lib.sampler.failures[:3] += torch.tensor([30.0, 10.0, 5.0], dtype=torch.float64)
    lib.update_sampling()
    probs = lib.clip_probabilities().numpy()
    assert probs[0] > 3 * probs[5]
    counts = np.zeros(12)
    for _ in range(100):
        lib.redraw()
        counts += np.bincount(lib.resident_clip_ids.numpy(), minlength=12)
    assert chisquare(counts, probs * counts.sum()).pvalue > 1e-3


def test_adaptive_failures_credit_where_they_happened() -> None:
    """With adaptive_credit_fix the failure bin is the (slot, frame) passed as fail_*; without it,
    the current (new start) pair. Steps add episodes to every env's bin."""
    host = _host()
    lib = MotionLibrary(_cfg(), num_envs=4, host=host)
    slots, frames = torch.tensor([0, 1]), torch.tensor([0, 0])
    failed = torch.tensor([True, False])
    with pytest.raises(ValueError, match="fail_slots"):
        lib.update_adaptive(slots, frames, failed)
    lib.update_adaptive(
        slots, frames, failed, fail_slots=torch.tensor([2, 3]), fail_frames=torch.tensor([60, 9])
    )
    bin_fail = lib.sampler.bin_of(torch.tensor([2]), torch.tensor([60]))
    assert lib.sampler.failures[bin_fail].item() == 2.0
    assert lib.sampler.failures.sum().item() == lib.sampler.num_bins + 1
    sonic = MotionLibrary(_cfg(adaptive_sampling={"adaptive_credit_fix": False}), num_envs=4, host=host)
    sonic.update_adaptive(slots, frames, failed)
    assert sonic.sampler.failures[sonic.sampler.bin_of(torch.tensor([0]), torch.tensor([0]))].item() == 2.0


def test_max_unique_motions_subset() -> None:
    """max_unique_motions keeps exactly that many clips, reproducibly by seed, in sorted order."""
    host = _host(n=10, frames=5)
    a = MotionLibrary(_cfg(max_unique_motions=4), num_envs=2, seed=7, host=host)
    b = MotionLibrary(_cfg(max_unique_motions=4), num_envs=2, seed=7, host=host)
    c = MotionLibrary(_cfg(max_unique_motions=4), num_envs=2, seed=8, host=host)
    assert a.num_clips == 4 and a.names == b.names and a.names == sorted(a.names)
    assert set(a.names) <= set(host.names)
    assert a.names != c.names
    assert MotionLibrary(_cfg(max_unique_motions=40), num_envs=2, host=host).num_clips == 10


def test_key_filters() -> None:
    """filter_motion_keys keeps exact names or regex full matches; remove_motion_keys drops prefixes."""
    host = _host(n=10, frames=5)
    lib = MotionLibrary(
        _cfg(filter_motion_keys=["clip1.*", "clip3"], remove_motion_keys=["clip10"]), 2, host=host
    )
    assert lib.names == ["clip1", "clip3"]


def test_sequential_eval_visits_each_clip_once() -> None:
    """Every clip runs exactly once (counted envs) from frame 0, unaugmented, across batches."""
    host = _host(n=7, frames=12)
    lib = MotionLibrary(
        _cfg(freeze_frame_aug=True, freeze_frame_prob=1.0), num_envs=3, training=False, host=host
    )
    seen: list[int] = []
    for ids in lib.eval_batches():
        a = lib.start_eval_batch(ids)
        assert a.frames.tolist() == [0, 0, 0]
        seen += a.clip_ids[a.slots[a.counted]].tolist()
        s = lib.state(a.slots, a.frames + 5)
        for k, slot in enumerate(a.slots.tolist()):
            clip = int(a.clip_ids[slot])
            np.testing.assert_array_equal(
                s.robot.joint_pos[k].numpy(), host.robot[host.offsets[clip] + 5, 7:]
            )
    assert sorted(seen) == list(range(7)) and len(seen) == 7


def test_freeze_frame_holds_the_pose() -> None:
    """freeze_frame_prob 1: from the drawn frame on, every row equals that frame and velocities vanish."""
    host = _host()
    lib = MotionLibrary(_cfg(freeze_frame_aug=True, freeze_frame_prob=1.0), num_envs=4, seed=5, host=host)
    frozen = lib.resident.freeze_frame.tolist()
    assert all(f >= 0 for f in frozen) and len(set(frozen)) > 1
    for slot, f in enumerate(frozen):
        n = int(lib.resident_lengths[slot])
        s = lib.state(torch.full((n,), slot), torch.arange(n))
        raw = host.robot[host.offsets[slot] : host.offsets[slot] + n, 7:]
        np.testing.assert_array_equal(s.robot.joint_pos[: f + 1].numpy(), raw[: f + 1])
        np.testing.assert_array_equal(s.robot.joint_pos[f:].numpy(), np.broadcast_to(raw[f], (n - f, 29)))
        if f + 1 < n - 1:
            assert s.robot.joint_vel[f + 1 :].abs().max() == 0
    eval_lib = MotionLibrary(_cfg(freeze_frame_aug=True, freeze_frame_prob=1.0), 4, training=False, host=host)
    assert eval_lib.resident.freeze_frame.tolist() == [-1, -1, -1, -1]


def test_upper_body_concatenation() -> None:
    """A prefixed clip keeps its root and legs and takes waist/arms from a non-prefixed clip's slice."""
    clips = [_clip("2025_walk", 40, 0, smpl=True), _clip("dance", 15, 1), _clip("2025_run", 30, 2)]
    host = HostLibrary.from_clips(clips)
    cfg = _cfg(cat_upper_body_poses=True, cat_upper_body_poses_prob=1.0)
    lib = MotionLibrary(cfg, num_envs=4, seed=0, host=host)
    assert lib.names == ["2025_run", "2025_walk", "dance"]  # sorted
    assert lib.resident_has_smpl.tolist() == [False, False, False]
    s = lib.state(torch.ones(40, dtype=torch.long), torch.arange(40))
    own, src = clips[0], clips[1]
    np.testing.assert_allclose(s.robot.joint_pos[:, :12].numpy(), own.joint_pos[:, :12], atol=1e-6)
    upper = s.robot.joint_pos[:, 12:].numpy()
    # The 15-frame source is played ping-pong: rows are source frames 0..14, 13..0, ...
    dist = np.abs(upper[:, None, :] - src.joint_pos[None, :, 12:]).max(-1)
    match = dist.argmin(1)
    assert dist.min(1).max() < 1e-6
    steps = np.abs(np.diff(match))
    assert set(steps.tolist()) <= {0, 1}
    unchanged = lib.state(torch.tensor([2]), torch.tensor([3]))
    np.testing.assert_allclose(unchanged.robot.joint_pos[0].numpy(), src.joint_pos[3], atol=1e-6)


def test_state_dict_round_trip() -> None:
    """Adaptive counts and the generator state round-trip; the next draws are identical."""
    host = _host()
    lib = MotionLibrary(_cfg(), num_envs=4, host=host)
    lib.update_adaptive(
        torch.tensor([0]), torch.tensor([3]), torch.tensor([True]), torch.tensor([0]), torch.tensor([3])
    )
    lib.update_sampling()
    state = lib.state_dict()
    other = MotionLibrary(_cfg(), num_envs=4, host=host)
    other.load_state_dict(state)
    a, b = lib.sample_starts(50), other.sample_starts(50)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_copy_state_fills_every_tensor_in_place_and_checks_structure() -> None:
    """copy_state_ (pinned windows for CUDA graphs): values copied, storage kept; mismatches named."""
    from sonic_data.motion_lib import HumanFrames, MotionState, RobotFrames, TeleopTargets, copy_state_

    def state(value: float, smpl: bool = True, width: int = 58 + 13 * 14) -> MotionState:
        rows = torch.full((3,), int(value), dtype=torch.long)
        return MotionState(
            frames=rows.clone(),
            robot=RobotFrames(torch.full((3, width), value), 14),
            smpl=HumanFrames(torch.full((3, 2 * 72 + 4), value), rows) if smpl else None,
            teleop=TeleopTargets(torch.full((3, 21), value)),
        )

    dst, src = state(0.0), state(2.0)
    ptr = dst.robot.data.data_ptr()
    assert copy_state_(dst, src) is dst
    assert dst.robot.data.data_ptr() == ptr
    assert dst.teleop is not None and src.teleop is not None
    for a, b in (
        (dst.frames, src.frames),
        (dst.robot.data, src.robot.data),
        (dst.teleop.data, src.teleop.data),
    ):
        assert torch.equal(a, b)
    assert dst.smpl is not None and src.smpl is not None and torch.equal(dst.smpl.rows, src.smpl.rows)
    with pytest.raises(ValueError, match="smpl is present in only one"):
        copy_state_(dst, state(1.0, smpl=False))
    with pytest.raises(ValueError, match=r"robot\.data has shape"):
        copy_state_(dst, state(1.0, width=10))
