"""Self-play against the real engine: games are legal and deterministic per index, a
kill -9 mid-run loses and duplicates nothing, other settings are refused."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from helpers import SUB_ENV
from sup.chess.engine import Engine
from sup.chess.games import read_games
from sup.chess.selfplay import Settings, generate, log_path, manifest_path
from sup.chess.tiers import tier
from sup.errors import SupError

SETTINGS = Settings("micro", depth=1, random_plies=3, max_plies=40, seed=7)


pytestmark = pytest.mark.usefixtures("engine_installed")  # conftest.py


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    out = tmp_path_factory.mktemp("selfplay") / "games.txt"
    return out, generate(out, SETTINGS, 12, workers=2)


def test_games_are_legal_unique_and_accounted_for(straight):
    out, manifest = straight
    games = read_games(out, tier("micro"))
    assert manifest["complete"] and manifest["games"] == len(games) > 0
    assert manifest["games"] + manifest["duplicates_dropped"] + len(manifest["aborted"]) == 12
    assert len({" ".join(m) for _, m in games}) == len(games)
    assert all(len(m) <= 40 for _, m in games)
    with Engine(tier("micro")) as engine:
        assert all(engine.replay(m) is None for _, m in games)
    assert "Fairy-Stockfish" in manifest["engine"]
    records = [json.loads(x) for x in log_path(out).read_text().splitlines()]
    assert [r["index"] for r in records] == list(range(12))


def test_a_kill_mid_run_loses_and_duplicates_nothing(tmp_path, straight):
    out = tmp_path / "games.txt"
    code = (
        "import sys; from sup.chess.selfplay import Settings, generate\n"
        f"generate(sys.argv[1], Settings(**{SETTINGS.__dict__!r}), 12, workers=2)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(out)], env=SUB_ENV,
                            start_new_session=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if log_path(out).exists() and len(log_path(out).read_text().splitlines()) >= 4:
            break
        time.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)  # the parent and its workers, mid-game
    proc.wait()
    assert not json.loads(manifest_path(out).read_text())["complete"]
    manifest = generate(out, SETTINGS, 12, workers=2)
    assert out.read_text() == straight[0].read_text()  # the same games, in the same order
    assert manifest["sha256"] == straight[1]["sha256"]
    with pytest.raises(SupError, match="was started with other settings"):
        generate(out, Settings("micro", depth=2), 20)


def back_and_forth(engine: Engine, moves: list[str]) -> list[str]:
    """Four knight moves after ``moves`` that bring the position back (a knight of each
    side out and home), or none: played twice they make a repetition."""
    import re

    def squares(move: str) -> tuple[str, str] | None:
        found = re.fullmatch(r"([a-l])(\d+)([a-l])(\d+)", move)
        if not found:
            return None
        f0, r0, f1, r1 = found.groups()
        jump = abs(ord(f0) - ord(f1)) * abs(int(r0) - int(r1)) == 2
        return (f0 + r0, f1 + r1) if jump else None

    def jumps(position: list[str]) -> list[tuple[str, str]]:
        return [sq for m in engine.legal_moves(position) if (sq := squares(m))][:8]

    for a, b in jumps(moves):
        for c, d in jumps([*moves, a + b]):
            out = [a + b, c + d, b + a, d + c]
            if engine.replay([*moves, *out]) is None and engine.position_key(
                [*moves, *out]
            ) == engine.position_key(moves):
                return out
    return []


@pytest.mark.parametrize("tier_name", ["micro", "regular", "grand"])
def test_the_referee_agrees_with_the_engine_along_games(tier_name):
    """The referee that self-play asks (python-chess for 8x8, the engine's one-query
    form elsewhere) lists the engine's legal moves at every ply of random games with a
    piece shuffled out and back twice, and its keys repeat exactly where the engine's
    do."""
    import random

    from sup.chess.selfplay import referee_for

    rng = random.Random(tier_name)
    with Engine(tier(tier_name)) as engine:
        for _ in range(2):
            referee, moves, keys, shuffles = referee_for(engine), [], [], 0
            for ply in range(40):
                legal = engine.legal_moves(moves)
                assert sorted(referee.legal()) == sorted(legal), (tier_name, moves)
                if not legal:
                    break
                chosen = [rng.choice(sorted(legal))]
                if ply >= (0, 12, 99)[shuffles] and (shuffle := back_and_forth(engine, moves)):
                    chosen, shuffles = 2 * shuffle, shuffles + 1
                for move in chosen:
                    moves.append(move)
                    referee.push(move)
                    keys.append((referee.key(), engine.position_key(moves)))
            ours, engines = ([k[i] for k in keys] for i in (0, 1))
            assert [ours.index(k) for k in ours] == [engines.index(k) for k in engines]
            assert len(set(ours)) < len(ours), "no position repeated: the check checked nothing"
