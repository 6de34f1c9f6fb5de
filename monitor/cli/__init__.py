"""The command line: one module per command; `main` is the console script."""

from monitor.cli.main import main

__all__ = ["main"]
