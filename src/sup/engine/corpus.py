"""Read a corpus as documents, streamed: a text file, a directory of text files, or JSONL.

A single text file is one document. A directory gives one document per file (sorted by
relative path, hidden files skipped). A directory holding ``train/`` and ``val/``
subdirectories is a corpus split in advance (an instrument's split by work or topic):
its documents are those two subdirectories' files, each on its side, and anything else
in it (a ``test/`` of held-out works) is never read. JSONL gives one document per
non-blank line, from its ``text`` field. Empty documents are skipped.

Nothing here holds a corpus in memory: ``Document.chunks()`` yields a document's text
in pieces of about ``CHUNK_BYTES`` (a JSONL document is one piece, its line), and every
pass over the corpus reads it again. Text is decoded as UTF-8 with universal newlines
(``\\r\\n`` and ``\\r`` become ``\\n``), as ``open()`` in text mode does, so a document's
text is what ``Path.read_text()`` would return.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sup.errors import SupError
from sup.fileio import sha256_file

CHUNK_BYTES = 1 << 20
SIDES = ("train", "val")


@dataclass(frozen=True)
class Document:
    """One document, read again each time ``chunks()`` is called."""

    where: str  # for messages: a path, or path:line for JSONL
    chunks: Callable[[], Iterator[str]]
    side: str | None = None  # "train" or "val" in a corpus split in advance


@dataclass(frozen=True)
class Corpus:
    path: Path
    kind: str  # "text" | "dir" | "split" (a dir with train/ and val/) | "jsonl"
    files: tuple[Path, ...]  # what is read, in order

    def documents(self) -> Iterator[Document]:
        if self.kind == "jsonl":
            yield from _jsonl_documents(self.path)
            return
        for f in self.files:
            side = f.relative_to(self.path).parts[0] if self.kind == "split" else None
            yield Document(str(f), lambda f=f: read_text_chunks(f), side)

    def sha256(self) -> str:
        """The source's identity: the file's sha256, or for a directory the sha256 of
        each file's relative path and sha256, in order."""
        if self.kind not in ("dir", "split"):
            return sha256_file(self.path)
        digest = hashlib.sha256()
        for f in self.files:
            digest.update(f"{f.relative_to(self.path).as_posix()}\0{sha256_file(f)}\n".encode())
        return digest.hexdigest()


def open_corpus(path: Path) -> Corpus:
    path = Path(path)
    if not path.exists():
        raise SupError(f"input not found: {path}")
    if path.is_dir():
        split = all((path / side).is_dir() for side in SIDES)
        roots = [path / side for side in SIDES] if split else [path]
        files = sorted(
            p
            for root in roots
            for p in root.rglob("*")
            if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)
        )
        if not files:
            raise SupError(f"input directory {path} has no files")
        return Corpus(path, "split" if split else "dir", tuple(files))
    kind = "jsonl" if path.suffix == ".jsonl" else "text"
    return Corpus(path, kind, (path,))


def read_text_chunks(path: Path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[str]:
    """The text of a UTF-8 file in pieces, newlines translated; never a split character.
    A leading byte-order mark is an encoding signature, not text: it is dropped."""
    utf8 = codecs.getincrementaldecoder("utf-8-sig")  # drops a BOM at the start only
    decoder = io.IncrementalNewlineDecoder(utf8(), translate=True)
    offset = 0
    with open(path, "rb") as f:
        while True:
            block = f.read(chunk_bytes)
            try:
                text = decoder.decode(block, final=not block)
            except UnicodeDecodeError as e:
                at = max(offset + e.start, 0)
                raise SupError(f"{path} is not UTF-8 text (byte {at}): convert it first") from None
            offset += len(block)
            if text:
                yield text
            if not block:
                return


def _jsonl_documents(path: Path) -> Iterator[Document]:
    """One document per line, lines cut at ``\n`` only: U+2028, U+0085 and the other
    characters ``str.splitlines`` breaks at are ordinary text inside a JSON string."""
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8")
            except UnicodeDecodeError as e:
                raise SupError(f"{path}:{lineno}: not UTF-8 text (byte {e.start})") from None
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise SupError(f"{path}:{lineno}: not valid JSON ({e.msg})") from None
            if isinstance(obj, dict) and "messages" in obj and "text" not in obj:
                raise SupError(
                    f"{path}:{lineno}: this line is a conversation: prepare chat corpora "
                    "with --chat TEMPLATE.json"
                )
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                raise SupError(f'{path}:{lineno}: each JSONL line needs a string "text" field')
            text = obj["text"]
            yield Document(f"{path}:{lineno}", lambda text=text: iter((text,) if text else ()))
