"""USD generation and caching from the vendored MJCF (no simulator needed)."""

from __future__ import annotations

from pathlib import Path

import mujoco
import numpy as np
import pytest
from pxr import Usd, UsdGeom, UsdPhysics

from sonic_data import g1
from sonic_env import assets


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty SONIC cache directory for this test."""
    monkeypatch.setenv(assets.CACHE_ENV_VAR, str(tmp_path / "cache"))
    return tmp_path / "cache"


def _usd_body_masses(usd_path: Path) -> dict[str, float]:
    stage = Usd.Stage.Open(str(usd_path))
    return {
        p.GetName(): UsdPhysics.MassAPI(p).GetMassAttr().Get()
        for p in stage.Traverse()
        if p.HasAPI(UsdPhysics.RigidBodyAPI)
    }


def test_cache_dir_honours_env_vars(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SONIC_CACHE_DIR wins; otherwise XDG_CACHE_HOME/sonic."""
    monkeypatch.delenv(assets.CACHE_ENV_VAR, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert assets.cache_dir() == tmp_path / "xdg" / "sonic"
    monkeypatch.setenv(assets.CACHE_ENV_VAR, str(tmp_path / "mine"))
    assert assets.cache_dir() == tmp_path / "mine"


def test_g1_usd_is_keyed_by_mjcf_hash_and_reused(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first call converts into <cache>/usd/<key>/; the second reuses it without converting."""
    path = assets.g1_usd_path()
    key = assets.usd_cache_key(g1.MJCF_PATH.read_bytes())
    assert path == cache / "usd" / key / assets.G1_USD_NAME
    assert len(key) == 16 and int(key, 16) >= 0
    stamp = path.stat().st_mtime_ns

    def no_conversion(*args: object, **kwargs: object) -> None:
        raise AssertionError("converter called although the cache holds the USD")

    monkeypatch.setattr("mujoco_usd_converter.Converter.convert", no_conversion)
    assert assets.g1_usd_path() == path
    assert path.stat().st_mtime_ns == stamp
    assert sorted(p.name for p in (cache / "usd").iterdir()) == [key]


def test_changed_mjcf_gets_its_own_cache_entry(cache: Path, tmp_path: Path) -> None:
    """A different MJCF text (even a comment) never reuses another model's USD."""
    edited = tmp_path / "g1_edited.xml"
    edited.write_bytes(g1.MJCF_PATH.read_bytes() + b"<!-- edited -->\n")
    a = assets.g1_usd_path()
    b = assets.g1_usd_path(mjcf_path=edited)
    assert a.parent != b.parent
    assert b.parent.name == assets.usd_cache_key(edited.read_bytes())


def test_failed_conversion_leaves_no_entry(cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash mid-conversion leaves neither a final nor a temporary directory behind."""

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("converter crashed")

    monkeypatch.setattr("mujoco_usd_converter.Converter.convert", boom)
    with pytest.raises(RuntimeError, match="converter crashed"):
        assets.g1_usd_path()
    assert list((cache / "usd").iterdir()) == []


def test_g1_usd_has_articulation_root_on_pelvis_and_mjcf_masses(cache: Path) -> None:
    """One ArticulationRootAPI, on pelvis; 30 rigid bodies whose masses are the MJCF's."""
    path = assets.g1_usd_path()
    stage = Usd.Stage.Open(str(path))
    roots = [p.GetName() for p in stage.Traverse() if p.HasAPI(UsdPhysics.ArticulationRootAPI)]
    assert roots == ["pelvis"]
    model = mujoco.MjModel.from_xml_path(str(g1.MJCF_PATH))
    masses = _usd_body_masses(path)
    assert sorted(masses) == sorted(g1.BODY_NAMES)
    for name, mass in masses.items():
        assert mass == pytest.approx(model.body(name).mass[0], abs=1e-6), name
    assert sum(masses.values()) == pytest.approx(33.341142, abs=1e-5)


def test_hand_mass_adds_to_each_wrist_yaw_link_only(cache: Path) -> None:
    """hand_mass=m: the USD gains m at each wrist_yaw link and nothing elsewhere; MJCF inertia scales."""
    m = 0.526
    bare = _usd_body_masses(assets.g1_usd_path())
    hands = _usd_body_masses(assets.g1_usd_path(hand_mass=m))
    for name in g1.BODY_NAMES:
        extra = m if name in ("left_wrist_yaw_link", "right_wrist_yaw_link") else 0.0
        assert hands[name] == pytest.approx(bare[name] + extra, abs=1e-6), name
    assert sum(hands.values()) == pytest.approx(33.341142 + 2 * m, abs=1e-5)

    base = mujoco.MjModel.from_xml_path(str(g1.MJCF_PATH))
    heavy = mujoco.MjModel.from_xml_string(assets.mjcf_with_hand_mass(g1.MJCF_PATH.read_bytes(), m).decode())
    wrist = base.body("left_wrist_yaw_link").id
    ratio = (base.body_mass[wrist] + m) / base.body_mass[wrist]
    np.testing.assert_allclose(heavy.body_inertia[wrist], base.body_inertia[wrist] * ratio, rtol=1e-9)
    np.testing.assert_allclose(heavy.body_ipos, base.body_ipos)
    assert heavy.nbody == base.nbody and heavy.njnt == base.njnt


def test_negative_hand_mass_is_rejected() -> None:
    """A negative hand mass is an input error, not a lighter robot."""
    with pytest.raises(ValueError, match="hand_mass"):
        assets.mjcf_with_hand_mass(g1.MJCF_PATH.read_bytes(), -0.1)


def test_ground_plane_usd_is_a_z_up_collision_plane(cache: Path) -> None:
    """The ground USD holds one Z-axis UsdGeom.Plane with PhysicsCollisionAPI under the default prim."""
    path = assets.ground_plane_usd_path()
    assert path == assets.ground_plane_usd_path()
    stage = Usd.Stage.Open(str(path))
    planes = [p for p in stage.Traverse() if p.IsA(UsdGeom.Plane)]
    assert len(planes) == 1
    plane = planes[0]
    assert plane.HasAPI(UsdPhysics.CollisionAPI)
    assert UsdGeom.Plane(plane).GetAxisAttr().Get() == UsdGeom.Tokens.z
    assert plane.GetParent() == stage.GetDefaultPrim()
