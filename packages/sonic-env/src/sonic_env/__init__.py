"""sonic_env: see packages/sonic-env/README.md."""

__version__ = "0.1.0"
