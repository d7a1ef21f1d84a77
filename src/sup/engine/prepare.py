"""`sup prepare`: corpus -> tokenizer + token shards + meta.json, streamed.

Three passes over the corpus, none holding it or its token ids in memory:

1. scan: each document's characters, UTF-8 bytes and split side;
2. tokenizer: trained on the train side only (skipped for ``byte``);
3. encode: each document's chunks are encoded and appended to its split's shards
   (``shards.ShardWriter``), val's text goes to ``val.txt``, and both sides' lines are
   fingerprinted for the overlap figure (``shards.LineSet``).

Split rules (recorded in meta.json):
- one document (a single text file): the last ``val_fraction`` of the characters is
  val, the rest train, as nanoGPT does, so figures compare with its numbers.
- several documents: each document goes to val when the first 8 hex digits of the
  sha256 of its text, read as a fraction of 2**32, fall below ``val_fraction``. The rule
  does not depend on order, and identical documents always land on the same side, so
  exact duplicates can never straddle the split. Each document is followed by the
  end-of-document token.

meta.json also reports how many val lines appear verbatim in train, so an eval figure
that measures memorisation is visible. The format is in sup/formats/data.py.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sup.engine.corpus import Corpus, open_corpus
from sup.engine.shards import LineSet, ShardWriter, line_overlap
from sup.engine.vocab import Tokenizer, encode_document, save_tokenizer, train_tokenizer
from sup.errors import SupError, UsageError
from sup.fileio import sha256_file, write_json_atomic
from sup.formats.data import (
    DATA_FORMAT,
    DATA_VERSION,
    META,
    TOKENIZER,
    VAL_SEPARATOR,
    VAL_TEXT,
    token_dtype,
)
from sup.formats.tokenizer import CharTokenizer

SHARD_TOKENS = 1 << 26  # 64 Mi tokens: 128 MiB uint16 shards
Report = Callable[[str], None]


@dataclass
class Scan:
    """Pass 1: per document (in corpus order) its characters, bytes and side."""

    chars: array  # int64 per document
    val: bytearray  # 1 where the document goes to val (multi-document rule)
    val_fraction: float
    explicit: bool = False  # split in advance: train/ and val/ (corpus.py)

    @property
    def documents(self) -> int:
        return sum(1 for c in self.chars if c)

    @property
    def single(self) -> bool:
        return self.documents == 1 and not self.explicit

    def cut(self, i: int) -> int:
        """Single document: the character where val starts."""
        return int(self.chars[i] * (1 - self.val_fraction))

    def rule(self) -> str:
        vf = self.val_fraction
        if self.explicit:
            return "split in advance: the files under val/ are val, under train/ train"
        if self.single:
            return f"last {vf:g} of the characters of the single document is val"
        return f"document to val when int(sha256(text)[:8], 16) / 2**32 < {vf:g}"


def scan(corpus: Corpus, val_fraction: float) -> Scan:
    result = Scan(array("q"), bytearray(), val_fraction, explicit=corpus.kind == "split")
    for doc in corpus.documents():
        chars = 0
        digest = hashlib.sha256()
        for chunk in doc.chunks():
            digest.update(chunk.encode("utf-8"))
            chars += len(chunk)
        result.chars.append(chars)
        if result.explicit:
            result.val.append(doc.side == "val")
        else:
            result.val.append(int(digest.hexdigest()[:8], 16) / 2**32 < val_fraction)
    return result


def _char_range(chunks: Iterable[str], start: int, end: int) -> Iterator[str]:
    """The characters ``start .. end - 1`` of a document given as chunks."""
    pos = 0
    for chunk in chunks:
        a, b = max(start - pos, 0), min(end - pos, len(chunk))
        if a < b:
            yield chunk[a:b]
        pos += len(chunk)
        if pos >= end:
            return


def _split_at(chunks: Iterable[str], cut: int) -> tuple[Iterator[str], Iterator[str]]:
    """A document's chunks as its first ``cut`` characters and the rest, read once:
    the second iterator continues where the first stopped (consume them in order)."""
    source, rest = iter(chunks), []

    def head() -> Iterator[str]:
        pos = 0
        for chunk in source:
            if pos + len(chunk) <= cut:
                yield chunk
                pos += len(chunk)
                continue
            if cut > pos:
                yield chunk[: cut - pos]
            rest.append(chunk[cut - pos :])
            return

    def tail() -> Iterator[str]:
        yield from rest
        yield from source

    return head(), tail()


def documents_by_side(corpus: Corpus, plan: Scan) -> Iterator[tuple[str, Iterator[str]]]:
    """(side, chunks) for every part of every non-empty document, in corpus order; the
    single document of a one-document corpus gives its train part, then its val part."""
    for i, doc in enumerate(corpus.documents()):
        if not plan.chars[i]:
            continue
        if plan.single:
            head, tail = _split_at(doc.chunks(), plan.cut(i))
            yield "train", head
            yield "val", tail
        else:
            yield ("val" if plan.val[i] else "train"), doc.chunks()


def split_documents(corpus: Corpus, plan: Scan, side: str) -> Iterator[Iterator[str]]:
    """The documents of one side ("train" or "val"), each as a chunk iterator."""
    for i, doc in enumerate(corpus.documents()):
        if not plan.chars[i]:
            continue
        if plan.single:
            cut = plan.cut(i)
            yield _char_range(doc.chunks(), *((cut, plan.chars[i]) if side == "val" else (0, cut)))
        elif bool(plan.val[i]) == (side == "val"):
            yield doc.chunks()


def prepare(
    input_path: Path,
    tokenizer_spec: str,
    out: Path,
    val_fraction: float = 0.1,
    force: bool = False,
    shard_tokens: int = SHARD_TOKENS,
    report: Report | None = None,
    chat: dict | None = None,
) -> dict:
    """Write the data directory ``out``; returns its meta.json. With ``chat`` (a checked
    chat template) the input is conversations and the directory carries a loss mask
    (``engine/prepare_chat.py``)."""
    report = report or (lambda text: None)
    out = Path(out)
    if not 0 < val_fraction < 1:
        raise UsageError(f"--val-fraction must be between 0 and 1, got {val_fraction}")
    if shard_tokens < 1:
        raise UsageError(f"--shard-tokens must be at least 1, got {shard_tokens}")
    if out.exists() and not force:
        raise UsageError(f"{out} already exists: choose another --out or pass --force")
    if out.exists() and not (out.is_dir() and (out / META).exists()):
        raise UsageError(f"{out} is not a sup data directory; refusing to replace it")
    if chat is not None:
        from sup.engine.prepare_chat import prepare_chat

        meta, tmp = prepare_chat(
            input_path, tokenizer_spec, chat, out, val_fraction, shard_tokens, report
        )
        _replace(tmp, out)
        return meta
    corpus = open_corpus(input_path)

    report(f"reading {corpus.path}")
    plan = scan(corpus, val_fraction)
    if plan.documents == 0:
        raise SupError(f"input {corpus.path} is empty: give it some text")
    sides = _side_totals(plan)
    if not sides["train"]["chars"] or not sides["val"]["chars"]:
        side = "train" if not sides["train"]["chars"] else "val"
        raise SupError(
            f"the {side} split is empty ({plan.documents} documents): "
            "give more documents or change --val-fraction"
        )
    report(f"training the {tokenizer_spec} tokenizer on the train split")
    tok = train_tokenizer(tokenizer_spec, split_documents(corpus, plan, "train"))
    dtype = token_dtype(tok.vocab_size)

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        report("encoding")
        encoded = _encode(corpus, plan, tok, tmp, dtype, shard_tokens)
        save_tokenizer(tok, tmp / TOKENIZER)
        files = {
            **{name: sha256_file(tmp / name) for name in (TOKENIZER, VAL_TEXT)},
            **encoded["sha256"],
        }
        source = {"path": str(corpus.path), "kind": corpus.kind, "sha256": corpus.sha256(),
                  "documents": plan.documents, "chars": sum(plan.chars)}  # fmt: skip
        meta = data_meta(tok, tokenizer_spec, shard_tokens, source, plan.rule(), val_fraction,
                         sides, encoded, files)  # fmt: skip
        write_json_atomic(tmp / META, meta)
        _replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return meta


def data_meta(tok: Tokenizer, spec: str, shard_tokens: int, source: dict, rule: str,
              val_fraction: float, sides: dict, encoded: dict, files: dict) -> dict:  # fmt: skip
    """``meta.json`` of a data directory (format in ``formats/data.py``), from the source
    (path, kind, sha256, documents, chars), the split rule, each side's documents and
    chars (``sides``) and what encoding wrote (``encoded``: per side tokens and shards,
    the overlap)."""
    return {
        "format": DATA_FORMAT,
        "version": DATA_VERSION,
        "tokenizer": {"type": tok.kind, "vocab_size": tok.vocab_size, "spec": spec},
        "dtype": token_dtype(tok.vocab_size).name,
        "shard_tokens": shard_tokens,
        "source": source,
        "split": {"rule": rule, "val_fraction": val_fraction},
        "train": {**sides["train"], **encoded["train"]},
        "val": {**sides["val"], **encoded["val"]},
        "overlap": encoded["overlap"],
        "files": dict(sorted(files.items())),
    }


def _side_totals(plan: Scan) -> dict[str, dict]:
    totals = {side: {"documents": 0, "chars": 0} for side in ("train", "val")}
    if plan.single:
        i = next(i for i, c in enumerate(plan.chars) if c)
        cut = plan.cut(i)
        totals["train"].update(documents=1, chars=cut)
        totals["val"].update(documents=1, chars=plan.chars[i] - cut)
        return totals
    for i, chars in enumerate(plan.chars):
        if chars:
            side = totals["val" if plan.val[i] else "train"]
            side["documents"] += 1
            side["chars"] += chars
    return totals


def _encode(
    corpus: Corpus, plan: Scan, tok: Tokenizer, tmp: Path, dtype: np.dtype, shard_tokens: int
) -> dict:
    """Pass 3: shards for both splits, val.txt and the overlap figure."""
    writers = {s: ShardWriter(tmp, s, dtype, shard_tokens) for s in ("train", "val")}
    lines = {"train": LineSet(), "val": LineSet(keep_all=True)}
    n_bytes = {"train": 0, "val": 0}
    oov = 0
    unk = tok.unk_id if isinstance(tok, CharTokenizer) else None
    with open(tmp / VAL_TEXT, "w", encoding="utf-8", newline="") as val_text:

        def observed(side: str, chunks: Iterable[str]) -> Iterator[str]:
            for chunk in chunks:
                lines[side].add_chunk(chunk)
                n_bytes[side] += len(chunk.encode("utf-8"))
                if side == "val":
                    val_text.write(chunk)
                yield chunk
            lines[side].end_document()

        val_docs = 0
        for side, chunks in documents_by_side(corpus, plan):
            if side == "val":
                val_text.write(VAL_SEPARATOR if val_docs else "")
                val_docs += 1
            for ids in encode_document(tok, observed(side, chunks)):
                writers[side].write(ids)
                if side == "val" and unk is not None:
                    oov += int((ids == unk).sum())
            if not plan.single:
                writers[side].write(np.array([tok.eot_id]))
    result = {"overlap": line_overlap(lines["train"], lines["val"]), "sha256": {}}
    for side in ("train", "val"):
        shards = writers[side].close()
        result[side] = {"bytes": n_bytes[side], "tokens": writers[side].tokens, "shards": shards}
        result["sha256"].update(writers[side].sha256)
    result["val"]["oov_chars"] = oov
    return result


def _replace(tmp: Path, out: Path) -> None:
    if out.exists():
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)
