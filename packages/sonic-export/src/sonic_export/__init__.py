"""sonic_export: see packages/sonic-export/README.md."""

__version__ = "0.1.0"
