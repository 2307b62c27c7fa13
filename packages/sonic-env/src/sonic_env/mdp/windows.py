"""The motion command's reference windows: gathered lazily, once per change of the envs' (slot, frame).

:class:`ReferenceWindows` holds one :class:`~sonic_data.motion_lib.MotionState` per named gather (the
reference now, the g1 and the human future windows). A window is gathered when first read after
:meth:`ReferenceWindows.invalidate` (the command calls it whenever a slot or frame changes), so a step
pays one gather per window its terms read.

Pinned (:meth:`ReferenceWindows.pin`, the CUDA-graphed step): a refresh copies into the tensors already
held instead of replacing them, so their addresses never change: a CUDA graph reads tensors by
address, and a window gathered in one captured segment is read in another and by eager code after a
replay (``sonic_env.step_graphs``). Costs one copy per refresh; off by default.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from sonic_data.motion_lib import MotionState, copy_state_

__all__ = ["ReferenceWindows"]


class ReferenceWindows:
    """Named reference windows, each gathered by its callable when read stale.

    Args:
        gathers: ``{name: callable}`` returning a fresh :class:`MotionState` for the current (slot, frame).
    """

    def __init__(self, gathers: Mapping[str, Callable[[], MotionState]]) -> None:
        self._gathers = dict(gathers)
        self._held: dict[str, MotionState] = {}
        self._fresh: set[str] = set()
        self.pinned = False
        """Refresh in place (addresses kept) instead of replacing; see :meth:`pin`."""

    def get(self, name: str) -> MotionState:
        """Window ``name``, gathered if stale (in place once pinned and held)."""
        if name not in self._fresh:
            value = self.gather(name)
            held = self._held.get(name)
            if self.pinned and held is not None:
                copy_state_(held, value)
            else:
                self._held[name] = value
            self._fresh.add(name)
        return self._held[name]

    def gather(self, name: str) -> MotionState:
        """A fresh gather of window ``name`` (not stored)."""
        return self._gathers[name]()

    def invalidate(self) -> None:
        """Some env's (slot, frame) changed: every window is gathered again when next read."""
        self._fresh.clear()

    def pin(self) -> None:
        """From now on refresh the held windows in place (module doc)."""
        self.pinned = True

    @property
    def held(self) -> Mapping[str, MotionState]:
        """The windows held now (read-only view)."""
        return self._held
