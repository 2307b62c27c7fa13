"""USD assets for Isaac Lab, generated from the vendored G1 MJCF and cached by content hash.

Isaac Lab loads robots and ground from USD, but the single source of the G1 is ``sonic_data.g1``'s
MJCF. This module derives both USD files with code (never edited by hand) and caches them in a
user cache directory so a later env build reuses them:

* the G1: ``mujoco-usd-converter`` turns the MJCF (optionally with extra hand mass at the wrists,
  see :func:`mjcf_with_hand_mass`) into one flattened ``.usdc`` whose ``pelvis`` carries the
  ``ArticulationRootAPI``; its joints come out in the MJCF's (canonical) order;
* the ground: a ``UsdGeom.Plane`` with ``PhysicsCollisionAPI`` (Newton treats it as an infinite
  plane). Isaac Lab's default ground plane lives on Nucleus, which is unreachable here.

Cache layout: ``<cache>/usd/<key>/g1.usdc`` and ``<cache>/usd/ground-plane-v1/ground.usda``, where
``<cache>`` is ``$SONIC_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/sonic``, else ``~/.cache/sonic``,
and ``<key>`` is the first 16 hex digits of the sha256 of the MJCF text plus the converter version.
Each entry is written into a temporary directory beside its final place and then renamed, so a
crash or a concurrent build never leaves a half-written entry that a later run trusts.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

from sonic_data.g1 import MJCF_PATH

CACHE_ENV_VAR = "SONIC_CACHE_DIR"
CONVERTER_VERSION = "mujoco-usd-converter==0.6.1"
G1_USD_NAME = "g1.usdc"
GROUND_USD_NAME = "ground.usda"
GROUND_FORMAT_VERSION = "ground-plane-v1"
ROOT_BODY = "pelvis"
WRIST_BODIES = ("left_wrist_yaw_link", "right_wrist_yaw_link")


def cache_dir() -> Path:
    """Root of SONIC's cache: ``$SONIC_CACHE_DIR``, else ``$XDG_CACHE_HOME/sonic``, else ``~/.cache/sonic``."""
    override = os.environ.get(CACHE_ENV_VAR)
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "sonic"


def usd_cache_key(mjcf_text: bytes) -> str:
    """Cache key of a converted MJCF: 16 hex digits of sha256(MJCF bytes + converter version)."""
    digest = hashlib.sha256(mjcf_text + b"\0" + CONVERTER_VERSION.encode())
    return digest.hexdigest()[:16]


def mjcf_with_hand_mass(mjcf_text: bytes, hand_mass: float) -> bytes:
    """The MJCF with ``hand_mass`` kg added to each ``*_wrist_yaw_link`` (SONIC's Dex3 hands).

    SONIC trains on a URDF whose Dex3 hands are fixed links merged into the wrist_yaw links
    (≈0.526 kg each, FORMATS.md quirk table). No inertials of the hands are available here, so the
    mass is added at the link's centre of mass and the link's principal inertia is scaled by the
    same mass ratio (the link keeps its shape and gets denser, as Isaac Lab's
    ``randomize_rigid_body_mass(recompute_inertia=True)`` does).

    Args:
        mjcf_text: the MJCF file's bytes.
        hand_mass: mass to add per wrist (kg), ``>= 0``; 0 returns ``mjcf_text`` unchanged.

    Raises:
        ValueError: if ``hand_mass`` is negative or a wrist body lacks an ``<inertial mass diaginertia>``.
    """
    if hand_mass < 0.0:
        raise ValueError(f"hand_mass must be >= 0 kg, got {hand_mass}")
    if hand_mass == 0.0:
        return mjcf_text
    root = ET.fromstring(mjcf_text)
    for name in WRIST_BODIES:
        inertial = root.find(f".//body[@name='{name}']/inertial")
        if inertial is None or "mass" not in inertial.attrib or "diaginertia" not in inertial.attrib:
            raise ValueError(
                f"MJCF body {name!r} has no <inertial mass=... diaginertia=...>; cannot add hand mass"
            )
        mass = float(inertial.attrib["mass"])
        ratio = (mass + hand_mass) / mass
        diag = [float(v) * ratio for v in inertial.attrib["diaginertia"].split()]
        inertial.set("mass", repr(mass + hand_mass))
        inertial.set("diaginertia", " ".join(repr(v) for v in diag))
    return ET.tostring(root, encoding="utf-8", xml_declaration=False)


def _atomic_cache_entry(final_dir: Path, file_name: str, build: Callable[[Path], None]) -> Path:
    """Return ``final_dir/file_name``, building the directory once with ``build(tmp_dir)`` if absent.

    ``build`` writes ``file_name`` into a fresh temporary directory beside ``final_dir``, which is then
    renamed into place. If another process won the race, its entry is kept and ours discarded.
    """
    target = final_dir / file_name
    if target.is_file():
        return target
    final_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp_dir = Path(tempfile.mkdtemp(prefix=f".{final_dir.name}.", dir=final_dir.parent))
    try:
        build(tmp_dir)
        if not (tmp_dir / file_name).is_file():
            raise RuntimeError(f"building cache entry {final_dir} did not write {file_name}")
        if final_dir.exists() and not target.is_file():
            # A broken entry (not written by this module's atomic rename): replace it.
            shutil.rmtree(final_dir)
        with contextlib.suppress(OSError):
            os.rename(tmp_dir, final_dir)
        if not target.is_file():
            raise RuntimeError(f"could not place cache entry {final_dir}")
    finally:
        if tmp_dir.exists():
            shutil.rmtree(tmp_dir, ignore_errors=True)
    return target


def _check_articulation_root(usd_path: Path) -> None:
    """Raise unless the USD's ``pelvis`` prim carries ``UsdPhysics.ArticulationRootAPI``."""
    from pxr import Usd, UsdPhysics

    stage = Usd.Stage.Open(str(usd_path))
    roots = [p for p in stage.Traverse() if p.HasAPI(UsdPhysics.ArticulationRootAPI)]
    names = [p.GetName() for p in roots]
    if names != [ROOT_BODY]:
        raise RuntimeError(
            f"{usd_path}: expected exactly one ArticulationRootAPI, on {ROOT_BODY!r}; found it on {names}"
        )


def g1_usd_path(hand_mass: float = 0.0, mjcf_path: Path = MJCF_PATH) -> Path:
    """Path of the G1 USD converted from ``mjcf_path`` (with ``hand_mass`` per wrist), converting once.

    Args:
        hand_mass: kg added to each wrist_yaw link (:func:`mjcf_with_hand_mass`).
        mjcf_path: the MJCF to convert; defaults to the vendored G1.

    Returns:
        ``<cache>/usd/<key>/g1.usdc``; the key hashes the MJCF text actually converted.
    """
    from mujoco_usd_converter import Converter

    text = mjcf_with_hand_mass(Path(mjcf_path).read_bytes(), hand_mass)
    final_dir = cache_dir() / "usd" / usd_cache_key(text)

    def build(tmp_dir: Path) -> None:
        src = tmp_dir / "model.xml"
        src.write_bytes(text)
        out = tmp_dir / "converted"
        asset = Converter(layer_structure=False, scene=False).convert(str(src), str(out))
        if not asset.path:
            raise RuntimeError(f"mujoco-usd-converter returned no USD path for {src}")
        converted = Path(asset.path)
        converted.rename(tmp_dir / G1_USD_NAME)
        shutil.rmtree(out)
        src.unlink()
        _check_articulation_root(tmp_dir / G1_USD_NAME)

    return _atomic_cache_entry(final_dir, G1_USD_NAME, build)


def ground_plane_usd_path() -> Path:
    """Path of the local ground-plane USD (an infinite collision plane at z = 0), writing it once.

    The stage's default prim ``/GroundPlane`` (Xform) holds ``CollisionPlane``, a Z-up
    ``UsdGeom.Plane`` with ``PhysicsCollisionAPI``: Isaac Lab's ``GroundPlaneCfg`` binds its physics
    material to the first ``Plane`` child, and Newton imports it as an infinite plane.
    """
    final_dir = cache_dir() / "usd" / GROUND_FORMAT_VERSION

    def build(tmp_dir: Path) -> None:
        from pxr import Usd, UsdGeom, UsdPhysics

        stage = Usd.Stage.CreateNew(str(tmp_dir / GROUND_USD_NAME))
        UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.z)
        UsdGeom.SetStageMetersPerUnit(stage, 1.0)
        root = UsdGeom.Xform.Define(stage, "/GroundPlane")
        stage.SetDefaultPrim(root.GetPrim())
        plane = UsdGeom.Plane.Define(stage, "/GroundPlane/CollisionPlane")
        plane.CreateAxisAttr(UsdGeom.Tokens.z)
        plane.CreateWidthAttr(200.0)
        plane.CreateLengthAttr(200.0)
        UsdPhysics.CollisionAPI.Apply(plane.GetPrim())
        stage.GetRootLayer().Save()

    return _atomic_cache_entry(final_dir, GROUND_USD_NAME, build)
