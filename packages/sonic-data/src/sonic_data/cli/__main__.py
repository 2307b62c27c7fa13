"""``python -m sonic_data.cli`` runs the ``sonic-data`` console script."""

from __future__ import annotations

import sys

from sonic_data.cli import main

sys.exit(main())
