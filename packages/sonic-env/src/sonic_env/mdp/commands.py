"""The motion command: which reference frame every robot tracks, and everything derived from it.

:class:`MotionCommand` (registered as ``"motion"``) owns the :class:`~sonic_data.motion_lib.MotionLibrary`
on the env device. Per reset it draws a clip and start frame (adaptive sampling, §6.3; in eval mode
env ``i`` plays resident slot ``i mod k`` from frame 0), the episode's encoder mask (§1.3), and puts
the robot on that reference frame (plus SONIC's reset noise in train mode, §7). Per step it advances
the frame, feeds adaptive sampling, updates ``running_ref_root_height`` (§4) and the relative
reference (§3), and in replay mode writes the robot's state from the reference.

Timing (SONIC's, from BeyondMimic's ``TrackingCommand``): Isaac Lab computes terminations and rewards
after physics and *before* ``command_manager.compute``; the frame then advances and observations are
computed. So observations show frame ``f + 1`` (the target of the next action) and the rewards of
the next step compare the robot with that same frame. The relative reference is recomputed at
command time from the robot's pelvis at that moment, as SONIC does.

Adaptive credit (FORMATS.md quirk ``adaptive_credit_fix``): Isaac Lab resets terminated envs before
``compute``, so :meth:`MotionCommand.reset` stores each failing env's (slot, frame) *before* the
new start replaces it; the next ``compute`` hands both to ``MotionLibrary.update_adaptive``, which
credits the bin where the failure happened (or, with the fix off, the new start as SONIC did).

Attribute conventions (the interface shared with rewards and terminations): world frame including
env origins, quaternions ``wxyz``, bodies in ``sonic_data.g1.TRACKED_BODY_NAMES`` order (pelvis = 0),
joints canonical.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import MISSING
from typing import TYPE_CHECKING, Any

import torch
from isaaclab.managers import CommandTerm, CommandTermCfg
from isaaclab.utils import configclass
from torch import Tensor

from sonic_data import g1
from sonic_data.g1 import TRACKED_BODY_NAMES
from sonic_data.motion_lib import HumanFrames, MotionLibrary, MotionState, RobotFrames, TeleopTargets
from sonic_data.rotations import xyzw_to_wxyz
from sonic_env.config import MotionCommandConfig
from sonic_env.mdp.encoder_sampling import base_probabilities, encoder_probabilities, sample_encoder_mask
from sonic_env.mdp.reference_math import points_local, relative_reference
from sonic_env.mdp.reset import (
    AXES,
    ResetDraws,
    RootState,
    perturb_joint_pos,
    perturb_root,
    range_tensor,
    sample_uniform,
)
from sonic_env.mdp.windows import ReferenceWindows
from sonic_env.replay import write_reference_state, write_reference_state_masked

if TYPE_CHECKING:
    from isaaclab.assets import Articulation
    from isaaclab.envs import ManagerBasedRLEnv

REFERENCE_FPS = 50
"""Frames per second of the resampled reference: one frame per control step."""

NEVER_S = 1.0e9
"""Isaac Lab's resampling period of the motion command (s): never; it resamples only on reset."""


# ----------------------------------------------------------------------------------------- the term
class MotionCommand(CommandTerm):
    """Reference motion tracking command; see the module docstring for the per-step contract."""

    cfg: MotionCommandCfg

    def __init__(self, cfg: MotionCommandCfg, env: ManagerBasedRLEnv) -> None:
        if min(cfg.resampling_time_range) < NEVER_S:
            raise ValueError(
                f"MotionCommandCfg.resampling_time_range must stay ({NEVER_S}, {NEVER_S}): the motion command "
                f"resamples only on reset, got {cfg.resampling_time_range}"
            )
        super().__init__(cfg, env)
        self.config = MotionCommandConfig.model_validate(cfg.motion)
        self.robot: Articulation = env.scene["robot"]
        self.training = cfg.mode == "train"
        self.encoder_names: tuple[str, ...] = tuple(cfg.encoder_names)
        self.human_parts: tuple[str, ...] = tuple(cfg.human_parts)
        self.lib = MotionLibrary(
            self.config.motion_lib_cfg,
            num_envs=self.num_envs,
            device=self.device,
            seed=cfg.seed,
            training=self.training,
            body_names=TRACKED_BODY_NAMES,
            teleop_bodies=cfg.teleop_bodies,
            teleop_offsets=cfg.teleop_offsets,
        )
        self._check_library()
        names = list(self.robot.data.body_names or [])
        missing = [b for b in TRACKED_BODY_NAMES if b not in names]
        if missing:
            raise ValueError(f"motion command: tracked bodies {missing} are not bodies of the robot")
        self.robot_body_ids = [names.index(b) for b in TRACKED_BODY_NAMES]
        self.reward_point_ids = [TRACKED_BODY_NAMES.index(b) for b in self.config.reward_point_body]
        # Device copies of the index lists: indexing with a list uploads it on every call.
        self._robot_body_index = torch.tensor(self.robot_body_ids, dtype=torch.long, device=self.device)
        self._reward_point_index = torch.tensor(self.reward_point_ids, dtype=torch.long, device=self.device)
        self.reward_point_offsets = torch.tensor(self.config.reward_point_body_offset, device=self.device)
        self.g1_skip = round(self.config.dt_future_ref_frames * REFERENCE_FPS)
        self.human_skip = round(self.config.smpl_dt_future_ref_frames * REFERENCE_FPS)
        self.base_probs = base_probabilities(
            self.encoder_names, self.config.encoder_sample_probs, self.config.use_encoder
        )
        self.generator = torch.Generator(device=self.device)
        self.generator.manual_seed(cfg.seed + 1)
        joint_bounds = torch.tensor([list(self.config.joint_position_range)]).expand(g1.NUM_JOINTS, 2)
        self._reset_noise_bounds = torch.cat(
            (
                range_tensor(self.config.pose_range, AXES),
                range_tensor(self.config.velocity_range, AXES),
                joint_bounds,
            )
        ).to(self.device)
        """``(6 + 6 + 29, 2)``: reset noise of root pose, root velocity and joints, drawn in one call."""
        self._probs_resident: object = None
        self._slot_probs = torch.empty(0)

        n, dev = self.num_envs, self.device
        self.slots = torch.zeros(n, dtype=torch.long, device=dev)
        self.frames = torch.zeros(n, dtype=torch.long, device=dev)
        self.encoder_mask = torch.zeros(n, len(self.encoder_names), dtype=torch.bool, device=dev)
        self.encoder_mask[:, 0] = True
        self.running_ref_root_height = torch.zeros(n, device=dev)
        self.body_pos_relative_w = torch.zeros(n, len(TRACKED_BODY_NAMES), 3, device=dev)
        self.body_quat_relative_w = torch.zeros(n, len(TRACKED_BODY_NAMES), 4, device=dev)
        self.body_quat_relative_w[..., 0] = 1.0
        self._failed = torch.zeros(n, dtype=torch.bool, device=dev)
        self._fail_slots = torch.zeros(n, dtype=torch.long, device=dev)
        self._fail_frames = torch.zeros(n, dtype=torch.long, device=dev)
        self.windows = ReferenceWindows(
            {
                "now": lambda: self.lib.state(self.slots, self.frames, parts=("teleop",)),
                "g1": lambda: self.lib.future(
                    self.slots, self.frames, self.config.num_future_frames, self.g1_skip
                ),
                "human": lambda: self.lib.future(
                    self.slots,
                    self.frames,
                    self.config.smpl_num_future_frames,
                    self.human_skip,
                    parts=self.human_parts,
                ),
            }
        )
        """The reference at each env's frame (``now``) and its g1 / human future windows."""
        self.resets_prepared = False
        """Set by :meth:`prepare_resets`, cleared by :meth:`compute`: this step's resets are drawn. A step
        that replays these calls as a CUDA graph sets and clears it itself (replays run no Python)."""
        self.resets_drawn = False
        """Set by the caller of :meth:`draw_resets` until the :meth:`prepare_resets` that uses its draws."""
        self._drawn: ResetDraws | None = None

    def _check_library(self) -> None:
        forced = self.config.use_encoder
        if forced in ("smpl", "soma"):
            has = self.lib.has_smpl if forced == "smpl" else self.lib.has_soma
            lacking = int((~has).sum())
            if lacking:
                raise ValueError(
                    f"commands.motion.use_encoder={forced!r}, but {lacking} of {self.lib.num_clips} clips have no "
                    f"{forced.upper()} data (check motion_lib_cfg.{forced}_motion_file)"
                )

    # ------------------------------------------------------------------ reference (lazy, one gather per window)
    def _state(self, key: str) -> MotionState:
        return self.windows.get(key)

    @property
    def g1_future(self) -> MotionState:
        """The g1/teleop window: ``num_future_frames`` frames ``dt_future_ref_frames`` apart, batch ``(N, F)``."""
        return self._state("g1")

    @property
    def human_future(self) -> MotionState:
        """The smpl/soma window (``smpl_*`` spacing), robot part included (wrist terms), batch ``(N, F)``."""
        return self._state("human")

    def human_window(self, kind: str) -> HumanFrames:
        """SMPL (``'smpl'``) or SOMA frames of the human window."""
        frames = getattr(self.human_future, kind)
        if frames is None:
            raise ValueError(f"motion command: no {kind!r} data requested (human_parts={self.human_parts})")
        return frames

    @property
    def teleop_targets(self) -> TeleopTargets:
        """VR 3-point targets of the current frame."""
        teleop = self._state("now").teleop
        assert teleop is not None
        return teleop

    @property
    def ref_body_pos_w(self) -> Tensor:
        """``(N, 14, 3)`` reference bodies, world frame incl. env origins."""
        return self._state("now").robot.body_pos_w + self._env.scene.env_origins.unsqueeze(1)

    @property
    def ref_body_quat_w(self) -> Tensor:
        """``(N, 14, 4)``."""
        return self._state("now").robot.body_quat_w

    @property
    def ref_body_lin_vel_w(self) -> Tensor:
        """``(N, 14, 3)``."""
        return self._state("now").robot.body_lin_vel_w

    @property
    def ref_body_ang_vel_w(self) -> Tensor:
        """``(N, 14, 3)``."""
        return self._state("now").robot.body_ang_vel_w

    @property
    def ref_joint_pos(self) -> Tensor:
        """``(N, 29)`` canonical order."""
        return self._state("now").robot.joint_pos

    @property
    def ref_joint_vel(self) -> Tensor:
        """``(N, 29)`` canonical order."""
        return self._state("now").robot.joint_vel

    @property
    def clip_ids(self) -> Tensor:
        """``(N,)`` library clip id of each env."""
        return self.lib.resident_clip_ids[self.slots]

    @property
    def clip_lengths(self) -> Tensor:
        """``(N,)`` frames of each env's clip."""
        return self.lib.resident_lengths[self.slots]

    @property
    def command(self) -> Tensor:
        """``(N, 58)`` current reference joint positions and velocities (canonical)."""
        return torch.cat((self.ref_joint_pos, self.ref_joint_vel), dim=-1)

    # ------------------------------------------------------------------ robot (read from the simulator)
    # Advanced indexing on purpose: the same reads with index_select made the full env step ≈4 ms slower on
    # an H200 at 4,096 envs (156-158K against 188.7K env-steps/s in one call, benchmarks/README.md).
    @property
    def robot_body_pos_w(self) -> Tensor:
        """``(N, 14, 3)`` robot tracked bodies (link frames)."""
        return self.robot.data.body_link_pos_w.torch[:, self._robot_body_index]  # pyright: ignore[reportAttributeAccessIssue]

    @property
    def robot_body_quat_w(self) -> Tensor:
        """``(N, 14, 4)`` wxyz (Isaac Lab 3.0 stores xyzw; converted here)."""
        return xyzw_to_wxyz(self.robot.data.body_link_quat_w.torch[:, self._robot_body_index])  # pyright: ignore[reportAttributeAccessIssue]

    @property
    def robot_anchor_pos_w(self) -> Tensor:
        """``(N, 3)`` the robot's pelvis (``robot_body_pos_w[:, 0]`` without reading the other bodies)."""
        return self.robot.data.body_link_pos_w.torch[:, self.robot_body_ids[0]]  # pyright: ignore[reportAttributeAccessIssue]

    @property
    def robot_anchor_quat_w(self) -> Tensor:
        """``(N, 4)`` wxyz, the robot's pelvis (``robot_body_quat_w[:, 0]``)."""
        return xyzw_to_wxyz(self.robot.data.body_link_quat_w.torch[:, self.robot_body_ids[0]])  # pyright: ignore[reportAttributeAccessIssue]

    @property
    def robot_body_lin_vel_w(self) -> Tensor:
        """``(N, 14, 3)`` (Isaac Lab ``body_lin_vel_w``, the CoM velocity, as SONIC reads it)."""
        return self.robot.data.body_lin_vel_w.torch[:, self._robot_body_index]  # pyright: ignore[reportAttributeAccessIssue]

    @property
    def robot_body_ang_vel_w(self) -> Tensor:
        """``(N, 14, 3)``."""
        return self.robot.data.body_ang_vel_w.torch[:, self._robot_body_index]  # pyright: ignore[reportAttributeAccessIssue]

    @property
    def ref_reward_points_local(self) -> Tensor:
        """``(N, P, 3)`` reward points of the reference, relative to its pelvis, in its pelvis frame."""
        return points_local(
            self.ref_body_pos_w, self.ref_body_quat_w, self._reward_point_index, self.reward_point_offsets
        )

    @property
    def robot_reward_points_local(self) -> Tensor:
        """``(N, P, 3)`` the same points on the robot."""
        return points_local(
            self.robot_body_pos_w, self.robot_body_quat_w, self._reward_point_index, self.reward_point_offsets
        )

    # ------------------------------------------------------------------ Isaac Lab hooks
    def _env_ids(self, env_ids: Sequence[int] | Tensor | slice | None) -> Tensor:
        if env_ids is None or isinstance(env_ids, slice):
            return torch.arange(self.num_envs, device=self.device)[
                env_ids if env_ids is not None else slice(None)
            ]
        return torch.as_tensor(env_ids, device=self.device).long().reshape(-1)

    def reset(self, env_ids: Sequence[int] | slice | None = None) -> dict[str, Tensor]:
        """Record where failing envs were (before the new start replaces it), then resample them.

        After :meth:`prepare_resets` in the same step both were done already for the envs that Isaac Lab
        now resets (its ``reset_buf``); only the base class's bookkeeping runs.
        """
        ids = self._env_ids(env_ids)
        terminations = getattr(self._env, "termination_manager", None)
        if not self.resets_prepared and self.training and terminations is not None and ids.numel() > 0:
            steps = getattr(self._env, "episode_length_buf")  # noqa: B009 (ManagerBasedRLEnv only)
            failed = terminations.terminated[ids] & (steps[ids] > 0)
            self._failed[ids] = failed
            self._fail_slots[ids] = self.slots[ids]
            self._fail_frames[ids] = self.frames[ids]
        return super().reset(env_ids)

    def _draw(self, ids: Tensor | None) -> tuple[Tensor, Tensor, Tensor, RootState, Tensor, RobotFrames]:
        """New episode starts for ``ids`` (None: every env): slots, frames, encoder mask, robot state.

        Returns ``(slots, frames, encoder_mask, root, joint_pos, reference robot frames)`` for those envs, the robot
        state with the reset noise of train mode; the reference's joint velocities are written unchanged.
        """
        n = self.num_envs if ids is None else ids.numel()
        if self.training:
            slots, frames = self.lib.sample_starts(n)
        else:
            env_ids = torch.arange(n, device=self.device) if ids is None else ids
            slots = env_ids % self.lib.num_resident
            frames = torch.zeros_like(slots)
        encoder_mask = sample_encoder_mask(
            self._slot_encoder_probs()[slots],
            self.encoder_names,
            teleop_prob_when_smpl=self.config.teleop_sample_prob_when_smpl,
            coactivate=self.config.use_encoder is None,
            generator=self.generator,
        )
        ref = self.lib.state(slots, frames, parts=()).robot
        origins = self._env.scene.env_origins if ids is None else self._env.scene.env_origins[ids]
        root = RootState(
            pos=ref.root_pos_w + origins,
            quat=ref.root_quat_w,
            lin_vel=ref.body_lin_vel_w[:, 0],
            ang_vel=ref.body_ang_vel_w[:, 0],
        )
        joint_pos = ref.joint_pos
        if self.training:
            noise = sample_uniform(self._reset_noise_bounds, n, self.generator)  # pose 6, velocity 6, joints
            root = perturb_root(root, noise[:, :6], noise[:, 6:12])
            limits = self.robot.data.soft_joint_pos_limits.torch  # pyright: ignore[reportAttributeAccessIssue]
            limits = limits if ids is None else limits[ids]
            joint_pos = perturb_joint_pos(joint_pos, noise[:, 12:], limits[..., 0], limits[..., 1])
        return slots, frames, encoder_mask, root, joint_pos, ref

    def _slot_encoder_probs(self) -> Tensor:
        """``(R, E)`` encoder probabilities of each resident slot, computed once per resident set."""
        if self._probs_resident is not self.lib.resident:
            self._probs_resident = self.lib.resident
            self._slot_probs = encoder_probabilities(
                self.base_probs, self.encoder_names, self.lib.resident_has_smpl, self.lib.resident_has_soma
            )
        return self._slot_probs

    def _resample_command(self, env_ids: Sequence[int] | slice) -> None:
        if self.resets_prepared:
            return  # prepare_resets drew and wrote these envs before the step's host sync
        ids = self._env_ids(env_ids)
        if ids.numel() == 0:
            return
        slots, frames, encoder_mask, root, joint_pos, ref = self._draw(ids)
        self.slots[ids] = slots
        self.frames[ids] = frames
        self.windows.invalidate()
        self.encoder_mask[ids] = encoder_mask
        write_reference_state(
            self.robot, ids, root.pos, root.quat, joint_pos, root.lin_vel, root.ang_vel, ref.joint_vel
        )
        self.running_ref_root_height[ids] = ref.root_pos_w[:, 2]
        self._update_relative()

    def draw_resets(self) -> None:
        """Draw a new episode start for every env into persistent buffers (:class:`ResetDraws`; no env's state changes).

        The draws do not depend on the step's physics, so :class:`sonic_env.rl_env.SonicRLEnv` makes them
        on a side CUDA stream while the physics runs and sets :attr:`resets_drawn`; :meth:`prepare_resets`
        then keeps them where an env is done instead of drawing.
        """
        slots, frames, encoder_mask, root, joint_pos, ref = self._draw(None)
        values = (slots, frames, encoder_mask, root.pos, root.quat, root.lin_vel, root.ang_vel, joint_pos)
        values += (ref.joint_vel, ref.root_pos_w[:, 2])
        if self._drawn is None:
            self._drawn = ResetDraws(*(v.clone() for v in values))
        else:
            for buffer, value in zip(self._drawn, values, strict=True):
                buffer.copy_(value)

    def prepare_resets(self, done: Tensor) -> None:
        """Reset the motion command of the envs where ``done`` is True, without knowing them on the host.

        The same draws as :meth:`_resample_command`, made for every env and kept where ``done`` (the
        robots written with Isaac Lab's mask writes), and the failure record of :meth:`reset`. Called by
        :class:`sonic_env.rl_env.SonicRLEnv` after the step's rewards and before Isaac Lab's
        ``reset_buf.nonzero()`` host sync, so this work is queued while the GPU still runs the physics;
        the ``reset`` / ``_resample_command`` of the same step then skip it. Relative reference: the
        step's :meth:`compute` recomputes it. Random draws are made for all envs (different streams than
        the index path, the same distributions).

        Args:
            done: ``(N,)`` bool, Isaac Lab's ``reset_buf`` of this step (terminated or timed out).
        """
        terminations = getattr(self._env, "termination_manager", None)
        if self.training and terminations is not None:
            steps = getattr(self._env, "episode_length_buf")  # noqa: B009 (ManagerBasedRLEnv only)
            failed = terminations.terminated & (steps > 0)
            torch.where(done, failed, self._failed, out=self._failed)
            torch.where(done, self.slots, self._fail_slots, out=self._fail_slots)
            torch.where(done, self.frames, self._fail_frames, out=self._fail_frames)
        if not self.resets_drawn:
            self.draw_resets()
        self.resets_drawn = False
        d = self._drawn
        assert d is not None
        torch.where(done, d.slots, self.slots, out=self.slots)
        torch.where(done, d.frames, self.frames, out=self.frames)
        torch.where(done.unsqueeze(-1), d.encoder_mask, self.encoder_mask, out=self.encoder_mask)
        self.windows.invalidate()
        write_reference_state_masked(
            self.robot,
            done,
            d.root_pos,
            d.root_quat,
            d.joint_pos,
            d.root_lin_vel,
            d.root_ang_vel,
            d.joint_vel,
        )
        height = self.running_ref_root_height
        torch.where(done, d.ref_root_z, height, out=height)
        self.resets_prepared = True

    def compute(self, dt: float) -> None:
        """Advance every env's frame (Isaac Lab's ``CommandTerm.compute`` without its resampling timer).

        Episodes end by termination or time-out, never on a timer (``resampling_time_range`` is
        ``(1e9, 1e9)``), so the base class's per-step ``(time_left <= 0).nonzero()`` (a host sync on
        CUDA) would never select an env and is skipped.
        """
        del dt
        self.resets_prepared = False
        self._update_metrics()
        self._update_command()

    def _update_command(self) -> None:
        self.frames.copy_(torch.minimum(self.frames + 1, self.clip_lengths - 1))
        self.windows.invalidate()
        if self.training:
            self.lib.update_adaptive(
                self.slots, self.frames, self._failed, self._fail_slots, self._fail_frames
            )
            self._failed.zero_()
        alpha = self.config.root_height_ema_alpha
        ref_z = self._state("now").robot.root_pos_w[:, 2]
        self.running_ref_root_height.mul_(1.0 - alpha).add_(alpha * ref_z)
        if self.cfg.replay:
            self.write_reference_to_robot()
        self._update_relative()

    def _update_metrics(self) -> None:
        pass

    def _update_relative(self) -> None:
        pos, quat = relative_reference(
            self.ref_body_pos_w,
            self.ref_body_quat_w,
            self.robot_anchor_pos_w,
            self.robot_anchor_quat_w,
        )
        self.body_pos_relative_w.copy_(pos)
        self.body_quat_relative_w.copy_(quat)

    # ------------------------------------------------------------------ trainer hooks
    def assign(self, env_ids: Tensor, slots: Tensor, frames: Tensor) -> None:
        """Point envs at given (slot, frame) pairs without touching the robot (tools and tests).

        Call :meth:`write_reference_to_robot` to also put the robots there.
        """
        self.slots[env_ids] = slots.to(self.slots).clone()
        self.frames[env_ids] = torch.minimum(
            frames.to(self.frames).clone(), self.lib.resident_lengths[self.slots[env_ids]] - 1
        )
        self.windows.invalidate()

    def write_reference_to_robot(self, env_ids: Tensor | None = None) -> None:
        """Put the robots exactly on their current reference frame (replay; no noise)."""
        ids = torch.arange(self.num_envs, device=self.device) if env_ids is None else env_ids
        ref = self._state("now").robot
        write_reference_state(
            self.robot,
            ids,
            self.ref_body_pos_w[ids, 0],
            ref.root_quat_w[ids],
            ref.joint_pos[ids],
            ref.body_lin_vel_w[ids, 0],
            ref.body_ang_vel_w[ids, 0],
            ref.joint_vel[ids],
        )

    def redraw(self) -> bool:
        """Draw a new resident clip set (every ``resample_every`` iterations); True: all envs must reset."""
        if not self.training:
            return False
        return self.lib.redraw()

    def update_sampling(self) -> None:
        """Recompute the adaptive-sampling probabilities (once per PPO iteration)."""
        self.lib.update_sampling()

    def state_dict(self) -> dict[str, Any]:
        """The motion library's adaptive counts and generator (for checkpoints)."""
        return self.lib.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`."""
        self.lib.load_state_dict(state)


@configclass
class MotionCommandCfg(CommandTermCfg):
    """Configuration of :class:`MotionCommand`; built by :func:`sonic_env.env_cfg.commands_cfg`."""

    class_type: type = MotionCommand
    resampling_time_range: tuple[float, float] = (NEVER_S, NEVER_S)
    """Never resample on a timer: episodes end by termination (the clip end is a time-out)."""

    motion: dict = MISSING  # pyright: ignore[reportAssignmentType]
    """``MotionCommandConfig.model_dump()`` (plain data, re-validated by the term)."""
    encoder_names: tuple[str, ...] = ("g1", "teleop", "smpl")
    """The contract's encoders, the columns of ``encoder_mask``."""
    human_parts: tuple[str, ...] = ("smpl",)
    """Human modalities read by the contract's terms (``smpl``, ``soma``)."""
    teleop_bodies: tuple[str, ...] = ("left_wrist_yaw_link", "right_wrist_yaw_link", "torso_link")
    """VR 3-point bodies (from the contract)."""
    teleop_offsets: tuple[tuple[float, float, float], ...] = (
        (0.18, -0.025, 0.0),
        (0.18, 0.025, 0.0),
        (0.0, 0.0, 0.35),
    )
    """VR point offsets in their bodies' frames (m, from the contract)."""
    mode: str = "train"
    """'train' or 'eval' (EnvConfig.mode)."""
    replay: bool = False
    """Write the robot's state from the reference every step."""
    seed: int = 0
    """Seeds the motion library and the command's draws."""
