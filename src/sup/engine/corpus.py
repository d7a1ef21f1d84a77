"""Read a corpus into documents: a text file, a directory of text files, or JSONL.

A single text file is one document. A directory gives one document per file (sorted by
relative path, hidden files skipped). JSONL gives one document per line, from its
``text`` field.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from sup.errors import SupError
from sup.fileio import sha256_file


@dataclass
class Corpus:
    documents: list[str]
    kind: str  # "text" | "dir" | "jsonl"
    path: str
    sha256: str

    @property
    def chars(self) -> int:
        return sum(len(d) for d in self.documents)


def _read_utf8(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise SupError(f"{path} is not UTF-8 text (byte {e.start}): convert it first") from None


def _read_jsonl(path: Path) -> list[str]:
    docs = []
    for lineno, line in enumerate(_read_utf8(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise SupError(f"{path}:{lineno}: not valid JSON ({e.msg})") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            raise SupError(f'{path}:{lineno}: each JSONL line needs a string "text" field')
        docs.append(obj["text"])
    return docs


def read_corpus(path: Path) -> Corpus:
    path = Path(path)
    if not path.exists():
        raise SupError(f"input not found: {path}")
    if path.is_dir():
        files = sorted(
            p
            for p in path.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not files:
            raise SupError(f"input directory {path} has no files")
        digest = hashlib.sha256()
        docs = []
        for f in files:
            digest.update(f"{f.relative_to(path).as_posix()}\0{sha256_file(f)}\n".encode())
            docs.append(_read_utf8(f))
        corpus = Corpus(docs, "dir", str(path), digest.hexdigest())
    elif path.suffix == ".jsonl":
        corpus = Corpus(_read_jsonl(path), "jsonl", str(path), sha256_file(path))
    else:
        corpus = Corpus([_read_utf8(path)], "text", str(path), sha256_file(path))
    corpus.documents = [d for d in corpus.documents if d]
    if corpus.chars == 0:
        raise SupError(f"input {path} is empty: give it some text")
    return corpus
