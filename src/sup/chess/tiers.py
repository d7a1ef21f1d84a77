"""The three daydream tiers: which Fairy-Stockfish variant each is, its board, and the
shape of a move on it.

A move is UCI text: the from-square, the to-square and an optional promotion piece, as
``e2e4``, ``c2c1q`` or, on the 12 x 10 board, ``a10c10`` and ``g4g3b`` (files ``a``
to ``l``, ranks ``1`` to ``10``; grand promotes to ``c`` chancellor and ``a`` archbishop
as well as the usual pieces).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from sup.errors import UsageError

VARIANTS_FILE = "variants.ini"


@dataclass(frozen=True)
class Tier:
    name: str
    variant: str  # Fairy-Stockfish's UCI_Variant
    files: int
    ranks: int
    promotions: str  # the pieces a pawn may become
    custom: bool = False  # defined in sup's variants.ini, not built into the engine
    summary: str = ""

    @property
    def move_re(self) -> re.Pattern:
        files = "abcdefghijkl"[: self.files]
        square = rf"[{files}](?:10|[1-9])"
        return re.compile(rf"^({square})({square})([{self.promotions}]?)$")

    def is_move(self, text: str) -> bool:
        """Whether ``text`` is a move on this board (its squares exist; says nothing
        about legality, which only the engine knows)."""
        m = self.move_re.match(text)
        return bool(m) and all(int(sq[1:]) <= self.ranks for sq in m.group(1, 2))


TIERS = {
    "micro": Tier("micro", "gardner", 5, 5, "qrbn", summary="Gardner 5x5 minichess"),
    "regular": Tier("regular", "chess", 8, 8, "qrbn", summary="standard 8x8 chess"),
    "grand": Tier(
        "grand",
        "grand12x10",
        12,
        10,
        "qrbnca",
        custom=True,
        summary="a 12x10 grand chess with chancellors and archbishops",
    ),
}


def tier(name: str) -> Tier:
    if name not in TIERS:
        raise UsageError(f"no tier {name!r}: choose {', '.join(TIERS)}")
    return TIERS[name]


def variants_path() -> Path:
    """sup's variants.ini as a real file (Fairy-Stockfish reads it by path)."""
    return Path(str(resources.files("sup.chess") / VARIANTS_FILE))
