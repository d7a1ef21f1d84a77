"""Project Gutenberg's Complete Works of Shakespeare (ebook 100) as a directory of works.

``sup data shakespeare`` with no ``--from`` downloads ``DEFAULT_URL`` over HTTPS (or
``--url``, e.g. a mirror or a local server), and ``--from pg100.txt`` reads a copy
already here. Either way the text goes through the same steps:

1. **Verified.** The bytes' sha256 must equal ``--sha256`` (or ``PINNED_SHA256``, when
   sup ships one for the URL). Gutenberg revises its ebooks, and this project's
   machines cannot reach it to pin a digest, so without one the download is refused
   with its digest printed: check it, then pass ``--sha256``. Nothing unverified is used.
2. **Licence stripped.** Only the text between the ``*** START OF`` and ``*** END OF``
   marker lines is kept: the header and the licence footer never reach the corpus.
3. **Split into works** by the book's own table of contents: the titles listed after the
   ``Contents`` line, each found again as a heading line after the list; a work runs
   from its heading to the next. A title that never reappears is an error.

The works are then split by work like any ``--from DIR`` (``shakespeare.py``).
"""

from __future__ import annotations

import re
import unicodedata

from sup.errors import SupError
from sup.fileio import sha256_bytes

DEFAULT_URL = "https://www.gutenberg.org/cache/epub/100/pg100.txt"
PINNED_SHA256: dict[str, str] = {}  # URL -> sha256, for copies whose digest is known
MAX_BYTES = 64 << 20  # the book is about 5.5 MB
START_RE = re.compile(r"^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG EBOOK.*$", re.M)
END_RE = re.compile(r"^\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG EBOOK.*$", re.M)


def download(url: str, sha256: str | None) -> bytes:
    """The book's bytes from ``url``, verified against ``sha256`` (see the module doc)."""
    return fetch_verified(
        url, "the Complete Works", MAX_BYTES, sha256 or PINNED_SHA256.get(url),
        "--from DIR (a directory of works, one .txt each, e.g. "
        "../shared/data/shakespeare-works) or --from pg100.txt",
    )  # fmt: skip


def fetch_verified(url: str, what: str, limit: int, sha256: str | None, offline: str) -> bytes:
    """``url``'s bytes (at most ``limit``), used only if their sha256 is ``sha256``;
    unreachable, the error says what to pass instead (``offline``)."""
    from sup.play.download import Unreachable, read_small

    try:
        data = read_small(url, what, limit=limit)
    except Unreachable as e:
        raise SupError(f"cannot download {what} ({e}); without a network, use {offline}") from None
    verify(data, sha256, url)
    return data


def verify(data: bytes, expected: str | None, where: str) -> None:
    got = sha256_bytes(data)
    if expected is None:
        raise SupError(
            f"{where}: sha256 {got} is not pinned (Gutenberg revises its ebooks); check it "
            f"and rerun with --sha256 {got}"
        )
    if got != expected.lower():
        raise SupError(f"{where}: sha256 {got} is not the expected {expected}; nothing was used")


def strip_licence(text: str, where: str) -> str:
    start, end = START_RE.search(text), END_RE.search(text)
    if not start or not end or end.start() < start.end():
        raise SupError(
            f"{where} is not a Project Gutenberg ebook: no '*** START OF THE PROJECT "
            "GUTENBERG EBOOK' and '*** END OF ...' lines around its text"
        )
    return text[start.end() : end.start()].strip("\n") + "\n"


def title_name(title: str) -> str:
    """A work's file name from its title: "THE TRAGEDY OF KING LEAR" -> the_tragedy_of_king_lear."""
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    plain = plain.lower().replace("'", "")
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")


def split_works(text: str, where: str) -> list[tuple[str, str]]:
    """(title, text) of each work, by the table of contents (see the module doc)."""
    lines = text.replace("\r\n", "\n").split("\n")
    try:
        at = next(i for i, line in enumerate(lines) if line.strip().lower() == "contents")
    except StopIteration:
        raise SupError(f"{where}: no 'Contents' line, so the works cannot be found") from None
    titles, i = [], at + 1
    while i < len(lines) and not lines[i].strip():
        i += 1
    while i < len(lines) and lines[i].strip():
        titles.append(lines[i].strip())
        i += 1
    if not titles:
        raise SupError(f"{where}: the table of contents lists no works")
    starts, search = [], i
    for title in titles:
        j = next((k for k in range(search, len(lines)) if lines[k].strip() == title), None)
        if j is None:
            raise SupError(f"{where}: the contents list {title!r}, but no such heading follows")
        starts.append(j)
        search = j + 1
    works = []
    for k, (title, start) in enumerate(zip(titles, starts, strict=True)):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        body = "\n".join(lines[start:end]).strip("\n") + "\n"
        works.append((title, body))
    return works
