"""Move bytes from a registry to this machine: HTTP(S) with the standard library, or a
local path. Nothing here decides what to trust; ``cache.py`` checks every sha256.

Two kinds of fetch:

- ``read_small``: a registry or a manifest, read whole into memory. The read is capped,
  so a broken or hostile server cannot make a player read forever.
- ``fetch_to``: one bundle file streamed into ``<name>.part``. A part left by an
  earlier attempt (a dropped connection, Ctrl-C, a killed process) is continued with an
  HTTP ``Range`` request; a server that ignores the range (200 instead of 206) is
  restarted from byte 0. A network failure is retried a few times, each attempt
  resuming; after that the part is kept, so running the command again resumes it. A
  source whose size contradicts the manifest is refused and its part removed; more
  bytes than the manifest's size are never written.

Errors are one-line ``SupError``s. ``Unreachable`` marks failures where the network is
at fault (refused, timed out, cut off, 5xx) rather than the content: a file download
retries those, and a player falls back to what it has cached.
"""

from __future__ import annotations

import http.client
import re
import time
from collections.abc import Callable
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.parse import urljoin
from urllib.request import Request, urlopen

from sup import __version__
from sup.errors import SupError
from sup.formats.registry import is_url

TIMEOUT_S = 30.0  # per blocking socket operation, not per download
RETRIES = 3  # extra attempts after a dropped connection, each resuming where it stopped
CHUNK = 1 << 16
USER_AGENT = f"sup/{__version__}"
SMALL_LIMIT = 32 << 20  # registries and manifests are kilobytes; refuse absurd ones

Progress = Callable[[int], None]  # called with each count of bytes written (negative: discarded)


class Unreachable(SupError):
    """The source could not be reached or the connection broke: not the content's fault."""


def child(location: str, name: str) -> str:
    """``name`` inside the directory ``location`` (a URL or a path)."""
    if is_url(location):
        return urljoin(location if location.endswith("/") else location + "/", name)
    return str(Path(location) / name)


def read_small(location: str, what: str, limit: int = SMALL_LIMIT) -> bytes:
    """The whole content of ``location``; ``what`` names it in errors ("registry")."""
    if not is_url(location):
        path = Path(location)
        if not path.is_file():
            raise SupError(f"{what} not found: {location}")
        if path.stat().st_size > limit:
            raise SupError(f"{what} {location} is larger than {limit >> 20} MiB; refusing it")
        return path.read_bytes()
    with _open(location, what) as response:
        data = _read(response, location, limit + 1)
        if len(data) > limit:
            raise SupError(f"{what} {location} is larger than {limit >> 20} MiB; refusing it")
        length = _content_length(response)
        if length is not None and len(data) < length:
            raise Unreachable(f"connection to {location} closed after {len(data)} bytes")
        return data


def fetch_to(
    location: str, part: Path, size: int, progress: Progress | None = None, retries: int = RETRIES
) -> None:
    """Make ``part`` hold the first ``size`` bytes of ``location``, resuming what is there."""
    progress = progress or (lambda n: None)
    for attempt in range(retries + 1):
        try:
            _continue(location, part, size, progress)
            return
        except Unreachable as e:  # the part keeps what arrived: try again from there
            if attempt == retries:
                have = part.stat().st_size if part.exists() else 0
                raise Unreachable(
                    f"download of {location} stopped at {have:,} of {size:,} bytes ({e}); "
                    "run the same command again to resume"
                ) from None
            time.sleep(0.2 * 2**attempt)


def _continue(location: str, part: Path, size: int, progress: Progress) -> None:
    have = part.stat().st_size if part.exists() else 0
    if have > size:  # not ours to keep: start over
        part.unlink()
        progress(-have)
        have = 0
    if have == size:
        return
    if not is_url(location):
        if not Path(location).is_file():
            raise SupError(f"bundle file not found: {location}")
        with open(location, "rb") as source:
            source.seek(have)
            length = Path(location).stat().st_size - have
            _finish(source, location, part, have, size, length, progress)
        return
    try:
        response = _open(location, "bundle file", {"Range": f"bytes={have}-"} if have else {})
    except HTTPError as e:  # only 416 gets here: the server's file ends before our part
        _refuse(part, f"{location} is shorter than the release says (HTTP {e.code})")
    with response:
        if have and (response.status != 206 or _range_start(response) != have):
            progress(-have)  # the server sends the whole file (or another range): restart
            have = 0
        _finish(response, location, part, have, size, _content_length(response), progress)


def _finish(
    source, where: str, part: Path, have: int, size: int, length: int | None, progress: Progress
) -> None:
    """Copy ``source`` (``length`` bytes announced, or None if unknown) after ``have``."""
    if length is not None and have + length > size:
        _refuse(part, f"{where} is {have + length:,} bytes but the release says {size:,}")
    _copy(source, part, have, size, progress, where)
    got = part.stat().st_size
    if got < size:
        if length is None or got < have + length:
            raise Unreachable(f"connection closed after {got:,} bytes")
        _refuse(part, f"{where} ends at {got:,} bytes but the release says {size:,}")


def _refuse(part: Path, problem: str):
    """A source whose size contradicts the manifest: drop what we have of it and stop."""
    part.unlink(missing_ok=True)
    raise SupError(f"{problem}: not the released file; the download was removed")


def _copy(source, part: Path, have: int, size: int, progress: Progress, location: str) -> None:
    """Append ``source`` to ``part`` (truncated to ``have`` bytes) up to ``size`` bytes."""
    with open(part, "r+b" if have else "wb") as out:
        out.truncate(have)
        out.seek(have)
        while have < size:
            block = _read(source, location, min(CHUNK, size - have))
            if not block:
                break
            out.write(block)
            have += len(block)
            progress(len(block))


def _read(stream, location: str, n: int) -> bytes:
    try:
        return stream.read(n)
    except (http.client.IncompleteRead, ConnectionError, TimeoutError) as e:
        raise Unreachable(_reason(e)) from None
    except OSError as e:
        raise Unreachable(f"{location}: {_reason(e)}") from None


def _open(location: str, what: str, headers: dict | None = None):
    headers = {"User-Agent": USER_AGENT, **(headers or {})}
    try:
        return urlopen(Request(location, headers=headers), timeout=TIMEOUT_S)
    except HTTPError as e:
        if e.code == 416:
            raise
        if e.code >= 500:
            raise Unreachable(f"{what} {location}: server error HTTP {e.code} {e.reason}") from None
        raise SupError(f"{what} {location}: HTTP {e.code} {e.reason}") from None
    except (http.client.InvalidURL, ValueError) as e:  # "http://host:notaport/"
        raise SupError(f"bad {what} URL {location!r} ({e})") from None
    except URLError as e:
        raise Unreachable(f"cannot reach {what} {location} ({_reason(e.reason)})") from None
    except (http.client.HTTPException, ConnectionError, TimeoutError) as e:
        raise Unreachable(f"cannot reach {what} {location} ({_reason(e)})") from None


def _content_length(response) -> int | None:
    value = response.headers.get("Content-Length")
    return int(value) if value and value.isdigit() else None


def _range_start(response) -> int | None:
    match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
    return int(match[1]) if match else None


def _reason(error) -> str:
    if isinstance(error, str):
        return error
    if isinstance(error, TimeoutError):
        return f"timed out after {TIMEOUT_S:g}s"
    return getattr(error, "strerror", None) or str(error) or type(error).__name__
