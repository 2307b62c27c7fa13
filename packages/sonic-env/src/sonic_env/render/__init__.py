"""Rendering of the SONIC env: videos of eval and replay, and the scene the live viewer shows.

Modules: ``mjcf`` (render MJCF: physics MJCF + visual meshes, via ``mujoco.MjSpec``), ``assets``
(its USD cache entries), ``config`` (``RenderConfig``, pydantic), ``scene`` (meshed robot, reference
ghost, camera; :func:`~sonic_env.render.scene.configure_rendering`, called by ``build_env_cfg``),
``recorder`` (Isaac Lab recorder terms: ghost writer, one mp4 per episode), ``video`` (mp4 writer).
Importing this package imports neither Isaac Lab nor MuJoCo.
"""
