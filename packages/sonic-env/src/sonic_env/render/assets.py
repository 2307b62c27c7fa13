"""Render-only USD files of the G1 (with visual meshes), cached next to the physics USD.

:func:`sonic_env.assets.g1_usd_path` converts the mesh-free physics MJCF; rendering needs the
meshed model of :mod:`sonic_env.render.mjcf`. This module converts it with the same converter into
its own cache entry, ``<cache>/usd/render-<variant>-<key>/g1.usdc``, where ``<key>`` hashes the
render MJCF text, every mesh file and the converter version, so a changed mesh or physics MJCF
gives a new entry. It is used only when rendering (``render_results``) or viewing live; training
loads the mesh-free USD.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sonic_data.g1 import MJCF_PATH
from sonic_data.g1.meshes import mesh_path, visual_geoms
from sonic_env.assets import (
    CONVERTER_VERSION,
    G1_USD_NAME,
    _atomic_cache_entry,  # pyright: ignore[reportPrivateUsage]
    _check_articulation_root,  # pyright: ignore[reportPrivateUsage]
    cache_dir,
    mjcf_with_hand_mass,
)
from sonic_env.render.mjcf import MESH_SUBDIR, RenderVariant, render_mjcf

__all__ = ["render_mjcf_text", "render_usd_cache_key", "render_usd_path"]


def render_mjcf_text(
    hand_mass: float = 0.0, variant: RenderVariant = "robot", mjcf_path: Path = MJCF_PATH
) -> str:
    """The render MJCF of ``mjcf_path`` with ``hand_mass`` kg per wrist (meshes under ``meshes/``)."""
    physics = mjcf_with_hand_mass(Path(mjcf_path).read_bytes(), hand_mass).decode()
    return render_mjcf(physics, variant)


def render_usd_cache_key(xml: str) -> str:
    """16 hex digits of sha256(render MJCF, each mesh's name and bytes, converter version)."""
    digest = hashlib.sha256(xml.encode() + b"\0" + CONVERTER_VERSION.encode())
    for mesh in sorted({g.mesh for g in visual_geoms()}):
        digest.update(b"\0" + mesh.encode() + b"\0" + mesh_path(mesh).read_bytes())
    return digest.hexdigest()[:16]


def render_usd_path(
    hand_mass: float = 0.0, variant: RenderVariant = "robot", mjcf_path: Path = MJCF_PATH
) -> Path:
    """Path of the meshed G1 USD (``variant`` ``"robot"`` or ``"ghost"``), converting once per cache key.

    Args:
        hand_mass: kg added to each wrist_yaw link, as for the physics USD.
        variant: ``"robot"`` (same physics as :func:`sonic_env.assets.g1_usd_path`, plus meshes) or
            ``"ghost"`` (the reference's look: one colour, no collision geoms).
        mjcf_path: the physics MJCF; defaults to the vendored G1.
    """
    from mujoco_usd_converter import Converter

    xml = render_mjcf_text(hand_mass, variant, mjcf_path)
    final_dir = cache_dir() / "usd" / f"render-{variant}-{render_usd_cache_key(xml)}"

    def build(tmp_dir: Path) -> None:
        src_dir = tmp_dir / "src"
        (src_dir / MESH_SUBDIR).mkdir(parents=True)
        src = src_dir / "model.xml"
        src.write_text(xml)
        for mesh in sorted({g.mesh for g in visual_geoms()}):
            (src_dir / MESH_SUBDIR / f"{mesh}.stl").write_bytes(mesh_path(mesh).read_bytes())
        asset = Converter(layer_structure=False, scene=False).convert(str(src), str(tmp_dir / "converted"))
        if not asset.path:
            raise RuntimeError(f"mujoco-usd-converter returned no USD path for {src}")
        Path(asset.path).rename(tmp_dir / G1_USD_NAME)
        import shutil

        shutil.rmtree(tmp_dir / "converted")
        shutil.rmtree(src_dir)
        _check_articulation_root(tmp_dir / G1_USD_NAME)

    return _atomic_cache_entry(final_dir, G1_USD_NAME, build)
