"""Sampled sphere/capsule-versus-heightfield contacts (sonic_env.hfield_contacts) against closed forms and Newton.

Each case is a small Newton model built directly (one heightfield, one free body), collided once on the CPU. The
references: the signed distance to a plane in closed form, the plane of a heightfield triangle from its three
vertices (numpy), and Newton's own collision pipeline on the same state. The whole-env checks (spheres resting on
SONIC's generated surface, the G1 standing) are in test_terrain.py and benchmarks/env_step.py.
"""

from __future__ import annotations

from typing import Any

# Isaac Lab before Newton: a bare `import newton` first leaves the later MJCF->USD conversions of this test
# process without mujoco_usd_converter's USD schemas (MjcCollisionAPI).
import isaaclab.sim  # noqa: F401
import newton
import numpy as np
import pytest
import warp as wp

from sonic_env.hfield_contacts import SampledHeightfieldCollision

HX = HY = 0.5
N = 11  # 11 x 11 samples over 1 x 1 m: 0.1 m cells, as SONIC's terrain
RADIUS = 0.02
HALF = 0.09  # a G1 foot capsule is about 0.18 m long


def _grid() -> tuple[np.ndarray, np.ndarray]:
    """(x, y) of the heightfield samples, ``(N, N)`` each; rows run along y, columns along x."""
    coords = np.linspace(-HX, HX, N)
    return np.meshgrid(coords, coords)


def _model(heights: np.ndarray, body: str, pose: tuple[float, ...]) -> Any:
    """A heightfield (``heights`` in m, rows along y) and one free ``body`` ("sphere", "capsule", "box") at
    ``pose`` = (x, y, z, qx, qy, qz, qw); contact gap 0, margin 0."""
    builder = newton.ModelBuilder()
    builder.default_shape_cfg.gap = 0.0
    builder.default_shape_cfg.margin = 0.0
    field = newton.Heightfield(data=heights, nrow=N, ncol=N, hx=HX, hy=HY)
    builder.add_shape_heightfield(heightfield=field)
    link = builder.add_body(xform=wp.transform(wp.vec3(*pose[:3]), wp.quat(*pose[3:])))
    if body == "sphere":
        builder.add_shape_sphere(link, radius=RADIUS)
    elif body == "capsule":
        builder.add_shape_capsule(link, radius=RADIUS, half_height=HALF)
    else:
        builder.add_shape_box(link, hx=0.05, hy=0.05, hz=0.05)
    return builder.finalize(device="cpu")


def _collide(model: Any) -> dict[str, np.ndarray]:
    """Our contacts for the model's initial state: world points on both sides, normals, separations."""
    pipeline = SampledHeightfieldCollision(model, rigid_contact_max=64)
    contacts = pipeline.contacts()
    state = model.state()
    pipeline.collide(state, contacts)
    return _read(contacts, state)


def _read(contacts: Any, state: Any) -> dict[str, np.ndarray]:
    count = int(contacts.rigid_contact_count.numpy()[0])
    body_q = state.body_q.numpy()[0].astype(np.float64)  # position, quaternion (x, y, z, w)
    q, w = body_q[3:6], body_q[6]
    local = contacts.rigid_contact_point1.numpy()[:count].astype(np.float64).reshape(-1, 3)
    twice_cross = 2.0 * np.cross(q, local)
    centre = body_q[:3] + local + w * twice_cross + np.cross(q, twice_cross)  # the body pose applied
    surface = contacts.rigid_contact_point0.numpy()[:count]
    normal = contacts.rigid_contact_normal.numpy()[:count]
    margin = contacts.rigid_contact_margin0.numpy()[:count] + contacts.rigid_contact_margin1.numpy()[:count]
    separation = np.einsum("ij,ij->i", centre - surface, normal) - margin
    return {"centre": centre, "surface": surface, "normal": normal, "separation": separation}


def _quat_z_to(axis: np.ndarray) -> tuple[float, float, float, float]:
    """A quaternion (x, y, z, w) turning the capsule's local z axis onto ``axis`` (in the x-z plane)."""
    theta = np.arctan2(axis[0], axis[2])
    return (0.0, float(np.sin(theta / 2)), 0.0, float(np.cos(theta / 2)))


def test_capsule_on_a_tilted_plane_gets_its_two_end_contacts() -> None:
    """On a plane z = a x + b y a capsule lying along the slope touches with its end spheres (as MuJoCo's
    capsule-plane), with the plane's normal and the closed-form signed distance; the interior samples, on the
    line between the ends, add nothing."""
    a, b, lift = 0.1, 0.05, 0.2
    x, y = _grid()
    heights = a * x + b * y + lift
    norm = np.sqrt(1 + a * a + b * b)
    centre = np.array([0.1, -0.05, 0.0])
    centre[2] = a * centre[0] + b * centre[1] + lift + (RADIUS - 0.001) * norm  # 1 mm in
    axis = np.array([1.0, 0.0, a]) / np.sqrt(1 + a * a)
    got = _collide(_model(heights, "capsule", (*centre, *_quat_z_to(axis))))
    assert len(got["separation"]) == 2
    order = np.argsort(got["centre"][:, 0])
    ends = centre + np.outer([-HALF, HALF], axis)
    np.testing.assert_allclose(got["centre"][order], ends, atol=1e-6)
    expected = (ends[:, 2] - a * ends[:, 0] - b * ends[:, 1] - lift) / norm - RADIUS
    np.testing.assert_allclose(expected, [-0.001, -0.001], atol=1e-9)  # the set-up itself
    np.testing.assert_allclose(got["separation"][order], expected, atol=1e-6)
    np.testing.assert_allclose(got["normal"], np.tile(np.array([-a, -b, 1.0]) / norm, (2, 1)), atol=1e-6)


def test_a_level_capsule_on_a_slope_touches_with_its_low_end_only() -> None:
    """A level capsule over z = a x: only the end that is in (closed form) becomes a contact."""
    a = 0.1
    x, _ = _grid()
    norm = np.sqrt(1 + a * a)
    centre = np.array(
        [0.0, 0.0, (RADIUS - 0.001) * norm]
    )  # the centre 1 mm in: the +x end deeper, -x end out
    got = _collide(_model(a * x, "capsule", (*centre, *_quat_z_to(np.array([1.0, 0.0, 0.0])))))
    end = centre + np.array([HALF, 0.0, 0.0])
    assert len(got["separation"]) == 1
    np.testing.assert_allclose(got["centre"][0], end, atol=1e-6)
    assert got["separation"][0] == pytest.approx((end[2] - a * end[0]) / norm - RADIUS, abs=1e-6)


def test_a_bump_under_the_middle_adds_a_contact_on_its_triangle() -> None:
    """A capsule 2 mm above flat ground with a 1 cm bump under its middle: the ends stay free, one interior
    sample touches, with the plane of the triangle under it (numpy from its three vertices)."""
    x, y = _grid()
    heights = np.zeros((N, N))
    heights[5, 5] = 0.01  # the vertex at (0, 0)
    centre = np.array([0.02, 0.03, RADIUS + 0.002])
    got = _collide(_model(heights, "capsule", (*centre, *_quat_z_to(np.array([1.0, 0.0, 0.0])))))
    assert len(got["separation"]) >= 1
    assert (got["separation"] < 0).all()
    for point, normal, separation in zip(got["centre"], got["normal"], got["separation"], strict=True):
        col, row = (point[0] + HX) / 0.1, (point[1] + HY) / 0.1
        c, r = int(col), int(row)
        fx, fy = col - c, row - r
        p00 = np.array([x[r, c], y[r, c], heights[r, c]])
        p10 = np.array([x[r, c + 1], y[r, c + 1], heights[r, c + 1]])
        p01 = np.array([x[r + 1, c], y[r + 1, c], heights[r + 1, c]])
        p11 = np.array([x[r + 1, c + 1], y[r + 1, c + 1], heights[r + 1, c + 1]])
        corner = p10 if fx >= fy else p01
        n = np.cross(corner - p00, p11 - p00) if fx >= fy else np.cross(p11 - p00, corner - p00)
        n /= np.linalg.norm(n)
        np.testing.assert_allclose(normal, n, atol=1e-5)
        assert separation == pytest.approx(float(np.dot(point - p00, n)) - RADIUS, abs=1e-6)
        assert (
            abs(point[1] - centre[1]) < 1e-6 and abs(point[0] - centre[0]) < HALF - 1e-3
        )  # interior samples


def test_sphere_matches_newtons_pipeline_on_a_plane() -> None:
    """A sphere pressed 1 mm into a tilted heightfield: the closed-form penetration, and the penetration and normal
    Newton's own pipeline finds on the same state."""
    a, b = -0.08, 0.12
    x, y = _grid()
    heights = a * x + b * y + 0.3
    norm = np.sqrt(1 + a * a + b * b)
    centre = np.array([-0.12, 0.07, 0.0])
    centre[2] = a * centre[0] + b * centre[1] + 0.3 + (RADIUS - 0.001) * norm
    model = _model(heights, "sphere", (*centre, 0.0, 0.0, 0.0, 1.0))
    ours = _collide(model)
    reference = newton.CollisionPipeline(model, broad_phase="explicit")
    contacts = reference.contacts()
    state = model.state()
    reference.collide(state, contacts)
    theirs = _read(contacts, state)
    assert len(ours["separation"]) == 1 and len(theirs["separation"]) >= 1
    assert ours["separation"][0] == pytest.approx(-0.001, abs=1e-6)
    # Newton collides the triangle's extruded prism by MPR: 1.09 mm here against the closed form's 1.00 mm, which
    # ours matches (above); the comparison checks the conventions (side, sign, normal, points), not the last 0.1 mm.
    assert ours["separation"][0] == pytest.approx(theirs["separation"].min(), abs=2e-4)
    np.testing.assert_allclose(
        ours["normal"][0], theirs["normal"][np.argmin(theirs["separation"])], atol=1e-3
    )
    np.testing.assert_allclose(ours["normal"][0], np.array([-a, -b, 1.0]) / norm, atol=1e-6)


def test_a_free_sphere_far_above_gets_no_contact() -> None:
    x, _ = _grid()
    got = _collide(_model(np.zeros_like(x), "sphere", (0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 1.0)))
    assert len(got["separation"]) == 0


def test_other_shapes_against_the_heightfield_are_refused() -> None:
    x, _ = _grid()
    model = _model(np.zeros_like(x), "box", (0.0, 0.0, 0.5, 0.0, 0.0, 0.0, 1.0))
    with pytest.raises(ValueError, match="spheres and capsules only.*BOX"):
        SampledHeightfieldCollision(model, rigid_contact_max=64)


def _feet_forces(collision: str, sample_env_config: Any) -> np.ndarray:
    """Vertical contact force (N) on each env's two ankle-roll links after 15 zero-action steps of the 4-env SONIC
    env on the hfield terrain with ``collision``, read from the env's contact sensor -> ``(4, 2)``."""
    import torch

    from sonic_env.env_cfg import make_env

    env = make_env(sample_env_config(config={"terrain_type": "hfield"}, sim={"collision": collision}))
    try:
        env.reset()
        zeros = torch.zeros(env.num_envs, env.action_manager.total_action_dim)
        for _ in range(15):
            env.step(zeros)
        sensor = env.scene["contact_forces"]
        forces = torch.as_tensor(sensor.data.net_forces_w.torch)  # pyright: ignore[reportAttributeAccessIssue]
        feet = [i for i, name in enumerate(sensor.body_names) if "ankle_roll" in name]
        return forces[:, feet, 2].numpy()
    finally:
        env.close()


def test_the_g1_stands_on_the_sampled_heightfield_as_on_newtons(sample_env_config: Any) -> None:
    """The SONIC env on the hfield terrain, sampled contacts (the default) against Newton's triangle contacts on
    the same surface: the contact sensor reports the same load on each foot (±20 % + 15 N: the two contact models
    land a foot a step apart now and then) and on all feet together (±5 %), and a standing robot's feet carry its
    weight."""
    sampled, newton_pipeline = (
        _feet_forces("auto", sample_env_config),
        _feet_forces("newton", sample_env_config),
    )
    assert sampled.shape == (4, 2)
    np.testing.assert_allclose(sampled, newton_pipeline, rtol=0.2, atol=15.0)  # per foot (landings differ)
    assert sampled.sum() == pytest.approx(newton_pipeline.sum(), rel=0.05)  # all feet together
    assert (
        sampled.sum(axis=1).max() > 300.0
    )  # the G1 weighs about 35 kg: at least one robot stands on both feet
