"""Games files and PGN import: shapes checked per board, legality checked by the real
engine, duplicates dropped, the split by game; bad input is one line naming the game."""

from __future__ import annotations

import pytest

from helpers import SHARED_DATA
from sup.chess.engine import Engine
from sup.chess.games import check_legal, parse_games, read_games, read_pgn, side_of, unique
from sup.chess.tiers import tier
from sup.errors import SupError

GAMES = SHARED_DATA / "chess-gardner-5x5-selfplay.txt"
# A hand-written game with castling on both sides, en passant and a promotion.
PGN = """[Event "sup test"]
[White "A"]
[Black "B"]
[WhiteElo "2100"]
[BlackElo "1900"]

1. e4 Nf6 2. e5 d5 3. exd6 Qxd6 4. d4 Bf5 5. Nc3 Nc6 6. Be3 O-O-O 7. Qd2 e5
8. O-O-O exd4 9. Bxd4 Nxd4 10. Qxd4 Qxd4 11. Rxd4 Rxd4 12. b3 Rd2 13. Kxd2 a5
14. Nf3 a4 15. bxa4 b5 16. axb5 Kb7 17. b6 Bc2 18. bxc7 Ne4+ 19. Nxe4 Bxe4
20. c8=Q+ Kxc8 1-0

[Event "low rated"]
[WhiteElo "900"]
[BlackElo "950"]

1. d4 d5 *
"""


@pytest.fixture(scope="module")
def engine(engine_installed):
    with Engine(tier("micro")) as e:
        yield e


def test_the_shared_games_read_and_replay(engine):
    games = read_games(GAMES, tier("micro"))
    assert len(games) == 4135
    check_legal(games[:50], engine, str(GAMES))  # every move of 50 real games is legal
    kept, dropped = unique([moves for _, moves in games])
    assert len(kept) + dropped == 4135
    sides = [side_of(m) for m in kept]
    assert 0.02 < sides.count("val") / len(kept) < 0.08 and sides.count("test") > 100


def test_an_illegal_move_names_its_line_and_ply(engine):
    games = parse_games("b1a3 b4b3\nb1a3 b4b3 a1a5\n", tier("micro"), "g.txt")
    with pytest.raises(SupError, match=r"g.txt: line 2, ply 3: a1a5 is illegal"):
        check_legal(games, engine, "g.txt")


@pytest.mark.parametrize(
    "text, words",
    [
        ("b1a3 b4b3\nb1a3 f4f3\n", "line 2, ply 2: 'f4f3' is not a move on the 5x5 board"),
        ("b1a3 b4b6\n", "line 1, ply 2: 'b4b6' is not a move"),
        ("\n \n", "holds no games"),
        ("b1a3 nonsense\n", "'nonsense' is not a move"),
    ],
)
def test_bad_games_files_are_one_line(text, words):
    with pytest.raises(SupError, match=words):
        parse_games(text, tier("micro"), "g.txt")


def test_duplicates_are_dropped_and_stay_on_one_side():
    a, b = ["e2e4", "e7e5"], ["d2d4"]
    kept, dropped = unique([a, b, list(a)])
    assert kept == [a, b] and dropped == 1
    assert side_of(a) == side_of(list(a))


def test_pgn_san_castling_en_passant_and_promotion(tmp_path):
    path = tmp_path / "g.pgn"
    path.write_text(PGN)
    games, skipped = read_pgn(path)
    assert [n for n, _ in games] == [1, 2] and skipped == {"no_moves": 0, "below_elo": 0}
    moves = games[0][1]
    assert moves[:5] == ["e2e4", "g8f6", "e4e5", "d7d5", "e5d6"]  # exd6 en passant
    assert "e8c8" in moves and "e1c1" in moves  # O-O-O for both
    assert moves[-2:] == ["c7c8q", "b7c8"]  # c8=Q+, Kxc8
    rated, skipped = read_pgn(path, min_elo=1500)
    assert [n for n, _ in rated] == [1] and skipped["below_elo"] == 1
    path.write_text(PGN.replace("12. b3", "12. Ke3"))
    with pytest.raises(SupError, match=r"g.pgn: game 1, ply 23: illegal san: .Ke3."):
        read_pgn(path)
