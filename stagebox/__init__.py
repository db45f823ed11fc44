"""stagebox: the controller of an ADR recording stage, locked to LTC in sample time."""

__version__ = "0.1.0"
