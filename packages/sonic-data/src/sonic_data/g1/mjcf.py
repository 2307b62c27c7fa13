"""Read the kinematic tree of an MJCF file with ``xml.etree`` (no MuJoCo at runtime).

Forward kinematics and the joint-limit table need only a small part of MJCF: the body tree, each
body's ``pos``/``quat``, its hinge joint (``axis``, ``pos``, ``range``, ``ref``) and its mass. This
module reads exactly that and refuses, with the file and element named, whatever it does not model
(other body orientation forms, slide/ball joints, several joints on one body, ``<frame>``,
``<include>``), so a model it cannot represent fails loudly instead of giving wrong poses.

Semantics follow MuJoCo's compiler: default classes (``<default class=...>``, ``childclass``) apply
to joints; ``compiler angle`` (MuJoCo's default is degrees) converts ``range`` and ``ref``; body
quaternions and joint axes are normalized; a hinge turns by ``q - ref`` about ``axis`` through
``pos`` in the body frame. The root body's free joint pose replaces the body's own ``pos``/``quat``.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MjcfBody", "MjcfError", "MjcfJoint", "MjcfTree", "parse_mjcf"]

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]

_UNSUPPORTED_ORIENTATION = ("axisangle", "euler", "xyaxes", "zaxis")
_UNSUPPORTED_TREE_ELEMENTS = ("frame", "include", "replicate", "attach")


class MjcfError(ValueError):
    """An MJCF file is malformed or uses a feature this reader does not model."""


@dataclass(frozen=True)
class MjcfJoint:
    """One hinge joint.

    Attributes:
        name: joint name.
        axis: unit rotation axis in the body frame.
        pos: point on the axis in the body frame (m).
        range: ``(lower, upper)`` in radians, or ``None`` when the joint is unlimited.
        ref: angle (rad) at which the body sits at its ``pos``/``quat``.
    """

    name: str
    axis: Vec3
    pos: Vec3
    range: tuple[float, float] | None
    ref: float


@dataclass(frozen=True)
class MjcfBody:
    """One body of the tree.

    Attributes:
        name: body name.
        parent: index of the parent in :attr:`MjcfTree.bodies`, ``-1`` for the root.
        pos: position in the parent frame (m); ignored for the free root.
        quat: unit orientation ``wxyz`` in the parent frame; ignored for the free root.
        joint: the body's hinge joint, ``None`` for the root and for welded bodies.
        mass: mass (kg) from ``<inertial mass=...>``, ``None`` if the body has no ``<inertial>``.
    """

    name: str
    parent: int
    pos: Vec3
    quat: Quat
    joint: MjcfJoint | None
    mass: float | None


@dataclass(frozen=True)
class MjcfTree:
    """The kinematic tree of one free-floating model, bodies in depth-first (MuJoCo) order.

    Attributes:
        path: the file it was read from.
        bodies: every body below ``<worldbody>``; ``bodies[0]`` is the free root.
        root_joint: name of the root's free joint.
        masses_from_geoms: True when the compiler derives inertia from geoms, so ``<inertial>``
            masses are not the model's masses.
    """

    path: Path
    bodies: tuple[MjcfBody, ...]
    root_joint: str
    masses_from_geoms: bool

    @property
    def body_names(self) -> tuple[str, ...]:
        """Body names in depth-first order, root first."""
        return tuple(b.name for b in self.bodies)

    @property
    def joints(self) -> tuple[MjcfJoint, ...]:
        """Hinge joints in file order (the order of a joint-position vector)."""
        return tuple(b.joint for b in self.bodies if b.joint is not None)

    @property
    def joint_names(self) -> tuple[str, ...]:
        """Hinge joint names in file order."""
        return tuple(j.name for j in self.joints)

    @property
    def total_mass(self) -> float:
        """Sum of the bodies' ``<inertial>`` masses (kg).

        Raises:
            MjcfError: if a body has no ``<inertial>`` or the compiler takes inertia from geoms.
        """
        missing = [b.name for b in self.bodies if b.mass is None]
        if self.masses_from_geoms or missing:
            raise MjcfError(
                f"{self.path}: total mass needs an explicit <inertial mass=...> on every body and no "
                f"<compiler inertiafromgeom='true'>; bodies without one: {missing}"
            )
        return math.fsum(b.mass for b in self.bodies if b.mass is not None)


def _floats(text: str, count: int, where: str) -> tuple[float, ...]:
    try:
        values = tuple(float(v) for v in text.split())
    except ValueError:
        raise MjcfError(f"{where}: expected {count} numbers, got {text!r}") from None
    if len(values) != count:
        raise MjcfError(f"{where}: expected {count} numbers, got {text!r}")
    return values


def _unit(values: tuple[float, ...], where: str) -> tuple[float, ...]:
    norm = math.sqrt(math.fsum(v * v for v in values))
    if norm < 1e-12:
        raise MjcfError(f"{where}: zero-length vector {values}")
    return tuple(v / norm for v in values)


def _read_defaults(root: ET.Element) -> dict[str, dict[str, dict[str, str]]]:
    """Class name → element tag → attributes, each class including what it inherits."""
    classes: dict[str, dict[str, dict[str, str]]] = {}

    def visit(node: ET.Element, inherited: dict[str, dict[str, str]]) -> None:
        own = {tag: dict(attrs) for tag, attrs in inherited.items()}
        for child in node:
            if child.tag != "default":
                own.setdefault(child.tag, {}).update(child.attrib)
        classes[node.get("class", "main")] = own
        for child in node:
            if child.tag == "default":
                visit(child, own)

    for top in root.findall("default"):
        visit(top, {})
    return classes


def parse_mjcf(path: str | Path) -> MjcfTree:
    """Read the body tree of the free-floating model in ``path``.

    The model must have exactly one body directly under ``<worldbody>``, carrying a free joint;
    every other body has at most one hinge joint.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        MjcfError: naming the file and element, for malformed or unsupported content.
    """
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise MjcfError(f"{path}: not well-formed XML: {err}") from None
    if root.tag != "mujoco":
        raise MjcfError(f"{path}: root element is <{root.tag}>, expected <mujoco>")

    compiler = root.find("compiler")
    compiler_attrs = compiler.attrib if compiler is not None else {}
    angle_unit = compiler_attrs.get("angle", "degree")
    if angle_unit not in ("degree", "radian"):
        raise MjcfError(f"{path}: <compiler angle={angle_unit!r}>, expected 'degree' or 'radian'")
    to_rad = math.pi / 180.0 if angle_unit == "degree" else 1.0
    masses_from_geoms = compiler_attrs.get("inertiafromgeom", "auto") == "true"
    defaults = _read_defaults(root)

    worldbody = root.find("worldbody")
    if worldbody is None:
        raise MjcfError(f"{path}: no <worldbody>")
    tops = worldbody.findall("body")
    if len(tops) != 1:
        raise MjcfError(f"{path}: expected exactly one body under <worldbody>, found {len(tops)}")

    bodies: list[MjcfBody] = []
    root_joint = ""

    def read_joint(elem: ET.Element, childclass: str, body_name: str) -> MjcfJoint | str:
        """A hinge joint, or the name of a free joint."""
        name = elem.get("name", "")
        where = f"{path}: joint {name!r} of body {body_name!r}"
        if elem.tag == "freejoint":
            return name
        attrs = dict(defaults.get(elem.get("class", childclass), {}).get("joint", {}))
        if elem.get("class") is not None and elem.get("class") not in defaults:
            raise MjcfError(f"{where}: unknown default class {elem.get('class')!r}")
        attrs.update(elem.attrib)
        kind = attrs.get("type", "hinge")
        if kind == "free":
            return name
        if kind != "hinge":
            raise MjcfError(f"{where}: type {kind!r} is not supported (hinge and free only)")
        if not name:
            raise MjcfError(f"{path}: a hinge joint of body {body_name!r} has no name")
        axis = _unit(_floats(attrs.get("axis", "0 0 1"), 3, f"{where} axis"), f"{where} axis")
        jpos = _floats(attrs.get("pos", "0 0 0"), 3, f"{where} pos")
        limited = attrs.get("limited", "auto")
        joint_range: tuple[float, float] | None = None
        if "range" in attrs and limited != "false":
            lo, hi = _floats(attrs["range"], 2, f"{where} range")
            if lo > hi:
                raise MjcfError(f"{where}: range lower {lo} exceeds upper {hi}")
            joint_range = (lo * to_rad, hi * to_rad)
        elif limited == "true":
            raise MjcfError(f"{where}: limited='true' but no range")
        ref = float(attrs.get("ref", "0")) * to_rad
        return MjcfJoint(name, (axis[0], axis[1], axis[2]), (jpos[0], jpos[1], jpos[2]), joint_range, ref)

    def visit(elem: ET.Element, parent: int, childclass: str) -> None:
        name = elem.get("name")
        if not name:
            raise MjcfError(
                f"{path}: a body below {bodies[parent].name if parent >= 0 else 'worldbody'!r} has no name"
            )
        where = f"{path}: body {name!r}"
        for key in _UNSUPPORTED_ORIENTATION:
            if key in elem.attrib:
                raise MjcfError(f"{where}: orientation given as {key!r}; only 'quat' is supported")
        for child in elem:
            if child.tag in _UNSUPPORTED_TREE_ELEMENTS:
                raise MjcfError(f"{where}: <{child.tag}> inside a body is not supported")
        childclass = elem.get("childclass", childclass)
        pos = _floats(elem.get("pos", "0 0 0"), 3, f"{where} pos")
        quat = _unit(_floats(elem.get("quat", "1 0 0 0"), 4, f"{where} quat"), f"{where} quat")
        joint_elems = [c for c in elem if c.tag in ("joint", "freejoint")]
        read = [read_joint(j, childclass, name) for j in joint_elems]
        free = [r for r in read if isinstance(r, str)]
        hinges = [r for r in read if isinstance(r, MjcfJoint)]
        if parent < 0:
            if len(free) != 1 or hinges:
                raise MjcfError(f"{where}: the root body must carry exactly one free joint and nothing else")
            nonlocal root_joint
            root_joint = free[0]
        elif free:
            raise MjcfError(f"{where}: a free joint is only supported on the root body")
        if len(hinges) > 1:
            raise MjcfError(f"{where}: {len(hinges)} joints on one body; at most one is supported")
        inertial = elem.find("inertial")
        mass = float(inertial.get("mass", "nan")) if inertial is not None else None
        if mass is not None and not mass >= 0.0:
            raise MjcfError(f"{where}: <inertial> needs a non-negative mass")
        index = len(bodies)
        bodies.append(
            MjcfBody(
                name=name,
                parent=parent,
                pos=(pos[0], pos[1], pos[2]),
                quat=(quat[0], quat[1], quat[2], quat[3]),
                joint=hinges[0] if hinges else None,
                mass=mass,
            )
        )
        for child in elem.findall("body"):
            visit(child, index, childclass)

    visit(tops[0], -1, "main")
    names = [b.name for b in bodies]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise MjcfError(f"{path}: repeated body names {dupes}")
    return MjcfTree(
        path=path, bodies=tuple(bodies), root_joint=root_joint, masses_from_geoms=masses_from_geoms
    )
