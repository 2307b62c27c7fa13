"""sonic_env: the Isaac Lab 3.0 G1 motion-tracking environment (Newton / MuJoCo-Warp), see README.md.

Modules: ``config`` (pydantic ``EnvConfig``), ``env_cfg`` (Isaac Lab configclasses, ``make_env``),
``robot`` (G1 articulation with SONIC's actuators), ``actions`` (SONIC's joint-position action),
``assets`` (USD generated from the MJCF, cached), ``replay`` (write reference states). Importing
this package does not import Isaac Lab; the submodules that need it do.
"""

__version__ = "0.1.0"
