"""The Viser viewer in a real headless browser: the page loads, the scene holds the robots, and they move.

Opt-in (it needs a browser): ``SONIC_BROWSER_TESTS=1``, Debian's ``chromium`` (``apt-get install chromium``)
and Playwright from PyPI (``uv sync --all-packages --group browser``); Playwright drives the system
Chromium through ``executable_path`` (``$SONIC_CHROMIUM``, default ``/usr/bin/chromium``), so no
browser download is needed. Run: ``SONIC_BROWSER_TESTS=1 .venv/bin/python -m pytest tests/env/test_viewer_browser.py``.

The env replays a squat with the meshed robot and its reference; the scene tree of Viser's GUI is read
through the page, and two screenshots taken a second of simulation apart must differ.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

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


def test_viewer_page_shows_the_robots_moving(
    sample_env_config: Callable[..., EnvConfig], tmp_path: Path
) -> None:
    """Page title is Viser's, the scene lists Robot and Ghost prims, and two screenshots differ."""
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
        assert "viser" in text.lower()
        assert "Robot" in text and "Ghost" in text, "scene tree should list the robot and its reference"
        assert first != second, "the robots should move between the screenshots"
    finally:
        stop.set()
        with lock:
            env.close()
