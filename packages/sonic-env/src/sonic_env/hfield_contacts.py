# Warp kernels are typed by Warp's code generator, not by Python: pyright cannot check their bodies.
# pyright: reportIndexIssue=false, reportCallIssue=false, reportArgumentType=false, reportOperatorIssue=false
# pyright: reportGeneralTypeIssues=false
"""Sampled sphere/capsule-versus-heightfield contacts: the G1 on SONIC's rough terrain at nearly the plane's speed.

Why: on one H200 at 4,096 envs the G1's physics on the ``hfield`` terrain through Newton's collision pipeline takes
36.5 ms per policy step against 8.7 ms on the plane, and 14 ms of it is one kernel, Newton's generic
capsule-triangle contact (GJK/MPR for every triangle near each of the feet's 14 capsules, then a global contact
reducer). MuJoCo collides a capsule with a plane in closed form, two contacts at the capsule's end spheres; on
SONIC's terrain (1-5 mm bumps, 0.1 m cells) the ground under a foot capsule is a plane almost everywhere, so the
same closed form against the local surface is enough.

What: :class:`SampledHeightfieldCollision` is a drop-in for Newton's ``CollisionPipeline`` (``contacts()``,
``collide(state, contacts)``). Every shape pair except robot-versus-heightfield (the robot's own pairs) still goes
through Newton's pipeline; each robot sphere or capsule against a heightfield is handled by one Warp thread:

* a sphere is its centre; a capsule is sampled along its axis at both end spheres and at interior points no
  farther apart than the heightfield's cell size;
* each sample's signed distance and normal come from the heightfield triangle under it (Newton's
  ``sample_sdf_grad_heightfield``: the plane of that triangle, exact for the piecewise-planar surface while the
  sphere touches the triangle's interior);
* a sample within the contact gap becomes one contact, written in the format of Newton's own writer (sphere
  centre and surface point, ``radius`` as the shape-B offset), so MuJoCo-Warp converts it like any other;
* the end spheres always count; an interior sample counts only where the surface rises above the straight line
  between the ends' distances (by more than :data:`INTERIOR_TOLERANCE`), so on locally planar ground a capsule
  gets MuJoCo's two capsule-plane contacts and a bump under its middle gets a third.

Approximation: a sphere over a triangle edge or a cell with a 2 cm step is pushed along the normal of the triangle
under its centre, not along the true closest-point direction. On SONIC's terrain the steepest triangles (the
``random_rough`` tiles' 2 cm bumps over 0.1 m) tilt 11°, the box risers as height-field ramps 3°.
:mod:`tests.env.test_hfield_contacts` compares the contacts with Newton's pipeline on the same states and drops
spheres on the generated surface.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import warp as wp
from isaaclab.utils import configclass
from isaaclab_newton.physics import NewtonCollisionPipelineCfg, NewtonManager
from isaaclab_newton.physics.mjwarp_manager import NewtonMJWarpManager
from newton import GeoType
from newton._src.utils.heightfield import HeightfieldData, sample_sdf_grad_heightfield

MAX_SAMPLES = 16
"""Samples per capsule at most (a 1.5 m capsule at 0.1 m cells); more would only refine long limbs on the ground."""

INTERIOR_TOLERANCE = 1.0e-4
"""m: an interior capsule sample becomes a contact only where it is this much closer than the ends' line."""


@wp.struct
class ContactOutputs:
    """Newton ``Contacts`` arrays the sampled contacts write (``contact_max`` = their capacity)."""

    contact_max: int
    count: wp.array[int]
    shape0: wp.array[int]
    shape1: wp.array[int]
    point0: wp.array[wp.vec3]
    point1: wp.array[wp.vec3]
    offset0: wp.array[wp.vec3]
    offset1: wp.array[wp.vec3]
    normal: wp.array[wp.vec3]
    margin0: wp.array[float]
    margin1: wp.array[float]
    tids: wp.array[int]


def contact_outputs(contacts: Any) -> ContactOutputs:
    """The rigid-contact arrays of a Newton ``Contacts`` buffer, for :func:`_hfield_contacts_kernel`."""
    out = ContactOutputs()
    out.contact_max = contacts.rigid_contact_max
    out.count = contacts.rigid_contact_count
    for name in (
        "shape0",
        "shape1",
        "point0",
        "point1",
        "offset0",
        "offset1",
        "normal",
        "margin0",
        "margin1",
        "tids",
    ):
        setattr(out, name, getattr(contacts, f"rigid_contact_{name}"))
    return out


@wp.func
def _write(
    out: ContactOutputs,
    index: int,
    shape_a: int,
    shape_b: int,
    point_a_world: wp.vec3,
    centre_world: wp.vec3,
    normal: wp.vec3,
    radius: float,
    margin_a: float,
    margin_b: float,
    X_bw_b: wp.transform,
):
    """One contact as Newton's ``write_contact`` stores it (shape A static: its body frame is the world)."""
    if index >= out.contact_max:
        return
    out.shape0[index] = shape_a
    out.shape1[index] = shape_b
    out.point0[index] = point_a_world
    out.point1[index] = wp.transform_point(X_bw_b, centre_world)
    out.offset0[index] = margin_a * normal
    out.offset1[index] = wp.transform_vector(X_bw_b, -(radius + margin_b) * normal)
    out.normal[index] = normal
    out.margin0[index] = margin_a
    out.margin1[index] = radius + margin_b
    out.tids[index] = 0


@wp.kernel(enable_backward=False)
def _hfield_contacts_kernel(
    pairs: wp.array[wp.vec2i],
    body_q: wp.array[wp.transform],
    shape_body: wp.array[int],
    shape_transform: wp.array[wp.transform],
    shape_type: wp.array[int],
    shape_scale: wp.array[wp.vec3],
    shape_margin: wp.array[float],
    shape_gap: wp.array[float],
    shape_heightfield_index: wp.array[wp.int32],
    heightfield_data: wp.array[HeightfieldData],
    elevations: wp.array[wp.float32],
    out: ContactOutputs,
):
    tid = wp.tid()
    pair = pairs[tid]
    hf = pair[0]
    shape = pair[1]
    hfd = heightfield_data[shape_heightfield_index[hf]]
    X_wh = shape_transform[hf]  # the heightfield is static (body -1), checked on the host
    X_hw = wp.transform_inverse(X_wh)
    body = shape_body[shape]
    X_wb = wp.transform_identity()
    if body >= 0:
        X_wb = body_q[body]
    X_bw = wp.transform_inverse(X_wb)
    X_ws = wp.transform_multiply(X_wb, shape_transform[shape])
    radius = shape_scale[shape][0]
    half = float(0.0)  # noqa: UP018 (a Warp dynamic variable)
    if shape_type[shape] == int(GeoType.CAPSULE):
        half = shape_scale[shape][1]
    centre = wp.transform_get_translation(X_ws)
    axis = wp.quat_rotate(wp.transform_get_rotation(X_ws), wp.vec3(0.0, 0.0, 1.0))
    margin_a = shape_margin[hf]
    margin_b = shape_margin[shape]
    gap = shape_gap[hf] + shape_gap[shape]
    cell = wp.min(2.0 * hfd.hx / float(hfd.ncol - 1), 2.0 * hfd.hy / float(hfd.nrow - 1))
    count = int(1)  # noqa: UP018
    if half > 0.0:
        count = wp.clamp(int(wp.ceil(2.0 * half / cell)) + 1, 2, MAX_SAMPLES)
    # The ends' distances first: the reference line for the interior samples.
    p_first = centre - half * axis
    p_last = centre + half * axis
    d_first, _n0 = sample_sdf_grad_heightfield(hfd, elevations, wp.transform_point(X_hw, p_first))
    d_last, _n1 = sample_sdf_grad_heightfield(hfd, elevations, wp.transform_point(X_hw, p_last))
    for i in range(count):
        t = float(0.0)  # noqa: UP018
        if count > 1:
            t = float(i) / float(count - 1)
        p = p_first + (2.0 * half * t) * axis
        d_plane, n_local = sample_sdf_grad_heightfield(hfd, elevations, wp.transform_point(X_hw, p))
        if d_plane - radius - margin_a - margin_b > gap:  # Newton's rule: separation beyond the summed gaps
            continue
        if i > 0 and i < count - 1:
            line = d_first + t * (d_last - d_first)
            if d_plane > line - INTERIOR_TOLERANCE:
                continue
        normal = wp.quat_rotate(wp.transform_get_rotation(X_wh), n_local)
        surface = p - d_plane * normal
        index = wp.atomic_add(out.count, 0, 1)
        _write(out, index, hf, shape, surface, p, normal, radius, margin_a, margin_b, X_bw)


def split_pairs(model: Any) -> tuple[np.ndarray, np.ndarray]:
    """The model's explicit contact pairs split into ``(heightfield, sphere/capsule)`` pairs and all others.

    Raises:
        ValueError: a heightfield pair whose other shape is not a sphere or a capsule, a heightfield on a body,
            or a heightfield against a heightfield.
    """
    pairs = np.asarray(model.shape_contact_pairs.numpy(), dtype=np.int32).reshape(-1, 2)
    types = model.shape_type.numpy()
    bodies = model.shape_body.numpy()
    hf = int(GeoType.HFIELD)
    first, second = types[pairs[:, 0]] == hf, types[pairs[:, 1]] == hf
    if (first & second).any():
        raise ValueError("sampled heightfield contacts: a heightfield-heightfield pair is not supported")
    with_hf = first | second
    oriented = np.where(first[with_hf, None], pairs[with_hf], pairs[with_hf][:, ::-1])
    other = types[oriented[:, 1]]
    allowed = (other == int(GeoType.SPHERE)) | (other == int(GeoType.CAPSULE))
    if not allowed.all():
        bad = sorted({GeoType(int(t)).name for t in other[~allowed]})
        raise ValueError(
            f"sampled heightfield contacts collide spheres and capsules only; the model has {bad}"
        )
    if (bodies[oriented[:, 0]] != -1).any():
        raise ValueError("sampled heightfield contacts need static heightfields (shape_body -1)")
    return oriented.astype(np.int32), pairs[~with_hf]


class SampledHeightfieldCollision:
    """Newton's ``CollisionPipeline`` interface with sampled robot-versus-heightfield contacts (module doc).

    Args:
        model: the finalized Newton model.
        **pipeline_args: Newton ``CollisionPipeline`` arguments for the other pairs (``rigid_contact_max`` sizes
            the shared contact buffer); ``broad_phase`` must be ``"explicit"`` (the default), and the deterministic
            mode is not supported.
    """

    def __init__(self, model: Any, **pipeline_args: Any) -> None:
        from newton import CollisionPipeline

        if pipeline_args.pop("deterministic", False):
            raise ValueError("sampled heightfield contacts do not support a deterministic contact order")
        if pipeline_args.get("broad_phase", "explicit") != "explicit":
            raise ValueError(
                f"sampled heightfield contacts need the explicit broad phase, got {pipeline_args}"
            )
        hf_pairs, other_pairs = split_pairs(model)
        self.model = model
        self.device = model.device
        self.hfield_pairs = wp.array(hf_pairs, dtype=wp.vec2i, device=self.device)
        pipeline_args.update(
            broad_phase="explicit",
            shape_pairs_filtered=wp.array(other_pairs, dtype=wp.vec2i, device=self.device),
            reduce_contacts=False,  # no mesh or heightfield pair is left to reduce
            max_triangle_pairs=1,
        )
        self.pipeline = CollisionPipeline(model, **pipeline_args)

    def contacts(self) -> Any:
        """A contact buffer sized for this pipeline (Newton's)."""
        return self.pipeline.contacts()

    def collide(self, state: Any, contacts: Any, **kwargs: Any) -> None:
        """Newton's pipeline for the other pairs (it clears the buffer), then the heightfield pairs, appended."""
        if contacts.rigid_contact_stiffness is not None:
            raise ValueError(
                "sampled heightfield contacts do not write per-contact stiffness/damping/friction"
            )
        self.pipeline.collide(state, contacts, **kwargs)
        model = self.model
        if self.hfield_pairs.shape[0] == 0:
            return
        wp.launch(
            _hfield_contacts_kernel,
            dim=self.hfield_pairs.shape[0],
            inputs=[
                self.hfield_pairs,
                state.body_q,
                model.shape_body,
                model.shape_transform,
                model.shape_type,
                model.shape_scale,
                model.shape_margin,
                model.shape_gap,
                model.shape_heightfield_index,
                model.heightfield_data,
                model.heightfield_elevations,
                contact_outputs(contacts),
            ],
            device=self.device,
            record_tape=False,
        )


@configclass
class SampledHeightfieldCollisionCfg(NewtonCollisionPipelineCfg):
    """Isaac Lab's collision-pipeline config, asking :class:`NewtonSampledHeightfieldManager` for
    :class:`SampledHeightfieldCollision` (robot versus heightfield sampled, every other pair Newton's)."""


class NewtonSampledHeightfieldManager(NewtonMJWarpManager):
    """Isaac Lab's MuJoCo-Warp manager that builds :class:`SampledHeightfieldCollision` for a
    :class:`SampledHeightfieldCollisionCfg` (``MJWarpSolverCfg(class_type=...)``); otherwise Isaac Lab's."""

    @classmethod
    def _initialize_contacts(cls) -> None:
        cfg = cls._collision_cfg
        if not (cls._needs_collision_pipeline and isinstance(cfg, SampledHeightfieldCollisionCfg)):
            super()._initialize_contacts()
            return
        pipeline = cls._collision_pipeline
        if pipeline is None:
            args = cfg.to_pipeline_args()
            args["deterministic"] = cls._deterministic_mode != wp.DeterministicMode.NOT_GUARANTEED
            pipeline = SampledHeightfieldCollision(cls.backend.model, **args)  # pyright: ignore[reportOptionalMemberAccess]
            NewtonManager._collision_pipeline = pipeline
        if cls._contacts is None:
            contacts = pipeline.contacts()
            solver = cls._solver
            need = solver.get_max_contact_count() if solver is not None else 0
            if need > contacts.rigid_contact_max:
                raise ValueError(
                    f"sampled heightfield contacts: the contact buffer holds {contacts.rigid_contact_max} contacts "
                    f"but MuJoCo-Warp takes {need}; set rigid_contact_max to num_envs * nconmax"
                )
            NewtonManager._contacts = contacts


__all__ = [
    "INTERIOR_TOLERANCE",
    "ContactOutputs",
    "MAX_SAMPLES",
    "SampledHeightfieldCollision",
    "SampledHeightfieldCollisionCfg",
    "NewtonSampledHeightfieldManager",
    "contact_outputs",
    "split_pairs",
]
