"""The studio's instruments, each a recipe (``recipe.Instrument``) on top of the engine.

- kenosha: generated permutations of six words (``kenosha.py``); headline, the dream
  score (``dream.py``);
- shakespeare: works split by work, the two test plays withheld (``shakespeare.py``);
  headline, bits per character on works it never read.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import sup
from sup.errors import SupError, UsageError
from sup.fileio import sha256_file, write_json_atomic, write_text_atomic
from sup.instruments import dream, shakespeare
from sup.instruments.kenosha import generate_corpus
from sup.instruments.recipe import HarnessRequest, Instrument, Preset

CONFIGS = Path(sup.__file__).resolve().parents[2] / "configs"
# The tests' model size: seconds on 2 cores, through every step for real.
TINY = dict(n_layer=1, n_head=2, n_embd=32, block_size=16, batch_size=4, eval_iters=2,
            warmup_iters=2, learning_rate=3e-3, max_iters=40, eval_interval=20)  # fmt: skip


def manifest_path(corpus_file: Path) -> Path:
    """A one-file corpus's manifest sits beside it: ``NAME.manifest.json``."""
    return corpus_file.with_name(f"{corpus_file.stem}.manifest.json")


# ----------------------------------------------------------------------------- kenosha


def kenosha_corpus(out: Path, source: Path | None, options: dict, seed: int) -> dict:
    lines, drift = options.get("lines", 20000), options.get("drift", 0.0)
    if lines < 1:
        raise UsageError("--lines must be at least 1")
    if not 0 <= drift < 1:
        raise UsageError("--drift must be in [0, 1)")
    if source is not None:
        if not Path(source).is_file():
            raise UsageError(f"--from {source} is not a text file of kenosha lines")
        try:
            text = Path(source).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise SupError(f"--from {source} is not UTF-8 text") from None
        if not text.strip():
            raise SupError(f"--from {source} is empty")
        generator = {"from": str(Path(source).resolve())}
    else:
        text = generate_corpus(lines, drift, seed)
        generator = {"name": "sup.instruments.kenosha", "lines": lines, "drift": drift,
                     "seed": seed}  # fmt: skip
    write_text_atomic(out, text)
    manifest = {
        "format": "sup-corpus",
        "instrument": "kenosha",
        "generator": generator,
        "sha256": sha256_file(out),
        "lines": text.count("\n"),
        "chars": len(text),
    }
    write_json_atomic(manifest_path(out), manifest)
    return manifest


def kenosha_harness(req: HarnessRequest) -> dict:
    from sup.instruments.voices import open_voice

    if req.corpus is not None:
        corpus_text = Path(req.corpus).read_text(encoding="utf-8")
    else:  # the default corpus is deterministic: generate it again
        corpus_text = generate_corpus(20000, 0.0, 0)
    return dream.dream_report(
        open_voice(req.target),
        corpus_text,
        samples=req.samples or dream.SAMPLES,
        tokens=req.tokens or dream.TOKENS,
    )


def kenosha_lines(report: dict) -> list[str]:
    h, c = report["headline"], report["corpus"]
    cond = next(x for x in report["conditions"] if x["temperature"] == h["temperature"])
    n = f"{cond['samples']} samples x {report['tokens_per_sample']} tokens, {cond['lines']} lines"

    def rate(key):
        r = cond[key]
        return f"{r['rate']:.3f} [{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]"

    sweep = ", ".join(
        f"{x['temperature']:g}: {x['near_miss']['rate']:.3f}" for x in report["conditions"]
    )
    return [
        f"dream score at temperature {h['temperature']:g} ({n}; 95% cluster-bootstrap "
        f"intervals): anchors {h['anchors_covered']} of 9, anchor-hit {rate('anchor')}, "
        f"near-miss lines {rate('near_miss')}, garbled {rate('garbled')}",
        f"the corpus itself: anchor-hit {c['anchor']['rate']:.3f}, near-miss "
        f"{c['near_miss']['rate']:.3f}, garbled {c['garbled']['rate']:.3f}",
        f"near-miss by temperature: {sweep} (monotonic: {report['dial']['near_miss_monotonic']}, "
        f"extremes' intervals apart: {report['dial']['extremes_separated']})",
    ]


KENOSHA = Instrument(
    name="kenosha",
    summary='dreams on six words: "you never did the kenosha kid"',
    headline="dream score: anchors covered (of 9) and near-miss line rate at temperature 0.9",
    presets={
        "tiny": Preset(
            "tiny",
            dict(TINY, arch="modern"),
            "char",
            "10 s",
            {"lines": 800},
            {"samples": 2, "tokens": 200},
        ),
        "cpu": Preset(
            "cpu", {"config": str(CONFIGS / "kenosha.toml")}, "char", "2 min", {"lines": 20000}
        ),
    },
    make_corpus=kenosha_corpus,
    corpus_path=lambda written: written,
    harness=kenosha_harness,
    headline_value=lambda r: (
        f"{r['headline']['anchors_covered']}/9 anchors, "
        f"near-miss {r['headline']['near_miss_rate']:.3f}"
    ),
    summary_lines=kenosha_lines,
    chart=dream.dream_chart,
    demo_prompt="you never",
    card_notes=CONFIGS / "notes" / "kenosha.md",
    corpus_name="kenosha.txt",
)

# ----------------------------------------------------------------------------- shakespeare


def shakespeare_corpus(out: Path, source: Path | None, options: dict, seed: int) -> dict:
    if source is None:
        raise UsageError(
            "sup data shakespeare needs --from DIR, a directory of works (one .txt each; "
            "e.g. ../shared/data/shakespeare-works): downloading Gutenberg is not built yet"
        )
    return shakespeare.build_corpus(Path(source), out)


def shakespeare_harness(req: HarnessRequest) -> dict:
    if req.corpus is None:
        raise UsageError("the shakespeare harness needs --corpus DIR (the split works)")
    if not (Path(req.target) / "run.json").is_file():
        raise UsageError(f"{req.target}: the shakespeare harness scores a run directory")
    return shakespeare.works_report(
        req.target, req.corpus, samples=req.samples or 2, tokens=req.tokens or 300
    )


def shakespeare_lines(report: dict) -> list[str]:
    lines = []
    for side, s in report["sides"].items():
        per = ", ".join(
            f"{w['work']} {w['bits_per_char']:.3f}" for w in report["works"] if w["side"] == side
        )
        lines.append(
            f"{side} works ({s['works']}, {s['chars']:,} chars): {s['bits_per_char']:.3f} "
            f"bits per character ({per})"
        )
    return lines


SHAKESPEARE = Instrument(
    name="shakespeare",
    summary="writes like Shakespeare, scored on whole works it never read",
    headline="bits per character on the test plays (else the validation works)",
    presets={
        "tiny": Preset(
            "tiny", dict(TINY, arch="modern"), "char", "15 s", {}, {"samples": 1, "tokens": 50}
        ),
        "cpu": Preset(
            "cpu", {"config": str(CONFIGS / "shakespeare-char-cpu.toml")}, "char", "10 min"
        ),
    },
    make_corpus=shakespeare_corpus,
    corpus_path=lambda written: written,
    harness=shakespeare_harness,
    headline_value=lambda r: f"{r['headline']['bits_per_char']:.3f} bpc ({r['headline']['side']})",
    summary_lines=shakespeare_lines,
    demo_prompt=shakespeare.SPEAKER_PROMPT.strip() + "\n",
    card_notes=CONFIGS / "notes" / "shakespeare.md",
    corpus_name="works",
)

INSTRUMENTS = {i.name: i for i in (KENOSHA, SHAKESPEARE)}


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
