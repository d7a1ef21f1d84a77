"""CLI command ``sup serve``. (Being written; see /work/spec-issue3.md.)"""

from __future__ import annotations


def add_commands(sub) -> None:
    pass
