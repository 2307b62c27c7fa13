"""SONIC's rough terrain (SONIC_REFERENCE §7) for Isaac Lab 3.0 on Newton + MuJoCo-Warp, in two collisions.

SONIC's ``trimesh`` terrain is Isaac Lab's terrain generator with 20×20 tiles of 8×8 m (border 20 m, horizontal
scale 0.1 m, vertical 0.005 m) drawn from two sub-terrains: ``boxes`` (a 0.45 m grid of boxes whose tops are
offset by ±(1..5) mm, 2 m platform in the middle; proportion 0.3) and ``random_rough`` (a height field;
proportion 0.05). Note on ``random_rough``: with SONIC's ``noise_range=(0.001, 0.005)``, ``noise_step=0.02``
and vertical scale 0.005, Isaac Lab's integer height units give the level set ``arange(0, 1 + 4, 4) = {0, 4}``,
i.e. every 0.1 m vertex is at 0 or 20 mm: those tiles are 2 cm bumps, not 1-5 mm ones. We build what SONIC's
config builds.

The same generated surface comes in two shapes (``EnvConfig.config.terrain_type``), both collided through Newton's
collision pipeline (``MJWarpSolverCfg(use_mujoco_contacts=False)`` + :func:`collision_pipeline_cfg`;
``SimConfig.collision``):

* ``"trimesh"``: the generated triangle mesh. MuJoCo's own collision would treat the mesh as its convex hull,
  i.e. a flat slab at the top of the terrain, so ``collision="mujoco"`` is refused.
* ``"hfield"``: the same mesh rasterised by Isaac Lab into a Newton heightfield at the horizontal scale
  (``convert_to_heightfield`` on every sub-terrain). Box tops are sampled exactly; a box's 1-5 mm riser becomes
  a ramp one 0.1 m cell wide. By default (``collision="auto"``) the robot's spheres and capsules meet it through
  the closed-form sampled contacts of :mod:`sonic_env.hfield_contacts`: on an H200 as fast as the plane, with the
  same rewards and resets as ``trimesh`` (sonic-env README). ``collision="newton"`` collides it triangle by
  triangle through Newton's pipeline (same behaviour, a third of the speed). With ``collision="mujoco"`` Newton
  hands it to MuJoCo-Warp as a native ``hfield`` geom; standing feet chatter there and flailing robots get thrown.
  :class:`HeightfieldTerrainGenerator` works around two defects of Newton 1.6.1's MuJoCo conversion (a 0.1 mm
  hfield base, a dropped ``min_z`` offset) by lifting the surface 0.5 m above a strip at z = 0 outside the
  border: on this terrain the ground is at z ≈ 0.5 m.

Environment origins are the tile origins (Isaac Lab's ``use_terrain_origins``), including their height; the
motion command adds them to the reference root, so robots spawn on their tiles.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import trimesh
import warp as wp
from isaaclab.sim.spawners.materials import RigidBodyMaterialBaseCfg
from isaaclab.terrains import (
    HfRandomUniformTerrainCfg,
    MeshRandomGridTerrainCfg,
    SubTerrainBaseCfg,
    TerrainGenerator,
    TerrainGeneratorCfg,
    TerrainImporterCfg,
)
from isaaclab_newton.physics import NewtonCollisionPipelineCfg, NewtonShapeCfg
from newton.utils import rasterize_mesh_to_heightfield

TerrainType = Literal["plane", "trimesh", "hfield"]
"""``plane``: flat USD plane; ``trimesh``: SONIC's terrain via Newton's pipeline; ``hfield``: the same via MuJoCo."""

TERRAIN_PRIM_PATH = "/World/ground"

TILE_SIZE = (8.0, 8.0)
NUM_TILES = (20, 20)
BORDER_WIDTH = 20.0
HORIZONTAL_SCALE = 0.1
VERTICAL_SCALE = 0.005

HFIELD_BASE = 0.5
"""Minimum thickness (m) of the MuJoCo heightfield under the tiles (see :class:`HeightfieldTerrainGenerator`)."""

SOLVER_BUFFERS: dict[str, tuple[int, int]] = {
    "plane": (300, 100),
    "hfield": (600, 200),
    "trimesh": (600, 200),
}
"""Per-world (njmax, nconmax) for the G1 on each terrain. Peaks measured on CPU (benchmarks/env_step.py probes
and flailing robots under random actions): plane 31 contacts / 120 rows, hfield 45 / 174, trimesh 134 / 280
(Newton's pipeline reports several points per capsule-triangle pair) where 300 rows overflowed. On one H200,
4,096 flailing robots (``env_step.py --actions random --probe 150``): plane 35 / 128, hfield 94 / 401 (two worlds
overflowed 300 rows, hence 600), trimesh 146 / 484."""

DROP_OVERFLOW_BITS = 1 | 2 | 4 | 8 | 16 | 32
"""MuJoCo-Warp ``OverflowType`` bits that mean lost contacts/constraints: NEFC, NJMAX_NNZ, BROADPHASE, NARROWPHASE, CCD, HFIELD."""

MAX_TRIANGLE_PAIRS = 2_500_000
"""Narrow-phase triangle-pair buffer of Newton's pipeline (Isaac Lab's rough-terrain preset uses the same)."""


def sonic_sub_terrains(heightfield: bool = False) -> dict[str, SubTerrainBaseCfg]:
    """SONIC's two sub-terrains (SONIC_REFERENCE §7); ``heightfield`` tags both for heightfield collision."""
    return {
        "boxes": MeshRandomGridTerrainCfg(
            proportion=0.3,
            grid_width=0.45,
            grid_height_range=(0.001, 0.005),
            platform_width=2.0,
            convert_to_heightfield=heightfield,
        ),
        "random_rough": HfRandomUniformTerrainCfg(
            proportion=0.05, noise_range=(0.001, 0.005), noise_step=0.02, convert_to_heightfield=heightfield
        ),
    }


class HeightfieldTerrainGenerator(TerrainGenerator):
    """Isaac Lab's generator, reshaped so that Newton 1.6.1 hands MuJoCo-Warp a correct, thick heightfield.

    Two facts of the Newton → MuJoCo conversion force this (both checked on CPU):

    * The MuJoCo hfield's base (``size[3]``) is set to 1e-4 m, so the prisms under the lowest samples are
      0.1 mm thick; a 1 cm foot capsule pressed a few mm into such a prism is pushed *down* through it
      (contact normals flip, the robot is launched). The surface is therefore lifted by
      :data:`HFIELD_BASE` above a 1 m strip at z = 0 added outside the border (``-x`` side, on the grid),
      so every prism under the tiles is at least that thick.
    * ``update_geom_properties_kernel`` rewrites the hfield geom's position from the shape transform and
      drops the ``min_z`` offset of the conversion; with the lowest sample at exactly z = 0 (the strip;
      vertices below it are raised to it, so rays that miss land there too) the offset is 0.

    The top surface's shape is unchanged; mesh and tile origins move up by :attr:`lift` (m), and since
    env origins carry their height, robots still spawn on their tiles.
    """

    lift: float

    def __init__(self, cfg: TerrainGeneratorCfg, device: str = "cpu") -> None:
        super().__init__(cfg, device)
        vertices = np.asarray(self.terrain_mesh.vertices, dtype=np.float64)
        faces = np.asarray(self.terrain_mesh.faces, dtype=np.int64)
        heights = heightfield_samples(vertices, faces, cfg.horizontal_scale, device=device)
        self.lift = HFIELD_BASE - float(heights.min())
        vertices[:, 2] = np.maximum(vertices[:, 2] + self.lift, 0.0)
        (x0, y0, _), (_, y1, _) = vertices.min(axis=0), vertices.max(axis=0)
        strip = np.array([[x0 - 1.0, y0, 0.0], [x0, y0, 0.0], [x0, y1, 0.0], [x0 - 1.0, y1, 0.0]])
        strip_faces = np.array([[0, 1, 2], [0, 2, 3]]) + len(vertices)
        self.terrain_mesh = trimesh.Trimesh(
            vertices=np.concatenate([vertices, strip]),
            faces=np.concatenate([faces, strip_faces]),
            process=False,
        )
        self.terrain_origins[..., 2] += self.lift


def heightfield_samples(
    vertices: np.ndarray, faces: np.ndarray, resolution: float, device: str = "cpu"
) -> np.ndarray:
    """The ``(nrow, ncol)`` elevations (m) Newton's ``rasterize_mesh_to_heightfield`` samples from a mesh.

    Args:
        vertices: ``(V, 3)`` mesh vertices in the world frame (m).
        faces: ``(F, 3)`` triangle vertex indices.
        resolution: grid spacing (m); the grid spans the mesh's XY bounds.
        device: Warp device of the ray casts. The generator passes the simulation device, as Isaac Lab's own
            conversion does (a CUDA-only Warp build has no CPU kernels).
    """
    with wp.ScopedDevice(device):
        mesh = wp.Mesh(
            points=wp.array(vertices.astype(np.float32), dtype=wp.vec3),
            indices=wp.array(faces.reshape(-1).astype(np.int32), dtype=wp.int32),
        )
        heights, _ = rasterize_mesh_to_heightfield(mesh, resolution)
    return heights


def sonic_terrain_generator_cfg(
    heightfield: bool = False,
    num_tiles: tuple[int, int] = NUM_TILES,
    seed: int | None = 0,
    sub_terrains: dict[str, SubTerrainBaseCfg] | None = None,
    border_width: float = BORDER_WIDTH,
    tile_size: tuple[float, float] = TILE_SIZE,
) -> TerrainGeneratorCfg:
    """SONIC's ``trimesh`` generator config (defaults = SONIC's), optionally heightfield-tagged.

    Args:
        heightfield: tag every sub-terrain ``convert_to_heightfield`` and lift the surface
            (:class:`HeightfieldTerrainGenerator`).
        num_tiles: (rows, cols) of tiles; SONIC 20×20. Fewer for tests.
        seed: the generator's own seed (the layout of tiles and box heights); None = numpy's global state.
        sub_terrains: replace SONIC's sub-terrains (e.g. a test terrain with tall steps); their
            ``convert_to_heightfield`` is set to ``heightfield``.
        border_width: flat border around the tiles (m).
        tile_size: tile size (m).
    """
    subs = sonic_sub_terrains(heightfield) if sub_terrains is None else dict(sub_terrains)
    for sub in subs.values():
        sub.convert_to_heightfield = heightfield
    cfg = TerrainGeneratorCfg(
        seed=seed,
        size=tile_size,
        border_width=border_width,
        num_rows=num_tiles[0],
        num_cols=num_tiles[1],
        horizontal_scale=HORIZONTAL_SCALE,
        vertical_scale=VERTICAL_SCALE,
        slope_threshold=0.75,
        use_cache=False,
        sub_terrains=subs,
    )
    if heightfield:
        cfg.class_type = HeightfieldTerrainGenerator
    return cfg


def terrain_importer_cfg(
    generator: TerrainGeneratorCfg, material: RigidBodyMaterialBaseCfg
) -> TerrainImporterCfg:
    """The generated terrain at :data:`TERRAIN_PRIM_PATH`, env origins on the tiles, with ``material``."""
    return TerrainImporterCfg(
        prim_path=TERRAIN_PRIM_PATH,
        terrain_type="generator",
        terrain_generator=generator,
        use_terrain_origins=True,
        collision_group=-1,
        physics_material=material,
        visual_material=None,
        debug_vis=False,
    )


Collision = Literal["auto", "newton", "mujoco", "sampled"]
"""Who finds the contacts (``SimConfig.collision``); ``auto`` picks per terrain (:func:`resolve_collision`)."""

AUTO_COLLISION: dict[str, Literal["newton", "mujoco", "sampled"]] = {
    "plane": "mujoco",
    "trimesh": "newton",
    "hfield": "sampled",
}
"""``collision="auto"`` per terrain: MuJoCo's closed-form plane contacts; Newton's pipeline for the triangle mesh
(MuJoCo would collide its convex hull); the sampled contacts of :mod:`sonic_env.hfield_contacts` for the height
field (on one H200 at 4,096 envs its full env steps at 272,223 env-steps/s, as fast as the plane's, against 92,115
through Newton's pipeline, with the same rewards and resets; MuJoCo's own hfield contacts make feet chatter)."""


def resolve_collision(
    terrain_type: TerrainType, collision: Collision = "auto"
) -> Literal["newton", "mujoco", "sampled"]:
    """The collision that finds the contacts: ``collision``, or the terrain's (:data:`AUTO_COLLISION`) for ``auto``."""
    return AUTO_COLLISION[terrain_type] if collision == "auto" else collision


GENERATED_TERRAIN_GAP = 0.0
"""Contact gap (m) of every shape on the generated terrains (``trimesh``, ``hfield``); the plane keeps Isaac Lab's."""


def terrain_shape_cfg(terrain_type: TerrainType, gap: float | None = None) -> NewtonShapeCfg:
    """``NewtonCfg.default_shape_cfg`` for a terrain: Isaac Lab's default on the plane, contact gap 0 on the
    generated terrains (:data:`GENERATED_TERRAIN_GAP`).

    Newton's pipeline tests every mesh or height-field triangle within margin + gap of a robot shape, and on
    SONIC's 1-5 mm terrain Isaac Lab's 0.01 m gap reaches several cells around each foot capsule: on one H200
    at 4,096 envs gap 0 made ``trimesh``'s physics 37 % faster (31.8 against 43.6 ms per policy step), with the
    same behaviour (CPU, full env, 64 envs, 100 steps: mean reward 0.1025 against 0.1027, done rate 0.059
    against 0.059). On ``hfield`` under MuJoCo's contacts, the 0.01 m gap gave contacts with normals pointing
    into the ground and a flailing G1 blew up (NaN) on CPU; with gap 0 the same run stayed finite.
    ``gap`` (m), where given, replaces the terrain's default (``SimConfig.contact_gap``).
    """
    if gap is None:
        gap = NewtonShapeCfg().gap if terrain_type == "plane" else GENERATED_TERRAIN_GAP
    return NewtonShapeCfg(gap=gap)


def solver_buffers(terrain_type: TerrainType, njmax: int | None, nconmax: int | None) -> tuple[int, int]:
    """Per-world ``(njmax, nconmax)``: the given values, or :data:`SOLVER_BUFFERS` for the terrain where None."""
    default_njmax, default_nconmax = SOLVER_BUFFERS[terrain_type]
    return (default_njmax if njmax is None else njmax, default_nconmax if nconmax is None else nconmax)


def collision_pipeline_cfg(
    num_envs: int, contacts_per_env: int, sampled: bool = False
) -> NewtonCollisionPipelineCfg:
    """Newton's collision pipeline for the generated terrains, its contact buffer sized per world.

    Args:
        num_envs: number of worlds.
        contacts_per_env: rigid contacts reserved per world (``EnvConfig.sim.nconmax``).
        sampled: the robot against the heightfield by :mod:`sonic_env.hfield_contacts` (``collision="sampled"``).
    """
    from sonic_env.hfield_contacts import SampledHeightfieldCollisionCfg

    cls = SampledHeightfieldCollisionCfg if sampled else NewtonCollisionPipelineCfg
    return cls(rigid_contact_max=num_envs * contacts_per_env, max_triangle_pairs=MAX_TRIANGLE_PAIRS)


def contact_usage() -> dict[str, int]:
    """Contacts and constraint rows in use now, and capacities, read from the live Newton/MuJoCo-Warp solver.

    Call it after a step (it syncs with the device). Keys: ``contacts`` (all worlds), ``contacts_max_world``
    (busiest world), ``constraints_max_world`` (largest ``nefc``), ``solver_iterations_max_world`` and
    ``solver_iterations_mean_x100`` (the last substep's solver iterations: on the GPU every world waits for the
    slowest), ``naconmax``, ``njmax`` and, with Newton's
    pipeline, ``pipeline_contacts`` / ``pipeline_contact_max``. MuJoCo-Warp keeps a sticky per-world overflow
    mask: ``dropped_worlds`` counts worlds that ever lost contacts or constraint rows
    (:data:`DROP_OVERFLOW_BITS`), ``overflow_bits`` is the OR over worlds (1 nefc, 2 njmax_nnz, 4 broadphase, 8 narrowphase,
    16 CCD, 32 hfield; 512/1024 = solver/line-search iteration limits, which drop nothing).
    """
    from isaaclab_newton.physics import NewtonManager

    solver = NewtonManager._solver  # pyright: ignore[reportPrivateUsage]
    data = getattr(solver, "mjw_data", None)
    if data is None:
        raise RuntimeError("contact_usage needs a live MuJoCo-Warp solver (build the env first)")
    nacon = int(data.nacon.numpy()[0])
    overflow = data.overflow.numpy()
    worlds = data.contact.worldid.numpy()[: min(nacon, data.naconmax)]
    niter = data.solver_niter.numpy()
    per_world = np.bincount(worlds, minlength=1) if worlds.size else np.zeros(1, dtype=np.int64)
    usage = {
        "contacts": nacon,
        "contacts_max_world": int(per_world.max()),
        "constraints_max_world": int(data.nefc.numpy().max()),
        "naconmax": int(data.naconmax),
        "njmax": int(data.njmax),
        "solver_iterations_max_world": int(niter.max()),
        "solver_iterations_mean_x100": round(100 * float(niter.mean())),
        "dropped_worlds": int(((overflow & DROP_OVERFLOW_BITS) != 0).sum()),
        "overflow_bits": int(np.bitwise_or.reduce(overflow)),
    }
    contacts = NewtonManager._contacts  # pyright: ignore[reportPrivateUsage]
    if NewtonManager._needs_collision_pipeline and contacts is not None:  # pyright: ignore[reportPrivateUsage]
        usage["pipeline_contacts"] = int(contacts.rigid_contact_count.numpy()[0])
        usage["pipeline_contact_max"] = int(contacts.rigid_contact_max)
    return usage


def peak_usage(samples: list[dict[str, int]]) -> dict[str, int]:
    """Key-wise maximum of :func:`contact_usage` samples (capacities stay as they are)."""
    peak: dict[str, int] = {}
    for sample in samples:
        for key, value in sample.items():
            peak[key] = max(peak.get(key, value), value)
    return peak


__all__ = [
    "AUTO_COLLISION",
    "GENERATED_TERRAIN_GAP",
    "HeightfieldTerrainGenerator",
    "Collision",
    "TerrainType",
    "collision_pipeline_cfg",
    "contact_usage",
    "heightfield_samples",
    "peak_usage",
    "solver_buffers",
    "sonic_sub_terrains",
    "sonic_terrain_generator_cfg",
    "terrain_importer_cfg",
    "terrain_shape_cfg",
    "resolve_collision",
]
