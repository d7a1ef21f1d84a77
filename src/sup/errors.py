"""User-facing errors: the CLI prints these as one line and exits non-zero, no traceback."""


class SupError(Exception):
    """Something about the user's input or files is wrong (exit code 1)."""

    exit_code = 1


class UsageError(SupError):
    """A flag, config key or value is wrong (exit code 2, like argparse)."""

    exit_code = 2


class Interrupted(Exception):
    """Training stopped on SIGINT/SIGTERM after saving a checkpoint."""

    def __init__(self, step: int, run_dir):
        super().__init__(f"interrupted at step {step}; resume with: sup train --resume {run_dir}")
        self.step = step
