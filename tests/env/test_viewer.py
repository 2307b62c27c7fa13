"""Live viewer (``headless=False``): which viewer opens, where Viser listens, and that its page is served.

The served-page test builds a 2-env replay env with the Viser viewer on a free port and checks, from
outside the viewer's code, that the kernel lists the port on 127.0.0.1 only (``/proc/net/tcp``) and
that an HTTP GET returns Viser's page. The real-browser check is ``test_viewer_browser.py``.
"""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from sonic_env.config import EnvConfig
from sonic_env.viewer import ViewerConfig, resolve_viewer_kind, viewer_url, visualizer_cfg


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_auto_picks_newton_with_a_display_and_viser_without(monkeypatch: pytest.MonkeyPatch) -> None:
    """'auto' → Newton GL when $DISPLAY or $WAYLAND_DISPLAY is set, else Viser."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert resolve_viewer_kind(ViewerConfig()) == "viser"
    monkeypatch.setenv("DISPLAY", ":0")
    assert resolve_viewer_kind(ViewerConfig()) == "newton"
    assert resolve_viewer_kind(ViewerConfig(kind="viser")) == "viser"


def test_viser_binds_loopback_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Our default bind address is 127.0.0.1 (Isaac Lab's is 0.0.0.0); host/port pass through; the URL is local."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    cfg = visualizer_cfg(ViewerConfig())
    assert (cfg.bind_address, cfg.port) == ("127.0.0.1", 8080)
    cfg = visualizer_cfg(ViewerConfig(host="0.0.0.0", port=9001))
    assert (cfg.bind_address, cfg.port) == ("0.0.0.0", 9001)
    assert viewer_url(ViewerConfig(host="0.0.0.0", port=9001)) == "http://127.0.0.1:9001"


def _listening(port: int) -> list[str]:
    """Local addresses (hex, as the kernel writes them) of TCP sockets listening on ``port``."""
    found = []
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A = LISTEN
                found.append(address)
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc/net/tcp")
def test_viser_serves_the_env_on_loopback_only(sample_env_config: Callable[..., EnvConfig]) -> None:
    """A replay env with viewer=viser serves Viser's page on 127.0.0.1:<port> while it runs, and stops on close."""
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
    try:
        env.reset()
        for _ in range(3):
            env.step(torch.zeros(env.num_envs, env.contract.num_actions))
        assert _listening(port) == ["0100007F"]  # 127.0.0.1, nothing else
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert response.status == 200 and b"<html" in response.read(4096).lower()
    finally:
        env.close()
    assert _listening(port) == []
