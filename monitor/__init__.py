"""monitor: early-warning feed monitor for mass atrocities."""

__version__ = "0.1.0"
