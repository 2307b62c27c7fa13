"""``python -m sonic_export``: the same as the ``sonic-export`` console script."""

from __future__ import annotations

from sonic_export.cli import main

raise SystemExit(main())
