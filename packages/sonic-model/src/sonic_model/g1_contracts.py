"""SONIC's G1 observation contracts, as data.

Layouts, term order and widths follow SONIC_REFERENCE §2 (tokenizer §2.1, decoder proprioception
§2.2, critic §2.3) and FORMATS.md "ONNX files" (file order of the tokenizer vector). Joint and body
names are plain strings here so that sonic-model needs no robot package; a top-level test
(``tests/integration/test_contract_joint_names.py``) checks them against ``sonic_data.g1``.

Widths: encoders g1 640, teleop 267, smpl 840, soma 900; decoder proprioception 930; critic 1645;
tokenizer file vector 1751 (sonic_release) / 2652 (sonic_bones_seed).
"""

from __future__ import annotations

from sonic_model.contract import EncoderInputs, ObservationContract, ObservationTerm

ISAACLAB_JOINT_NAMES: tuple[str, ...] = (
    "left_hip_pitch_joint", "right_hip_pitch_joint", "waist_yaw_joint",
    "left_hip_roll_joint", "right_hip_roll_joint", "waist_roll_joint",
    "left_hip_yaw_joint", "right_hip_yaw_joint", "waist_pitch_joint",
    "left_knee_joint", "right_knee_joint",
    "left_shoulder_pitch_joint", "right_shoulder_pitch_joint",
    "left_ankle_pitch_joint", "right_ankle_pitch_joint",
    "left_shoulder_roll_joint", "right_shoulder_roll_joint",
    "left_ankle_roll_joint", "right_ankle_roll_joint",
    "left_shoulder_yaw_joint", "right_shoulder_yaw_joint",
    "left_elbow_joint", "right_elbow_joint",
    "left_wrist_roll_joint", "right_wrist_roll_joint",
    "left_wrist_pitch_joint", "right_wrist_pitch_joint",
    "left_wrist_yaw_joint", "right_wrist_yaw_joint",
)  # fmt: skip
"""SONIC's policy joint order (Isaac Lab's breadth-first order of its URDF, SONIC_REFERENCE §8)."""

LOWER_BODY_JOINT_NAMES: tuple[str, ...] = tuple(
    f"{side}_{j}_joint"
    for side in ("left", "right")
    for j in ("hip_pitch", "hip_roll", "hip_yaw", "knee", "ankle_pitch", "ankle_roll")
)
"""The 12 leg joints in MuJoCo (canonical) order, as ``command_multi_future_lower_body`` lays them out."""

WRIST_JOINT_NAMES: tuple[str, ...] = ISAACLAB_JOINT_NAMES[23:29]
"""Isaac Lab indices 23-28 (L/R interleaved roll, pitch, yaw): the ``joint_pos_multi_future_wrist_*`` order."""

TRACKED_BODY_NAMES: tuple[str, ...] = (
    "pelvis",
    "left_hip_roll_link", "left_knee_link", "left_ankle_roll_link",
    "right_hip_roll_link", "right_knee_link", "right_ankle_roll_link",
    "torso_link",
    "left_shoulder_roll_link", "left_elbow_link", "left_wrist_yaw_link",
    "right_shoulder_roll_link", "right_elbow_link", "right_wrist_yaw_link",
)  # fmt: skip
"""SONIC's 14 tracked bodies, pelvis (the anchor) first (SONIC_REFERENCE §3)."""

VR_3POINT_BODY_NAMES: tuple[str, ...] = ("left_wrist_yaw_link", "right_wrist_yaw_link", "torso_link")
VR_3POINT_OFFSETS_M: tuple[tuple[float, float, float], ...] = (
    (0.18, -0.025, 0.0),
    (0.18, 0.025, 0.0),
    (0.0, 0.0, 0.35),
)

SMPL_JOINT_NAMES: tuple[str, ...] = (
    "Pelvis", "L_Hip", "R_Hip", "Spine1", "L_Knee", "R_Knee", "Spine2", "L_Ankle", "R_Ankle", "Spine3",
    "L_Foot", "R_Foot", "Neck", "L_Collar", "R_Collar", "Head", "L_Shoulder", "R_Shoulder", "L_Elbow",
    "R_Elbow", "L_Wrist", "R_Wrist", "L_Hand", "R_Hand",
)  # fmt: skip
SOMA_JOINT_NAMES: tuple[str, ...] = (
    "Hips", "Spine1", "Spine2", "Chest", "Neck1", "Head",
    "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand", "LeftHandThumb1", "LeftHandMiddle1",
    "RightShoulder", "RightArm", "RightForeArm", "RightHand", "RightHandThumb1", "RightHandMiddle1",
    "LeftLeg", "LeftShin", "LeftFoot", "LeftToeBase", "RightLeg", "RightShin", "RightFoot", "RightToeBase",
)  # fmt: skip
"""The 26 SOMA joints SONIC keeps from the BVH (SONIC_REFERENCE §11.3)."""

_SIX_D = "6D rotation (first two columns of R, row-major [R00,R01,R10,R11,R20,R21])"
_G1_FUTURE = {"temporal": "future", "num_frames": 10, "frame_spacing_s": 0.1}
_HUMAN_FUTURE = {"temporal": "future", "num_frames": 10, "frame_spacing_s": 0.02}
_HISTORY = {"temporal": "history", "num_frames": 10, "frame_spacing_s": 0.02, "layout": "oldest -> newest"}
_CMF_LAYOUT = (
    "flat [joint_pos f0..f9 (10x29) | joint_vel f0..f9 (10x29)]; the (10, 58) view is that flat vector "
    "reshaped, so row r is not frame r (row 0 = pos f0, f1)"
)


def _human_terms(kind: str, joints: tuple[str, ...], base_rot: str) -> list[ObservationTerm]:
    """The three reference terms of the smpl or soma encoder."""
    skeleton = "smpl" if kind == "smpl" else "soma"
    return [
        ObservationTerm(
            name=f"{kind}_joints_multi_future_local_nonflat", shape=(10, 3 * len(joints)),
            frame=f"each frame's own {kind.upper()} root (positions rotated by that frame's inverse root quaternion)",
            units="m", **_HUMAN_FUTURE, layout="per frame: joints x (x, y, z)",
            body_names=joints, body_skeleton=skeleton, noise=0.05,
            description=f"{len(joints)} {kind.upper()} joint positions per future frame, root-translation-free.",
        ),
        ObservationTerm(
            name=f"{kind}_root_ori_b_multi_future", shape=(10, 6), frame="robot pelvis (full orientation)",
            units=_SIX_D, **_HUMAN_FUTURE, noise=0.05,
            description=f"q_robot_pelvis^-1 * q_{kind}_root(f); root quaternion Y-up -> Z-up, then {base_rot}.",
        ),
        ObservationTerm(
            name=f"joint_pos_multi_future_wrist_for_{kind}", shape=(10, 6), frame="joint space", units="rad",
            **_HUMAN_FUTURE, joint_names=WRIST_JOINT_NAMES,
            description="Reference G1 wrist joint positions at the human encoder's frame spacing.",
        ),
    ]  # fmt: skip


def _tokenizer_terms(with_soma: bool) -> tuple[ObservationTerm, ...]:
    n_enc = 4 if with_soma else 3
    terms = [
        ObservationTerm(
            name="mode_id", shape=(1,), frame="none", units="index (float; g1 0, teleop 1, smpl 2, soma 3)",
            file_only=True, description="Head of the _encoder.onnx input: which encoder's token to output.",
        ),
        ObservationTerm(
            name="encoder_index", shape=(n_enc,), frame="none", units="multi-hot flags",
            layout="columns in encoder order", description="Active encoders per episode (ignored in files).",
        ),
        ObservationTerm(
            name="command_multi_future_nonflat", shape=(10, 58), frame="joint space", units="rad | rad/s",
            **_G1_FUTURE, layout=_CMF_LAYOUT, joint_names=ISAACLAB_JOINT_NAMES,
            description="Reference G1 joint positions and velocities, 10 future frames.",
        ),
        ObservationTerm(
            name="motion_anchor_ori_b", shape=(6,), frame="robot pelvis (full orientation)", units=_SIX_D,
            body_names=("pelvis",), noise=0.05, description="q_robot_pelvis^-1 * q_ref_pelvis, current frame.",
        ),
        ObservationTerm(
            name="motion_anchor_ori_b_mf_nonflat", shape=(10, 6), frame="robot pelvis (full orientation)",
            units=_SIX_D, **_G1_FUTURE, body_names=("pelvis",), noise=0.05,
            description="q_robot_pelvis^-1 * q_ref_pelvis(f) for each future frame.",
        ),
        ObservationTerm(
            name="command_multi_future_lower_body", shape=(240,), frame="joint space", units="rad | rad/s",
            **_G1_FUTURE, layout="[pos f0..f9 (10x12) | vel f0..f9 (10x12)]", joint_names=LOWER_BODY_JOINT_NAMES,
            description="Reference leg joint positions and velocities, MuJoCo leg order.",
        ),
        ObservationTerm(
            name="vr_3point_local_target", shape=(9,), frame="reference pelvis (full orientation)", units="m",
            layout="points x (x, y, z)", body_names=VR_3POINT_BODY_NAMES, body_offsets_m=VR_3POINT_OFFSETS_M,
            description="Reference positions of the 3 VR points relative to the reference pelvis.",
        ),
        ObservationTerm(
            name="vr_3point_local_orn_target", shape=(12,), frame="reference pelvis (full orientation)",
            units="wxyz quaternion", layout="bodies x (w, x, y, z)", body_names=VR_3POINT_BODY_NAMES,
            description="q_ref_pelvis^-1 * q_ref_body of the 3 VR bodies.",
        ),
        *_human_terms("smpl", SMPL_JOINT_NAMES, "x conj(0.5, 0.5, 0.5, 0.5) (remove_smpl_base_rot)"),
    ]  # fmt: skip
    if with_soma:
        terms += _human_terms("soma", SOMA_JOINT_NAMES, "x (0.5, 0.5, 0.5, 0.5) (remove_bvh_base_rot)")
    return tuple(terms)


def _encoders(with_soma: bool) -> tuple[EncoderInputs, ...]:
    encoders = [
        EncoderInputs(
            name="g1", inputs=("command_multi_future_nonflat", "motion_anchor_ori_b_mf_nonflat"), rows=10
        ),
        EncoderInputs(
            name="teleop",
            inputs=(
                "command_multi_future_lower_body",
                "vr_3point_local_target",
                "vr_3point_local_orn_target",
                "motion_anchor_ori_b",
            ),
        ),
        EncoderInputs(
            name="smpl",
            inputs=(
                "smpl_joints_multi_future_local_nonflat",
                "smpl_root_ori_b_multi_future",
                "joint_pos_multi_future_wrist_for_smpl",
            ),
            rows=10,
        ),
    ]
    if with_soma:
        encoders.append(
            EncoderInputs(
                name="soma",
                inputs=(
                    "soma_joints_multi_future_local_nonflat",
                    "soma_root_ori_b_multi_future",
                    "joint_pos_multi_future_wrist_for_soma",
                ),
                rows=10,
            )
        )
    return tuple(encoders)


def _proprioception() -> tuple[ObservationTerm, ...]:
    j = ISAACLAB_JOINT_NAMES
    return (
        ObservationTerm(name="base_ang_vel", shape=(30,), frame="robot pelvis", units="rad/s", **_HISTORY,
                        noise=0.2, description="Pelvis angular velocity (root_ang_vel_b)."),
        ObservationTerm(name="joint_pos", shape=(290,), frame="joint space", units="rad", **_HISTORY,
                        joint_names=j, noise=0.01, description="q - default_q (default incl. its DR offset)."),
        ObservationTerm(name="joint_vel", shape=(290,), frame="joint space", units="rad/s", **_HISTORY,
                        joint_names=j, noise=0.5, description="Joint velocities (joint_vel_rel)."),
        ObservationTerm(name="actions", shape=(290,), frame="joint space", units="action (pre-scale)",
                        **_HISTORY, joint_names=j, description="Last raw policy actions after the clip."),
        ObservationTerm(name="gravity_dir", shape=(30,), frame="robot pelvis", units="unit vector", **_HISTORY,
                        noise=0.05, description="q_robot_pelvis^-1 * (0, 0, -1)."),
    )  # fmt: skip


def _critic() -> tuple[ObservationTerm, ...]:
    j = ISAACLAB_JOINT_NAMES
    return (
        ObservationTerm(name="command_multi_future", shape=(580,), frame="joint space", units="rad | rad/s",
                        **_G1_FUTURE, layout="[joint_pos f0..f9 (10x29) | joint_vel f0..f9 (10x29)]",
                        joint_names=j, description="Reference joint positions and velocities, flat."),
        ObservationTerm(name="motion_anchor_pos_b", shape=(3,), frame="robot pelvis", units="m",
                        body_names=("pelvis",), description="Reference pelvis position in the robot pelvis frame."),
        ObservationTerm(name="motion_anchor_ori_b", shape=(6,), frame="robot pelvis (full orientation)",
                        units=_SIX_D, body_names=("pelvis",), description="As the tokenizer term, no noise."),
        ObservationTerm(name="body_pos", shape=(42,), frame="robot pelvis", units="m", layout="bodies x (x, y, z)",
                        body_names=TRACKED_BODY_NAMES, description="Robot tracked-body positions."),
        ObservationTerm(name="body_ori", shape=(84,), frame="robot pelvis", units=_SIX_D, layout="bodies x 6D",
                        body_names=TRACKED_BODY_NAMES, description="Robot body orientations relative to the pelvis."),
        ObservationTerm(name="base_lin_vel", shape=(30,), frame="robot pelvis", units="m/s", **_HISTORY,
                        description="Pelvis linear velocity (root_lin_vel_b)."),
        ObservationTerm(name="base_ang_vel", shape=(30,), frame="robot pelvis", units="rad/s", **_HISTORY,
                        description="Pelvis angular velocity."),
        ObservationTerm(name="joint_pos", shape=(290,), frame="joint space", units="rad", **_HISTORY,
                        joint_names=j, description="q - default_q."),
        ObservationTerm(name="joint_vel", shape=(290,), frame="joint space", units="rad/s", **_HISTORY,
                        joint_names=j, description="Joint velocities."),
        ObservationTerm(name="actions", shape=(290,), frame="joint space", units="action (pre-scale)", **_HISTORY,
                        joint_names=j, description="Last raw policy actions."),
    )  # fmt: skip


def _contract(name: str, with_soma: bool) -> ObservationContract:
    return ObservationContract(
        name=name,
        tokenizer=_tokenizer_terms(with_soma),
        encoders=_encoders(with_soma),
        kinematic_target=EncoderInputs(
            name="g1_kin", inputs=("command_multi_future_nonflat", "motion_anchor_ori_b_mf_nonflat"), rows=10
        ),
        proprioception=_proprioception(),
        critic=_critic(),
        action_joint_names=ISAACLAB_JOINT_NAMES,
    )


def sonic_release_contract() -> ObservationContract:
    """SONIC's ``sonic_release`` layout: encoders g1, teleop, smpl; tokenizer file vector 1751 wide."""
    return _contract("g1_sonic_release", with_soma=False)


def sonic_bones_seed_contract() -> ObservationContract:
    """SONIC's ``sonic_bones_seed`` layout: adds the soma encoder; tokenizer file vector 2652 wide."""
    return _contract("g1_sonic_bones_seed", with_soma=True)
