"""The render model adds visual meshes only: masses, inertias, joints and collision geoms stay the physics model's.

Checked twice against independent readers: MuJoCo compiling the physics MJCF and the render MJCF,
and USD's physics schemas on the two converted USD files. Also: the mesh data stays within its size
budget and every STL is a valid binary STL.
"""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from sonic_data.g1 import MJCF_PATH
from sonic_data.g1.meshes import MESH_DIR, mesh_path, visual_geoms
from sonic_env.assets import g1_usd_path, mjcf_with_hand_mass
from sonic_env.render.assets import render_usd_path
from sonic_env.render.mjcf import GHOST_RGBA, render_spec

HAND_MASS = 0.526


def _physics(hand_mass: float = 0.0) -> mujoco.MjModel:
    return mujoco.MjModel.from_xml_string(mjcf_with_hand_mass(MJCF_PATH.read_bytes(), hand_mass).decode())


def _render(variant: str, hand_mass: float = 0.0) -> mujoco.MjModel:
    text = mjcf_with_hand_mass(MJCF_PATH.read_bytes(), hand_mass).decode()
    return render_spec(text, variant).compile()  # pyright: ignore[reportArgumentType]


def _collision(model: mujoco.MjModel) -> dict[str, np.ndarray]:
    ids = np.flatnonzero((model.geom_contype != 0) | (model.geom_conaffinity != 0))
    return {
        "body": model.geom_bodyid[ids],
        "type": model.geom_type[ids],
        "size": model.geom_size[ids],
        "pos": model.geom_pos[ids],
        "quat": model.geom_quat[ids],
        "friction": model.geom_friction[ids],
        "contype": model.geom_contype[ids],
        "conaffinity": model.geom_conaffinity[ids],
    }


@pytest.mark.parametrize("hand_mass", [0.0, HAND_MASS])
def test_render_mjcf_keeps_masses_inertias_joints_and_collision_geoms(hand_mass: float) -> None:
    """MuJoCo compiles both models to the same bodies, inertials, joints and collision geoms."""
    phys, rend = _physics(hand_mass), _render("robot", hand_mass)
    assert rend.nbody == phys.nbody and rend.njnt == phys.njnt
    for field in ("body_mass", "body_inertia", "body_ipos", "body_iquat", "body_pos", "body_quat",
                  "jnt_range", "jnt_axis", "dof_armature", "dof_damping"):  # fmt: skip
        np.testing.assert_array_equal(getattr(rend, field), getattr(phys, field), err_msg=field)
    for key, value in _collision(phys).items():
        np.testing.assert_array_equal(_collision(rend)[key], value, err_msg=key)
    added = rend.ngeom - phys.ngeom
    assert added == len(visual_geoms()) == 35
    mesh_geoms = np.flatnonzero(rend.geom_type == mujoco.mjtGeom.mjGEOM_MESH)
    assert len(mesh_geoms) == added
    assert not rend.geom_contype[mesh_geoms].any() and not rend.geom_conaffinity[mesh_geoms].any()
    assert (rend.geom_group[mesh_geoms] == 2).all()


def test_ghost_mjcf_has_the_same_inertials_and_no_collision_geom() -> None:
    """The reference robot weighs the same but cannot touch anything, and is drawn in one colour."""
    phys, ghost = _physics(), _render("ghost")
    np.testing.assert_array_equal(ghost.body_mass, phys.body_mass)
    np.testing.assert_array_equal(ghost.body_inertia, phys.body_inertia)
    assert not ghost.geom_contype.any() and not ghost.geom_conaffinity.any()
    assert ghost.ngeom == len(visual_geoms())
    np.testing.assert_allclose(ghost.mat_rgba, np.tile(GHOST_RGBA, (ghost.nmat, 1)), atol=1e-6)


def _usd_physics(path: str) -> tuple[dict[str, tuple], dict[str, np.ndarray]]:
    """Per rigid body (mass, diagonal inertia, CoM), and per collision prim its shape as numbers.

    A collider is ``[type id, radius, height, centre (3), axis (3)]`` in its body's frame, the axis
    (local Z) signed to a canonical direction: a capsule turned end over end is the same shape, and
    MjSpec writes ``fromto`` capsules back as pos/quat that may flip it.
    """
    from pxr import Usd, UsdGeom, UsdPhysics

    stage = Usd.Stage.Open(path)
    bodies: dict[str, tuple] = {}
    colliders: dict[str, np.ndarray] = {}
    for prim in stage.Traverse():
        if prim.HasAPI(UsdPhysics.RigidBodyAPI):
            mass = UsdPhysics.MassAPI(prim)
            bodies[prim.GetName()] = (
                mass.GetMassAttr().Get(),
                tuple(mass.GetDiagonalInertiaAttr().Get()),
                tuple(mass.GetCenterOfMassAttr().Get()),
            )
        if prim.HasAPI(UsdPhysics.CollisionAPI):
            m = np.array(UsdGeom.Xformable(prim).GetLocalTransformation())
            assert prim.GetAttribute("axis").Get() in (None, "Z"), prim.GetPath()
            axis = m[2, :3] / np.linalg.norm(m[2, :3])
            axis = axis if axis[np.argmax(np.abs(axis))] > 0 else -axis
            radius = prim.GetAttribute("radius").Get() or 0.0
            height = prim.GetAttribute("height").Get() or 0.0
            kind = {"Capsule": 0.0, "Sphere": 1.0}[str(prim.GetTypeName())]
            colliders[prim.GetName()] = np.array([kind, radius, height, *m[3, :3], *axis])
    return bodies, colliders


def test_render_usd_has_the_physics_usd_bodies_and_colliders() -> None:
    """The converted render USD carries the physics USD's masses, inertias and colliders, plus 35 meshes."""
    from pxr import Usd, UsdGeom

    phys_path, rend_path = str(g1_usd_path()), str(render_usd_path())
    phys_bodies, phys_colliders = _usd_physics(phys_path)
    rend_bodies, rend_colliders = _usd_physics(rend_path)
    assert len(phys_bodies) == 30 and len(phys_colliders) == 33
    assert rend_bodies == phys_bodies
    assert rend_colliders.keys() == phys_colliders.keys()
    for name, shape in phys_colliders.items():
        np.testing.assert_allclose(rend_colliders[name], shape, atol=1e-6, err_msg=name)
    rend_stage, phys_stage = Usd.Stage.Open(rend_path), Usd.Stage.Open(phys_path)
    assert len([p for p in rend_stage.Traverse() if p.IsA(UsdGeom.Mesh)]) == 35
    assert not [p for p in phys_stage.Traverse() if p.IsA(UsdGeom.Mesh)]


def test_mesh_data_is_small_and_valid_binary_stl() -> None:
    """≤ 3 MB in all (the tree travels to the GPU machine), each STL's size matches its triangle count."""
    total = sum(p.stat().st_size for p in MESH_DIR.iterdir() if p.is_file())
    assert total <= 3_000_000
    for mesh in {g.mesh for g in visual_geoms()}:
        data = mesh_path(mesh).read_bytes()
        count = int(np.frombuffer(data, "<u4", 1, 80)[0])
        assert len(data) == 84 + 50 * count and count >= 300, mesh
