"""Isaac Lab observation groups built *from* an :class:`~sonic_model.ObservationContract`.

The contract (sonic-model) is the one description of the policy border; this module turns each of
its terms into an Isaac Lab ``ObservationTermCfg`` in the contract's order:

* ``tokenizer``: every env-produced tokenizer term (``mode_id`` is file-only), not concatenated, so
  the trainer gets a dict of contract-named tensors of the contract's shapes (``encoder_index`` bool);
* ``policy``: the decoder proprioception, concatenated (930 for SONIC), history per term oldest →
  newest, filled with the first observation after a reset (Isaac Lab's ``CircularBuffer``);
* ``critic``: the privileged terms, concatenated (1645), never corrupted.

Joint-valued terms gather their own joint order from the simulator's canonical order with an index
list built once by name (``sonic_data.g1.joint_permutation``); body-valued terms likewise from the
motion command's tracked bodies. Uniform noise ``±term.noise`` is added to ``tokenizer`` and ``policy`` when
``noise`` is on (``EnvConfig.observation_noise``: on in train and eval, as SONIC's ``enable_corruption``).

Checks at construction, each error naming the term: an unknown term name, a joint or body the robot
does not have, a shape or frame count that the env would not produce (``ContractEnvError``); after
the env is built, :func:`check_observation_dims` compares the observation manager's widths with the
contract.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from isaaclab.managers import ObservationGroupCfg, ObservationManager, ObservationTermCfg
from isaaclab.utils.noise import UniformNoiseCfg

from sonic_data import g1
from sonic_env.config import MotionCommandConfig
from sonic_env.mdp import observations as obs
from sonic_env.mdp.commands import REFERENCE_FPS
from sonic_env.policy_io import g1_policy_io
from sonic_model import ObservationContract, ObservationTerm, PolicyIO

NUM_SMPL_JOINTS = 24
GROUPS = ("tokenizer", "policy", "critic")


class ContractEnvError(ValueError):
    """The contract asks for something this env cannot produce; the message names the term."""


@dataclass(frozen=True)
class _Spec:
    """How to produce one term: function, parameters, per-step shape and history length (0 = none)."""

    func: Callable[..., Any]
    params: dict[str, Any]
    shape: tuple[int, ...]
    history: int = 0


def _fail(group: str, term: ObservationTerm, message: str) -> ContractEnvError:
    return ContractEnvError(f"contract term {group}/{term.name!r}: {message}")


def _joint_ids(group: str, term: ObservationTerm, source: Sequence[str] = g1.JOINT_NAMES) -> list[int]:
    if term.joint_names is None:
        raise _fail(group, term, "a joint-valued term needs joint_names")
    missing = [j for j in term.joint_names if j not in source]
    if missing:
        raise _fail(group, term, f"joints {missing} are not joints of the robot")
    return g1.joint_permutation(source, term.joint_names)


def _body_ids(group: str, term: ObservationTerm) -> list[int]:
    names = term.body_names or ()
    missing = [b for b in names if b not in g1.BODY_NAMES]
    if missing:
        raise _fail(group, term, f"bodies {missing} are not bodies of the robot")
    untracked = [b for b in names if b not in g1.TRACKED_BODY_NAMES]
    if untracked:
        raise _fail(group, term, f"bodies {untracked} are not tracked by the motion command")
    return [g1.TRACKED_BODY_NAMES.index(b) for b in names]


def _check_future(group: str, term: ObservationTerm, frames: int, dt: float, field: str) -> None:
    if term.temporal != "future" or term.num_frames != frames or abs(term.frame_spacing_s - dt) > 1e-9:
        raise _fail(
            group,
            term,
            f"expects {term.num_frames} future frames {term.frame_spacing_s} s apart (temporal={term.temporal!r}), "
            f"the env's commands.motion.{field} give {frames} frames {dt} s apart",
        )


def _tokenizer_spec(term: ObservationTerm, motion: MotionCommandConfig, num_encoders: int) -> _Spec:
    g = "tokenizer"
    f, dt = motion.num_future_frames, motion.dt_future_ref_frames
    fh, dth = motion.smpl_num_future_frames, motion.smpl_dt_future_ref_frames
    name = term.name
    if name == "encoder_index":
        return _Spec(obs.encoder_index, {}, (num_encoders,))
    if name in ("command_multi_future_nonflat", "command_multi_future_lower_body"):
        _check_future(g, term, f, dt, "num_future_frames/dt_future_ref_frames")
        ids = _joint_ids(g, term)
        if term.size != 2 * f * len(ids):
            raise _fail(g, term, f"size {term.size} != 2 x {f} frames x {len(ids)} joints")
        return _Spec(obs.command_multi_future, {"joint_ids": ids, "shape": list(term.shape)}, term.shape)
    if name == "motion_anchor_ori_b":
        return _Spec(obs.motion_anchor_ori_b, {}, (6,))
    if name == "motion_anchor_ori_b_mf_nonflat":
        _check_future(g, term, f, dt, "num_future_frames/dt_future_ref_frames")
        return _Spec(obs.motion_anchor_ori_b_mf, {}, (f, 6))
    if name == "vr_3point_local_target":
        return _Spec(obs.vr_3point_local_target, {}, (3 * len(term.body_names or ()),))
    if name == "vr_3point_local_orn_target":
        return _Spec(obs.vr_3point_local_orn_target, {}, (4 * len(term.body_names or ()),))
    for kind in ("smpl", "soma"):
        if name == f"{kind}_joints_multi_future_local_nonflat":
            _check_future(g, term, fh, dth, "smpl_num_future_frames/smpl_dt_future_ref_frames")
            joints = NUM_SMPL_JOINTS if kind == "smpl" else motion.motion_lib_cfg.num_soma_joints
            if len(term.body_names or ()) != joints:
                raise _fail(
                    g, term, f"lists {len(term.body_names or ())} joints, the motion library has {joints}"
                )
            return _Spec(obs.human_joints_multi_future_local, {"kind": kind}, (fh, 3 * joints))
        if name == f"{kind}_root_ori_b_multi_future":
            _check_future(g, term, fh, dth, "smpl_num_future_frames/smpl_dt_future_ref_frames")
            return _Spec(obs.human_root_ori_b_multi_future, {"kind": kind}, (fh, 6))
        if name == f"joint_pos_multi_future_wrist_for_{kind}":
            _check_future(g, term, fh, dth, "smpl_num_future_frames/smpl_dt_future_ref_frames")
            ids = _joint_ids(g, term)
            return _Spec(obs.joint_pos_multi_future_wrist, {"joint_ids": ids}, (fh, len(ids)))
    raise _fail(g, term, "unknown term: this env produces no observation of that name")


def _robot_spec(
    group: str, term: ObservationTerm, contract: ObservationContract, motion: MotionCommandConfig
) -> _Spec:
    """Proprioception and critic terms (robot state, history, and the critic's reference terms)."""
    history = term.num_frames if term.temporal == "history" else 0
    name = term.name
    simple: dict[str, tuple[Callable[..., Any], int]] = {
        "base_lin_vel": (obs.base_lin_vel, 3),
        "base_ang_vel": (obs.base_ang_vel, 3),
        "gravity_dir": (obs.gravity_dir, 3),
        "motion_anchor_pos_b": (obs.motion_anchor_pos_b, 3),
        "motion_anchor_ori_b": (obs.motion_anchor_ori_b, 6),
    }
    if name in simple:
        func, width = simple[name]
        return _Spec(func, {}, (width,), history)
    if name in ("joint_pos", "joint_vel"):
        ids = _joint_ids(group, term)
        return _Spec(
            obs.joint_pos_rel if name == "joint_pos" else obs.joint_vel_rel,
            {"joint_ids": ids},
            (len(ids),),
            history,
        )
    if name == "actions":
        ids = _joint_ids(group, term, contract.action_joint_names)
        return _Spec(obs.last_action, {"action_ids": ids}, (len(ids),), history)
    if name == "command_multi_future":
        _check_future(group, term, motion.num_future_frames, motion.dt_future_ref_frames, "num_future_frames")
        ids = _joint_ids(group, term)
        shape = (2 * motion.num_future_frames * len(ids),)
        return _Spec(obs.command_multi_future, {"joint_ids": ids, "shape": list(shape)}, shape)
    if name in ("body_pos", "body_ori"):
        ids = _body_ids(group, term)
        func = obs.body_pos_b if name == "body_pos" else obs.body_ori_b
        return _Spec(func, {"body_ids": ids}, ((3 if name == "body_pos" else 6) * len(ids),))
    raise _fail(group, term, "unknown term: this env produces no observation of that name")


def _term_cfg(group: str, term: ObservationTerm, spec: _Spec, corrupt: bool) -> ObservationTermCfg:
    size = math.prod(spec.shape)
    produced = (size * spec.history,) if spec.history else spec.shape
    if spec.history and term.temporal != "history":
        raise _fail(
            group, term, "the env keeps a history of this term but the contract says temporal != 'history'"
        )
    # Tokenizer terms keep their shape; concatenated groups only need the flat width.
    same = tuple(term.shape) == tuple(produced) if group == "tokenizer" else term.size == math.prod(produced)
    if not same:
        raise _fail(group, term, f"contract shape {term.shape}, the env produces {produced}")
    noise = UniformNoiseCfg(n_min=-term.noise, n_max=term.noise) if corrupt and term.noise > 0 else None
    return ObservationTermCfg(
        func=spec.func,
        params=dict(spec.params),
        noise=noise,
        history_length=spec.history,
        flatten_history_dim=True,
    )


def observation_groups(
    contract: ObservationContract, motion: MotionCommandConfig, noise: bool
) -> dict[str, ObservationGroupCfg]:
    """The ``tokenizer``, ``policy`` and ``critic`` groups for ``contract`` (see the module docstring).

    Args:
        noise: corrupt ``tokenizer`` and ``policy`` terms with their contract noise (never ``critic``).

    Raises:
        ContractEnvError: naming the first term the env cannot produce as the contract describes it.
    """
    corrupt = noise
    groups = {
        "tokenizer": ObservationGroupCfg(concatenate_terms=False, enable_corruption=corrupt),
        "policy": ObservationGroupCfg(concatenate_terms=True, enable_corruption=corrupt),
        "critic": ObservationGroupCfg(concatenate_terms=True, enable_corruption=False),
    }
    for term in contract.tokenizer:
        if term.file_only:
            continue
        spec = _tokenizer_spec(term, motion, len(contract.encoders))
        setattr(groups["tokenizer"], term.name, _term_cfg("tokenizer", term, spec, corrupt))
    for group, terms in (("policy", contract.proprioception), ("critic", contract.critic)):
        for term in terms:
            spec = _robot_spec(group, term, contract, motion)
            setattr(groups[group], term.name, _term_cfg(group, term, spec, corrupt and group == "policy"))
    return groups


def command_parts(contract: ObservationContract) -> dict[str, Any]:
    """What the motion command must provide for ``contract``: encoder columns, human parts, VR bodies.

    Raises:
        ContractEnvError: if the VR terms name bodies the motion command does not track.
    """
    names = {t.name for t in contract.tokenizer}
    parts = tuple(
        k
        for k in ("smpl", "soma")
        if f"{k}_joints_multi_future_local_nonflat" in names or f"{k}_root_ori_b_multi_future" in names
    )
    out: dict[str, Any] = {"encoder_names": contract.encoder_names, "human_parts": parts}
    if "vr_3point_local_target" in names:
        term = contract.tokenizer_term("vr_3point_local_target")
        _body_ids("tokenizer", term)
        if term.body_offsets_m is None:
            raise _fail("tokenizer", term, "needs body_offsets_m (the VR point offsets)")
        out["teleop_bodies"] = tuple(term.body_names or ())
        out["teleop_offsets"] = tuple(tuple(o) for o in term.body_offsets_m)
        if "vr_3point_local_orn_target" in names:
            orn = contract.tokenizer_term("vr_3point_local_orn_target")
            if tuple(orn.body_names or ()) != out["teleop_bodies"]:
                raise _fail("tokenizer", orn, f"bodies {orn.body_names} differ from vr_3point_local_target's")
    return out


def check_observation_dims(manager: ObservationManager, contract: ObservationContract) -> None:
    """Raise :class:`ContractEnvError` naming every term whose built width differs from the contract."""
    expected = {
        "tokenizer": [t for t in contract.tokenizer if not t.file_only],
        "policy": list(contract.proprioception),
        "critic": list(contract.critic),
    }
    errors: list[str] = []
    for group, terms in expected.items():
        names = manager.active_terms[group]
        dims = manager.group_obs_term_dim[group]
        if list(names) != [t.name for t in terms]:
            errors.append(f"{group}: terms {list(names)} != contract {[t.name for t in terms]}")
            continue
        for term, dim in zip(terms, dims, strict=True):
            size = math.prod(dim)
            if size != term.size or (group == "tokenizer" and tuple(dim) != tuple(term.shape)):
                errors.append(f"{group}/{term.name!r}: env shape {tuple(dim)}, contract {term.shape}")
    if errors:
        raise ContractEnvError("observations differ from the contract:\n  " + "\n  ".join(errors))


def policy_io(contract: ObservationContract, control_dt_s: float, action_clip: float) -> PolicyIO:
    """The robot block of the policy border from ``sonic_data.g1``, in the contract's action order."""
    return g1_policy_io(contract.action_joint_names, control_dt_s=control_dt_s, action_clip=action_clip)


__all__ = [
    "GROUPS",
    "REFERENCE_FPS",
    "ContractEnvError",
    "check_observation_dims",
    "command_parts",
    "observation_groups",
    "policy_io",
]
