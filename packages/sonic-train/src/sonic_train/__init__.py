"""sonic_train: see packages/sonic-train/README.md."""

__version__ = "0.1.0"
