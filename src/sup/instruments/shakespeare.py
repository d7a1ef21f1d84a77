"""The shakespeare instrument: a corpus of works split by work, and a harness that
scores whole works the model has never read.

Corpus (``build_corpus``): a directory of plain-text works, one per file (the shared
``shakespeare-works/`` is 40 of them), becomes::

    OUT/train/NAME.txt    every other work
    OUT/val/NAME.txt      VAL_WORKS (a fixed, documented set)
    OUT/test/NAME.txt     TEST_WORKS: King Lear and Macbeth, whenever the source has them
    OUT/manifest.json     source, sha256 per work, which side each is on, counts

``sup prepare`` reads ``train/`` and ``val/`` as a split made in advance and never
reads ``test/`` (engine/corpus.py), so no preset trains on the test plays. A work is
named by its file name (lowercase, ``_`` for spaces), which is how the test plays are
recognised.

Harness (``works_report``): bits per character and per byte of each val and test work,
scored whole by ``sup eval``'s exact accounting (every character, unknown ones charged:
formats/accounting.py), by a run's checkpoint or a release's own graphs; the
character-weighted mean per side; how many of each held-out work's lines occur verbatim
in the train works; and samples from a play-format prompt (a speaker line, as the 1998
etexts write them).
"""

from __future__ import annotations

import json
from pathlib import Path

from sup.errors import SupError, UsageError
from sup.fileio import atomic_dir, sha256_file, write_json_atomic

VAL_WORKS = ("julius_caesar", "twelfth_night", "sonnets")  # a tragedy, a comedy, verse
TEST_WORKS = ("king_lear", "macbeth")
SIDES = ("train", "val", "test")
SPEAKER_PROMPT = "\n\nHam.\n"
CORPUS_FORMAT = "sup-corpus"


def work_name(path: Path) -> str:
    return path.stem.lower().replace(" ", "_").replace("-", "_")


def side_of(name: str) -> str:
    """A work's side, by its name's words: ``the_tragedy_of_king_lear`` (Gutenberg's
    title) and ``king_lear`` (the shared directory's) are both the test play."""

    def named(works) -> bool:
        return any(f"_{w}_" in f"_{name}_" for w in works)

    return "test" if named(TEST_WORKS) else "val" if named(VAL_WORKS) else "train"


def build_corpus(source: Path, out: Path, described: dict | None = None) -> dict:
    """Write the split corpus ``out`` from a directory of works; returns its manifest.
    ``described`` replaces the source's path in the manifest (a download's URL)."""
    source = Path(source)
    if not source.is_dir():
        raise UsageError(f"--from {source} is not a directory of works (one text file each)")
    works = sorted(p for p in source.iterdir() if p.is_file() and p.suffix == ".txt")
    if not works:
        raise SupError(f"--from {source} holds no works (*.txt files, one work each)")
    sides = {work_name(p): side_of(work_name(p)) for p in works}
    if "train" not in sides.values() or "val" not in sides.values():
        raise SupError(
            f"--from {source}: a corpus needs training works and the validation works "
            f"({', '.join(VAL_WORKS)}); found {len(works)} works"
        )
    out = Path(out)
    with atomic_dir(out) as tmp:
        entries = []
        for path in works:
            name = work_name(path)
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                raise SupError(f"{path} is not UTF-8 text") from None
            (tmp / sides[name]).mkdir(exist_ok=True)
            (tmp / sides[name] / f"{name}.txt").write_text(text, encoding="utf-8")
            entries.append({"work": name, "side": sides[name], "chars": len(text),
                            "sha256": sha256_file(path)})  # fmt: skip
        manifest = {
            "format": CORPUS_FORMAT,
            "instrument": "shakespeare",
            "source": described or str(source.resolve()),
            "split": f"by work: val {list(VAL_WORKS)}, test {list(TEST_WORKS)} (never read "
            "by sup prepare), the rest train",
            "counts": {s: sum(e["side"] == s for e in entries) for s in ("train", "val", "test")},
            "chars": {
                s: sum(e["chars"] for e in entries if e["side"] == s)
                for s in ("train", "val", "test")
            },
            "works": entries,
        }
        write_json_atomic(tmp / "manifest.json", manifest)
    return manifest


def works_report(target: Path, corpus: Path, samples: int = 2, tokens: int = 300) -> dict:
    """Bits per character of every val and test work of ``corpus`` under ``target`` (a
    run's best checkpoint, or a bundle's own graphs), and ``samples`` speaker-prompted
    samples (seeds 0..samples-1)."""
    from sup.instruments.voices import open_voice

    corpus = Path(corpus)
    manifest = read_corpus_manifest(corpus)
    voice = open_voice(Path(target))
    seen = train_lines(corpus)
    works = []
    for entry in manifest["works"]:
        if entry["side"] == "train":
            continue
        text = (corpus / entry["side"] / f"{entry['work']}.txt").read_text(encoding="utf-8")
        r = voice.score(text)
        lines = [line.strip() for line in text.split("\n") if line.strip()]
        works.append({"work": entry["work"], "side": entry["side"], "chars": r["chars"],
                      "bits_per_char": r["bits_per_char"], "bits_per_byte": r["bits_per_byte"],
                      "oov_chars": r["oov_chars"], "lines": len(lines),
                      "lines_in_train": sum(line in seen for line in lines)})  # fmt: skip
    sides = {}
    for side in ("val", "test"):
        mine = [w for w in works if w["side"] == side]
        if mine:
            chars = sum(w["chars"] for w in mine)
            sides[side] = {
                "works": len(mine),
                "chars": chars,
                "bits_per_char": sum(w["bits_per_char"] * w["chars"] for w in mine) / chars,
            }
    texts = [voice.sample(SPEAKER_PROMPT, tokens, 0.8, seed) for seed in range(samples)]
    headline_side = "test" if "test" in sides else "val"
    return {
        "instrument": "shakespeare",
        "scored": voice.kind,  # "run" (PyTorch, fp32) or "bundle" (its ONNX graphs)
        "works": works,
        "sides": sides,
        "headline": {"side": headline_side, "bits_per_char": sides[headline_side]["bits_per_char"]},
        "samples": [
            {"prompt": SPEAKER_PROMPT, "seed": s, "temperature": 0.8, "text": t}
            for s, t in enumerate(texts)
        ],
    }


def train_lines(corpus: Path) -> set[str]:
    """Every non-empty line (stripped) of the train works: a held-out work's lines found
    here are reported (``lines_in_train``): stage directions and short speeches recur
    across plays ("Exeunt.", "My lord?"), whole works never do."""
    lines = set()
    for path in sorted((Path(corpus) / "train").glob("*.txt")):
        lines.update(line.strip() for line in path.read_text(encoding="utf-8").split("\n"))
    lines.discard("")
    return lines


def read_corpus_manifest(corpus: Path) -> dict:
    """A works corpus's manifest.json, with the fields the harness reads checked."""
    path = Path(corpus) / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        works = manifest["works"]
        if not all(isinstance(w["work"], str) and w["side"] in SIDES for w in works):
            raise TypeError
    except FileNotFoundError:
        raise UsageError(f"{corpus} is not a shakespeare corpus (no manifest.json): give "
                         "the directory `sup data shakespeare` wrote") from None  # fmt: skip
    except (ValueError, UnicodeDecodeError, KeyError, TypeError):
        raise SupError(
            f"{path} is damaged: write the corpus again with sup data shakespeare"
        ) from None
    for w in works:
        if not (corpus / w["side"] / f"{w['work']}.txt").is_file() and w["side"] != "train":
            raise SupError(f"{corpus}: {w['side']}/{w['work']}.txt is missing")
    return manifest
