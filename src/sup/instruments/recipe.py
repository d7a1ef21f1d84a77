"""The recipe interface every instrument shares: a corpus, presets, a harness and card
notes on top of the engine, as data (``Instrument``), never a fork of it.

``sup instruments`` lists them, ``sup data NAME`` builds a corpus, ``sup build NAME``
runs corpus -> prepare -> train -> harness -> release (``build.py``), and ``sup harness
NAME`` measures a run, a build or a release. The instruments themselves are in
``catalog.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import sup
from sup.errors import UsageError

CONFIGS = Path(sup.__file__).resolve().parents[2] / "configs"
# The tests' model size: seconds on 2 cores, through every step for real.
TINY = dict(n_layer=1, n_head=2, n_embd=32, block_size=16, batch_size=4, eval_iters=2,
            warmup_iters=2, learning_rate=3e-3, max_iters=40, eval_interval=20)  # fmt: skip


def manifest_path(corpus_file: Path) -> Path:
    """A one-file corpus's manifest sits beside it: ``NAME.manifest.json``."""
    return corpus_file.with_name(f"{corpus_file.stem}.manifest.json")


@dataclass(frozen=True)
class Preset:
    """One size of an instrument: its training config (``TrainConfig`` keys), tokenizer,
    corpus options and the wall time it takes on the project's 2-core CPU."""

    name: str
    config: dict
    tokenizer: str
    wall: str
    corpus: dict = field(default_factory=dict)
    harness: dict = field(default_factory=dict)  # e.g. fewer samples for tiny
    # int8 graphs in its releases (None: the instrument's ``int8``); a preset whose
    # weights quantize worse than the floor (ship/quantize.py) releases fp32 instead
    int8: bool | None = None


@dataclass(frozen=True)
class HarnessRequest:
    """What ``sup harness`` measures: a run, bundle or release directory, the corpus it
    is compared with or scored on (None: the instrument's default), options."""

    target: Path
    corpus: Path | None
    samples: int | None = None
    tokens: int | None = None
    options: dict = field(default_factory=dict)  # the instrument's own (daydream: games)


@dataclass(frozen=True)
class Instrument:
    name: str
    summary: str
    headline: str  # what the harness's headline figure is, in words
    presets: dict[str, Preset]
    # (out, --from or None, corpus options, seed) -> the corpus manifest
    make_corpus: Callable[[Path, Path | None, dict, int], dict]
    corpus_path: Callable[[Path], Path]  # the corpus as written -> what `sup prepare` reads
    harness: Callable[[HarnessRequest], dict]
    headline_value: Callable[[dict], str]  # a report -> its headline, for tables
    summary_lines: Callable[[dict], list[str]]  # a report -> what the card and CLI show
    chart: Callable[[dict, Path], None] | None = None
    demo_prompt: str = ""
    card_notes: Path | None = None
    corpus_name: str = "corpus"  # the file or directory name the corpus is written as
    # The prompt contract its releases carry (sup/formats/controls.py); None: plain text.
    controls: dict | None = None
    # A game the players run instead of free text (``{"kind": "chess", "tier": ...}``).
    game: dict | None = None
    # A chat instrument's template file (play/chat.py): its corpus is conversations,
    # prepared with a loss mask on the assistant's tokens, and its releases are chat models.
    chat: Path | None = None
    # The corpus generator's version: a generated corpus is rebuilt when it changes
    # (None: the corpus depends only on its options, seed and source).
    corpus_version: int | None = None
    # Release int8 graphs (refused when they drift from fp32: see ship/quantize.py), or
    # fp32 only, where the harness's figure depends on exact top choices.
    int8: bool = True
    # Why a harness report falls short of the instrument's release bar (None: it does
    # not, or there is no bar): `sup build --release` refuses such a model unless told
    # --below-floor, so a study never ships by default.
    release_floor: Callable[[dict], str | None] | None = None

    def preset(self, name: str) -> Preset:
        if name not in self.presets:
            raise UsageError(
                f"{self.name} has no preset {name!r}: choose {', '.join(self.presets)}"
            )
        return self.presets[name]
