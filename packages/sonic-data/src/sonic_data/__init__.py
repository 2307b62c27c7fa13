"""sonic_data: see packages/sonic-data/README.md."""

__version__ = "0.1.0"
