"""The Viser viewer in a real headless browser: the page loads, the scene holds the robots, and they move.

Opt-in (it needs a browser): ``SONIC_BROWSER_TESTS=1``, Debian's ``chromium`` (``apt-get install chromium``)
and Playwright from PyPI (``uv sync --all-packages --group browser``); Playwright drives the system
Chromium through ``executable_path`` (``$SONIC_CHROMIUM``, default ``/usr/bin/chromium``), so no
browser download is needed. Run: ``SONIC_BROWSER_TESTS=1 .venv/bin/python -m pytest tests/env/test_viewer_browser.py``.

The env replays a squat with the meshed robot and its reference; a screenshot must show the blue reference
robots and the dark simulated robots, and two screenshots taken seconds apart must differ where they move.
"""

from __future__ import annotations

import importlib.util
import io
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from sonic_env.config import EnvConfig


def free_port() -> int:
    """A TCP port nobody listens on now (for the viewer that headless=False opens)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


CHROMIUM = os.environ.get("SONIC_CHROMIUM", "/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        os.environ.get("SONIC_BROWSER_TESTS") != "1", reason="set SONIC_BROWSER_TESTS=1 to run"
    ),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None, reason="uv sync --group browser"),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]


def _rgb(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def _ghost_pixels(rgb: np.ndarray) -> int:
    r, g, b = (rgb[..., i].astype(int) for i in range(3))
    return int(((b > 150) & (b - r > 60) & (b - g > 20)).sum())


def _dark_pixels(rgb: np.ndarray) -> int:
    return int((rgb.max(-1) < 70).sum())


def test_viewer_page_shows_the_robots_moving(
    sample_env_config: Callable[..., EnvConfig], tmp_path: Path
) -> None:
    """The page is the viewer's, a screenshot shows the robots and their blue ghosts, and they move."""
    from playwright.sync_api import sync_playwright  # pyright: ignore[reportMissingImports]

    from sonic_env.env import SonicEnv

    port = free_port()
    config = sample_env_config(
        {"filter_motion_keys": ["squat_slow_001__A002"], "smpl_motion_file": None},
        num_envs=2,
        mode="eval",
        replay=True,
        viewer={"kind": "viser", "port": port},
    )
    env = SonicEnv(config)
    stop = threading.Event()
    lock = threading.Lock()

    def run() -> None:
        zeros = torch.zeros(env.num_envs, env.contract.num_actions)
        while not stop.is_set():
            with lock:
                env.step(zeros)

    try:
        env.reset()
        stepper = threading.Thread(target=run, daemon=True)
        stepper.start()
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--use-gl=swiftshader"]
            )
            page = browser.new_page(viewport={"width": 800, "height": 600})
            page.goto(f"http://127.0.0.1:{port}/", wait_until="networkidle", timeout=60_000)
            page.wait_for_timeout(5_000)
            text = page.content()
            first = page.screenshot(path=str(tmp_path / "a.png"))
            page.wait_for_timeout(3_000)
            second = page.screenshot(path=str(tmp_path / "b.png"))
            browser.close()
        assert "viser" in text.lower() or "isaac lab" in text.lower()
        a, b = _rgb(first), _rgb(second)
        # The reference ghost is drawn blue, the robot's links dark grey/black on a white floor.
        assert _ghost_pixels(a) > 300, "the page should show the blue reference robots"
        assert _dark_pixels(a) > 300, "the page should show the simulated robots"
        moved = (np.abs(a.astype(int) - b.astype(int)).sum(-1) > 30).sum()
        assert moved > 200, f"the robots should move between the screenshots ({moved} pixels changed)"
    finally:
        stop.set()
        with lock:
            env.close()
