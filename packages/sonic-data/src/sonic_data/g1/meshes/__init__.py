"""Render-only visual meshes of the G1: decimated STL files and where each sits on the robot.

The physics model ``sonic_data/g1/g1.xml`` is mesh-free (its visual geoms have no mass and no
contacts, so dropping them leaves simulation unchanged). Cameras and viewers draw visual geometry
only, so rendering adds these meshes back: ``<mesh>.stl`` (binary STL, Unitree's meshes decimated to
≈8 % of their triangles, ≈2 MB in all) and ``visuals.json`` (each visual geom of the source MJCF:
body, mesh, ``pos``, ``quat`` wxyz, material; and the material colours). Provenance and licences:
``NOTICE.md`` beside them; regenerate with ``packages/sonic-data/scripts/make_g1_meshes.py``.

sonic-env builds its render MJCF / USD from the physics MJCF plus this data.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

__all__ = ["MESH_DIR", "VISUALS_PATH", "VisualGeom", "materials", "mesh_path", "visual_geoms"]

MESH_DIR: Path = Path(__file__).parent
"""Folder holding the STL files and ``visuals.json``."""

VISUALS_PATH: Path = MESH_DIR / "visuals.json"
"""The visual-geom table."""

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]
Rgba = tuple[float, float, float, float]


@dataclass(frozen=True)
class VisualGeom:
    """One visual mesh geom of the G1.

    Attributes:
        body: body (link) it is attached to.
        mesh: mesh name; the file is ``MESH_DIR / f"{mesh}.stl"``.
        pos: position in the body frame (m).
        quat: orientation in the body frame, ``wxyz``, unit.
        material: material name, a key of :func:`materials`.
    """

    body: str
    mesh: str
    pos: Vec3
    quat: Quat
    material: str


def _vec(value: object, n: int, where: str) -> tuple[float, ...]:
    if not isinstance(value, list) or len(value) != n:
        raise ValueError(f"{VISUALS_PATH}: {where} must be a list of {n} numbers, got {value!r}")
    return tuple(float(v) for v in value)


@cache
def _load() -> tuple[tuple[VisualGeom, ...], dict[str, Rgba]]:
    data = json.loads(VISUALS_PATH.read_text())
    if not isinstance(data, dict) or "geoms" not in data or "materials" not in data:
        raise ValueError(f"{VISUALS_PATH}: expected an object with 'geoms' and 'materials'")
    mats: dict[str, Rgba] = {
        str(k): _vec(v, 4, f"materials.{k}")  # pyright: ignore[reportAssignmentType]
        for k, v in data["materials"].items()
    }
    geoms: list[VisualGeom] = []
    for i, g in enumerate(data["geoms"]):
        where = f"geoms[{i}]"
        geom = VisualGeom(
            body=str(g["body"]),
            mesh=str(g["mesh"]),
            pos=_vec(g["pos"], 3, f"{where}.pos"),  # pyright: ignore[reportArgumentType]
            quat=_vec(g["quat"], 4, f"{where}.quat"),  # pyright: ignore[reportArgumentType]
            material=str(g["material"]),
        )
        if geom.material not in mats:
            raise ValueError(
                f"{VISUALS_PATH}: {where}.material {geom.material!r} is not one of {sorted(mats)}"
            )
        if not mesh_path(geom.mesh).is_file():
            raise FileNotFoundError(
                f"{VISUALS_PATH}: {where} names mesh {geom.mesh!r}, but {mesh_path(geom.mesh)} is missing"
            )
        geoms.append(geom)
    return tuple(geoms), mats


def mesh_path(mesh: str) -> Path:
    """Path of the STL file of ``mesh``."""
    return MESH_DIR / f"{mesh}.stl"


def visual_geoms() -> tuple[VisualGeom, ...]:
    """Every visual geom, in the source MJCF's document order (35 for the G1)."""
    return _load()[0]


def materials() -> dict[str, Rgba]:
    """Material name → RGBA in [0, 1] (``silver``, ``black``)."""
    return dict(_load()[1])
