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

CUDA graphs (``cuda_graphs=True``, ``EnvConfig.cuda_graphs``; CUDA only, and only with the overlap): the
step then runs Isaac Lab's sequence itself, with the manager math as captured segments
(:mod:`sonic_env.step_graphs`): ``draws`` (the motion command's reset draws for every env, which do not
depend on the physics: on a side stream while the physics runs, ``overlap_reset_draws``), ``done``
(terminations, rewards, the draws kept where an env is done and the rest of Isaac Lab's ``_reset_idx`` on
the done mask, :mod:`sonic_env.masked_reset`), ``command`` (the motion command's advance and the interval
events on masks, :mod:`sonic_env.mdp.interval`: SONIC's push), ``observe`` (observations). The physics
keeps Isaac Lab's own graph. Nothing in the step waits for the GPU, so the CPU queues the next step while
the GPU runs this one. ``extras["log"]`` is then one dict refreshed in
place and ``extras["log_resets"]`` the number of envs reset at the step (:mod:`sonic_env.masked_reset`).
An env that holds something the masked reset does not cover (:func:`sonic_env.masked_reset.unsupported`)
keeps Isaac Lab's ``_reset_idx`` after a host sync, between ``done`` and ``command``. The segments are
recaptured whenever the motion library builds a new resident set. Replays draw from other random
streams than eager steps (same distributions).

Forward kinematics in the graphs: a simulator write records, besides the write, the flags of the worlds whose
kinematics must be recomputed; Isaac Lab recomputes them (``NewtonManager.forward``) at the next body-state
read, which a replay cannot know about. Once a write has been captured, Isaac Lab therefore sets
``NewtonManager.transforms_may_change_on_graph_replay`` and from then on reruns the kinematics at *every*
body-state read (20 kinematics and solver-reset launches per step on one H200 at 4,096 envs). Each segment
here records one ``forward`` at its end (its own writes) and, where eager code may have written since the
last segment (the host-synced reset, an interval event without a masked twin), one at its start, and clears
that flag; after a replay the Python side is told what the graph did (nothing pending, body state
refreshed). ``settle_kinematics = False`` keeps Isaac Lab's behaviour (``env_step.py
--isaaclab-replay-kinematics``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING, Any

import torch
from isaaclab.envs import ManagerBasedRLEnv, ManagerBasedRLEnvCfg
from isaaclab_newton.physics import NewtonManager

from sonic_env.compiled_terms import check_backend, compile_terms
from sonic_env.masked_reset import MaskedReset, unsupported
from sonic_env.mdp.interval import MaskedIntervalEvents, supports_masked_interval
from sonic_env.mdp.observations import COMMAND_NAME
from sonic_env.step_graphs import CudaGraphBackend, GraphBackend, SegmentGraphs

if TYPE_CHECKING:
    from sonic_env.mdp.commands import MotionCommand


class SonicRLEnv(ManagerBasedRLEnv):
    """:class:`~isaaclab.envs.ManagerBasedRLEnv` that prepares the motion command's resets early (module doc).

    Args:
        cfg: the Isaac Lab env configuration.
        overlap_resets: draw the motion command's resets before the host sync; False keeps Isaac
            Lab's order. Also off with recorders or ``compute_final_obs``.
        cuda_graphs: replay the step's manager math as CUDA graphs (module doc); needs a CUDA device
            and the overlap, else the step stays eager.
        masked_reset: with CUDA graphs, reset the done envs on their mask inside the ``done`` graph
            (:mod:`sonic_env.masked_reset`) where the env supports it; False: Isaac Lab's host-synced reset.
        compile_terms: compile the step's math (terms, reward and termination managers, the motion command's
            advance and reset, the masked reset's bookkeeping) with ``torch.compile`` (:mod:`sonic_env.compiled_terms`).
        **kwargs: passed to Isaac Lab.
    """

    graph_backend: Callable[[str, tuple[torch.Generator, ...]], GraphBackend] = CudaGraphBackend
    """Builds the capture/replay backend of the graphed step (a recording double in the CPU tests)."""

    overlap_reset_draws: bool = True
    """With CUDA graphs: make the motion command's reset draws (``MotionCommand.draw_resets``, which do not depend
    on the physics) as a fourth segment, ``draws``, on a side stream while the physics runs (module doc)."""

    settle_kinematics: bool = True
    """Record the forward kinematics in the segments and keep Isaac Lab's rerun-at-every-read flag off (module
    doc); False leaves Isaac Lab's conservative behaviour (for comparison benchmarks)."""

    def __init__(
        self,
        cfg: ManagerBasedRLEnvCfg,
        overlap_resets: bool = True,
        cuda_graphs: bool = False,
        masked_reset: bool = True,
        compile_terms: bool = False,
        **kwargs: Any,
    ) -> None:
        self._overlap_requested = overlap_resets
        self._graphs_requested = cuda_graphs
        self._masked_reset_requested = masked_reset
        self._compile_terms = compile_terms
        self.compiled_terms: list[str] = []
        """What was replaced by its ``torch.compile``, by name (:func:`sonic_env.compiled_terms.compile_terms`)."""
        self._stepping = False
        self._graphs: SegmentGraphs | None = None
        self._masked_interval: MaskedIntervalEvents | None = None
        self._masked_reset: MaskedReset | None = None
        self._draw_stream: torch.cuda.Stream | None = None
        self._draws_ready: torch.cuda.Event | None = None
        if compile_terms:
            check_backend(cfg.sim.device)  # before Isaac Lab builds the simulation
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
        """Isaac Lab's managers (compiled under ``compile_terms``); :meth:`step`'s rewards are followed by the
        prepared resets."""
        super().load_managers()
        if self._compile_terms:
            self.compiled_terms = compile_terms(self)
        compute = self.reward_manager.compute

        def compute_then_prepare(dt: float) -> torch.Tensor:
            reward = compute(dt)
            if self._stepping and self.overlaps_resets:
                self.motion_command.prepare_resets(self.reset_buf)
            return reward

        self.reward_manager.compute = compute_then_prepare

    @property
    def motion_command(self) -> MotionCommand:
        """The motion command term."""
        return self.command_manager.get_term(COMMAND_NAME)  # pyright: ignore[reportReturnType]

    @property
    def uses_cuda_graphs(self) -> bool:
        """Whether :meth:`step` replays the manager math as CUDA graphs (requested, CUDA, overlap, no render)."""
        return (
            self._graphs_requested
            and torch.device(self.device).type == "cuda"
            and self.overlaps_resets
            and not self.sim.is_rendering
            and not self.video_recorders
        )

    @property
    def step_graphs(self) -> SegmentGraphs | None:
        """The captured segments (None until the first graphed step)."""
        return self._graphs

    def step(self, action: torch.Tensor) -> Any:
        """Isaac Lab's step (rewards then prepared resets only inside it); graphed when :attr:`uses_cuda_graphs`."""
        self._stepping = True
        try:
            if self.uses_cuda_graphs:
                return self._graphed_step(action)
            return super().step(action)
        finally:
            self._stepping = False

    # ------------------------------------------------------------------ CUDA graphs
    def _graph_key(self) -> Hashable:
        """Changes when an address the segments captured may have changed (a new resident clip set)."""
        lib = self.motion_command.lib
        sampler = lib.sampler
        reset = self._masked_reset
        return (
            id(lib.resident),
            sampler.failures.data_ptr(),
            sampler.episodes.data_ptr(),
            sampler.bin_probs.data_ptr(),
            None if reset is None else reset.graph_key(),
        )

    def _segment_graphs(self) -> SegmentGraphs:
        if self._graphs is None:
            command = self.motion_command
            command.windows.pin()
            backend = self.graph_backend(self.device, (command.generator, command.lib.generator))
            self._graphs = SegmentGraphs(backend, self._graph_key)
            if supports_masked_interval(self.event_manager):
                self._masked_interval = MaskedIntervalEvents(self)
            if self._masked_reset_requested and not unsupported(self):
                self._masked_reset = MaskedReset(self)
                if self._compile_terms:
                    self._masked_reset.compile()
                    self.compiled_terms.append("masked_reset.bookkeeping")
            if torch.device(self.device).type == "cuda":
                self._draw_stream = torch.cuda.Stream(self.device)
                self._draws_ready = torch.cuda.Event()
        return self._graphs

    def _run_draws(self, graphs: SegmentGraphs) -> None:
        """The ``draws`` segment: on the side stream (after everything queued so far) when on CUDA."""
        command = self.motion_command
        side, ready = self._draw_stream, self._draws_ready
        if side is None or ready is None:
            graphs.run("draws", command.draw_resets)
        else:
            side.wait_stream(torch.cuda.current_stream(self.device))
            with torch.cuda.stream(side):
                graphs.run("draws", command.draw_resets)
                ready.record(side)
        command.resets_drawn = True

    @property
    def masked_reset(self) -> MaskedReset | None:
        """The graphed step's reset on the done mask (None: Isaac Lab's host-synced ``_reset_idx``)."""
        return self._masked_reset

    def _segment_done(self) -> torch.Tensor:
        self.reset_buf = self.termination_manager.compute()
        self.reset_terminated = self.termination_manager.terminated
        self.reset_time_outs = self.termination_manager.time_outs
        self.reward_buf = self.reward_manager.compute(dt=self.step_dt)  # then the prepared resets
        if self._masked_reset is not None:
            self._masked_reset(self.reset_buf)
        return self.reset_buf

    def _segment_command(self) -> None:
        self.command_manager.compute(dt=self.step_dt)
        if self._masked_interval is not None:
            self._masked_interval.apply(self.step_dt)  # Isaac Lab's interval events, on masks

    def _segment_observe(self) -> dict[str, Any]:
        return self.observation_manager.compute(update_history=True)

    def _arm_history_backfill(self) -> None:
        """Make the observation histories record their reset backfill when captured.

        Isaac Lab's ``CircularBuffer.append`` fills a freshly reset env's history with its first sample
        (a branchless ``torch.where``) only while a Python flag says some env was reset; a capture must
        record that fill so every replay does it (a no-op for envs that were not reset).
        """
        for buffers in self.observation_manager._group_obs_term_history_buffer.values():  # pyright: ignore[reportPrivateUsage]
            for buffer in buffers.values():
                buffer._need_reset = True  # pyright: ignore[reportPrivateUsage]

    def _forward_kinematics(self) -> None:
        """Recompute the kinematics of every world flagged by a write (recorded when capturing); body state stale."""
        NewtonManager.kinematics_dirty = True
        NewtonManager.forward()
        self._body_state_stale()

    def _body_state_stale(self) -> None:
        for articulation in self.scene.articulations.values():
            if hasattr(articulation.data, "_body_state_dirty"):
                articulation.data._body_state_dirty = True  # pyright: ignore[reportAttributeAccessIssue]

    def _run_segment(
        self, graphs: SegmentGraphs, name: str, fn: Callable[[], Any], settle_first: bool
    ) -> Any:
        """``fn`` as segment ``name`` with its simulator writes settled inside it (module doc).

        ``settle_first``: eager code may have written to the simulator since the previous segment.
        """
        if not self.settle_kinematics:
            return graphs.run(name, fn)

        def settled() -> Any:
            if settle_first:
                self._forward_kinematics()
            out = fn()
            self._forward_kinematics()
            NewtonManager.transforms_may_change_on_graph_replay = False
            return out

        out = graphs.run(name, settled)
        if graphs.replaying:  # what the replayed graph did, for the eager code after it
            NewtonManager.kinematics_dirty = False
            self._body_state_stale()
        return out

    def _graphed_step(self, action: torch.Tensor) -> Any:
        """Isaac Lab's ``ManagerBasedRLEnv.step`` (3.0) with its manager math as replayed segments.

        Same order as Isaac Lab's; what it leaves out needs what :attr:`uses_cuda_graphs` excludes
        (recorder hooks, rendering, the viewer's reset requests).
        """
        graphs = self._segment_graphs()
        command = self.motion_command
        graphs.begin_step()
        self.action_manager.process_action(action.to(self.device))
        if self.overlap_reset_draws:
            self._run_draws(graphs)
        steps_per_call = self.cfg.decimation if self._physics_handles_decimation else 1
        for _ in range(self.cfg.decimation // steps_per_call):
            self._sim_step_counter += steps_per_call
            self.action_manager.apply_action()
            self.scene.write_data_to_sim()
            self.sim.step(render=False)
            self.scene.update(dt=self.physics_dt * steps_per_call)
        self.episode_length_buf += 1
        self.common_step_counter += 1

        if self.overlap_reset_draws and self._draws_ready is not None:
            torch.cuda.current_stream(self.device).wait_event(self._draws_ready)
        self.reset_buf = self._run_segment(graphs, "done", self._segment_done, settle_first=False)
        command.resets_drawn = False
        command.resets_prepared = True  # a replay does not run prepare_resets' Python
        if self._masked_reset is None:
            reset_env_ids = self.reset_buf.nonzero(as_tuple=False).squeeze(-1).int()
            if len(reset_env_ids) > 0:
                self._reset_idx(reset_env_ids)
        else:
            self.extras["log"] = self._masked_reset.log
            self.extras["log_resets"] = self._masked_reset.resets
        eager_reset = self._masked_reset is None
        self._run_segment(graphs, "command", self._segment_command, settle_first=eager_reset)
        command.resets_prepared = False
        eager_interval = self._masked_interval is None and "interval" in self.event_manager.active_terms
        if eager_interval:
            self.event_manager.apply(mode="interval", dt=self.step_dt)  # a term without a masked twin: eager
        if graphs.replaying:
            self._arm_history_backfill()
        self.obs_buf = self._run_segment(
            graphs, "observe", self._segment_observe, settle_first=eager_interval
        )
        graphs.end_step()
        return self.obs_buf, self.reward_buf, self.reset_terminated, self.reset_time_outs, self.extras


__all__ = ["SonicRLEnv"]
