"""The daydream instruments: the match harness's rules with the real engine (a scripted
move source where the counting itself is under test), and a tiny build through the real
CLI whose every played move the engine checks again."""

from __future__ import annotations

import json

import pytest

from helpers import SHARED_DATA, assert_cli_error, run_sup, sup_ok
from sup.chess.engine import Engine
from sup.chess.tiers import tier
from sup.instruments import match

pytestmark = pytest.mark.usefixtures("engine_installed")  # conftest.py


class Scripted:
    """A move source with known behaviour: at each position it first tries the moves in
    ``misses`` (illegal), then the legal move sorted first; ``never`` makes it only miss,
    so the harness must force a move. All probability on the first legal move."""

    def __init__(self, misses=("a1a1",), never=False, base_seed=7):
        self.misses, self.never, self.prompts = list(misses), never, []
        self.base_seed = base_seed
        self.legal = None

    def continuation_probs(self, prompt, candidates):
        self.legal = sorted(candidates)
        return {m: (1.0 if m == self.legal[0] else 0.0) for m in candidates}

    def sample(self, prompt, tokens, temperature, seed, max_chars=None):
        self.prompts.append((prompt, seed))
        attempt = (seed - self.base_seed) % 1000
        lead = " " if prompt else ""  # a move after another starts with a space
        if self.never or attempt < len(self.misses):
            return lead + self.misses[attempt % len(self.misses)] + " "
        return lead + self.legal[0] + " e"


def test_resamples_forced_moves_and_seeds_follow_the_stated_rules():
    settings = match.MatchSettings(games=2, attempts=3, max_plies=10, seed=7)
    with Engine(tier("micro")) as engine:
        voice = Scripted(misses=("a1a1",))
        game = match.play_game(voice, engine, settings, 0)
        assert engine.replay(game["moves"]) is None  # every move, the engine's and ours, legal
        assert game["model"] == "white" and len(game["model_moves"]) == 5
        assert all(m["tried"] == ["a1a1"] and not m["forced"] for m in game["model_moves"])
        assert [m["ply"] for m in game["model_moves"]] == [1, 3, 5, 7, 9]
        assert voice.prompts[0] == ("", 7) and voice.prompts[1] == ("", 8)
        assert voice.prompts[2][0] == " ".join(game["moves"][:2])
        assert len({seed for _, seed in voice.prompts}) == len(voice.prompts)

        stuck = match.play_game(Scripted(never=True), engine, settings, 1)
        assert stuck["model"] == "black" and all(m["forced"] for m in stuck["model_moves"])
        assert all(len(m["tried"]) == 3 for m in stuck["model_moves"])
        assert engine.replay(stuck["moves"]) is None
    report = match.summarise([game, stuck], tier("micro"), settings)
    assert report["first_try_legal"]["k"] == 0 and report["first_try_legal"]["n"] == 10
    assert report["forced"]["k"] == 5 and report["games_without_forced_move"]["k"] == 1
    assert report["resamples"]["moves_resampled"] == 5
    assert report["resamples"]["mean_samples_when_resampled"] == 2
    assert report["illegal_mass"]["mean"] == 0.0  # all its mass on a legal move
    assert sum(r["k"] for r in report["results"].values()) == 2


def test_the_repeatable_opponent_plays_the_same_games_for_the_same_seed():
    """With ``random_rate`` set the engine is level 20 plus seeded random moves: two
    matches with one seed are the same games move for move, another seed plays others,
    and with no random moves every engine move is the engine's own depth-1 choice."""
    micro = tier("micro")

    def games(**rule):
        s = match.MatchSettings(games=2, max_plies=24, **rule)
        return [g["moves"] for g in match.play_match(Scripted(misses=()), micro, s)["played"]]

    first = games(seed=3, random_rate=0.3)
    assert games(seed=3, random_rate=0.3) == first
    assert games(seed=4, random_rate=0.3) != first
    strict = games(seed=3, random_rate=0.0)
    with Engine(micro) as engine:
        engine.set_skill(20)
        for n, moves in enumerate(strict):  # the model has White in game 0, Black in 1
            engine.send("ucinewgame")  # its hash, which steers a depth-1 search, starts empty
            for ply in range(1 - n % 2, len(moves), 2):
                assert moves[ply] == engine.best_move(moves[:ply], depth=1)


def test_the_report_counts_phases_and_intervals_from_hand_made_games():
    def move(ply, tried=(), forced=False, mass=0.5):
        return {"ply": ply, "move": "x", "tried": list(tried), "forced": forced,
                "illegal_mass": mass}  # fmt: skip

    games = [
        {"game": 0, "result": "win", "model_moves": [move(1), move(21, ["b"]), move(41)]},
        {"game": 1, "result": "loss", "model_moves": [move(2, ["c"], True), move(22)]},
        {"game": 2, "result": "aborted", "model_moves": [move(1, ["d"])]},  # left out
    ]
    r = match.summarise(games, tier("micro"), match.MatchSettings())
    assert r["aborted"] == 1 and r["model_moves"] == 5
    assert [(p["k"], p["n"]) for p in r["by_phase"]] == [(1, 2), (1, 2), (1, 1)]
    # a phase's games are resampled whole: one clean and one missed game span 0 to 1
    assert [p["games"] for p in r["by_phase"]] == [2, 2, 1]
    assert [p["cluster_ci95"] for p in r["by_phase"]] == [[0.0, 1.0], [0.0, 1.0], [1.0, 1.0]]
    assert r["first_try_legal"]["rate"] == 3 / 5
    low, high = r["first_try_legal"]["ci95"]
    assert low == pytest.approx(0.2307, abs=1e-3) and high == pytest.approx(0.8824, abs=1e-3)
    assert r["forced"]["k"] == 1 and r["games_without_forced_move"]["k"] == 1
    assert r["results"]["win"]["k"] == 1 and r["results"]["loss"]["k"] == 1
    assert r["illegal_mass"]["mean"] == 0.5
    assert [n["tried"] for n in r["near_misses"]] == [["b"], ["c"]]


def test_daydream_tiny_build_end_to_end(tmp_path):
    source = tmp_path / "games.txt"
    lines = (SHARED_DATA / "chess-gardner-5x5-selfplay.txt").read_text().splitlines()[:240]
    source.write_text("\n".join(lines) + "\n")
    out, releases = tmp_path / "build", tmp_path / "releases"
    # a bad release id is refused before any step runs
    err = assert_cli_error(run_sup("build", "daydream-micro", "--preset", "tiny", "--from",
                                   source, "--out", out, "--release", "micro-0"), 2)  # fmt: skip
    assert "bad release id" in err and not out.exists()
    build = ("build", "daydream-micro", "--preset", "tiny", "--from", source, "--out", out,
             "--release", "daydream-micro-1", "--releases", releases, "--quiet")  # fmt: skip
    # a tiny model plays far under the 60% release floor: measured, kept, not released
    refused = run_sup(*build)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    err = refused.stderr.strip().splitlines()[-1]  # after the steps' progress lines
    report = json.loads((out / "harness.json").read_text())
    rate = report["first_try_legal"]["rate"]
    assert rate < 0.60 and f"not released: first-try legal {rate:.3f}" in err
    assert "--below-floor" in err and not (releases / "daydream-micro-1").exists()
    # told to, it releases without measuring again
    done = sup_ok(*build, "--below-floor").stderr
    assert "harness: up to date" in done and "release: daydream-micro-1" in done
    assert report["tier"] == "micro" and report["games"] == 2
    assert (out / "harness.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Engine(tier("micro")) as engine:
        for game in report["played"]:
            assert engine.replay(game["moves"]) is None
            for m in game["model_moves"]:
                legal = engine.legal_moves(game["moves"][: m["ply"] - 1])
                assert m["move"] in legal and not set(m["tried"]) & set(legal)
                assert 0.0 <= m["illegal_mass"] <= 1.0
    card = (releases / "daydream-micro-1" / "MODEL_CARD.md").read_text()
    assert "first-try legal" in card

    # the terminal player: the model against the engine, every move checked by the engine
    release = releases / "daydream-micro-1"
    game = json.loads(sup_ok("play", release, "--plies", "6", "--seed", "1", "--json").stdout)
    assert game["model"] == "white" and 1 <= len(game["moves"]) <= 6
    with Engine(tier("micro")) as engine:
        assert engine.replay(game["moves"]) is None
    shown = sup_ok("play", release, "--plies", "4", "--vs", "self", "--seed", "2").stdout
    assert shown.count(" (model)") == 4 and "(engine)" not in shown and "\x1b" not in shown
    misses = [line for line in shown.splitlines() if " tried " in line]
    assert all(line.endswith("(illegal)") for line in misses)  # marked, not dimmed, in a pipe
    start = [" 5  r n b q k", " 4  p p p p p", " 3  . . . . .", " 2  P P P P P", " 1  R N B Q K"]
    assert shown.splitlines()[:6] == [*start, "    a b c d e"]
    for flags, words in ((("--vs", "robot"), "--vs must be engine or self"),
                         (("--level", "21"), "--level must be an integer from 0 to 20"),
                         (("--colour", "red"), "no option --colour"),
                         (("e2e4",), "takes no prompt")):  # fmt: skip
        assert words in assert_cli_error(run_sup("play", release, *flags), 2)

    # sup serve: the next move with the tries the engine refused
    from test_serve import start_server, stop_server

    server = start_server(tmp_path, "--releases", releases)
    try:
        body = {"model": "daydream-micro", "moves": game["moves"][:2], "seed": 4}
        reply = server.post("/v1/daydream/move", body)
        assert reply.status == 200, reply.json()
        move = reply.json()
        assert move["model"] == "daydream-micro-1" and move["ply"] == 3
        with Engine(tier("micro")) as engine:
            legal = engine.legal_moves(game["moves"][:2])
        assert move["move"] in legal and not set(move["tried"]) & set(legal)
        assert server.post("/v1/daydream/move", body).json() == move  # seeded: the same
        for bad, words in (({"moves": ["b1a3", "b1a3"]}, "moves[1] b1a3 is illegal"),
                           ({"moves": ["z9z9"]}, "is not a UCI move"),
                           ({"moves": ["f2f3"]}, "not a square pair on this board"),
                           ({"temperature": -1}, "temperature must be")):  # fmt: skip
            refused = server.post("/v1/daydream/move", {"model": "daydream-micro", **bad})
            assert refused.status == 400 and words in refused.json()["error"]["message"]
    finally:
        stop_server(server)

    harnessed = sup_ok("harness", "daydream-micro", releases / "daydream-micro-1", "--games",
                       "2", "--json")  # fmt: skip
    shipped = json.loads(harnessed.stdout)
    assert shipped["games"] == 2 and shipped["settings"]["temperature"] == 0.8
    # the repeatable opponent through the CLI: one seed, the same games twice
    paired = [sup_ok("harness", "daydream-micro", releases / "daydream-micro-1", "--games", "2",
                     "--random-moves", "0.25", "--seed", "5", "--json").stdout
              for _ in range(2)]  # fmt: skip
    again = [json.loads(text) for text in paired]
    assert again[0]["settings"]["random_rate"] == 0.25 and again[0]["settings"]["seed"] == 5
    assert again[0]["played"] == again[1]["played"]
    shown = sup_ok("harness", "daydream-micro", releases / "daydream-micro-1", "--games", "2",
                   "--random-moves", "0.25", "--seed", "5").stdout  # fmt: skip
    assert "25% seeded random moves (repeatable, seed 5)" in shown

    data = sup_ok("data", "daydream", "--tier", "micro", "--from", source, "--out",
                  tmp_path / "corpus")  # fmt: skip
    assert "games of the daydream-micro corpus" in data.stderr
    assert "--tier is for daydream" in assert_cli_error(
        run_sup("data", "kenosha", "--tier", "micro", "--out", tmp_path / "k.txt"), 2
    )
    assert "must be at least 1" in assert_cli_error(
        run_sup("harness", "daydream-micro", out, "--games", "0"), 2
    )


def test_bad_daydream_input_is_one_line(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    out = tmp_path / "corpus"
    for args, code, words in (
        (("data", "daydream", "--tier", "huge", "--out", out), 2, "invalid choice: 'huge'"),
        (("build", "daydream-huge", "--preset", "tiny"), 2, "no instrument named"),
        (("data", "daydream", "--from", empty, "--out", out), 1, "holds no games"),
        (("data", "daydream", "--from", tmp_path / "none.txt", "--out", out), 1, "not found"),
        (("data", "daydream", "--games", "5", "--out", out), 2, "at least 10"),
        (("data", "daydream", "--from", tmp_path, "--out", out), 2, "not a daydream corpus"),
        (("harness", "kenosha", tmp_path, "--seed", "3"), 2, "--seed: only the daydream"),
        (("harness", "daydream-micro", tmp_path, "--random-moves", "1.5"), 2, "0 to 1"),
        (("harness", "daydream-micro", tmp_path, "--level", "21"), 2, "from 0 to 20, got 21"),
    ):
        assert words in assert_cli_error(run_sup(*args), code)
    assert not out.exists()


def test_a_sampled_move_is_read_after_its_space():
    assert match.sampled_move("e2e4 e7", "") == "e2e4"
    assert match.sampled_move(" e2e4 e7", " ") == "e2e4"
    assert match.sampled_move(" e2e4\n", " ") == "e2e4"
    assert match.sampled_move("\n e2e4", " ") == ""  # the model ended the game
    assert match.sampled_move("q e2e4", " ") == ""  # glued onto the last move
    assert match.sampled_move("  e2e4", " ") == ""
    assert match.sampled_move("", " ") == ""


@pytest.mark.parametrize("tier_name", ["regular", "grand"])
def test_tiny_build_of_the_larger_boards_end_to_end(tmp_path, tier_name):
    """Each larger board through the real CLI: self-play games from the engine, a tiny
    build (corpus, prepare, train, harness, release), the harness's JSON and a short
    game in the terminal player, every move checked by the engine again."""
    corpus, out, releases = tmp_path / "corpus", tmp_path / "build", tmp_path / "releases"
    name = f"daydream-{tier_name}"
    made = sup_ok("data", "daydream", "--tier", tier_name, "--games", "60", "--random-rate",
                  "0.2", "--out", corpus)  # fmt: skip
    assert f"games of the {name} corpus" in made.stderr
    manifest = json.loads((corpus / "manifest.json").read_text())
    assert manifest["source"]["selfplay"]["settings"]["random_rate"] == 0.2
    # the corpus directory as written: taken as checked, its self-play settings carried on
    sup_ok("build", name, "--preset", "tiny", "--from", corpus, "--out", out, "--release",
           f"{name}-1", "--releases", releases, "--below-floor", "--quiet")  # fmt: skip
    built = json.loads((out / "corpus" / "games" / "manifest.json").read_text())
    assert built["source"]["source"]["selfplay"]["settings"]["random_rate"] == 0.2
    report = json.loads(sup_ok("harness", name, out, "--games", "2", "--json").stdout)
    assert report["tier"] == tier_name and report["games"] == 2
    release = releases / f"{name}-1"
    game = json.loads(sup_ok("play", release, "--plies", "4", "--seed", "3", "--json").stdout)
    with Engine(tier(tier_name)) as engine:
        for played in [*report["played"], game]:
            assert engine.replay(played["moves"]) is None
        for played in report["played"]:
            for m in played["model_moves"]:
                legal = engine.legal_moves(played["moves"][: m["ply"] - 1])
                assert m["move"] in legal and not set(m["tried"]) & set(legal)
    assert "--random-rate must be from 0 to 1" in assert_cli_error(
        run_sup("data", "daydream", "--tier", tier_name, "--random-rate", "1.5", "--out",
                tmp_path / "x"), 2)  # fmt: skip
