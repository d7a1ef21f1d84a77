"""A chess release's board, end to end: ``sup serve``'s move endpoint with the position
and the engine's reply, and the browser page playing a game through it in headless
Chromium.

The release is a real tiny daydream-micro build (``sup build daydream-micro --preset
tiny``), the engine the real Fairy-Stockfish and the server a real ``sup serve`` on
127.0.0.1, which also serves the page (web/). Every move the page shows is replayed
through the engine here: the page holds no chess rules, so the engine is the only
judge of what it played. Like tests/test_web.py, the browser tests fail, never skip,
when Chromium, node or web/node_modules is missing, unless SUP_SKIP_BROWSER=1.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import SHARED_DATA, skip_unless_ci, sup_ok
from sup.chess.engine import Engine
from sup.chess.tiers import tier
from sup.play.daydream import ending
from test_serve import start_server, stop_server
from test_web import SITE_FILES, WEB, require_browser, serve

pytestmark = pytest.mark.usefixtures("engine_installed")  # conftest.py

MICRO = tier("micro")
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def browser() -> None:
    require_browser()


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> Path:
    """A releases directory holding daydream-micro-1, built through the real CLI from
    the shared Gardner self-play games (as tests/test_daydream.py builds it)."""
    work = tmp_path_factory.mktemp("daydream")
    corpus = SHARED_DATA / "chess-gardner-5x5-selfplay.txt"
    if not corpus.is_file():
        skip_unless_ci(f"the shared corpus {corpus} is missing")
    source = work / "games.txt"
    source.write_text("\n".join(corpus.read_text().splitlines()[:240]) + "\n")
    sup_ok("build", "daydream-micro", "--preset", "tiny", "--from", source, "--out",
           work / "build", "--release", "daydream-micro-1", "--releases", work / "releases",
           "--below-floor", "--quiet")  # fmt: skip
    return work / "releases"


@pytest.fixture(scope="module")
def server(releases, tmp_path_factory):
    running = start_server(tmp_path_factory.mktemp("serve"), "--releases", releases)
    yield running
    stop_server(running)


def drive(url: str, jobs: list[dict]) -> list[dict]:
    """web/scripts/drive.mjs's results for ``jobs`` against the page at ``url``."""
    proc = subprocess.run(["node", str(WEB / "scripts" / "drive.mjs"), url, json.dumps(jobs)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def move(server, **fields):
    return server.post("/v1/daydream/move", {"model": "daydream-micro", **fields})


# ------------------------------------------------------------------ the endpoint


def test_a_move_comes_with_the_position_and_the_engines_reply(server):
    first = move(server, moves=[], seed=3)
    assert first.status == 200, first.json()
    step = first.json()
    # the existing fields, unchanged; "reply" only when asked for
    assert {"model", "object", "ply", "move", "tried", "forced", "illegal_mass"} <= set(step)
    assert step["object"] == "daydream.move" and step["ply"] == 1 and "reply" not in step
    with Engine(MICRO) as engine:
        assert step["fen"] == engine.board([step["move"]])["Fen"]
    assert step["end"] is None and step["winner"] is None

    answered = move(server, moves=[step["move"]], seed=3, reply={"level": 20}).json()
    played = [step["move"], answered["move"]]
    reply = answered["reply"]
    assert answered["ply"] == 2 and reply["ply"] == 3
    with Engine(MICRO) as engine:
        assert answered["move"] in engine.legal_moves(played[:1])
        assert reply["move"] in engine.legal_moves(played)
        assert answered["fen"] == engine.board(played)["Fen"]
        assert reply["fen"] == engine.board([*played, reply["move"]])["Fen"]
    assert reply["end"] is None and reply["winner"] is None


@pytest.mark.parametrize(
    "reply", [{"level": 21}, {"level": -1}, {"level": "3"}, {"level": True}, {"level": 2.0},
              {"depth": 1}, {"level": 1, "depth": 1}, 5, "engine", []],
)  # fmt: skip
def test_a_bad_reply_is_a_one_line_400(server, reply):
    refused = move(server, moves=[], reply=reply)
    assert refused.status == 400
    error = refused.json()["error"]
    assert error["param"] == "reply" and "\n" not in error["message"]
    assert error["message"] == 'reply must be {"level": N} with N an integer from 0 to 20'


def test_the_game_ends_by_the_harness_rules():
    """``ending`` on positions whose outcome is known, in standard chess."""
    fools_mate = ["f2f3", "e7e5", "g2g4", "d8h4"]
    # Sam Loyd's ten-move stalemate: White, to move, has no legal move and is not in check
    loyd = ["e2e3", "a7a5", "d1h5", "a8a6", "h5a5", "h7h5", "h2h4", "a6h6", "a5c7", "f7f6",
            "c7d7", "e8f7", "d7b7", "d8d3", "b7b8", "d3h7", "b8c8", "f7g6", "c8e6"]  # fmt: skip
    shuffle = ["g1f3", "g8f6", "f3g1", "f6g8"] * 3  # the start position after plies 4, 8, 12
    with Engine(tier("regular")) as engine:
        assert ending(engine, fools_mate) == {
            "fen": engine.board(fools_mate)["Fen"], "end": "checkmate", "winner": "black",
        }  # fmt: skip
        assert ending(engine, loyd)["end"] == "stalemate" and ending(engine, loyd)["winner"] is None
        assert ending(engine, shuffle)["end"] == "threefold repetition"
        assert ending(engine, shuffle[:8])["end"] is None  # the start is not counted
        assert ending(engine, fools_mate[:3])["end"] is None


# ------------------------------------------------------------------ the page


def test_the_page_plays_a_game_on_the_board(browser, server, tmp_path):
    shot = tmp_path / "chess-board.png"
    self_play = {"kind": "chess", "play": True, "vs": "self", "plies": 11, "seed": 1,
                 "temperature": 0.8, "screenshot": str(shot)}  # fmt: skip
    vs_engine = {"kind": "chess", "play": True, "vs": "engine", "level": 20, "plies": 6}
    bad_level = {"kind": "chess", "play": True, "level": 21}
    url = f"http://127.0.0.1:{server.port}/"
    game, against, refused = drive(url, [self_play, vs_engine, bad_level])

    assert game["state"] == "done" and game["error"] is None and game["console"] == []
    assert game["chessShown"] and not game["promptShown"] and game["note"] is None
    moves = [m["move"] for m in game["moves"]]
    assert game["plies"] == len(moves) >= 10
    assert all(m["by"] == "model" for m in game["moves"])
    assert game["status"].endswith(f"after {len(moves)} plies")
    with Engine(MICRO) as engine:
        assert engine.replay(moves) is None  # every move the page shows is legal
        for ply, shown in enumerate(game["moves"]):
            legal = engine.legal_moves(moves[:ply])
            refused_tries = [t for t in shown["tried"] if t != "(end of game)"]
            assert not set(refused_tries) & set(legal)  # a near-miss is never a legal move
        assert game["fen"] == engine.board(moves)["Fen"]
    assert any(m["tried"] for m in game["moves"])  # the tiny model misses: shown dimmed
    # the board: the last move highlighted, the last model turn's near-misses faded
    on_board = [t for t in game["moves"][-1]["tried"] if MICRO.is_move(t)]
    assert game["shapes"]["rect.last"] == 2
    assert game["shapes"].get("rect.tried", 0) == 2 * len(on_board)
    assert len(game["pieces"]) == sum(c.isalpha() for c in game["fen"].split()[0])
    assert shot.read_bytes()[:8] == PNG

    # against the engine: the model White, the engine answering every move
    assert against["state"] == "done" and against["error"] is None
    sides = [m["by"] for m in against["moves"]]
    assert sides == ["model", "engine"] * (len(sides) // 2) + ["model"] * (len(sides) % 2)
    assert 2 <= len(sides) <= 6
    with Engine(MICRO) as engine:
        assert engine.replay([m["move"] for m in against["moves"]]) is None

    assert refused["state"] == "error" and refused["plies"] == 0
    assert refused["error"] == "the engine level must be an integer from 0 to 20, got 21"


def test_a_static_page_shows_the_board_and_says_playing_needs_sup_serve(browser, releases,
                                                                         tmp_path):  # fmt: skip
    for name in SITE_FILES:
        copy = shutil.copytree if (WEB / name).is_dir() else shutil.copy
        copy(WEB / name, tmp_path / name)
    shutil.copytree(releases, tmp_path / "releases")
    with serve(tmp_path) as url:
        (page,) = drive(url, [{"kind": "chess"}])
    assert page["state"] == "ready" and page["error"] is None and page["chessShown"]
    assert page["note"].startswith("Playing needs sup serve") and not page["playEnabled"]
    with Engine(MICRO) as engine:
        assert page["fen"] == engine.board([])["Fen"]  # the page's start position is the engine's
    assert len(page["pieces"]) == 20 and page["moves"] == []
    assert page["console"] == [  # the probe for sup serve's /v1/models, nothing else
        "Failed to load resource: the server responded with a status of 404 (File not found)"
    ]


def test_the_pages_start_positions_are_the_engines():
    script = "import('./src/chessboard.js').then((m) => console.log(JSON.stringify(m.TIERS)))"
    out = subprocess.run(["node", "--input-type=module", "-e", script], cwd=WEB,
                         capture_output=True, text=True, check=True)  # fmt: skip
    for name, board in json.loads(out.stdout).items():
        with Engine(tier(name)) as engine:
            assert board["start"] == engine.board([])["Fen"], name
        assert (board["files"], board["ranks"]) == (tier(name).files, tier(name).ranks)
