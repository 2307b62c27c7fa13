"""Regenerate ``sonic_data/g1/meshes/``: Unitree's G1 visual meshes, decimated, for rendering only.

The physics model ``sonic_data/g1/g1.xml`` is mesh-free. Rendering (videos, the live viewer) needs
the robot's look, so this script takes the 35 STL meshes and the visual-geom placements from the
same source as the MJCF, the ``mjlab==1.6.0`` wheel, and writes:

* ``meshes/<mesh name>.stl``: binary STL, decimated with quadric edge collapse
  (``fast-simplification``) to ``max(MIN_FACES, ceil(FRACTION × faces))`` triangles, vertices in
  float32 as STL stores them (total ≈1.6 MB against 19 MB upstream);
* ``meshes/visuals.json``: every ``class="visual"`` geom of mjlab's ``g1.xml`` (body, mesh, pos,
  quat wxyz, material) and the two material colours, in document order.

Usage (from the repository root; the wheel is downloaded with pip, never the machine's pip config)::

    env -u PIP_FIND_LINKS PIP_CONFIG_FILE=/dev/null python3.12 -m pip download --no-deps mjlab==1.6.0 -d /tmp/mjlab
    .venv/bin/python packages/sonic-data/scripts/make_g1_meshes.py /tmp/mjlab/mjlab-1.6.0-py3-none-any.whl

The wheel's sha256 is checked; the output is deterministic for a given fast-simplification version.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import os
import sys
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import fast_simplification
import numpy as np

WHEEL_SHA256 = "03d003854e2f44c48330c6dcf4c2253ff7641bb569747846825a21b9efa8540b"
XML_PATH = "mjlab/asset_zoo/robots/unitree_g1/xmls/g1.xml"
ASSET_DIR = "mjlab/asset_zoo/robots/unitree_g1/xmls/assets/"
OUT_DIR = Path(__file__).resolve().parents[1] / "src" / "sonic_data" / "g1" / "meshes"
FRACTION = 0.08
"""Share of each mesh's triangles kept."""
MIN_FACES = 300
"""Small meshes keep at least this many triangles."""
AGGRESSIVENESS = 5.0
"""fast-simplification's ``agg`` (lower: better shape, slower)."""
BUDGET_BYTES = 3_000_000
"""The whole folder must stay below this (the tree travels to the GPU machine with every call)."""

_STL_DTYPE = np.dtype([("normal", "<f4", 3), ("v", "<f4", (3, 3)), ("attr", "<u2")])


def read_binary_stl(data: bytes, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Indexed mesh of a binary STL: ``(V, 3)`` float64 vertices and ``(F, 3)`` int64 faces (shared vertices merged)."""
    if len(data) < 84:
        raise ValueError(f"{name}: too short for a binary STL ({len(data)} bytes)")
    count = int(np.frombuffer(data, "<u4", 1, 80)[0])
    if len(data) != 84 + 50 * count:
        raise ValueError(
            f"{name}: binary STL header says {count} triangles but the file has {len(data)} bytes"
        )
    tris = np.frombuffer(data, _STL_DTYPE, count, 84)["v"].reshape(-1, 3)
    verts, inverse = np.unique(tris, axis=0, return_inverse=True)
    return verts.astype(np.float64), inverse.reshape(-1, 3).astype(np.int64)


def write_binary_stl(path: Path, verts: np.ndarray, faces: np.ndarray, header: str) -> None:
    """Write a binary STL (face normals from the vertex winding) atomically."""
    tri = verts[faces].astype(np.float32)
    normal = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    length = np.linalg.norm(normal, axis=1, keepdims=True)
    normal = np.where(length > 0, normal / np.maximum(length, 1e-30), 0.0).astype(np.float32)
    records = np.zeros(len(faces), _STL_DTYPE)
    records["normal"], records["v"] = normal, tri
    buf = io.BytesIO()
    buf.write(header.encode("ascii")[:80].ljust(80, b" "))
    buf.write(np.uint32(len(faces)).tobytes())
    buf.write(records.tobytes())
    _atomic_write(path, buf.getvalue())


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _floats(text: str | None, default: list[float]) -> list[float]:
    return [float(v) for v in text.split()] if text else default


def visual_geoms(root: ET.Element) -> list[dict[str, object]]:
    """Every ``class="visual"`` geom under a body, in document order, with its placement and material."""
    geoms: list[dict[str, object]] = []
    for body in root.iter("body"):
        for geom in body.findall("geom"):
            if geom.get("class") != "visual":
                continue
            quat = _floats(geom.get("quat"), [1.0, 0.0, 0.0, 0.0])
            norm = math.sqrt(sum(q * q for q in quat))
            geoms.append(
                {
                    "body": body.get("name"),
                    "mesh": geom.get("mesh"),
                    "pos": _floats(geom.get("pos"), [0.0, 0.0, 0.0]),
                    "quat": [q / norm for q in quat],
                    "material": geom.get("material", "silver"),
                }
            )
    return geoms


def _dump_spec(spec: dict[str, object]) -> str:
    """JSON with one key, and one geom, per line (readable diffs)."""
    geoms = spec["geoms"]
    assert isinstance(geoms, list)
    lines = ["{", *(f" {json.dumps(k)}: {json.dumps(v)}," for k, v in spec.items() if k != "geoms")]
    lines += [' "geoms": [', ",\n".join("  " + json.dumps(g) for g in geoms), " ]", "}"]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("wheel", type=Path, help="mjlab-1.6.0-py3-none-any.whl")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help=f"output folder (default {OUT_DIR})")
    args = parser.parse_args(argv)
    data = args.wheel.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != WHEEL_SHA256:
        print(f"{args.wheel}: sha256 {digest}, expected {WHEEL_SHA256} (mjlab==1.6.0)", file=sys.stderr)
        return 1
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(io.BytesIO(data)) as wheel:
        root = ET.fromstring(wheel.read(XML_PATH))
        mesh_files = {m.get("name"): m.get("file") for m in root.iter("mesh")}
        materials = {m.get("name"): _floats(m.get("rgba"), [1, 1, 1, 1]) for m in root.iter("material")}
        geoms = visual_geoms(root)
        total_out = 0
        for name in sorted({str(g["mesh"]) for g in geoms}):
            file = mesh_files.get(name)
            if file is None:
                raise KeyError(f"{XML_PATH}: geom mesh {name!r} has no <mesh> asset")
            verts, faces = read_binary_stl(wheel.read(ASSET_DIR + file), file)
            target = max(MIN_FACES, math.ceil(FRACTION * len(faces)))
            if target < len(faces):
                simplified = fast_simplification.simplify(
                    verts, faces, target_count=target, agg=AGGRESSIVENESS
                )
                verts, faces = simplified[0], simplified[1]
            header = f"G1 {name} from mjlab==1.6.0 {file}, decimated to {len(faces)} faces"
            write_binary_stl(out / f"{name}.stl", verts, faces, header)
            total_out += len(faces)
    spec = {
        "source": f"mjlab==1.6.0 wheel (sha256 {WHEEL_SHA256}) {XML_PATH}",
        "decimation": {
            "tool": f"fast-simplification {fast_simplification.__version__}",
            "fraction": FRACTION,
            "min_faces": MIN_FACES,
            "agg": AGGRESSIVENESS,
        },  # fmt: skip
        "materials": materials,
        "geoms": geoms,
    }
    _atomic_write(out / "visuals.json", _dump_spec(spec).encode())
    size = sum(p.stat().st_size for p in out.iterdir() if p.is_file())
    print(f"{len(geoms)} visual geoms, {total_out} triangles, {size / 1e6:.2f} MB in {out}")
    if size > BUDGET_BYTES:
        print(f"{out}: {size} bytes exceed the {BUDGET_BYTES}-byte budget; lower FRACTION", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
