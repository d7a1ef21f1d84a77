"""The guppy instrument as a recipe (``recipe.Instrument``): a chatty fish trained on
generated conversations (``guppy_corpus.py``, topics in ``guppy_topics.py``), prepared
with the chat template ``configs/chat/guppy.json`` and a loss mask on the fish's own
words (``engine/prepare_chat.py``), measured on held-out prompts (``guppy_harness.py``)."""

from __future__ import annotations

from pathlib import Path

from sup.errors import UsageError
from sup.instruments.guppy_corpus import GENERATOR_VERSION
from sup.instruments.recipe import CONFIGS, TINY, HarnessRequest, Instrument, Preset

SAMPLES = 20000


def guppy_corpus(out: Path, source: Path | None, options: dict, seed: int) -> dict:
    from sup.instruments.guppy_corpus import generate

    if source is not None:
        raise UsageError("sup data guppy generates its corpus: it takes no --from")
    samples = options.get("samples", SAMPLES)
    if not 100 <= samples <= 1_000_000:
        raise UsageError(f"--samples must be from 100 to 1000000, got {samples}")
    return generate(Path(out), samples=samples, seed=seed, force=True)


def guppy_harness(req: HarnessRequest) -> dict:
    from sup.instruments.guppy_harness import REPLY_TOKENS, guppy_report
    from sup.instruments.guppy_harness import SAMPLES as PER_PROMPT
    from sup.instruments.voices import open_voice

    return guppy_report(
        open_voice(req.target),
        req.corpus,
        samples=req.samples or PER_PROMPT,
        tokens=req.tokens or REPLY_TOKENS,
        prompts_per_topic=req.options.get("prompts_per_topic"),
    )


def guppy_headline(report: dict) -> str:
    h = report["headline"]
    return (
        f"keyword {h['keyword_hit']:.2f}, style {h['style_pass']:.2f}, "
        f"unique {h['unique_sampled']:.2f}, copies {h['copy_sampled']:.2f}"
    )


def _lines(report: dict) -> list[str]:
    from sup.instruments.guppy_harness import guppy_lines

    return guppy_lines(report)


def _chart(report: dict, path: Path) -> None:
    from sup.instruments.guppy_harness import guppy_chart

    guppy_chart(report, path)


GUPPY_TINY = dict(TINY, arch="modern", block_size=256, max_iters=30, windows="documents")
GUPPY = Instrument(
    name="guppy",
    summary='a chatty fish: sup chat guppy, or sup guppy "hi guppy"',
    headline="keyword hit and style pass on held-out prompts (greedy); unique replies and "
    "verbatim copies of training answers (sampled)",
    presets={
        "tiny": Preset(
            "tiny",
            GUPPY_TINY,
            "bpe:400",
            "20 s",
            {"samples": 400},
            {"samples": 1, "tokens": 16, "prompts_per_topic": 1},
        ),
        "cpu": Preset(
            "cpu",
            {"config": str(CONFIGS / "guppy-cpu.toml")},
            "bpe:2048",
            "25 min",
            {"samples": 60000},
        ),
    },
    make_corpus=guppy_corpus,
    corpus_path=lambda written: written,
    harness=guppy_harness,
    headline_value=guppy_headline,
    summary_lines=_lines,
    chart=_chart,
    demo_prompt="hi guppy",
    card_notes=CONFIGS / "notes" / "guppy.md",
    corpus_name="conversations",
    chat=CONFIGS / "chat" / "guppy.json",
    corpus_version=GENERATOR_VERSION,
    int8=False,  # the harness measures the fp32 weights; a tiny build's int8 check fails
)
