"""SONIC's rough terrain (sonic_env.terrain): the generated surface, its two collisions, the env wiring.

Contact tests build a small terrain through the same generator, importer and physics settings the env
uses: one pit tile (floor 0.3 m below the rim: a convex hull would fill it) beside one tile of SONIC's
``boxes`` sub-terrain, with spheres dropped on the rim, into the pit and onto four box tops. The expected
heights come from the generated mesh itself (ray casts with trimesh), so the same check proves that the
``trimesh`` pipeline and the ``hfield`` conversion both collide the surface that was generated, within
1 mm. Each collision is one CPU simulation (~25 s).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import isaaclab.sim as sim_utils
import numpy as np
import pytest
import torch
from isaaclab.assets import RigidObjectCfg
from isaaclab.scene import InteractiveScene, InteractiveSceneCfg
from isaaclab.terrains import MeshPitTerrainCfg, TerrainGenerator, TerrainGeneratorCfg, TerrainImporterCfg
from isaaclab.utils import configclass
from isaaclab_newton.physics import MJWarpSolverCfg, NewtonCfg, NewtonCollisionPipelineCfg

from sonic_env.config import EnvConfig
from sonic_env.env_cfg import GROUND_MATERIAL, build_env_cfg
from sonic_env.hfield_contacts import NewtonSampledHeightfieldManager, SampledHeightfieldCollisionCfg
from sonic_env.terrain import (
    HFIELD_BASE,
    HeightfieldTerrainGenerator,
    collision_pipeline_cfg,
    contact_usage,
    heightfield_samples,
    resolve_collision,
    sonic_sub_terrains,
    sonic_terrain_generator_cfg,
    terrain_importer_cfg,
    terrain_shape_cfg,
)

RADIUS = 0.05
PIT_DEPTH = 0.3
TILE = 8.0
BOX_CELLS = ((1, 1), (1, 3), (3, 1), (3, 5))
"""Boxes (i, j) of the 0.45 m grid that get a sphere, counted from the tile corner; all off the platform."""


def _box_centre(tile_corner: np.ndarray, cell: tuple[int, int]) -> np.ndarray:
    """XY of a box centre: MeshRandomGrid puts 17 boxes of 0.45 m after a 0.175 m margin on an 8 m tile."""
    margin = 0.5 * (TILE - int(TILE / 0.45) * 0.45)
    return tile_corner + margin + 0.45 * (np.asarray(cell) + 0.5)


def _generator(heightfield: bool) -> TerrainGeneratorCfg:
    """Two tiles in one row: column 0 a 0.3 m pit, column 1 SONIC's boxes (curriculum: columns by type)."""
    subs = {
        "pit": MeshPitTerrainCfg(proportion=0.5, pit_depth_range=(PIT_DEPTH, PIT_DEPTH), platform_width=2.0),
        "boxes": sonic_sub_terrains()["boxes"].replace(proportion=0.5),  # pyright: ignore[reportAttributeAccessIssue]
    }
    cfg = sonic_terrain_generator_cfg(heightfield, num_tiles=(1, 2), sub_terrains=subs, border_width=1.0)
    cfg.curriculum = True
    cfg.difficulty_range = (1.0, 1.0)  # boxes at ±5 mm
    return cfg


def _surface_z(mesh: Any, xy: np.ndarray) -> np.ndarray:
    """Highest hit of vertical rays on the mesh at ``xy`` ``(K, 2)`` -> ``(K,)`` (trimesh, independent of Warp)."""
    origins = np.column_stack([xy, np.full(len(xy), 10.0)])
    directions = np.tile([0.0, 0.0, -1.0], (len(xy), 1))
    hits, rays, _ = mesh.ray.intersects_location(origins, directions, multiple_hits=True)
    top = np.full(len(xy), -np.inf)
    np.maximum.at(top, rays, hits[:, 2])
    return top


def _ball(name: str, pos: tuple[float, float, float]) -> RigidObjectCfg:
    return RigidObjectCfg(
        prim_path=f"{{ENV_REGEX_NS}}/{name}",
        spawn=sim_utils.SphereCfg(
            radius=RADIUS,
            rigid_props=sim_utils.UsdPhysicsRigidBodyCfg(),
            mass_props=sim_utils.MassCfg(mass=1.0),
            collision_props=sim_utils.UsdPhysicsCollisionCfg(),
        ),
        init_state=RigidObjectCfg.InitialStateCfg(pos=pos),
    )


def _drop_spheres(terrain_type: str, collision: str) -> dict[str, Any]:
    """Build the pit+boxes terrain, collided as the env would with ``collision``, drop spheres, return rest heights
    + truth."""
    heightfield = terrain_type == "hfield"
    gen_cfg = _generator(heightfield)
    torch.manual_seed(0)  # MeshRandomGrid draws box heights from torch's global RNG, not the generator's seed
    reference = (HeightfieldTerrainGenerator if heightfield else TerrainGenerator)(gen_cfg, device="cpu")
    origins = reference.terrain_origins  # (1, 2, 3): tile centres, the pit's at its floor
    pit_xy = origins[0, 0, :2]
    points = {"rim": pit_xy + [2.5, 0.0], "pit": pit_xy}
    corner = origins[0, 1, :2] - 0.5 * TILE
    points |= {f"box{i}": _box_centre(corner, cell) for i, cell in enumerate(BOX_CELLS)}
    truth = _surface_z(reference.terrain_mesh, np.stack(list(points.values())))
    balls = {
        name: _ball(name.capitalize(), (float(xy[0]), float(xy[1]), float(z) + 0.5 * RADIUS + 0.05))
        for (name, xy), z in zip(points.items(), truth, strict=True)
    }
    balls["pit"].init_state.pos = (
        *balls["pit"].init_state.pos[:2],
        float(truth[0]) + 2 * RADIUS,
    )  # above rim

    @configclass
    class Scene(InteractiveSceneCfg):
        terrain: TerrainImporterCfg = terrain_importer_cfg(gen_cfg, GROUND_MATERIAL)

    scene_cfg = Scene(num_envs=1, env_spacing=2.0)
    for name, ball in balls.items():
        setattr(scene_cfg, name, ball)
    shapes = terrain_shape_cfg(terrain_type)  # pyright: ignore[reportArgumentType]
    resolved = resolve_collision(terrain_type, collision)  # pyright: ignore[reportArgumentType]
    if resolved != "mujoco":
        pipeline: NewtonCollisionPipelineCfg = collision_pipeline_cfg(1, 40, sampled=resolved == "sampled")
        solver = MJWarpSolverCfg(use_mujoco_contacts=False, nconmax=40, njmax=200)
        if resolved == "sampled":
            solver.class_type = NewtonSampledHeightfieldManager
        physics = NewtonCfg(solver_cfg=solver, collision_cfg=pipeline, default_shape_cfg=shapes)
    else:
        physics = NewtonCfg(solver_cfg=MJWarpSolverCfg(nconmax=40, njmax=200), default_shape_cfg=shapes)
    sim = sim_utils.SimulationContext(sim_utils.SimulationCfg(dt=0.005, device="cpu", physics=physics))
    try:
        torch.manual_seed(0)  # the importer regenerates the same terrain as the reference
        scene = InteractiveScene(scene_cfg)
        sim.reset()
        env_origin = scene.env_origins[0].clone()
        for _ in range(200):
            scene.write_data_to_sim()
            sim.step()
            scene.update(0.005)
        rest = {name: float(torch.as_tensor(scene[name].data.root_pos_w.torch)[0, 2]) for name in balls}
        usage = contact_usage()
    finally:
        sim.clear_instance()
    return {"rest": rest, "truth": dict(zip(points, truth.tolist(), strict=True)), "origins": origins,
            "env_origin": env_origin, "usage": usage}  # fmt: skip


@pytest.fixture(
    scope="module",
    params=[("trimesh", "auto"), ("hfield", "auto"), ("hfield", "newton"), ("hfield", "mujoco")],
    ids=["trimesh", "hfield-sampled", "hfield-newton", "hfield-mujoco"],
)
def dropped(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The defaults (trimesh through Newton's pipeline, hfield through the sampled contacts of
    sonic_env.hfield_contacts), and hfield through Newton's pipeline and through MuJoCo's own contacts."""
    terrain_type, collision = request.param
    return {"terrain_type": terrain_type, "collision": collision, **_drop_spheres(terrain_type, collision)}


def test_spheres_rest_on_the_generated_surface(dropped: dict[str, Any]) -> None:
    """Rim, pit floor (0.3 m lower: not a convex hull) and four box tops (±5 mm) carry a sphere within 1 mm."""
    rest, truth = dropped["rest"], dropped["truth"]
    assert truth["rim"] - truth["pit"] == pytest.approx(PIT_DEPTH, abs=1e-6)
    for name, surface in truth.items():
        assert rest[name] - RADIUS == pytest.approx(surface, abs=1e-3), (
            dropped["terrain_type"],
            dropped["collision"],
            name,
        )
    box_tops = np.array([truth[f"box{i}"] for i in range(len(BOX_CELLS))])
    assert np.ptp(box_tops) > 1e-3  # the boxes really differ in height, so the check sees them
    assert dropped["usage"]["dropped_worlds"] == 0


def test_env_origins_are_tile_origins(dropped: dict[str, Any]) -> None:
    """The importer puts env 0 on a tile origin (x, y, z), z included (the pit's origin is its floor)."""
    tiles = torch.as_tensor(dropped["origins"], dtype=torch.float32).reshape(-1, 3)
    assert torch.isclose(tiles, dropped["env_origin"].cpu(), atol=1e-5).all(-1).any()


def test_sonic_terrain_heights() -> None:
    """2 tiles per sub-terrain of SONIC's config: box tops within ±5 mm, random_rough vertices at 0 or 20 mm.

    random_rough's 20 mm: noise 0.001-0.005 m with step 0.02 m at vertical scale 0.005 m gives integer
    heights ``arange(0, 1 + 4, 4) = {0, 4}`` units (Isaac Lab's height-field rounding), i.e. 0 or 0.02 m.
    """
    for name in ("boxes", "random_rough"):
        sub = {name: sonic_sub_terrains()[name]}
        gen = TerrainGenerator(
            sonic_terrain_generator_cfg(num_tiles=(1, 2), sub_terrains=sub, border_width=1.0)
        )
        heights = heightfield_samples(gen.terrain_mesh.vertices, gen.terrain_mesh.faces, 0.1)
        inner = heights[12:-12, 12:-12]  # tiles only (1 m border = 10 samples, and the tile's edge)
        if name == "boxes":
            assert inner.min() >= -0.005 - 1e-6 and inner.max() <= 0.005 + 1e-6 and np.ptp(inner) > 0.004
        else:
            at_zero, at_20mm = np.isclose(inner, 0.0, atol=1e-6), np.isclose(inner, 0.02, atol=1e-6)
            assert (at_zero | at_20mm).all() and at_zero.any() and at_20mm.any()


def test_heightfield_generator_lifts_the_same_surface() -> None:
    """Lowest heightfield sample 0 (the strip, to float32 ray precision), tiles >= HFIELD_BASE, shape unchanged, origins lifted."""
    cfg = sonic_terrain_generator_cfg(num_tiles=(1, 2), border_width=1.0, seed=3)
    torch.manual_seed(3)  # box heights come from torch's global RNG
    plain = TerrainGenerator(cfg)
    torch.manual_seed(3)
    lifted = HeightfieldTerrainGenerator(
        sonic_terrain_generator_cfg(True, num_tiles=(1, 2), border_width=1.0, seed=3)
    )
    before = heightfield_samples(plain.terrain_mesh.vertices, plain.terrain_mesh.faces, 0.1)
    after = heightfield_samples(lifted.terrain_mesh.vertices, lifted.terrain_mesh.faces, 0.1)
    assert abs(after.min()) < 1e-6 and after.shape == (
        before.shape[0],
        before.shape[1] + 10,
    )  # 1 m strip at -x
    assert lifted.lift == pytest.approx(HFIELD_BASE - before.min(), abs=1e-7)
    np.testing.assert_allclose(after[:, 10:], before + lifted.lift, atol=1e-5)
    np.testing.assert_allclose(lifted.terrain_origins, plain.terrain_origins + [0, 0, lifted.lift], atol=1e-6)


@pytest.mark.parametrize("terrain_type", ["trimesh", "hfield"])
def test_env_cfg_selects_terrain_and_collision(
    terrain_type: str, sample_env_config: Callable[..., EnvConfig]
) -> None:
    """SONIC's 20×20 tiles of 8 m at the ground, both through Newton's pipeline sized per world: trimesh with
    Newton's own contacts, hfield with the sampled ones (the manager that builds them)."""
    config = sample_env_config(config={"terrain_type": terrain_type})
    env_cfg = build_env_cfg(config)
    ground = env_cfg.scene.ground
    assert isinstance(ground, TerrainImporterCfg) and ground.use_terrain_origins
    gen = ground.terrain_generator
    assert gen is not None and (gen.num_rows, gen.num_cols, gen.size, gen.border_width) == (
        20,
        20,
        (8.0, 8.0),
        20.0,
    )
    assert (gen.class_type is HeightfieldTerrainGenerator) == (terrain_type == "hfield")
    physics = env_cfg.sim.physics
    assert isinstance(physics, NewtonCfg) and isinstance(physics.solver_cfg, MJWarpSolverCfg)
    assert physics.solver_cfg.use_mujoco_contacts is False  # both generated terrains: Newton's pipeline
    assert physics.collision_cfg is not None
    assert physics.collision_cfg.rigid_contact_max == config.num_envs * 200
    assert (physics.solver_cfg.njmax, physics.solver_cfg.nconmax) == (600, 200)
    assert physics.default_shape_cfg.gap == 0.0  # Newton's pipeline: no triangles beyond touching distance
    sampled = terrain_type == "hfield"
    assert isinstance(physics.collision_cfg, SampledHeightfieldCollisionCfg) == sampled
    assert (physics.class_type is NewtonSampledHeightfieldManager) == sampled


def test_collision_and_gap_options(sample_env_config: Callable[..., EnvConfig]) -> None:
    """sim.collision picks who collides (MuJoCo's contacts on hfield; Newton's on the plane), sim.contact_gap the
    shapes' gap; MuJoCo cannot collide the triangle mesh and the sampled contacts need a height field, which is
    refused with the keys named."""
    mujoco = build_env_cfg(sample_env_config(config={"terrain_type": "hfield"}, sim={"collision": "mujoco"}))
    physics = mujoco.sim.physics
    assert isinstance(physics, NewtonCfg) and isinstance(physics.solver_cfg, MJWarpSolverCfg)
    assert physics.solver_cfg.use_mujoco_contacts is True and physics.collision_cfg is None
    plane = build_env_cfg(sample_env_config(sim={"collision": "newton", "contact_gap": 0.002}))
    physics = plane.sim.physics
    assert isinstance(physics, NewtonCfg) and isinstance(physics.solver_cfg, MJWarpSolverCfg)
    assert physics.solver_cfg.use_mujoco_contacts is False and physics.collision_cfg is not None
    assert physics.default_shape_cfg.gap == 0.002
    with pytest.raises(ValueError, match="sim.collision='mujoco'.*terrain_type='trimesh'"):
        sample_env_config(config={"terrain_type": "trimesh"}, sim={"collision": "mujoco"})
    with pytest.raises(ValueError, match="sim.collision='sampled'.*terrain_type='hfield', got 'trimesh'"):
        sample_env_config(config={"terrain_type": "trimesh"}, sim={"collision": "sampled"})
