"""The envelope every sup JSON file shares: an object with ``format`` and ``version``.

Each reader (data directory, run directory, bundle manifest, registry) opens its file
through ``parse_envelope``, so a file that is not JSON, not an object, another kind of
file or another version of this one is refused in one place, with one kind of message,
before anything reads its fields.
"""

from __future__ import annotations

import json
from pathlib import Path

from sup.errors import SupError


def parse_envelope(
    data: bytes | str,
    where: str,
    *,
    fmt: str,
    version: int,
    kind: str,
    fix: str,
    strict: bool = False,
) -> dict:
    """The JSON object in ``data`` (read from ``where``), if its ``format`` is ``fmt``
    and its ``version`` is ``version``. ``kind`` names the file in messages ("sup run
    file"); ``fix`` says what to do about a wrong version or broken JSON. ``strict``
    refuses ``NaN`` and ``Infinity``, which Python writes and reads but JSON (and so
    the browser player) does not: files other programs read are strict."""
    try:
        obj = json.loads(data, parse_constant=_refuse_constant if strict else None)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise SupError(f"{where} is not valid JSON ({e}): {fix}") from None
    if not isinstance(obj, dict) or obj.get("format") != fmt:
        raise SupError(f"{where} is not a {kind}")
    if obj.get("version") != version:
        raise SupError(
            f"{where} is version {obj.get('version')!r} of the {kind} format; this sup "
            f"reads version {version}: {fix}"
        )
    return obj


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def read_envelope(path: Path, *, missing: str, **checks) -> dict:
    """``parse_envelope`` of the file at ``path``; ``missing`` is the message when there
    is no such file (it names what the directory should have been)."""
    if not path.is_file():
        raise SupError(missing)
    return parse_envelope(path.read_bytes(), str(path), **checks)
