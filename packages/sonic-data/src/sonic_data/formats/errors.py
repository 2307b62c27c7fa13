"""The one exception type that every motion-file reader raises for bad input.

Batch tools catch it per file, report its message and carry on, so the message must stand alone:
it names the file and, where it applies, the line, the column or the key, and what was expected.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["FormatError"]


class FormatError(ValueError):
    """A motion file does not have the expected layout or values.

    Args:
        path: the offending file.
        message: what was wrong and what was expected.
        line: 1-based line number in a text file, if known.
        column: column name (CSV) or 1-based field number, if known.
        key: dictionary key (PKL files) or joint name (BVH), if known.
    """

    def __init__(
        self,
        path: str | Path,
        message: str,
        *,
        line: int | None = None,
        column: str | int | None = None,
        key: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.line = line
        self.column = column
        self.key = key
        where = [str(self.path)]
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}" if isinstance(column, str) else f"field {column}")
        if key is not None:
            where.append(f"key {key!r}")
        self.reason = message
        super().__init__(f"{', '.join(where)}: {message}")
