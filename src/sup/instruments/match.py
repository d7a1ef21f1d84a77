"""The daydream harness: a move model plays the engine, and every move it tries is
checked against the engine's legal list. The model never sees a board or a rule; the
engine is the referee and the opponent.

The rules of a match (also written into every report, under ``settings``):

- ``games`` games; the model has White in even-numbered games and Black in odd ones.
- The engine plays at Fairy-Stockfish ``Skill Level`` ``skill``, searching ``depth`` plies.
  Below level 20 the engine picks among its candidate moves with a generator it seeds
  from the clock, so two matches with the same ``seed`` play different games: their
  figures agree within their intervals, not exactly (daydream-micro-1, 100 games each:
  0.832, 0.808 and 0.799 first-try legal).
- A repeatable opponent instead: with ``random_rate`` set, the engine searches ``depth``
  plies at level 20 (one thread, its hash cleared at each game's start, so the same
  game so far gets the same move; the hash it fills along a game steers a depth-1
  search, so a position reached in another game may not), and each of its moves is,
  with probability ``random_rate``, a legal move drawn at random by a generator seeded
  from (``seed``, game, ply). Two matches with the same settings and ``seed`` then play
  the same games move for move, so two models (or two checkpoints) can be compared on
  paired games, and a figure can be re-derived.
- A model move: the game so far as text (UCI moves separated by spaces, as a corpus
  line spells it) is continued at ``temperature``: a space, then the move up to the next
  space or newline (the first move of a game has no space before it). A sample that is
  not in the legal list, or that ends the game (a newline), is an illegal attempt (a
  near-miss, kept for the players to show dimmed); the model samples again with a new
  seed, ``attempts`` samples in all. If none is legal, the legal move the model gives
  most probability to is **forced**: counted apart, never as clean.
- Seeds: one per (game, ply, attempt), ``seed + 1_000_000 g + 1_000 ply + attempt``, so
  no two samples share one.
- Illegal probability mass at a model position: 1 minus the sum over legal moves of
  P(a space, the move, then a token that ends a move), computed exactly
  (``legality.py``); so the mass on ending the game early counts as illegal too. The
  space belongs to the move because a word-level vocabulary (``bpe-words``) spells a
  move as one token with its leading space.
- A game ends at no legal move (checkmate if the side to move is in check, else
  stalemate, a draw), the third time a position occurs (a draw), ``max_plies`` plies (a
  draw, "ply cap"), or an engine failure (aborted: counted, left out of the results).

Intervals are 95%: Wilson for proportions of moves or games (moves within a game are
not independent, so the overall rate and each phase's also carry a cluster bootstrap
over the games with moves in it), and
a cluster bootstrap over games for the mean illegal mass.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

from sup.chess.engine import MAX_SKILL, Engine, EngineFailure
from sup.chess.tiers import Tier
from sup.instruments.stats import cluster_bootstrap, wilson

PHASES = ((1, 20), (21, 40), (41, None))  # plies of the game, 1-based
BY_PLY_BIN = 5


@dataclass(frozen=True)
class MatchSettings:
    games: int = 100
    temperature: float = 0.8
    attempts: int = 8  # samples per model move before a legal one is forced
    skill: int = 0
    depth: int = 1
    max_plies: int = 150
    seed: int = 0
    # None: the engine at ``skill`` (clock-seeded below 20); a share: the repeatable
    # opponent (level 20 plus seeded random moves, module docstring)
    random_rate: float | None = None

    @property
    def repeatable(self) -> bool:
        return self.random_rate is not None


def engine_move(engine: Engine, legal: list[str], moves: list[str], s: MatchSettings,
                game: int) -> str:  # fmt: skip
    """The opponent's move after ``moves`` (``legal``: the legal list there)."""
    if s.repeatable and s.random_rate > 0:
        rng = random.Random(f"{s.seed}:{game}:{len(moves)}")
        if rng.random() < s.random_rate:
            return rng.choice(sorted(legal))
    return engine.best_move(moves, depth=s.depth) or sorted(legal)[0]


def sample_seed(s: MatchSettings, game: int, ply: int, attempt: int) -> int:
    return s.seed + 1_000_000 * game + 1_000 * ply + attempt


def game_text(moves: list[str]) -> str:
    """What the model continues: the moves so far, separated by spaces."""
    return " ".join(moves)


def sampled_move(text: str, lead: str) -> str:
    """The move a continuation spells: after ``lead`` (a space, or nothing at a game's
    start), up to the next whitespace; "" when it ends the game or breaks the spelling."""
    if not text.startswith(lead) or text[len(lead) : len(lead) + 1].isspace():
        return ""
    words = text[len(lead) :].split()
    return words[0] if words else ""


def model_move(voice, legal: list[str], moves: list[str], s: MatchSettings, game: int) -> dict:
    """The model's move at this position: {"move", "tried" (illegal attempts, in order),
    "forced", "illegal_mass"}."""
    prompt = game_text(moves)
    lead = " " if moves else ""
    probs = voice.continuation_probs(prompt, {m: lead + m for m in legal})
    illegal_mass = max(0.0, 1.0 - sum(probs.values()))
    longest = len(lead) + max(len(m) for m in legal) + 1
    tried: list[str] = []
    for attempt in range(s.attempts):
        seed = sample_seed(s, game, len(moves), attempt)
        text = voice.sample(prompt, longest, s.temperature, seed, max_chars=longest)
        move = sampled_move(text, lead)
        if move in legal:
            return {"move": move, "tried": tried, "forced": False, "illegal_mass": illegal_mass}
        tried.append(move)
    best = max(sorted(legal), key=lambda m: probs[m])
    return {"move": best, "tried": tried, "forced": True, "illegal_mass": illegal_mass}


def play_out(voice, engine: Engine, s: MatchSettings, game: int, model_sides: set[str],
             show=lambda kind, text: None) -> dict:  # fmt: skip
    """A game from the start until it ends (the rules in the module docstring), the
    model moving for ``model_sides`` and the engine for the rest: {"moves",
    "model_moves", "end", "winner" (None: a draw), "aborted"}. ``show(kind, text)`` sees
    it happen: "board" (the FEN), "miss" (a refused try), "move". An engine that fails
    aborts the game (the moves so far kept); the caller restarts it."""
    moves: list[str] = []
    record: list[dict] = []
    try:
        end, winner = _play_out(voice, engine, s, game, model_sides, show, moves, record)
        return {"moves": moves, "model_moves": record, "end": end, "winner": winner,
                "aborted": False}  # fmt: skip
    except EngineFailure as e:
        return {"moves": moves, "model_moves": record, "end": f"aborted: {e}", "winner": None,
                "aborted": True}  # fmt: skip


def _play_out(voice, engine, s, game, model_sides, show, moves, record):
    seen: dict[str, int] = {}
    engine.send("ucinewgame")
    engine.set_skill(MAX_SKILL if s.repeatable else s.skill)
    board = engine.board(moves)
    show("board", board["Fen"])
    end, winner = "ply cap", None
    while len(moves) < s.max_plies:
        legal = engine.legal_moves(moves)
        side, ply = ("white", "black")[len(moves) % 2], len(moves) + 1
        if not legal:
            if board["Checkers"]:
                end, winner = "checkmate", "black" if side == "white" else "white"
            else:
                end = "stalemate"
            break
        if side in model_sides:
            step = model_move(voice, legal, moves, s, game)
            for tried in step["tried"]:
                show("miss", f"{ply:>3}. {side} tried {tried or '(end of game)'}")
            forced = "  (forced: no legal move sampled)" if step["forced"] else ""
            show("move", f"{ply:>3}. {side} {step['move']} (model){forced}")
            record.append({"ply": ply, **step})
            moves.append(step["move"])
        else:
            moves.append(engine_move(engine, legal, moves, s, game))
            show("move", f"{ply:>3}. {side} {moves[-1]} (engine)")
        board = engine.board(moves)  # one query: the FEN, the repetition key, checkers
        show("board", board["Fen"])
        seen[board["Key"]] = seen.get(board["Key"], 0) + 1
        if seen[board["Key"]] >= 3:
            end = "threefold repetition"
            break
    return end, winner


def play_game(voice, engine: Engine, s: MatchSettings, game: int) -> dict:
    """One harness game against the engine, the model White in even-numbered games."""
    colour = "white" if game % 2 == 0 else "black"
    out = play_out(voice, engine, s, game, {colour})
    winner, aborted = out.pop("winner"), out.pop("aborted")
    if aborted:
        engine.restart()
        result = "aborted"
    else:
        result = "draw" if winner is None else "win" if winner == colour else "loss"
    return {"game": game, "model": colour, **out, "result": result}


def play_match(voice, tier: Tier, s: MatchSettings, report=lambda text: None) -> dict:
    """``s.games`` games against the engine, then the report (``summarise``)."""
    played = []
    with Engine(tier) as engine:
        for game in range(s.games):
            played.append(play_game(voice, engine, s, game))
            report(f"game {game + 1}/{s.games}: {played[-1]['result']} ({played[-1]['end']})")
    return summarise(played, tier, s)


def _rate(k: int, n: int) -> dict:
    return {"rate": k / n if n else 0.0, "k": k, "n": n, "ci95": list(wilson(k, n))}


def summarise(played: list[dict], tier: Tier, s: MatchSettings) -> dict:
    """The harness report (schema in docs/ARCHITECTURE.md) from the games played."""
    finished = [g for g in played if g["result"] != "aborted"]
    moves = [m for g in finished for m in g["model_moves"]]
    clean = [m for m in moves if not m["tried"]]

    def first_try(selected: list[dict]) -> dict:
        return _rate(sum(1 for m in selected if not m["tried"]), len(selected))

    overall = first_try(moves)
    per_game_clean = [sum(1 for m in g["model_moves"] if not m["tried"]) for g in finished]
    per_game_moves = [len(g["model_moves"]) for g in finished]
    overall["cluster_ci95"] = list(cluster_bootstrap(per_game_clean, per_game_moves))
    phases = []
    for low, high in PHASES:

        def in_phase(m: dict, low=low, high=high) -> bool:
            return m["ply"] >= low and (high is None or m["ply"] <= high)

        inside = [m for m in moves if in_phase(m)]
        # late plies come from a few long games: resample the games, not the moves
        by_game = [[m for m in g["model_moves"] if in_phase(m)] for g in finished]
        by_game = [group for group in by_game if group]
        cluster = cluster_bootstrap([sum(1 for m in group if not m["tried"]) for group in by_game],
                                    [len(group) for group in by_game])  # fmt: skip
        phases.append({"plies": f"{low}-{high}" if high else f"{low}+", **first_try(inside),
                       "games": len(by_game), "cluster_ci95": list(cluster)})  # fmt: skip
    by_ply = []
    for start in range(1, max((m["ply"] for m in moves), default=0) + 1, BY_PLY_BIN):
        inside = [m for m in moves if start <= m["ply"] < start + BY_PLY_BIN]
        if inside:
            mass = sum(m["illegal_mass"] for m in inside) / len(inside)
            by_ply.append({"plies": [start, start + BY_PLY_BIN - 1], **first_try(inside),
                           "illegal_mass": mass})  # fmt: skip
    masses = [sum(m["illegal_mass"] for m in g["model_moves"]) for g in finished]
    retried = [m for m in moves if m["tried"] and not m["forced"]]
    forced = sum(1 for m in moves if m["forced"])
    results = {r: _rate(sum(1 for g in finished if g["result"] == r), len(finished))
               for r in ("win", "draw", "loss")}  # fmt: skip
    no_forced = sum(1 for g in finished if not any(m["forced"] for m in g["model_moves"]))
    mass_mean = sum(m["illegal_mass"] for m in moves) / len(moves) if moves else 0.0
    return {
        "instrument": f"daydream-{tier.name}",
        "tier": tier.name,
        "settings": asdict(s),
        "games": len(played),
        "aborted": len(played) - len(finished),
        "model_moves": len(moves),
        "first_try_legal": overall,
        "by_phase": phases,
        "by_ply": by_ply,
        "resamples": {
            "moves_resampled": len(retried),
            "mean_samples_when_resampled": (
                sum(len(m["tried"]) + 1 for m in retried) / len(retried) if retried else 0.0
            ),
        },
        "forced": _rate(forced, len(moves)),
        "illegal_mass": {
            "mean": mass_mean,
            "ci95": list(cluster_bootstrap(masses, per_game_moves)),
            "n": len(moves),
        },
        "games_without_forced_move": _rate(no_forced, len(finished)),
        "results": results,
        "near_misses": [
            {"game": g["game"], "ply": m["ply"], "tried": m["tried"], "played": m["move"]}
            for g in finished
            for m in g["model_moves"]
            if m["tried"]
        ][:50],
        "headline": {
            "first_try_legal": overall["rate"],
            "illegal_mass": mass_mean,
            "forced_rate": forced / len(moves) if moves else 0.0,
            "clean_moves": len(clean),
        },
        "played": played,
    }


def opponent(settings: dict) -> str:
    """The engine a report's games were against, in words."""
    rate = settings.get("random_rate")  # reports from before the repeatable opponent lack it
    if rate is None:
        return f"engine skill {settings['skill']}, depth {settings['depth']}"
    return (f"engine depth {settings['depth']} with {rate:.0%} seeded random moves "
            f"(repeatable, seed {settings['seed']})")  # fmt: skip


def match_chart(report: dict, path) -> None:
    """First-try legal rate (95% Wilson band) and mean illegal mass by ply."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = report["by_ply"]
    mid = [(r["plies"][0] + r["plies"][1]) / 2 for r in rows]
    fig, ax = plt.subplots(figsize=(7, 4), dpi=120)
    ax.plot(mid, [r["rate"] for r in rows], marker="o", label="first sample legal")
    ax.fill_between(mid, [r["ci95"][0] for r in rows], [r["ci95"][1] for r in rows], alpha=0.2)
    ax.plot(mid, [r["illegal_mass"] for r in rows], marker="s", label="illegal probability mass")
    s = report["settings"]
    ax.set(xlabel=f"ply (bins of {BY_PLY_BIN})", ylim=(0, 1.02),
           title=f"daydream-{report['tier']}: {report['games']} games vs {opponent(s)}, "
                 f"temperature {s['temperature']}")  # fmt: skip
    ax.legend(loc="lower left")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
