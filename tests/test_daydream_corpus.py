"""The daydream corpus from self-play and from a games file, with the real engine: every
game replayed, duplicates dropped, split by game, nothing lost to a bad line."""

from __future__ import annotations

import json

import pytest

from helpers import SHARED_DATA
from sup.chess.tiers import tier
from sup.errors import SupError, UsageError
from sup.instruments.daydream import build_corpus

pytestmark = pytest.mark.usefixtures("engine_installed")  # conftest.py


def test_a_games_file_is_replayed_deduplicated_and_split_by_game(tmp_path):
    lines = (SHARED_DATA / "chess-gardner-5x5-selfplay.txt").read_text().splitlines()[:80]
    source = tmp_path / "g.txt"
    source.write_text("\n".join([*lines, lines[0], lines[1]]) + "\n")  # two repeats
    manifest = build_corpus(tier("micro"), tmp_path / "c", source, {}, 0)
    assert manifest["games"] == len(set(lines)) and manifest["duplicates_dropped"] == 2 + 80 - len(
        set(lines)
    )
    assert sum(manifest["counts"].values()) == manifest["games"]
    sides = {}
    for side in ("train", "val", "test"):
        for f in (tmp_path / "c" / side).iterdir():
            sides.setdefault(f.read_text(), set()).add(side)
    assert all(len(s) == 1 for s in sides.values()) and len(sides) == manifest["games"]
    assert (tmp_path / "c" / "games.txt").read_text().count("\n") == manifest["games"]


def test_self_play_fills_a_corpus_and_bad_input_keeps_nothing(tmp_path):
    options = {"games": 60, "depth": 1, "max_plies": 30, "workers": 2}
    manifest = build_corpus(tier("micro"), tmp_path / "c", None, options, 3)
    assert manifest["source"]["selfplay"]["complete"] and manifest["games"] >= 50
    assert json.loads((tmp_path / "c" / "manifest.json").read_text()) == manifest
    bad = tmp_path / "bad.txt"
    bad.write_text("b1a3 b4b3\nb1a3 b4b3 a1a5\n")
    with pytest.raises(SupError, match="line 2, ply 3: a1a5 is illegal"):
        build_corpus(tier("micro"), tmp_path / "d", bad, {}, 0)
    with pytest.raises(UsageError, match="PGN file holds 8x8 games"):
        build_corpus(tier("grand"), tmp_path / "e", tmp_path / "x.pgn", {}, 0)
    assert not (tmp_path / "d").exists() and not (tmp_path / "e").exists()
