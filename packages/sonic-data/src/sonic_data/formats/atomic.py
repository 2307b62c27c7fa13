"""Atomic file writes: write to a temporary name in the target directory, then ``os.replace``.

An interrupted run therefore leaves either the previous file or no file, never a truncated one
that a later ``--skip_existing`` run would trust. Temporary names start with ``.`` and end with
``.tmp`` so that directory scans for ``*.pkl`` / ``*.csv`` / ``*.bvh`` never pick them up.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import joblib

__all__ = ["atomic_joblib_dump", "atomic_path", "atomic_write_text"]


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it onto ``path``, else delete it.

    Parent directories are created. The temporary file is removed if the body raises.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_joblib_dump(obj: Any, path: str | Path, *, compress: bool | int = True) -> None:
    """``joblib.dump(obj, path, compress=compress)`` through a temporary file and a rename."""
    with atomic_path(path) as tmp:
        joblib.dump(obj, tmp, compress=compress)


def atomic_write_text(path: str | Path, write: Callable[[Any], None]) -> None:
    """Open a temporary text file, call ``write(file)``, then rename it onto ``path``."""
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        write(f)
