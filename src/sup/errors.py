"""User-facing errors: the CLI prints these as one line and exits non-zero, no traceback."""


class SupError(Exception):
    """Something about the user's input or files is wrong (exit code 1)."""

    exit_code = 1


class UsageError(SupError):
    """A flag, config key or value is wrong (exit code 2, like argparse)."""

    exit_code = 2
