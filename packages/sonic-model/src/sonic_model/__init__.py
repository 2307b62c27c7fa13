"""sonic_model: see packages/sonic-model/README.md."""

__version__ = "0.1.0"
