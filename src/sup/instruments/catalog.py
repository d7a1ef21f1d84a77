"""The studio's instruments, each a recipe (``recipe.Instrument``) on top of the engine,
defined beside its own parts:

- kenosha (``kenosha_recipe.py``): generated permutations of six words; headline, the
  dream score;
- shakespeare (``shakespeare_recipe.py``): works split by work, the two test plays held
  out; headline, bits per character on works it never read;
- gatsby (``gatsby_recipe.py``): stories with an obsession on a dial; headline, the dial
  and the topic rate on held-out topics;
- guppy (``guppy_recipe.py``): a chatty fish trained on generated conversations;
  headline, keyword hit and style on held-out prompts, unique replies, copies;
- daydream-micro, -regular, -grand (``daydream_recipe.py``): chess moves learned from
  games; headline, how often the first sampled move is legal against the engine.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sup.errors import UsageError
from sup.instruments.daydream_recipe import DAYDREAM_GRAND, DAYDREAM_MICRO, DAYDREAM_REGULAR
from sup.instruments.gatsby_recipe import GATSBY
from sup.instruments.guppy_recipe import GUPPY
from sup.instruments.kenosha_recipe import KENOSHA
from sup.instruments.recipe import Instrument, manifest_path
from sup.instruments.shakespeare_recipe import SHAKESPEARE

INSTRUMENTS = {
    i.name: i
    for i in (KENOSHA, SHAKESPEARE, GATSBY, GUPPY, DAYDREAM_MICRO, DAYDREAM_REGULAR, DAYDREAM_GRAND)
}


def instrument(name: str) -> Instrument:
    if name not in INSTRUMENTS:
        raise UsageError(f"no instrument named {name!r}: choose {', '.join(INSTRUMENTS)}")
    return INSTRUMENTS[name]


def remove_corpus(path: Path) -> None:
    """Remove a corpus written by ``make_corpus`` (a file and its manifest, or a dir)."""
    if path.is_dir():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
        manifest_path(path).unlink(missing_ok=True)
