"""The kenosha instrument as a recipe (``recipe.Instrument``): generated lines
(``kenosha.py``), a char model, and the dream score (``dream.py``), swept over training
progress when the run kept its checkpoints."""

from __future__ import annotations

from pathlib import Path

from sup.errors import SupError, UsageError
from sup.fileio import sha256_file, write_json_atomic, write_text_atomic
from sup.formats.run import RUN_FILE, kept_checkpoints
from sup.instruments import dream
from sup.instruments.kenosha import generate_corpus
from sup.instruments.recipe import CONFIGS, TINY, HarnessRequest, Instrument, Preset, manifest_path


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
    report = dream.dream_report(
        open_voice(req.target),
        corpus_text,
        samples=req.samples or dream.SAMPLES,
        tokens=req.tokens or dream.TOKENS,
    )
    kept = kept_checkpoints(req.target) if (Path(req.target) / RUN_FILE).is_file() else []
    if kept:  # a run that kept its checkpoints: the dream score over training, too
        report["sweep"] = dream.dream_sweep(
            [(step, open_voice(req.target, name)) for name, step in kept],
            samples=min(req.samples or dream.SWEEP_SAMPLES, dream.SWEEP_SAMPLES),
            tokens=min(req.tokens or dream.SWEEP_TOKENS, dream.SWEEP_TOKENS),
        )
    return report


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
            dict(TINY, arch="modern", keep_checkpoints=True),
            "char",
            "10 s",
            {"lines": 800},
            {"samples": 2, "tokens": 200},
        ),
        # Every eval's checkpoint is kept, so the harness sweeps training progress too.
        "cpu": Preset(
            "cpu",
            {"config": str(CONFIGS / "kenosha.toml"), "keep_checkpoints": True},
            "char",
            "2 min",
            {"lines": 20000},
        ),
        # The same model on a dreamier corpus: 1% of letters drift (kenosha.py), so
        # near-misses are in the data and the temperature dial has something to move.
        "dream": Preset(
            "dream",
            {"config": str(CONFIGS / "kenosha.toml"), "keep_checkpoints": True},
            "char",
            "2 min",
            {"lines": 20000, "drift": 0.01},
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
    card_notes=CONFIGS / "notes" / "kenosha-dream.md",
    corpus_name="kenosha.txt",
)
