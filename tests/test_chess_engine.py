"""The UCI client against the real Fairy-Stockfish (never mocked): perft counts from each
tier's start, a known illegal move found, the shared games replayed, and engines that are
missing, exit at once or never answer, each a one-line error."""

from __future__ import annotations

import pytest

from helpers import SHARED_DATA
from sup.chess.engine import Engine, EngineCrashed, EngineHung
from sup.chess.tiers import TIERS, tier
from sup.errors import SupError, UsageError

pytestmark = pytest.mark.usefixtures("engine_installed")  # conftest.py


# Legal moves from each start position: pawns one or two squares (one in gardner, whose
# pawns stand on the second rank) and the knights' jumps.
PERFT_1 = {"micro": 7, "regular": 20, "grand": 84}


@pytest.mark.parametrize("name", sorted(TIERS))
def test_perft_from_each_start_and_an_illegal_move_is_found(name):
    with Engine(tier(name)) as engine:
        legal = engine.legal_moves([])
        assert len(legal) == PERFT_1[name] and len(set(legal)) == len(legal)
        assert all(tier(name).is_move(m) for m in legal)
        first = legal[0]
        assert engine.replay([first, engine.best_move([first], depth=2)]) is None
        assert engine.replay([first, first]) == 1  # the same pawn cannot move for the other side
        assert "a1a5" not in legal


def test_regular_chess_follows_the_rules_deep_into_a_game():
    with Engine(tier("regular")) as engine:
        # 1. e4 d5 2. exd5 Qxd5 3. Nc3: the queen may take on d2, not jump to d1
        moves = ["e2e4", "d7d5", "e4d5", "d8d5", "b1c3"]
        assert engine.replay(moves) is None
        legal = engine.legal_moves(moves)
        assert "d5d2" in legal and "d5d1" not in legal
        assert engine.replay(["e2e4", "e7e5", "e1g1"]) == 2  # no castling through pieces
        fools_mate = ["f2f3", "e7e5", "g2g4", "d8h4"]
        assert engine.legal_moves(fools_mate) == [] and engine.in_check(fools_mate)
        assert not engine.in_check(fools_mate[:3])


def test_grand_squares_and_promotions():
    grand = tier("grand")
    assert grand.is_move("a10c10") and grand.is_move("g4g3b") and grand.is_move("l1l2c")
    assert not grand.is_move("m1m2") and not grand.is_move("a11a10") and not grand.is_move("a0a1")
    assert not tier("micro").is_move("f1f2") and not tier("micro").is_move("a6a5")
    games = (SHARED_DATA / "chess-grand-12x10-selfplay.txt").read_text().split("\n")[:1]
    with Engine(grand) as engine:
        assert engine.replay(games[0].split()) is None  # a real game, every ply legal


def test_a_missing_or_broken_engine_is_one_line(tmp_path):
    with pytest.raises(UsageError, match="no tier 'huge'"):
        tier("huge")
    with pytest.raises(SupError, match="is not an executable file: install Debian's fairy"):
        Engine(tier("micro"), binary=str(tmp_path / "nothing"))
    with pytest.raises(SupError, match="is not a working UCI chess engine"):
        Engine(tier("micro"), binary="/bin/true")  # exits at once
    with pytest.raises(SupError, match="did not answer within 1 s"):
        Engine(tier("micro"), binary="/bin/cat", timeout=1)  # never says uciok


def test_an_engine_that_dies_mid_game_is_reported_and_restarts():
    with Engine(tier("micro"), timeout=2) as engine:
        engine.proc.kill()
        with pytest.raises(EngineCrashed):
            engine.legal_moves(["a2a3"])
        engine.restart()
        assert len(engine.legal_moves([])) == 7
        engine.send("go infinite")  # searching, and never answering perft
        with pytest.raises(EngineHung):
            engine.read_until(lambda s: s == "never", timeout=0.5)
        engine.restart()
        assert engine.best_move([], depth=1) in engine.legal_moves([])


def test_a_position_with_one_legal_move_lists_just_that_move():
    # perft's total reads "Nodes searched: 1" here, which once was listed as a move
    # (self-play games then held the words "Nodes searched")
    game = str.split(
        "h2h3 h7h5 h3h4 b7b6 e2e3 e7e5 d1f3 b8c6 f1c4 g8f6 b1c3 a7a6 c3e4 b6b5 f3e2 f6e4 "
        "c4d5 g7g5 d5e4 f8e7 h4g5 d7d5 e4f3 h8h6 a2a3 e7g5 d2d4 h5h4 g1h3 g5e7 e1g1 h6g6 "
        "g1h1 e5e4 f3h5 g6g7 h3f4 d8d6 c1d2 d6d7 a1d1 g7g3 f4h3 g3h3 g2h3 d7f5 h5g4 f5g6 "
        "d1a1 f7f5 e2e1 f5g4 f1g1 g6f6 e1e2 e7d6 h3g4 f6g5 e2d1 g5f6 h1g2 h4h3 g2f1 h3h2 "
        "g1h1 d6g3 d2e1 a6a5 f1g2 g3d6 d1e2 e8d8 e1c3 f6h4 f2f3 h4g3"
    )
    with Engine(tier("regular")) as engine:
        assert engine.replay(game) is None
        assert engine.legal_moves(game) == ["g2f1"]


@pytest.mark.parametrize("name", sorted(TIERS))
def test_replay_finds_the_first_illegal_move_as_a_ply_by_ply_check_does(name):
    """``replay`` asks once per game (the engine stops applying moves at the first
    illegal one); each ply checked against the legal list must agree with it."""
    with Engine(tier(name)) as engine:
        game: list[str] = []
        for _ in range(12):  # a legal game: the engine's moves at depth 1
            game.append(engine.best_move(game, depth=1))
        assert engine.replay(game) is None
        for at in (0, 5, 11):
            for wrong in (game[at - 1] if at else "a1a1", game[at][2:] + game[at][:2]):
                broken = [*game[:at], wrong, *game[at + 1 :]]
                by_ply = next(
                    (p for p, m in enumerate(broken) if m not in engine.legal_moves(broken[:p])),
                    None,
                )
                assert engine.replay(broken) == by_ply
