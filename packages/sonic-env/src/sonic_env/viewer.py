"""Live view of the env (``headless=False``) with Isaac Lab 3.0's kit-less visualizers.

With a display (``$DISPLAY`` or ``$WAYLAND_DISPLAY`` set) the Newton GL window opens; without one,
the Viser web viewer (``isaaclab_visualizers.viser``, needs the ``sonic-env[viewer]`` extra) serves
the scene and its URL is printed. Isaac Lab's Viser default binds every interface (``0.0.0.0``);
ours binds ``127.0.0.1`` unless ``host`` says otherwise (reach a remote machine with
``ssh -L 8080:127.0.0.1:8080``). The scene is the render scene (:mod:`sonic_env.render.scene`):
the meshed robot and, beside it, the blue reference robot.
"""

from __future__ import annotations

import importlib.util
import os
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ViewerConfig", "resolve_viewer_kind", "viewer_url", "visualizer_cfg"]

ViewerKind = Literal["auto", "newton", "viser"]


class ViewerConfig(BaseModel):
    """Which live viewer to open and where Viser listens (``manager_env.viewer``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: ViewerKind = Field(
        default="auto",
        description="'auto': the Newton GL window when a display is available, else Viser; or force 'newton' / 'viser'.",
    )
    host: str = Field(
        default="127.0.0.1",
        description="Interface the Viser server binds (127.0.0.1: this machine only; 0.0.0.0: every interface).",
    )
    port: int = Field(default=8080, ge=1, le=65535, description="Viser's HTTP port.")


def has_display() -> bool:
    """Whether an X11 or Wayland display is configured for this process."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def resolve_viewer_kind(config: ViewerConfig) -> Literal["newton", "viser"]:
    """The viewer ``config.kind`` means here (``auto`` → ``newton`` with a display, else ``viser``).

    Raises:
        ModuleNotFoundError: Viser is needed but not installed (names the extra).
    """
    kind = config.kind
    if kind == "auto":
        kind = "newton" if has_display() else "viser"
    if kind == "viser" and importlib.util.find_spec("viser") is None:
        raise ModuleNotFoundError(
            "the live web viewer needs viser: pip install 'sonic-env[viewer]' (or run with headless=True)"
        )
    return kind


def viewer_url(config: ViewerConfig) -> str:
    """The address a browser on this machine opens for the Viser viewer."""
    host = "127.0.0.1" if config.host in ("0.0.0.0", "::", "") else config.host
    return f"http://{host}:{config.port}"


def _array_to_numpy(array: Any) -> Any:
    """A warp array, torch tensor or array-like as a numpy array (``None`` stays ``None``)."""
    if array is None:
        return None
    if hasattr(array, "detach"):  # torch, possibly on a GPU
        return array.detach().cpu().numpy()
    if hasattr(array, "numpy"):  # warp (copies from the device)
        return array.numpy()
    return np.asarray(array)


def patch_viser_visualizer() -> None:
    """Make Isaac Lab 3.0.0's Viser visualizer work with newton 1.6.1.

    ``isaaclab_visualizers.viser``'s ``NewtonViewerViser._log_plane_instances`` calls
    ``self._to_numpy``, which newton 1.6.1's ``ViewerViser`` does not define (newton has a module-level
    ``to_numpy`` instead), so every frame with a ground plane failed with an AttributeError and the
    page showed an empty scene. We give the class that method; nothing else changes.
    """
    from isaaclab_visualizers.viser.viser_visualizer import NewtonViewerViser

    if not hasattr(NewtonViewerViser, "_to_numpy"):
        NewtonViewerViser._to_numpy = staticmethod(_array_to_numpy)  # pyright: ignore[reportAttributeAccessIssue]


def visualizer_cfg(config: ViewerConfig) -> Any:
    """Isaac Lab's visualizer configuration for ``config`` (for ``SimulationCfg.visualizer_cfgs``)."""
    kind = resolve_viewer_kind(config)
    eye, lookat = (3.0, -3.0, 1.8), (0.0, 0.5, 0.7)
    if kind == "newton":
        from isaaclab_visualizers.newton import NewtonGLVisualizerCfg

        return NewtonGLVisualizerCfg(eye=eye, lookat=lookat)
    from isaaclab_visualizers.viser import ViserVisualizerCfg

    patch_viser_visualizer()
    return ViserVisualizerCfg(
        eye=eye,
        lookat=lookat,
        port=config.port,
        bind_address=config.host,
        display_address=viewer_url(config).split("//")[1].rsplit(":", 1)[0],
        open_browser=False,
    )
