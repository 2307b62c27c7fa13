"""MDP terms of the SONIC env: small pure tensor functions plus thin Isaac Lab adapters.

Modules: ``commands`` (the motion command term), ``observations`` (every contract term),
``encoder_sampling`` (per-episode encoder mask), ``reset`` (reference-state reset noise);
``rewards``, ``terminations`` and ``events`` (part 2). Importing this package imports nothing;
import the submodules you need.
"""
