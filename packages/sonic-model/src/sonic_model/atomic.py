"""Atomic file writes for the packages built on sonic-model (checkpoints, ONNX files, eval reports).

``write`` fills a temporary file in the target's directory, which is flushed, fsynced and renamed over the
target with ``os.replace`` (atomic on POSIX): a crash or an exception leaves either the old file or the new
one, never half of one, and no temporary file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

__all__ = ["atomic_write"]


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> Path:
    """Write ``path`` atomically: ``write`` fills a temporary binary file, which then replaces ``path``.

    If ``write`` raises, the temporary file is removed, ``path`` keeps its previous content (or stays
    absent), and the exception propagates. Missing parent directories are created.

    Returns:
        The final path.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return target
