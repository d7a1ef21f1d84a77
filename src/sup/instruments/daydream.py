"""The daydream corpus: chess games for one tier, every move replayed through the
engine, duplicates dropped, split by game.

``sup data daydream-TIER --out DIR`` plays them (``sup.chess.selfplay``; ``--games N``,
``--seed S``, ``--random-rate P``) or reads them (``--from FILE``: a games file, one game
a line in UCI, or for the regular tier a PGN file, ``--min-elo`` filtering by both
players' ratings; or ``--from DIR``, a corpus directory this module wrote, taken as
checked), and writes::

    DIR/games.txt        every kept game, one a line (what --from could read again)
    DIR/train/NNNNN.txt  one game each: a document, so training windows may start at it
    DIR/val/NNNNN.txt    the games a hash of their text puts on the val side
    DIR/test/NNNNN.txt   and on the test side (never read by sup prepare)
    DIR/manifest.json    source (self-play settings and engine, or the file and its
                         sha256), counts, duplicates dropped, games per side

A game is its moves separated by spaces and a final newline, so a model learns that a
line ends a game; the model never sees a board or a rule.
"""

from __future__ import annotations

import json
from pathlib import Path

from sup.chess import games as chess_games
from sup.chess.engine import Engine
from sup.chess.selfplay import Settings, generate
from sup.chess.tiers import Tier
from sup.errors import SupError, UsageError
from sup.fileio import atomic_dir, sha256_file, write_json_atomic

CORPUS_FORMAT = "sup-corpus"


def build_corpus(tier: Tier, out: Path, source: Path | None, options: dict, seed: int,
                 report=lambda text: None) -> dict:  # fmt: skip
    """Write the corpus directory ``out`` (see the module docstring); returns its manifest."""
    out = Path(out)
    if source is not None:
        games, described = _read(tier, Path(source), options)
    else:
        count = options.get("games", 2000)
        if count < 10:
            raise UsageError("--games must be at least 10 (a few go to val and test)")
        if not 0.0 <= options.get("random_rate", 0.0) <= 1.0:
            raise UsageError("--random-rate must be from 0 to 1")
        settings = Settings(tier.name, depth=options.get("depth", 2), seed=seed,
                            max_plies=options.get("max_plies", 150),
                            random_rate=options.get("random_rate", 0.0))  # fmt: skip
        # beside the corpus, so a killed self-play run resumes where it stopped
        played = out.parent / f"{out.name}.selfplay.txt"
        selfplay = generate(played, settings, count, options.get("workers", 2), report=report)
        games = [m.split() for m in played.read_text(encoding="utf-8").split("\n") if m]
        described = {"selfplay": selfplay}
    kept, dropped = chess_games.unique(games)
    by_side = {side: [] for side in chess_games.SIDES}
    for moves in kept:
        by_side[chess_games.side_of(moves)].append(moves)
    if not by_side["train"] or not by_side["val"]:
        raise SupError(f"{len(kept)} games are too few to hold some out for validation: give more")
    with atomic_dir(out) as tmp:
        (tmp / "games.txt").write_text("".join(" ".join(m) + "\n" for m in kept), encoding="utf-8")
        for side, group in by_side.items():
            (tmp / side).mkdir()
            for n, moves in enumerate(group):
                (tmp / side / f"{n:05d}.txt").write_text(" ".join(moves) + "\n", encoding="utf-8")
        manifest = {
            "format": CORPUS_FORMAT,
            "instrument": f"daydream-{tier.name}",
            "tier": tier.name,
            "source": described,
            "split": "by game (sha256 of its moves)",
            "games": len(kept),
            "duplicates_dropped": dropped,
            "counts": {side: len(group) for side, group in by_side.items()},
            "plies": {side: sum(len(m) for m in group) for side, group in by_side.items()},
            "sha256": sha256_file(tmp / "games.txt"),
        }
        write_json_atomic(tmp / "manifest.json", manifest)
    return manifest


def _read(tier: Tier, path: Path, options: dict) -> tuple[list[list[str]], dict]:
    """Games from ``--from``: checked move by move, and replayed through the engine."""
    described = {"from": str(path.resolve())}
    if path.is_dir():
        return _read_corpus(tier, path)
    if path.suffix.lower() == ".pgn":
        if tier.name != "regular":
            raise UsageError(f"a PGN file holds 8x8 games: use daydream-regular, not {tier.name}")
        numbered, described["skipped"] = chess_games.read_pgn(path, options.get("min_elo"))
    else:
        numbered = chess_games.read_games(path, tier)
        with Engine(tier) as engine:
            chess_games.check_legal(numbered, engine, str(path))
    described["sha256"] = sha256_file(path)
    return [moves for _, moves in numbered], described


def _read_corpus(tier: Tier, path: Path) -> tuple[list[list[str]], dict]:
    """Games from a corpus directory this module wrote (``sup data``): checked when they
    were written, so only its identity is checked here (instrument, and games.txt against
    the sha256 its manifest records), not every move again; its source is carried on."""
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        recorded = manifest["sha256"], manifest["instrument"], manifest["source"]
    except (OSError, ValueError, KeyError, TypeError):
        raise UsageError(
            f"{path} is not a daydream corpus directory (no readable manifest.json): give a "
            "games file, a PGN file, or a directory `sup data daydream` wrote"
        ) from None
    if manifest.get("format") != CORPUS_FORMAT or recorded[1] != f"daydream-{tier.name}":
        raise UsageError(f"{path} holds a {recorded[1]} corpus, not daydream-{tier.name}")
    games_file = path / "games.txt"
    if not games_file.is_file() or sha256_file(games_file) != recorded[0]:
        raise SupError(f"{games_file} does not match its manifest's sha256: rebuild the corpus")
    text = games_file.read_text(encoding="utf-8")
    games = [line.split() for line in text.split("\n") if line]
    return games, {"corpus": str(path.resolve()), "sha256": recorded[0], "source": recorded[2]}
