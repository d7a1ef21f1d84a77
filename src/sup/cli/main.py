"""The `sup` command line. Parses flags, calls the library, prints results.

Errors the user can fix (``SupError``) print as one line on stderr and exit 1 (2 for
usage errors); nothing is printed as a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from sup import __version__
from sup.errors import Interrupted, SupError, UsageError
from sup.formats.printable import printable

# Optional dependencies and the pyproject extra that brings each (the player needs none).
EXTRAS = {
    **dict.fromkeys(
        (
            "torch",
            "safetensors",
            "tokenizers",
            "tqdm",
            "onnx",
            "onnxscript",
            "jsonschema",
            "matplotlib",
        ),
        "train",
    ),
    **dict.fromkeys(("fastapi", "uvicorn", "starlette"), "serve"),
    "openai": "train",  # sup research's llm proposer
}


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, like every other usage error
        raise UsageError(f"{message} (see: {self.prog} --help)")


def build_parser() -> Parser:
    from sup.cli import (
        chat,
        evaluate,
        instruments,
        play,
        prepare,
        research,
        sample,
        serve,
        ship,
        train,
    )

    p = Parser(prog="sup", description="Train small language models from scratch and play them.")
    p.add_argument("--version", action="version", version=f"sup {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)
    for stage in (instruments, prepare, train, sample, evaluate, ship, play, chat, serve, research):
        stage.add_commands(sub)
    p.commands = frozenset(sub.choices)  # for `sup NAME`: which first words are commands
    return p


def with_play(argv: list[str], parser: Parser) -> list[str]:
    """``sup NAME [PROMPT]`` is ``sup play NAME [PROMPT]``: any first word that is not a
    command or a flag names a model."""
    if argv and not argv[0].startswith("-") and argv[0] not in parser.commands:
        return ["play", *argv]
    return argv


def with_controls(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """``sup play``'s instrument controls (``--level 5``), which only the model's
    manifest declares, taken out before argparse sees them (cli/play.py)."""
    if argv and argv[0] == "play":
        from sup.cli.play import take_control_flags

        rest, controls = take_control_flags(argv[1:])
        return ["play", *rest], controls
    return argv, {}


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
        argv = sys.argv[1:] if argv is None else argv
        argv, controls = with_controls(with_play(argv, parser))
        args = parser.parse_args(argv)
        args.control_flags = controls
        return args.func(args)
    except SupError as e:  # messages quote files and flags: one printable line
        print(f"sup: error: {printable(e)}", file=sys.stderr)
        return e.exit_code
    except ModuleNotFoundError as e:
        extra = EXTRAS.get((e.name or "").split(".")[0])
        if extra is None:
            raise
        print(
            f"sup: error: this command needs {e.name}, which the player-only install "
            f"leaves out: pip install 'sup[{extra}]'",
            file=sys.stderr,
        )
        return 1
    except BrokenPipeError:
        # The reader went away (`sup sample ... | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as e:  # an unusable output path: a directory, a file in the way, no access
        where = f": {e.filename}" if e.filename else ""
        print(f"sup: error: {printable(f'{e.strerror or e}{where}')}", file=sys.stderr)
        return 1
    except Interrupted as e:
        print(f"sup: {e}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("sup: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
