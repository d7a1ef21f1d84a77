"""`sup prepare`: corpus -> tokenizer + train/val token arrays + meta.json.

Split rules (recorded in meta.json):
- one document (a single text file): the last ``val_fraction`` of the characters is
  val, the rest train, as nanoGPT does, so figures compare with its numbers.
- several documents: each document goes to val when the first 8 hex digits of the
  sha256 of its text, read as a fraction of 2**32, fall below ``val_fraction``. The rule
  does not depend on order, and identical documents always land on the same side, so
  exact duplicates can never straddle the split. Each document is followed by the
  end-of-document token.

The tokenizer is trained on the train split only. meta.json also reports how many val
lines appear verbatim in train, so an eval figure that measures memorisation is visible.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sup.engine.corpus import Corpus, read_corpus
from sup.engine.vocab import Tokenizer, save_tokenizer, train_tokenizer
from sup.errors import SupError, UsageError
from sup.fileio import sha256_file
from sup.formats.data import DATA_FORMAT, DATA_VERSION, VAL_SEPARATOR, token_dtype
from sup.formats.tokenizer import CharTokenizer


@dataclass
class Split:
    documents: list[str]

    @property
    def chars(self) -> int:
        return sum(len(d) for d in self.documents)

    @property
    def bytes(self) -> int:
        return sum(len(d.encode("utf-8")) for d in self.documents)


def _doc_fraction(text: str) -> float:
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) / 2**32


def split_corpus(corpus: Corpus, val_fraction: float) -> tuple[Split, Split, str]:
    docs = corpus.documents
    if len(docs) == 1:
        text = docs[0]
        cut = int(len(text) * (1 - val_fraction))
        rule = f"last {val_fraction:g} of the characters of the single document is val"
        return Split([text[:cut]]), Split([text[cut:]]), rule
    val = [d for d in docs if _doc_fraction(d) < val_fraction]
    train = [d for d in docs if _doc_fraction(d) >= val_fraction]
    rule = f"document to val when int(sha256(text)[:8], 16) / 2**32 < {val_fraction:g}"
    return Split(train), Split(val), rule


def encode_split(tok: Tokenizer, split: Split, multi_doc: bool) -> tuple[list[int], int]:
    """Encode a split; returns ids and the number of characters mapped to <unk>."""
    ids: list[int] = []
    oov = 0
    for doc in split.documents:
        if isinstance(tok, CharTokenizer):
            oov += sum(tok.unknown_chars(doc).values())
        ids.extend(tok.encode(doc, allow_unk=True))
        if multi_doc:
            ids.append(tok.eot_id)
    return ids, oov


def line_overlap(train: Split, val: Split) -> dict:
    train_lines = {line.strip() for d in train.documents for line in d.splitlines()}
    val_lines = [line.strip() for d in val.documents for line in d.splitlines() if line.strip()]
    seen = sum(1 for line in val_lines if line in train_lines)
    return {
        "val_lines": len(val_lines),
        "val_lines_in_train": seen,
        "fraction": round(seen / len(val_lines), 4) if val_lines else 0.0,
    }


def prepare(
    input_path: Path, tokenizer_spec: str, out: Path, val_fraction: float = 0.1, force: bool = False
) -> dict:
    out = Path(out)
    if not 0 < val_fraction < 1:
        raise UsageError(f"--val-fraction must be between 0 and 1, got {val_fraction}")
    if out.exists() and not force:
        raise UsageError(f"{out} already exists: choose another --out or pass --force")
    if out.exists() and not (out.is_dir() and (out / "meta.json").exists()):
        raise UsageError(f"{out} is not a sup data directory; refusing to replace it")
    corpus = read_corpus(input_path)
    train, val, rule = split_corpus(corpus, val_fraction)
    if not train.chars or not val.chars:
        side = "train" if not train.chars else "val"
        raise SupError(
            f"the {side} split is empty ({len(corpus.documents)} documents): "
            "give more documents or change --val-fraction"
        )
    tok = train_tokenizer(tokenizer_spec, train.documents)
    multi = len(corpus.documents) > 1
    train_ids, _ = encode_split(tok, train, multi)
    val_ids, val_oov = encode_split(tok, val, multi)
    dtype = token_dtype(tok.vocab_size)

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        np.asarray(train_ids, dtype=dtype).tofile(tmp / "train.bin")
        np.asarray(val_ids, dtype=dtype).tofile(tmp / "val.bin")
        save_tokenizer(tok, tmp / "tokenizer.json")
        # The raw held-out text, so `sup eval RUN --text DATA/val.txt` scores exactly it.
        (tmp / "val.txt").write_text(VAL_SEPARATOR.join(val.documents), encoding="utf-8")
        meta = {
            "format": DATA_FORMAT,
            "version": DATA_VERSION,
            "tokenizer": {"type": tok.kind, "vocab_size": tok.vocab_size, "spec": tokenizer_spec},
            "dtype": dtype.name,
            "source": {
                "path": corpus.path,
                "kind": corpus.kind,
                "sha256": corpus.sha256,
                "documents": len(corpus.documents),
                "chars": corpus.chars,
            },
            "split": {"rule": rule, "val_fraction": val_fraction},
            "train": {
                "documents": len(train.documents),
                "chars": train.chars,
                "bytes": train.bytes,
                "tokens": len(train_ids),
            },
            "val": {
                "documents": len(val.documents),
                "chars": val.chars,
                "bytes": val.bytes,
                "tokens": len(val_ids),
                "oov_chars": val_oov,
            },
            "overlap": line_overlap(train, val),
            "files": {
                name: sha256_file(tmp / name) for name in ("train.bin", "val.bin", "tokenizer.json")
            },
        }
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
        if out.exists():
            old = out.with_name(f".{out.name}.old")
            shutil.rmtree(old, ignore_errors=True)
            out.rename(old)
            tmp.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return meta
