"""The ``sup`` command line: one module per pipeline stage, and the only layer that
prints. Each stage module registers its commands (``add_commands``) and formats what
the library returns; ``main.py`` parses, dispatches and turns errors into one line."""

from sup.cli.main import main

__all__ = ["main"]
