"""Playing a daydream chess release in the terminal: ``sup daydream-micro`` (any release
whose manifest has ``game: {"kind": "chess", "tier": ...}``).

The model plays the engine (``--vs engine``, the default; ``--level`` is the engine's
skill, 0 to 20, ``--color`` the model's side) or itself (``--vs self``). Its moves follow
the harness's rule (``sup.instruments.match.model_move``): sampled at the release's
temperature, an illegal try is a near-miss, printed dim (ANSI faint on a terminal,
``(tried ...)`` in a pipe) before the move that stands, and after the resample cap the
model's most probable legal move is forced and marked so. The engine is the referee: it
lists the legal moves and ends the game. The board is drawn after each move from the
engine's FEN. ``--json`` prints the game record instead.

Game options arrive as the player's instrument flags (``cli/play.py`` passes every
``--name VALUE`` it does not know); ``parse_options`` checks them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sup.chess.engine import MAX_SKILL
from sup.errors import UsageError

ATTEMPTS = 8  # samples per model move before a legal one is forced (as in the harness)
FAINT, RESET = "\x1b[2m", "\x1b[0m"


@dataclass(frozen=True)
class GameOptions:
    vs: str = "engine"
    level: int = 0  # the engine's Skill Level
    color: str = "white"  # the model's side against the engine
    plies: int = 150


def parse_options(flags: dict[str, str]) -> GameOptions:
    """``--vs engine|self``, ``--level 0..20``, ``--color white|black``, ``--plies N``."""
    known = {"vs", "level", "color", "plies"}
    for name in flags:
        if name not in known:
            flag = "--" + name.replace("_", "-")
            raise UsageError(f"a chess release has no option {flag}: use --vs, --level, "
                             "--color or --plies")  # fmt: skip
    options = {}
    if "vs" in flags:
        if flags["vs"] not in ("engine", "self"):
            raise UsageError(f"--vs must be engine or self, got {flags['vs']!r}")
        options["vs"] = flags["vs"]
    if "color" in flags:
        if flags["color"] not in ("white", "black"):
            raise UsageError(f"--color must be white or black, got {flags['color']!r}")
        options["color"] = flags["color"]
    for name, low, high in (("level", 0, MAX_SKILL), ("plies", 1, 1000)):
        if name in flags:
            value = flags[name]
            if not re.fullmatch(r"\d{1,4}", value) or not low <= int(value) <= high:
                raise UsageError(f"--{name} must be an integer from {low} to {high}, got {value}")
            options[name] = int(value)
    return GameOptions(**options)


def board_lines(fen: str) -> list[str]:
    """The board of a FEN as text, rank numbers on the left and files below."""
    ranks = fen.split()[0].split("/")
    rows, width = [], 0
    for n, rank in zip(range(len(ranks), 0, -1), ranks, strict=True):
        squares: list[str] = []
        for count, piece in re.findall(r"(\d+)|([A-Za-z])", rank.replace("*", "")):
            squares += ["."] * int(count) if count else [piece]
        width = max(width, len(squares))
        rows.append(f"{n:>2}  " + " ".join(squares))
    return [*rows, "    " + " ".join("abcdefghijkl"[:width])]


def play(voice, tier, options: GameOptions, temperature: float, seed: int, show) -> dict:
    """One game (the harness's loop, ``match.play_out``); ``show(kind, text)`` gets each
    line as it happens (kind: "board", "move", "miss", "end"). Returns the game record."""
    from sup.chess.engine import Engine
    from sup.errors import SupError
    from sup.instruments.match import MatchSettings, play_out

    rule = MatchSettings(temperature=temperature, attempts=ATTEMPTS, skill=options.level,
                         depth=1, max_plies=options.plies, seed=seed)  # fmt: skip
    sides = {"white", "black"} if options.vs == "self" else {options.color}
    with Engine(tier) as engine:
        game = play_out(voice, engine, rule, 0, sides, show)
    if game["aborted"]:
        raise SupError(f"the engine failed mid-game ({game['end']}): try again")
    end = f"checkmate, {game['winner']} wins" if game["winner"] else game["end"]
    show("end", f"game over: {end} after {len(game['moves'])} plies")
    return {"tier": tier.name, "vs": options.vs, "level": options.level,
            "model": "both" if options.vs == "self" else options.color,
            "moves": game["moves"], "end": end, "model_moves": game["model_moves"]}  # fmt: skip


def printer(stream, safe, faint: bool):
    """``show`` for ``play``: near-misses dim on a terminal, marked in a pipe."""

    def show(kind: str, text: str) -> None:
        text = "\n".join(board_lines(text)) if kind == "board" else safe(text)
        if kind == "miss":
            text = f"{FAINT}{text}{RESET}" if faint else f"{text} (illegal)"
        stream.write(text + "\n")
        stream.flush()

    return show


# ---------------------------------------------------------------- sup serve: one move

MAX_MOVES = 1000


def parse_move_request(body: dict):
    """``POST /v1/daydream/move``: ``{"model", "moves": [UCI moves so far], "temperature"?,
    "seed"?, "reply"?: {"level": 0..20}}`` -> (model, moves, temperature or None, seed,
    the engine's reply level or None). ApiError on a bad field."""
    from sup.play.openai_api import invalid
    from sup.play.sampling import MAX_TEMPERATURE, MIN_TEMPERATURE

    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("model", "model must be a release id or lineage")
    moves = body.get("moves", [])
    if not isinstance(moves, list) or len(moves) > MAX_MOVES:
        raise invalid("moves", f"moves must be a list of at most {MAX_MOVES} UCI moves")
    for i, move in enumerate(moves):
        if not isinstance(move, str) or not re.fullmatch(r"(?:[a-l](?:10|[1-9])){2}[a-z]?", move):
            raise invalid("moves", f"moves[{i}] is not a UCI move such as e2e4")
    temperature = body.get("temperature")
    if temperature is not None and (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not (temperature == 0 or MIN_TEMPERATURE <= temperature <= MAX_TEMPERATURE)
    ):
        raise invalid("temperature", f"temperature must be 0 or from {MIN_TEMPERATURE} to "
                                     f"{MAX_TEMPERATURE}")  # fmt: skip
    seed = body.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise invalid("seed", "seed must be an integer from 0 to 2**32 - 1")
    return model, moves, temperature, seed, parse_reply(body.get("reply"))


def parse_reply(reply) -> int | None:
    """``"reply": {"level": N}``: the engine answers the model's move at Skill Level N
    (0 to 20, as ``--level``); absent or null: no reply."""
    from sup.play.openai_api import invalid

    if reply is None:
        return None
    level = reply.get("level") if isinstance(reply, dict) and set(reply) == {"level"} else None
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= MAX_SKILL:
        wanted = f"an integer from 0 to {MAX_SKILL}"
        raise invalid("reply", f'reply must be {{"level": N}} with N {wanted}')
    return level


def serve_move(lm, moves: list[str], temperature: float, seed: int,
               reply_level: int | None = None) -> dict:  # fmt: skip
    """The model's move after ``moves``, with the tries the engine refused, the position
    after it (``fen``) and how the game stands (``end``, ``winner``: see ``ending``); with
    ``reply_level``, the engine's answer too (``reply``: null when the model's move ended
    the game), so a page can play a game with one request per model move."""
    from sup.chess.engine import Engine
    from sup.chess.tiers import tier
    from sup.instruments.match import MatchSettings, model_move
    from sup.instruments.voices import Voice
    from sup.play.openai_api import invalid

    board = tier(lm.manifest["game"]["tier"])
    for i, move in enumerate(moves):  # before an engine is started for it
        if not board.is_move(move):
            raise invalid("moves", f"moves[{i}] {move} is not a square pair on this board")
    with Engine(board) as engine:
        bad = engine.replay(moves)
        if bad is not None:
            raise invalid("moves", f"moves[{bad}] {moves[bad]} is illegal in that position")
        legal = engine.legal_moves(moves)
        if not legal:
            raise invalid("moves", "the game is over: there is no legal move to make")
        rule = MatchSettings(temperature=temperature, attempts=ATTEMPTS, seed=seed)
        step = model_move(Voice("bundle", lm.bundle.path, _lm=lm), legal, moves, rule, 0)
        played = [*moves, step["move"]]
        out = {"object": "daydream.move", "ply": len(played), **step, **ending(engine, played)}
        if reply_level is not None:
            out["reply"] = None if out["end"] else engine_reply(engine, played, reply_level)
    return out


def engine_reply(engine, moves: list[str], level: int) -> dict:
    """The engine's move after ``moves`` at Skill Level ``level``, searching one ply as
    the harness's opponent does (``MatchSettings.depth``), and the game after it."""
    from sup.instruments.match import MatchSettings

    engine.set_skill(level)
    move = engine.best_move(moves, depth=MatchSettings.depth)
    played = [*moves, move]  # ending() said the game goes on: there is a legal move
    return {"ply": len(played), "move": move, **ending(engine, played)}


def ending(engine, moves: list[str]) -> dict:
    """The position after ``moves`` as a FEN, and whether the game ended there by the
    harness's rules (``match.py``): ``end`` is "checkmate" (``winner`` the side that
    moved last), "stalemate" (no legal move, not in check), "threefold repetition" (the
    position's third occurrence after a move, the start not counted, as the harness
    counts) or null while the game goes on; the ply cap is the caller's."""
    now = engine.board(moves)
    end, winner = None, None
    if not engine.legal_moves(moves):
        end = "checkmate" if now["Checkers"] else "stalemate"
        winner = ("white", "black")[(len(moves) - 1) % 2] if now["Checkers"] else None
    elif sum(engine.position_key(moves[:n]) == now["Key"] for n in range(1, len(moves))) >= 2:
        end = "threefold repetition"
    return {"fen": now["Fen"], "end": end, "winner": winner}
