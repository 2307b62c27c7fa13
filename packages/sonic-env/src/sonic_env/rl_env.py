"""Isaac Lab's RL env with the motion command's resets queued before the step's host synchronisation.

Isaac Lab's ``ManagerBasedRLEnv.step`` runs the physics, computes terminations and rewards, then calls
``reset_buf.nonzero()``: the CPU waits there until the GPU has finished the physics, and only then
resets the listed envs, advances the command and computes the observations, in Python, while the GPU
idles. On one H200 at 4,096 envs (``benchmarks/env_profile.py --mode sections``) the step took 22.8 ms:
≈10.5 ms of physics on the GPU, then ≈11 ms of Python after the wait, of which the motion command's
reset (draw starts and encoders, read the reference, write the robots) was the largest part.

:class:`SonicRLEnv` moves that reset before the wait. Right after the step's rewards it calls
:meth:`sonic_env.mdp.commands.MotionCommand.prepare_resets` with ``reset_buf``: the draws are made
for every env and kept where ``reset_buf`` is True, and the robots are written with Isaac Lab's
``*_mask`` writes, so nothing needs the host to know which envs are done and the work is queued
while the physics runs. Isaac Lab's ``_reset_idx`` then does the rest (history buffers, episode logs,
actions), and the command's own reset skips what was prepared. The step's results are the same as
Isaac Lab's order gives (rewards and terminations see the pre-reset state; observations the reset
one); only the random streams of the reset draws differ (every env draws, the done ones keep theirs).

The overlap is off (Isaac Lab's order exactly) when something reads the state between the rewards and
the resets or resets envs on its own: active recorder terms (they compute observations there),
``compute_final_obs``, or a viewer, whose UI can request resets (``EnvConfig.viewer``).
"""

from __future__ import annotations

from typing import Any

import torch
from isaaclab.envs import ManagerBasedRLEnv, ManagerBasedRLEnvCfg

from sonic_env.mdp.observations import COMMAND_NAME


class SonicRLEnv(ManagerBasedRLEnv):
    """:class:`~isaaclab.envs.ManagerBasedRLEnv` that prepares the motion command's resets early (module doc).

    Args:
        cfg: the Isaac Lab env configuration.
        overlap_resets: draw the motion command's resets before the host sync; False keeps Isaac
            Lab's order. Also off with recorders or ``compute_final_obs``.
        **kwargs: passed to Isaac Lab.
    """

    def __init__(self, cfg: ManagerBasedRLEnvCfg, overlap_resets: bool = True, **kwargs: Any) -> None:
        self._overlap_requested = overlap_resets
        self._stepping = False
        super().__init__(cfg, **kwargs)

    @property
    def overlaps_resets(self) -> bool:
        """Whether this env prepares the motion command's resets before the step's host sync."""
        return (
            self._overlap_requested
            and not self.cfg.compute_final_obs
            and not self.recorder_manager.active_terms
        )

    def load_managers(self) -> None:
        """Isaac Lab's managers; the reward computation of :meth:`step` is followed by the prepared resets."""
        super().load_managers()
        compute = self.reward_manager.compute

        def compute_then_prepare(dt: float) -> torch.Tensor:
            reward = compute(dt)
            if self._stepping and self.overlaps_resets:
                self.command_manager.get_term(COMMAND_NAME).prepare_resets(self.reset_buf)  # pyright: ignore[reportAttributeAccessIssue]
            return reward

        self.reward_manager.compute = compute_then_prepare

    def step(self, action: torch.Tensor) -> Any:
        """Isaac Lab's step (rewards then prepared resets only inside it)."""
        self._stepping = True
        try:
            return super().step(action)
        finally:
            self._stepping = False


__all__ = ["SonicRLEnv"]
