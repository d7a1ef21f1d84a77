"""Games files: one game a line, its UCI moves separated by spaces (``e2e4 e7e5 g1f3``),
as the shared self-play corpora and ``sup data daydream`` write them.

Reading checks each move's shape on the tier's board (``tiers.Tier.is_move``); replaying
through the engine (``check_legal``) checks each move's legality. Either failure is one
line naming the file, the game's line and the ply. ``unique`` drops exact duplicates
(first kept); ``side_of`` splits by a hash of the game's text, so a game (and its
duplicates) is on one side only.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sup.chess.tiers import Tier
from sup.errors import SupError

SIDES = ("train", "val", "test")
VAL_SHARE, TEST_SHARE = 0.05, 0.05


def parse_games(text: str, tier: Tier, where: str) -> list[tuple[int, list[str]]]:
    """(line number, moves) of every non-blank line of a games file."""
    games = []
    for number, line in enumerate(text.split("\n"), 1):
        moves = line.split()
        if not moves:
            continue
        for ply, move in enumerate(moves, 1):
            if not tier.is_move(move):
                raise SupError(
                    f"{where}: line {number}, ply {ply}: {move[:20]!r} is not a move on the "
                    f"{tier.files}x{tier.ranks} board of the {tier.name} tier"
                )
        games.append((number, moves))
    if not games:
        raise SupError(f"{where} holds no games (one game a line, UCI moves separated by spaces)")
    return games


def read_games(path: Path, tier: Tier) -> list[tuple[int, list[str]]]:
    path = Path(path)
    if not path.is_file():
        raise SupError(f"games file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SupError(f"{path} is not UTF-8 text") from None
    return parse_games(text, tier, str(path))


def check_legal(games: list[tuple[int, list[str]]], engine, where: str) -> None:
    """Replay every game through ``engine``; the first illegal move is an error."""
    for number, moves in games:
        ply = engine.replay(moves)
        if ply is not None:
            raise SupError(
                f"{where}: line {number}, ply {ply + 1}: {moves[ply]} is illegal in that "
                "position (the engine's legal moves do not include it)"
            )


def unique(games: list[list[str]]) -> tuple[list[list[str]], int]:
    """The games without exact repeats (first kept), and how many were dropped."""
    seen, out = set(), []
    for moves in games:
        key = " ".join(moves)
        if key not in seen:
            seen.add(key)
            out.append(moves)
    return out, len(games) - len(out)


def side_of(moves: list[str]) -> str:
    """train, val or test, from a hash of the game's text (stable, order-free)."""
    digest = hashlib.sha256(" ".join(moves).encode()).digest()
    h = int.from_bytes(digest[:8], "big") / 2**64
    return "test" if h < TEST_SHARE else "val" if h < TEST_SHARE + VAL_SHARE else "train"


def read_pgn(path: Path, min_elo: int | None = None) -> tuple[list[tuple[int, list[str]]], dict]:
    """8x8 games from a PGN file as UCI moves (python-chess reads the SAN and checks each
    move against the rules); with ``min_elo``, only games whose both players' ratings
    (``WhiteElo``, ``BlackElo`` headers) reach it. A move that does not parse or is
    illegal is an error naming the game (its number in the file) and the ply."""
    import logging

    import chess.pgn

    logging.getLogger("chess.pgn").setLevel(logging.CRITICAL)  # its errors become ours
    path = Path(path)
    if not path.is_file():
        raise SupError(f"PGN file not found: {path}")
    games, skipped = [], {"no_moves": 0, "below_elo": 0}
    with open(path, encoding="utf-8", errors="replace") as f:
        number = 0
        while True:
            game = chess.pgn.read_game(f)
            if game is None:
                break
            number += 1
            if game.errors:
                ply = len(list(game.mainline_moves())) + 1
                raise SupError(
                    f"{path}: game {number}, ply {ply}: {str(game.errors[0]).splitlines()[0]} "
                    "(a move that does not parse or is illegal)"
                )
            if min_elo is not None and not _rated(game.headers, min_elo):
                skipped["below_elo"] += 1
                continue
            moves = [move.uci() for move in game.mainline_moves()]
            if not moves:
                skipped["no_moves"] += 1
                continue
            games.append((number, moves))
    if not games:
        raise SupError(
            f"{path} holds no games with moves" + (f" rated {min_elo}+" if min_elo else "")
        )
    return games, skipped


def _rated(headers, min_elo: int) -> bool:
    try:
        return min(int(headers.get("WhiteElo", "")), int(headers.get("BlackElo", ""))) >= min_elo
    except ValueError:
        return False
