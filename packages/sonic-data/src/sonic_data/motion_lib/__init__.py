"""The motion library: reference motions on the host (compact, cached) and on the simulation device.

Start at :class:`MotionLibrary`; its module docstring shows the training and eval loops. Modules:
:mod:`.config` (SONIC's ``motion_lib_cfg`` fields), :mod:`.loading` / :mod:`.host` (files → compact
host arrays, on-disk cache), :mod:`.resample` (the 50 fps formula), :mod:`.augment` (freeze-frame,
upper-body concatenation), :mod:`.resident` / :mod:`.velocities` (FK, velocities, packed device
tensors), :mod:`.sampling` (adaptive sampling by bins), :mod:`.selection` (filters, subsets, eval
order), :mod:`.state` (the returned containers).
"""

from __future__ import annotations

from sonic_data.motion_lib.config import AdaptiveSamplingConfig, MotionLibConfig
from sonic_data.motion_lib.host import HostClip, HostLibrary
from sonic_data.motion_lib.library import TELEOP_BODIES, TELEOP_OFFSETS, MotionLibrary
from sonic_data.motion_lib.loading import MotionLoadError, load_host_library
from sonic_data.motion_lib.selection import EvalAssignment
from sonic_data.motion_lib.state import HumanFrames, MotionState, RobotFrames, TeleopTargets, copy_state_

__all__ = [
    "TELEOP_BODIES",
    "TELEOP_OFFSETS",
    "AdaptiveSamplingConfig",
    "EvalAssignment",
    "HostClip",
    "HostLibrary",
    "HumanFrames",
    "MotionLibConfig",
    "MotionLibrary",
    "MotionLoadError",
    "MotionState",
    "RobotFrames",
    "TeleopTargets",
    "copy_state_",
    "load_host_library",
]
