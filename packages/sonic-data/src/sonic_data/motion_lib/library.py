"""``MotionLibrary``: the reference motions an environment tracks, on the host and on the device.

Two tiers (SONIC_REFERENCE §6.2): the whole library compact on the host (:mod:`.host`, loaded and
cached by :mod:`.loading`), and a bounded **resident set** of at most ``min(num_envs,
max_resident_clips)`` slots on the simulation device (:mod:`.resident`) with FK-derived bodies and
velocities. Environments address the resident set by **slot** (an index into the resident set;
the same library clip may sit in several slots after a redraw, each with its own augmentation), so
every query is a gather with no Python loop over envs or clips.

Typical training loop (the env owns the library)::

    lib = MotionLibrary(cfg, num_envs=4096, device="cuda:0", seed=0)
    slots, frames = lib.sample_starts(num_resets)            # on reset
    now = lib.state(slots_all, frames_all)                   # every step
    g1 = lib.future(slots_all, frames_all, 10, 5)            # g1/teleop windows (0.1 s apart)
    human = lib.future(slots_all, frames_all, 10, 1, parts=("smpl", "soma"))
    lib.update_adaptive(slots_all, frames_all, failed, fail_slots, fail_frames)
    lib.update_sampling()                                    # once per PPO iteration
    if iteration % cfg.resample_every == 0 and lib.redraw(): reset all envs

Eval: ``for ids in lib.eval_batches(): a = lib.start_eval_batch(ids)`` — every clip once, frame 0,
no augmentation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch import Tensor

from sonic_data.g1.names import TRACKED_BODY_NAMES
from sonic_data.kinematics import G1Kinematics
from sonic_data.motion_lib.augment import build_plan
from sonic_data.motion_lib.config import MotionLibConfig
from sonic_data.motion_lib.host import HostLibrary
from sonic_data.motion_lib.loading import load_host_library
from sonic_data.motion_lib.resident import ResidentSet
from sonic_data.motion_lib.sampling import AdaptiveSampler
from sonic_data.motion_lib.selection import EvalAssignment, select_clips, sequential_eval_batches
from sonic_data.motion_lib.state import MotionState

__all__ = ["TELEOP_BODIES", "TELEOP_OFFSETS", "MotionLibrary"]

TELEOP_BODIES: tuple[str, str, str] = ("left_wrist_yaw_link", "right_wrist_yaw_link", "torso_link")
"""SONIC's ``vr_3point_body`` (§2.1)."""

TELEOP_OFFSETS: tuple[tuple[float, float, float], ...] = (
    (0.18, -0.025, 0.0),
    (0.18, 0.025, 0.0),
    (0.0, 0.0, 0.35),
)
"""Offsets of the three VR points in their bodies' frames (m), SONIC's ``vr_3point_body_offset``."""

ALL_PARTS: tuple[str, ...] = ("smpl", "soma", "teleop")


class MotionLibrary:
    """Reference motions for ``num_envs`` environments (see the module docstring).

    Args:
        cfg: library configuration (SONIC's ``motion_lib_cfg`` fields).
        num_envs: number of environments; the resident set holds ``min(num_envs, cfg.max_resident_clips)``.
        device: simulation device of the resident set and of all returned tensors.
        seed: seeds subsets, augmentation, redraws and start sampling.
        training: build augmented resident sets (``redraw``); False starts at the first eval batch.
        body_names: tracked bodies, pelvis first (SONIC's 14 by default).
        teleop_bodies: bodies of the VR 3 points; each must be a tracked body.
        teleop_offsets: point offsets in those bodies' frames (m).
        host: an already loaded host library (skips :func:`load_host_library`; used by tests and tools).
    """

    def __init__(
        self,
        cfg: MotionLibConfig,
        num_envs: int,
        device: str | torch.device = "cpu",
        seed: int = 0,
        *,
        training: bool = True,
        body_names: Sequence[str] = TRACKED_BODY_NAMES,
        teleop_bodies: Sequence[str] = TELEOP_BODIES,
        teleop_offsets: Sequence[Sequence[float]] = TELEOP_OFFSETS,
        host: HostLibrary | None = None,
    ) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        if not body_names or body_names[0] != "pelvis":
            raise ValueError(f"body_names must start with the anchor 'pelvis', got {list(body_names)[:1]}")
        missing = [b for b in teleop_bodies if b not in body_names]
        if missing:
            raise ValueError(f"teleop_bodies {missing} are not among body_names {list(body_names)}")
        self.cfg = cfg
        self.num_envs = num_envs
        self.device = torch.device(device)
        self.seed = seed
        self.training = training
        self.body_names = tuple(body_names)
        self.dt = 1.0 / cfg.target_fps
        loaded = host if host is not None else load_host_library(cfg)
        self.host = loaded.select(select_clips(loaded.names, cfg, seed))
        self.capacity = min(num_envs, cfg.max_resident_clips)
        self._fk = G1Kinematics(device=self.device, mjcf_path=cfg.asset)
        self._body_ids = self._fk.body_indices(self.body_names)
        self._teleop_ids = [self.body_names.index(b) for b in teleop_bodies]
        self._teleop_offsets = torch.tensor([list(o) for o in teleop_offsets], dtype=torch.float32)
        if self._teleop_offsets.shape != (len(self._teleop_ids), 3):
            raise ValueError(
                f"teleop_offsets must be {len(self._teleop_ids)}×3, got {tuple(self._teleop_offsets.shape)}"
            )
        self.lengths = torch.from_numpy(self.host.lengths).to(self.device)
        self.has_smpl = torch.from_numpy(self.host.has_smpl).to(self.device)
        self.has_soma = torch.from_numpy(self.host.has_soma).to(self.device)
        self.sampler = AdaptiveSampler(self.lengths, cfg.adaptive_sampling)
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(seed)
        self._builds = 0
        self._steps: dict[tuple[int, int], Tensor] = {}
        self.resident: ResidentSet
        if not training:
            self.set_resident(self.eval_batches()[0])
        elif self.num_clips <= self.capacity:
            self._build(np.arange(self.num_clips, dtype=np.int64), augment=True)
        else:
            self.redraw()

    # ------------------------------------------------------------------ library facts
    @property
    def num_clips(self) -> int:
        """Clips in the (filtered, subset) library."""
        return self.host.num_clips

    @property
    def names(self) -> list[str]:
        """Clip names, indexed by library clip id."""
        return self.host.names

    @property
    def num_resident(self) -> int:
        """Slots in the resident set now."""
        return self.resident.num_slots

    @property
    def resident_clip_ids(self) -> Tensor:
        """``(R,)`` library clip of each resident slot."""
        return self.resident.clip_ids

    @property
    def resident_lengths(self) -> Tensor:
        """``(R,)`` frames of each resident slot."""
        return self.resident.lengths

    @property
    def resident_has_smpl(self) -> Tensor:
        """``(R,)`` whether each slot has SMPL data (false after upper-body augmentation)."""
        return self.resident.has_smpl

    @property
    def resident_has_soma(self) -> Tensor:
        """``(R,)`` whether each slot has SOMA data."""
        return self.resident.has_soma

    # ------------------------------------------------------------------ resident set
    def _build(self, clip_ids: np.ndarray, *, augment: bool) -> None:
        rng = np.random.default_rng([self.seed, self._builds])
        self._builds += 1
        plan = build_plan(self.host, clip_ids, self.cfg, rng, augment=augment)
        self.resident = ResidentSet.build(
            self.host, plan, self._fk, self._body_ids, self._teleop_ids, self._teleop_offsets, self.dt
        )

    def redraw(self) -> bool:
        """Draw a new resident set from the clip probabilities (with replacement), augmented.

        Returns:
            False (nothing done) when the whole library is resident already, else True; after a
            True the caller resets all envs (SONIC does, §6.2).
        """
        if self.num_clips <= self.capacity and self._builds > 0 and self.num_resident == self.num_clips:
            return False
        if self.num_clips <= self.capacity:
            ids = np.arange(self.num_clips, dtype=np.int64)
        else:
            probs = self.sampler.clip_probs().float()
            ids = (
                torch.multinomial(probs, self.capacity, replacement=True, generator=self.generator)
                .cpu()
                .numpy()
            )
        self._build(ids, augment=self.training)
        return True

    def set_resident(self, clip_ids: Tensor | Sequence[int]) -> None:
        """Make exactly these library clips resident, slot ``i`` = ``clip_ids[i]``, unaugmented (eval).

        Raises:
            ValueError: more clips than the capacity, or an id outside the library.
        """
        ids = torch.as_tensor(clip_ids, dtype=torch.long).cpu().numpy()
        if not 1 <= len(ids) <= self.capacity:
            raise ValueError(f"set_resident: {len(ids)} clips, capacity is {self.capacity}")
        if ids.min() < 0 or ids.max() >= self.num_clips:
            raise ValueError(
                f"set_resident: clip ids must lie in [0, {self.num_clips}), got {ids.min()}..{ids.max()}"
            )
        self._build(ids, augment=False)

    # ------------------------------------------------------------------ queries
    def state(self, slots: Tensor, frames: Tensor, parts: Sequence[str] = ALL_PARTS) -> MotionState:
        """The reference at each env's (slot, frame).

        Args:
            slots: ``(N,)`` int64 resident slots.
            frames: ``(N,)`` int64 frames (clamped to ``[0, length−1]``).
            parts: which of ``"smpl"``, ``"soma"``, ``"teleop"`` to include (robot always).

        Returns:
            A :class:`MotionState` with batch shape ``(N,)``.
        """
        return self.resident.gather(slots, frames, parts)

    def future(
        self, slots: Tensor, frames: Tensor, num_frames: int, skip: int, parts: Sequence[str] = ()
    ) -> MotionState:
        """Windows of ``num_frames`` frames ``t, t+skip, …`` per env, clamped at each clip's last frame.

        SONIC uses ``(10, 5)`` for g1/teleop and ``(10, 1)`` for smpl/soma (§2). Frame 0 of a window is
        the current frame.

        Returns:
            A :class:`MotionState` with batch shape ``(N, num_frames)``.
        """
        key = (num_frames, skip)
        steps = self._steps.get(key)
        if steps is None:
            steps = torch.arange(num_frames, device=self.device, dtype=torch.long) * skip
            self._steps[key] = steps
        return self.resident.gather(slots.unsqueeze(-1), frames.unsqueeze(-1) + steps, parts)

    # ------------------------------------------------------------------ sampling
    def sample_starts(self, num: int) -> tuple[Tensor, Tensor]:
        """Reset starts ``(slots, frames)``, each ``(num,)``: adaptive by bins, or uniform when disabled."""
        return self.sampler.sample_starts(self.resident.clip_ids, num, self.generator)

    def update_adaptive(
        self,
        slots: Tensor,
        frames: Tensor,
        failed: Tensor | None = None,
        fail_slots: Tensor | None = None,
        fail_frames: Tensor | None = None,
    ) -> None:
        """Record one env step for adaptive sampling (no host sync).

        Args:
            slots, frames: ``(N,)`` every env's current (slot, frame): episodes += 1/len of its bin.
            failed: ``(N,)`` bool, envs that terminated by failure this step.
            fail_slots, fail_frames: ``(N,)`` where each env was when it failed (before its reset).
                Required with ``adaptive_credit_fix`` (the default); ignored otherwise, when the
                failure is credited to ``(slots, frames)``, the new start, as SONIC does.
        """
        clip = self.resident.clip_ids
        self.sampler.record_steps(clip[slots], frames)
        if failed is None:
            return
        if self.cfg.adaptive_sampling.adaptive_credit_fix:
            if fail_slots is None or fail_frames is None:
                raise ValueError("update_adaptive: adaptive_credit_fix needs fail_slots and fail_frames")
            self.sampler.record_failures(clip[fail_slots], fail_frames, failed)
        else:
            self.sampler.record_failures(clip[slots], frames, failed)

    def update_sampling(self) -> None:
        """Recompute bin and clip probabilities from the counts (once per PPO iteration)."""
        self.sampler.update()

    def clip_probabilities(self) -> Tensor:
        """``(C,)`` float64 probability of each library clip in the next redraw."""
        return self.sampler.clip_probs()

    # ------------------------------------------------------------------ evaluation
    def eval_batches(self) -> list[Tensor]:
        """Library clip ids in batches of at most ``capacity``; together each clip exactly once."""
        return sequential_eval_batches(self.num_clips, self.capacity)

    def start_eval_batch(self, clip_ids: Tensor) -> EvalAssignment:
        """Make ``clip_ids`` resident (unaugmented) and assign envs to them from frame 0."""
        self.set_resident(clip_ids)
        k = self.num_resident
        envs = torch.arange(self.num_envs, device=self.device)
        return EvalAssignment(
            clip_ids=self.resident.clip_ids,
            slots=envs % k,
            frames=torch.zeros_like(envs),
            counted=envs < k,
        )

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict[str, Any]:
        """Adaptive counts and the sampling generator state (checkpoints carry both)."""
        return {"adaptive_sampling": self.sampler.state_dict(), "generator": self.generator.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`; raises ``ValueError`` if the counts belong to another library."""
        self.sampler.load_state_dict(state["adaptive_sampling"])
        if "generator" in state:
            self.generator.set_state(state["generator"])

    def __repr__(self) -> str:
        return (
            f"MotionLibrary(clips={self.num_clips}, frames={self.host.num_frames}, resident={self.num_resident}/"
            f"{self.capacity}, smpl={int(self.host.has_smpl.sum())}, soma={int(self.host.has_soma.sum())}, "
            f"device={self.device})"
        )
