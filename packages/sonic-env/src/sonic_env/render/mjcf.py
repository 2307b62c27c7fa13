"""The render MJCF: the physics MJCF plus the G1's visual meshes, built with ``mujoco.MjSpec``.

Cameras draw visual geometry only, and the physics model is mesh-free, so rendering needs a model
with the meshes of :mod:`sonic_data.g1.meshes`. Each visual geom is added to its body with the
MJCF's own ``visual`` default class (``group 2``, ``density 0``, ``contype 0``, ``conaffinity 0``):
it has no mass and makes no contacts, so masses, inertias, joints and collision geoms stay exactly
those of the physics model (checked in ``tests/env/test_render_assets.py`` with MuJoCo).

Two variants:

* ``"robot"``: the simulated robot, Unitree's colours (silver and black);
* ``"ghost"``: the reference drawn beside it, one colour (:data:`GHOST_RGBA`) and **no collision
  geoms**, so a kinematic copy written from the reference can never touch anything.

Mesh files are referenced by bare file name (``meshdir="meshes"``): the caller places the STL
files in a ``meshes/`` folder beside the written XML (see :mod:`sonic_env.render.assets`).
"""

from __future__ import annotations

from typing import Literal

import mujoco

from sonic_data.g1.meshes import materials, mesh_path, visual_geoms

__all__ = ["GHOST_RGBA", "MESH_SUBDIR", "RenderVariant", "render_mjcf", "render_spec"]

RenderVariant = Literal["robot", "ghost"]

GHOST_RGBA: tuple[float, float, float, float] = (0.25, 0.55, 1.0, 1.0)
"""Colour of the reference robot (light blue), distinct from the robot's silver and black."""

MESH_SUBDIR = "meshes"
"""Folder of the STL files, relative to the written render MJCF."""

VISUAL_CLASS = "visual"
"""The physics MJCF's default class of visual geoms (no mass, no contacts)."""


def render_spec(physics_xml: str, variant: RenderVariant = "robot") -> mujoco.MjSpec:
    """An ``MjSpec`` of ``physics_xml`` with every visual mesh geom added (see the module docstring).

    Args:
        physics_xml: text of the mesh-free physics MJCF (the vendored G1, possibly with hand mass).
        variant: ``"robot"`` or ``"ghost"``.

    Raises:
        ValueError: if the MJCF lacks the ``visual`` default class, a body a mesh belongs to, or has a
            material whose colour differs from the mesh table's.
    """
    spec = mujoco.MjSpec.from_string(physics_xml)
    spec.meshdir = MESH_SUBDIR
    default = spec.find_default(VISUAL_CLASS)
    if default is None:
        raise ValueError(f"physics MJCF has no default class {VISUAL_CLASS!r} for visual geoms")
    colours = materials()
    if variant == "ghost":
        colours = dict.fromkeys(colours, GHOST_RGBA)
        for geom in list(spec.geoms):
            if geom.contype or geom.conaffinity:
                spec.delete(geom)
    existing = {m.name: m for m in spec.materials}
    for name, rgba in colours.items():
        material = existing.get(name) or spec.add_material(name=name)
        if (
            name in existing
            and variant == "robot"
            and any(abs(a - b) > 1e-6 for a, b in zip(material.rgba, rgba, strict=True))
        ):
            raise ValueError(
                f"physics MJCF material {name!r} has rgba {list(material.rgba)}, mesh table {list(rgba)}"
            )
        material.rgba = rgba
    meshes = sorted({g.mesh for g in visual_geoms()})
    for mesh in meshes:
        spec.add_mesh(name=mesh, file=f"{mesh}.stl")
    # In-memory copies so the spec compiles (and ``to_xml`` works) wherever the XML will be written.
    spec.assets = {f"{MESH_SUBDIR}/{mesh}.stl": mesh_path(mesh).read_bytes() for mesh in meshes}
    for g in visual_geoms():
        body = spec.body(g.body)
        if body is None:
            raise ValueError(f"physics MJCF has no body {g.body!r} for visual mesh {g.mesh!r}")
        geom = body.add_geom(default=default)
        geom.type = mujoco.mjtGeom.mjGEOM_MESH
        geom.meshname = g.mesh
        geom.pos = g.pos
        geom.quat = g.quat
        geom.material = g.material
    return spec


def render_mjcf(physics_xml: str, variant: RenderVariant = "robot") -> str:
    """MJCF text of :func:`render_spec` (meshes under ``meshes/`` beside the file)."""
    return render_spec(physics_xml, variant).to_xml()
