"""sonic_model.atomic.atomic_write: the writer behind checkpoints, ONNX files and eval reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from sonic_model.atomic import atomic_write


def test_writes_the_bytes_and_creates_parents(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "f.bin"
    assert atomic_write(target, lambda h: h.write(b"hello")) == target
    assert target.read_bytes() == b"hello"
    assert sorted(p.name for p in target.parent.iterdir()) == ["f.bin"]


def test_a_failing_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "f.bin"
    target.write_bytes(b"old")

    def fail(handle) -> None:  # noqa: ANN001
        handle.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(target, fail)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.bin"]
