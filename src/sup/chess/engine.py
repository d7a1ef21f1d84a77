"""Fairy-Stockfish over UCI: the referee (legal moves by ``go perft 1``), the opponent and
the self-play player, started by sup and never mocked.

An ``Engine`` is one engine process set to a tier's variant. Every read waits at most
``timeout`` seconds: an engine that stops answering is killed and ``EngineHung`` raised;
one that exits raises ``EngineCrashed``. Both are ``EngineFailure``s, so a game loop can
restart the engine and record the game as aborted (``restart``). A binary that is
missing, or not a UCI engine, is a one-line ``SupError`` saying how to install one.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path

from sup.chess.tiers import Tier, variants_path
from sup.errors import SupError

MAX_SKILL = 20  # Fairy-Stockfish's Skill Level runs from 0 (weakest) to this: full strength

CANDIDATES = ("/usr/games/fairy-stockfish", "fairy-stockfish")
INSTALL = "install Debian's fairy-stockfish (apt-get install fairy-stockfish) or pass --engine PATH"
TIMEOUT_S = 10.0


class EngineFailure(SupError):
    """The engine stopped working mid-use: hung or exited."""


class EngineHung(EngineFailure):
    pass


class EngineCrashed(EngineFailure):
    pass


def find_engine(binary: str | None = None) -> str:
    """The engine binary: ``binary``, ``$SUP_ENGINE``, or Fairy-Stockfish where Debian
    puts it (``/usr/games`` is not on root's PATH)."""
    for candidate in (binary, os.environ.get("SUP_ENGINE"), *CANDIDATES):
        if not candidate:
            continue
        found = shutil.which(candidate) if os.sep not in candidate else candidate
        if found and Path(found).is_file() and os.access(found, os.X_OK):
            return found
        if candidate in (binary, os.environ.get("SUP_ENGINE")):
            raise SupError(f"chess engine {candidate} is not an executable file: {INSTALL}")
    raise SupError(f"no chess engine found: {INSTALL}")


class Engine:
    """One engine process playing ``tier``'s variant. Use as a context manager."""

    def __init__(self, tier: Tier, binary: str | None = None, timeout: float = TIMEOUT_S):
        self.tier, self.timeout = tier, timeout
        self.binary = find_engine(binary)
        self.proc: subprocess.Popen | None = None
        self.lines: queue.Queue = queue.Queue()
        self.name = ""
        self.start()

    # ------------------------------------------------------------------ process

    def start(self) -> None:
        try:
            self.proc = subprocess.Popen(
                [self.binary], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, text=True, bufsize=1,
            )  # fmt: skip
        except OSError as e:
            raise SupError(
                f"cannot start chess engine {self.binary} ({e.strerror}): {INSTALL}"
            ) from None
        self.lines = queue.Queue()
        threading.Thread(target=self._pump, args=(self.proc, self.lines), daemon=True).start()
        try:
            self.send("uci")
            for line in self.read_until(lambda s: s == "uciok"):
                if line.startswith("id name "):
                    self.name = line[len("id name ") :]
            if self.tier.custom:
                self.send(f"setoption name VariantPath value {variants_path()}")
            self.send(f"setoption name UCI_Variant value {self.tier.variant}")
            self.ready()
        except EngineFailure as e:
            self.close()
            raise SupError(
                f"{self.binary} is not a working UCI chess engine ({e}): {INSTALL}"
            ) from None

    @staticmethod
    def _pump(proc: subprocess.Popen, lines: queue.Queue) -> None:
        for line in proc.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)  # end of output: the process exited

    def send(self, command: str) -> None:
        try:
            self.proc.stdin.write(command + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError, ValueError):
            raise EngineCrashed(
                f"the engine exited (while sending {command.split()[0]!r})"
            ) from None

    def read_until(self, done, timeout: float | None = None) -> list[str]:
        """Lines up to and including the first for which ``done(line)`` holds."""
        deadline = time.monotonic() + (timeout or self.timeout)
        out = []
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.001))
            except queue.Empty:
                self.kill()
                raise EngineHung(
                    f"the engine did not answer within {timeout or self.timeout:g} s"
                ) from None
            if line is None:
                raise EngineCrashed(f"the engine exited (code {self.proc.wait()})")
            out.append(line)
            if done(line):
                return out

    def ready(self) -> None:
        self.send("isready")
        self.read_until(lambda s: s == "readyok")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> None:
        """A fresh process after a failure (the caller records the game as aborted)."""
        self.kill()
        self.start()

    def close(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=2)
            except (OSError, ValueError, subprocess.TimeoutExpired):
                self.kill()
        for stream in (self.proc.stdin, self.proc.stdout):
            with contextlib.suppress(OSError):
                stream.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ chess

    def position(self, moves: list[str]) -> None:
        self.send("position startpos" + (" moves " + " ".join(moves) if moves else ""))

    def legal_moves(self, moves: list[str]) -> list[str]:
        """Every legal move after ``moves`` from the start (``go perft 1``); empty when
        the game is over. ``moves`` must be legal: check with ``replay``."""
        self.position(moves)
        self.send("go perft 1")
        return _perft_moves(self.read_until(lambda s: s.startswith("Nodes searched")))

    def legal_moves_and_key(self, moves: list[str]) -> tuple[list[str], str]:
        """``legal_moves`` and ``position_key`` of one position in one round trip: ``d``
        runs on the engine's command thread and finishes before ``go perft 1`` starts
        its search thread, so the description comes first and the move list after it."""
        self.position(moves)
        self.send("d")
        self.send("go perft 1")
        lines = self.read_until(lambda s: s.startswith("Nodes searched"))
        end = next((i for i, line in enumerate(lines) if line.startswith("Checkers:")), None)
        described = _description(lines[: end + 1] if end is not None else [])
        if "Key" not in described:
            raise EngineFailure("the engine described a position without a Key or Checkers line")
        return _perft_moves(lines[end + 1 :]), described["Key"]

    def best_move(self, moves: list[str], depth: int | None = None,
                  movetime_ms: int | None = None) -> str | None:  # fmt: skip
        """The engine's move after ``moves`` (None: no legal move)."""
        self.position(moves)
        limit = f"depth {depth}" if depth else f"movetime {movetime_ms or 100}"
        self.send(f"go {limit}")
        line = self.read_until(
            lambda s: s.startswith("bestmove"), self.timeout + (movetime_ms or 0) / 1000
        )[-1]
        move = line.split()[1] if len(line.split()) > 1 else "(none)"
        return None if move in ("(none)", "0000") else move

    def position_key(self, moves: list[str]) -> str:
        """The engine's hash of the position after ``moves`` (equal positions, equal
        keys: what repetition is judged by)."""
        return self.board(moves)["Key"]

    def in_check(self, moves: list[str]) -> bool:
        """Whether the side to move after ``moves`` is in check (no legal move and in
        check: checkmate; no legal move and not: stalemate)."""
        return bool(self.board(moves)["Checkers"])

    def board(self, moves: list[str]) -> dict[str, str]:
        """The position after ``moves`` as the ``d`` command describes it, ``Name: value``
        lines: ``Fen``, ``Key`` (the repetition hash), ``Checkers`` (empty: not in check)."""
        self.position(moves)
        self.send("d")
        return _description(self.read_until(lambda s: s.startswith("Checkers:")))

    def set_skill(self, level: int) -> None:
        """Fairy-Stockfish's ``Skill Level`` (0 weakest to 20)."""
        self.send(f"setoption name Skill Level value {level}")
        self.ready()

    def replay(self, moves: list[str]) -> int | None:
        """The index of the first illegal move of ``moves``, or None if all are legal.

        One query, not one per ply: ``position ... moves`` applies moves only while each
        is in the engine's legal list and stops at the first that is not, so the number
        of plies the position has advanced (read from its FEN's move counters) is where
        the first illegal move stands."""
        applied = self.plies_played(moves)
        return None if applied == len(moves) else applied

    def plies_played(self, moves: list[str]) -> int:
        """How many of ``moves`` the engine applied from the start position: its FEN's
        full-move number and side to move (every tier starts at move 1, White to move)."""
        fields = self.board(moves)["Fen"].split()
        try:
            side, fullmove = fields[1], int(fields[-1])
        except (IndexError, ValueError):
            raise EngineFailure(f"the engine described a position oddly: {fields!r}") from None
        return 2 * (fullmove - 1) + (side == "b")


def _perft_moves(lines: list[str]) -> list[str]:
    """The moves of ``go perft 1``'s output, which ends with its total: every line
    before it is "MOVE: 1", and the total itself ("Nodes searched: 1" when there is one
    legal move) is not a move."""
    return [line.split(":")[0] for line in lines[:-1] if line.endswith(": 1")]


def _description(lines: list[str]) -> dict[str, str]:
    """The ``Name: value`` lines of the ``d`` command's output."""
    return {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in lines if ":" in line}
