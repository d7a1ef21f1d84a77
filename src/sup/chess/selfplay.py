"""Engine self-play games for a daydream corpus (``sup data daydream``), multiprocess,
deterministic per game and resumable after kill -9.

Game ``i`` depends only on the settings and ``i``: its opening is ``random_plies`` legal
moves drawn by ``random.Random(f"{seed}:{i}")``, then the engine plays both sides at a
fixed ``depth``, but for a ``random_rate`` share of plies, drawn at random too (one
search thread, ``ucinewgame`` before each game, so the same game comes out every time).
A game ends when the side to move has no legal move, at ``max_plies``, or when a
position occurs a third time. Workers play games in parallel; the parent writes them in
index order.

The engine searches every move it plays; the legal moves and the repetition key of each
position come from a referee: python-chess for 8x8 (in-process, a third of the time a
ply took when the engine was asked three times, the same games), otherwise the engine
in one round trip a position.

Files, all beside ``OUT``:

- ``OUT``: one finished game a line, UCI moves separated by spaces;
- ``OUT.log.jsonl``: one record per game index, appended after its game (``ok``,
  ``duplicate``: the same moves as an earlier game, not written again, or ``aborted``:
  the engine hung or crashed mid-game, restarted, the game recorded and not written);
- ``OUT.manifest.json``: the settings, the engine, counts and the games file's sha256,
  written when the run completes.

Resuming reads the log: its last index is where play continues. A game written to
``OUT`` but not yet logged when the process was killed is cut off again (it is
deterministic, so it is played again identically): no game is lost or written twice.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

from sup.chess.engine import Engine, EngineFailure
from sup.chess.tiers import tier
from sup.errors import SupError
from sup.fileio import sha256_file, write_json_atomic

Report = Callable[[str], None]


@dataclass(frozen=True)
class Settings:
    tier: str
    depth: int = 2
    random_plies: int = 4
    max_plies: int = 150
    seed: int = 0
    # after the opening, the share of plies played at random: positions an engine alone
    # never reaches (a sampling model reaches them), and more distinct games
    random_rate: float = 0.0


class EngineReferee:
    """Legal moves and repetition keys from the engine, one query a position."""

    def __init__(self, engine: Engine) -> None:
        self.engine, self.moves = engine, []
        self._known: tuple[list[str], str] | None = None

    def push(self, move: str) -> None:
        self.moves.append(move)
        self._known = None

    def _position(self) -> tuple[list[str], str]:
        if self._known is None:
            self._known = self.engine.legal_moves_and_key(self.moves)
        return self._known

    def legal(self) -> list[str]:
        return self._position()[0]

    def key(self) -> str:
        return self._position()[1]


class ChessReferee:
    """Standard chess by python-chess: the same rules as the engine's, in-process."""

    def __init__(self) -> None:
        import chess

        self.board = chess.Board()

    def push(self, move: str) -> None:
        try:
            self.board.push_uci(move)
        except ValueError:  # the two rule sets disagree: never seen, but not silent
            raise EngineFailure(f"python-chess refuses {move!r} after {self.board.fen()}") from None

    def legal(self) -> list[str]:
        return [move.uci() for move in self.board.legal_moves]

    def key(self) -> str:
        # the FEN less its move counters, an en passant square only when a capture
        # there is legal: equal positions in the sense of the repetition rule
        return self.board.fen(en_passant="legal").rsplit(" ", 2)[0]


def referee_for(engine: Engine) -> EngineReferee | ChessReferee:
    """python-chess where the engine plays standard chess, else the engine itself."""
    return ChessReferee() if engine.tier.variant == "chess" else EngineReferee(engine)


def play_game(engine: Engine, s: Settings, index: int) -> dict:
    """One self-play game: {"index", "status", "moves", "end"}."""
    rng = random.Random(f"{s.seed}:{index}")
    moves: list[str] = []
    seen: Counter = Counter()
    referee = referee_for(engine)
    try:
        engine.send("ucinewgame")
        engine.ready()
        end = "ply cap"
        for ply in range(s.max_plies):
            legal = referee.legal()
            if not legal:
                end = "no legal move"
                break
            # (no draw from rng at rate 0, so such games stay what they always were)
            if ply < s.random_plies or (s.random_rate and rng.random() < s.random_rate):
                move = rng.choice(sorted(legal))
            else:
                move = engine.best_move(moves, depth=s.depth) or rng.choice(sorted(legal))
            moves.append(move)
            referee.push(move)
            key = referee.key()
            seen[key] += 1
            if seen[key] >= 3:
                end = "threefold repetition"
                break
        return {"index": index, "status": "ok", "moves": moves, "end": end}
    except EngineFailure as e:
        engine.restart()
        return {"index": index, "status": "aborted", "moves": moves, "end": str(e)}


_ENGINE: Engine | None = None
_SETTINGS: Settings | None = None


def _start_worker(settings: Settings, binary: str | None) -> None:
    global _ENGINE, _SETTINGS
    _ENGINE, _SETTINGS = Engine(tier(settings.tier), binary), settings


def _play(index: int) -> dict:
    return play_game(_ENGINE, _SETTINGS, index)


def read_log(out: Path) -> list[dict]:
    """The log's complete records (a line cut by a kill is dropped)."""
    path = log_path(out)
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").split("\n"):
        try:
            records.append(json.loads(line))
        except ValueError:
            break  # the first damaged line and everything after it was never committed
    return records


def log_path(out: Path) -> Path:
    return Path(out).with_name(Path(out).name + ".log.jsonl")


def manifest_path(out: Path) -> Path:
    return Path(out).with_name(Path(out).name + ".manifest.json")


def _truncate_to(path: Path, lines: int) -> None:
    """Keep the first ``lines`` lines of ``path`` (create it if missing)."""
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    path.write_text("".join(line + "\n" for line in text.split("\n")[:lines]), encoding="utf-8")


def generate(out: Path, settings: Settings, games: int, workers: int = 1,
             binary: str | None = None, report: Report = lambda t: None) -> dict:  # fmt: skip
    """Play games until the log holds ``games`` indices; returns the manifest."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    records = read_log(out)
    previous = _read_settings(out)
    if records and previous is not None and previous != asdict(settings):
        raise SupError(
            f"{out} was started with other settings ({previous}): choose another --out or "
            "delete it and its .log.jsonl to start again"
        )
    ok = [r for r in records if r["status"] == "ok"]
    _truncate_to(out, len(ok))
    log = log_path(out)
    _truncate_to(log, len(records))
    write_json_atomic(manifest_path(out), {"format": "sup-selfplay", "settings": asdict(settings),
                                           "complete": False})  # fmt: skip
    seen = set(out.read_text(encoding="utf-8").split("\n")) - {""}
    todo = range(len(records), games)
    if todo:
        report(f"self-play: games {len(records)} to {games - 1} with {workers} worker(s)")
    ctx = get_context("spawn")
    with (
        ctx.Pool(workers, _start_worker, (settings, binary)) as pool,
        open(out, "a", encoding="utf-8") as games_file,
        open(log, "a", encoding="utf-8") as log_file,
    ):
        for result in pool.imap(_play, todo, chunksize=1):
            text = " ".join(result["moves"])
            if result["status"] == "ok" and text in seen:
                result["status"] = "duplicate"
            if result["status"] == "ok":
                seen.add(text)
                games_file.write(text + "\n")
                games_file.flush()
                os.fsync(games_file.fileno())
            entry = {k: result[k] for k in ("index", "status", "end")} | {
                "plies": len(result["moves"])
            }
            log_file.write(json.dumps(entry) + "\n")
            log_file.flush()
            os.fsync(log_file.fileno())
            if (result["index"] + 1) % 50 == 0:
                report(f"self-play: {result['index'] + 1} of {games} games")
    return _finish(out, settings, binary)


def _read_settings(out: Path) -> dict | None:
    try:
        return json.loads(manifest_path(out).read_text(encoding="utf-8"))["settings"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _finish(out: Path, settings: Settings, binary: str | None) -> dict:
    records = read_log(out)
    counts = Counter(r["status"] for r in records)
    ends = Counter(r["end"] for r in records if r["status"] == "ok")
    with Engine(tier(settings.tier), binary) as engine:
        name = engine.name
    manifest = {
        "format": "sup-selfplay",
        "settings": asdict(settings),
        "engine": name,
        "complete": True,
        "games": counts["ok"],
        "duplicates_dropped": counts["duplicate"],
        "aborted": [r["index"] for r in records if r["status"] == "aborted"],
        "ends": dict(ends),
        "sha256": sha256_file(out),
    }
    write_json_atomic(manifest_path(out), manifest)
    return manifest
