"""mp4 writing for the render recorder: imageio's ffmpeg writer, else OpenCV's ``cv2.VideoWriter``.

``sonic-env[video]`` installs imageio + imageio-ffmpeg (H.264, ``yuv420p``: plays everywhere). The
GPU machine's image has no imageio-ffmpeg but has ``opencv-python-headless``, whose ``mp4v`` writer
is used there. Frames are streamed to the encoder (an episode is never held in memory), under a
temporary name in the target folder that is renamed when the video is complete, so a crash never
leaves a truncated ``000007.mp4`` that looks finished.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

import numpy as np

__all__ = ["Mp4Writer", "VideoBackend", "available_backend", "write_video"]

VideoBackend = Literal["imageio", "cv2"]


def available_backend() -> VideoBackend:
    """``"imageio"`` when imageio and imageio-ffmpeg import, else ``"cv2"`` when OpenCV does.

    Raises:
        ModuleNotFoundError: neither is installed (names the extra to install).
    """
    if importlib.util.find_spec("imageio") and importlib.util.find_spec("imageio_ffmpeg"):
        return "imageio"
    if importlib.util.find_spec("cv2"):
        return "cv2"
    raise ModuleNotFoundError(
        "writing videos needs imageio + imageio-ffmpeg (pip install 'sonic-env[video]') or OpenCV (cv2)"
    )


class Mp4Writer:
    """One mp4 being written: :meth:`append` RGB frames, then :meth:`close` (publish) or :meth:`discard`.

    Args:
        path: destination ``.mp4`` (its folder is created).
        width, height: frame size in pixels, both even (H.264 with yuv420p).
        fps: playback frames per second.
        backend: ``"imageio"`` or ``"cv2"``; default :func:`available_backend`.
    """

    def __init__(
        self, path: Path, width: int, height: int, fps: float, backend: VideoBackend | None = None
    ) -> None:
        if width % 2 or height % 2 or width <= 0 or height <= 0:
            raise ValueError(f"video {path}: frame size {width}x{height} must be positive and even")
        self.path, self.width, self.height = Path(path), width, height
        self.backend: VideoBackend = backend or available_backend()
        self.frames = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=".mp4", dir=self.path.parent)
        os.close(fd)
        self._tmp = Path(tmp)
        self._writer: Any
        if self.backend == "imageio":
            import imageio.v2 as iio

            self._writer = iio.get_writer(
                self._tmp,
                format="FFMPEG",
                fps=fps,
                codec="libx264",
                pixelformat="yuv420p",
                macro_block_size=1,
            )
        else:
            import cv2  # pyright: ignore[reportMissingImports]  (OpenCV: the GPU machine's image)

            self._writer = cv2.VideoWriter(
                str(self._tmp), cv2.VideoWriter.fourcc(*"mp4v"), float(fps), (width, height)
            )
            if not self._writer.isOpened():
                self._tmp.unlink(missing_ok=True)
                raise RuntimeError(f"cv2.VideoWriter could not open {self._tmp} (mp4v)")

    def append(self, frame: np.ndarray) -> None:
        """Add one ``(H, W, 3)`` uint8 RGB frame."""
        if frame.shape != (self.height, self.width, 3) or frame.dtype != np.uint8:
            raise ValueError(
                f"video {self.path}: expected a ({self.height}, {self.width}, 3) uint8 frame, got {frame.shape} {frame.dtype}"
            )
        if self.backend == "imageio":
            self._writer.append_data(frame)
        else:
            self._writer.write(np.ascontiguousarray(frame[..., ::-1]))
        self.frames += 1

    def close(self, path: Path | None = None) -> Path:
        """Finish encoding and rename into place (at ``path`` if given, else the constructor's); returns it."""
        if path is not None:
            self.path = Path(path)
        try:
            self._finish()
            os.chmod(self._tmp, 0o644)
            os.replace(self._tmp, self.path)
        finally:
            self._tmp.unlink(missing_ok=True)
        return self.path

    def discard(self) -> None:
        """Stop and delete the partial file (nothing appears at ``path``)."""
        try:
            self._finish()
        finally:
            self._tmp.unlink(missing_ok=True)

    def _finish(self) -> None:
        if self.backend == "imageio":
            self._writer.close()
        else:
            self._writer.release()


def write_video(path: Path, frames: np.ndarray, fps: float, backend: VideoBackend | None = None) -> Path:
    """Encode ``(T, H, W, 3)`` uint8 RGB frames (``T >= 1``) to an mp4 at ``path`` atomically."""
    if frames.ndim != 4 or len(frames) == 0:
        raise ValueError(f"write_video {path}: expected (T>=1, H, W, 3) frames, got shape {frames.shape}")
    writer = Mp4Writer(path, frames.shape[2], frames.shape[1], fps, backend)
    try:
        for frame in frames:
            writer.append(frame)
    except BaseException:
        writer.discard()
        raise
    return writer.close()
