"""The user's model cache: verified bundles on disk, and pulling them there safely.

Layout (``ROOT`` is ``$XDG_CACHE_HOME/sup``, by default ``~/.cache/sup``)::

    ROOT/bundles/<id>/<m16>/              a complete bundle that passed verification
    ROOT/bundles/<id>/.<m16>.partial/     a pull in progress: manifest.json, finished
                                          files, and <file>.part for the one under way
    ROOT/bundles/<id>/.<m16>.lock         held (flock) by the process pulling it

``m16`` is the first 16 hex digits of the manifest's sha256, the value the registry
pins. Why this shape:

- A bundle directory appears only when a finished ``.partial`` directory is renamed
  into place, so a reader sees a whole bundle or none.
- Pulls of one bundle take its lock, so two processes never write the same files: the
  second waits, then finds the finished directory and downloads nothing.
- ``.partial`` outlives Ctrl-C and dropped connections, so the next pull continues each
  file where it stopped (``download.fetch_to``).
- Each file is checked against the manifest's sha256 before it is renamed out of its
  ``.part``, and the manifest against the registry's ``manifest_sha256``: a tampered or
  truncated download is removed, never used.
- Keying by manifest as well as id means a re-published id can never mix files.
- No name from a registry or manifest becomes a path before ``check_entry`` or
  ``check_files`` (sup/formats/) passes it, so a hostile registry cannot write outside the cache.

There is no copy of the registry here: each cached bundle carries its manifest, which
says all that ``sup list`` and offline play need.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sup.errors import SupError
from sup.fileio import sha256_bytes, sha256_file, write_bytes_atomic
from sup.formats.manifest import MANIFEST, file_problems, parse_manifest
from sup.formats.registry import check_entry, lineage_version
from sup.play.download import child, fetch_to, read_small

KEY_LEN = 16


def cache_root() -> Path:
    """``$XDG_CACHE_HOME/sup``; the XDG spec says to ignore a relative value."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    return (Path(base) if os.path.isabs(base) else Path.home() / ".cache") / "sup"


class PullProgress:
    """Hooks a pull calls as it goes. The CLI draws them; these defaults draw nothing."""

    def waiting(self, bundle_id: str) -> None:
        """Another process holds the bundle's lock; this one waits for it."""

    def start(self, bundle_id: str, total: int, done: int) -> None:
        """Downloading begins: ``total`` bytes in all, ``done`` already here from before."""

    def advance(self, nbytes: int) -> None:
        """``nbytes`` more arrived (negative: a restarted file discarded them)."""

    def finish(self) -> None:
        """The pull ended, however it ended."""


@dataclass(frozen=True)
class CachedBundle:
    id: str
    path: Path
    manifest: dict = field(repr=False, compare=False)

    @property
    def size(self) -> int:
        return sum(f["size"] for f in self.manifest["files"])

    @property
    def lineage_version(self) -> tuple[str, int] | None:
        return lineage_version(self.id)


@dataclass(frozen=True)
class PullResult:
    id: str
    path: Path
    downloaded: int  # bytes fetched by this pull (0: it was already cached)
    repaired: str | None = None  # why a damaged cached copy was replaced, if it was


def verify_dir(path: Path, manifest_sha256: str | None = None) -> tuple[dict | None, str | None]:
    """(manifest, None) when every file of the bundle at ``path`` matches, else
    (manifest or None, the first problem). With ``manifest_sha256`` (or a prefix of
    it) the manifest itself must hash to that."""
    manifest_file = Path(path) / MANIFEST
    if not manifest_file.is_file():
        return None, f"{path} has no {MANIFEST}"
    data = manifest_file.read_bytes()
    if manifest_sha256 and not sha256_bytes(data).startswith(manifest_sha256):
        return None, f"{manifest_file} does not match the registry's manifest_sha256"
    try:
        manifest = parse_manifest(data, str(manifest_file))
    except SupError as e:
        return None, str(e)
    problems = file_problems(path, manifest["files"])
    return manifest, (problems[0] if problems else None)


def cached_bundles(root: Path | None = None) -> list[CachedBundle]:
    """Every complete bundle in the cache, by id (unreadable directories are skipped)."""
    found = []
    for id_dir in sorted(_bundles(root).glob("*")):
        for path in sorted(id_dir.glob("*")):
            if path.name.startswith(".") or not (path / MANIFEST).is_file():
                continue
            try:
                manifest = parse_manifest((path / MANIFEST).read_bytes(), str(path))
            except (SupError, OSError):
                continue
            if manifest.get("id") == id_dir.name:
                found.append(CachedBundle(id_dir.name, path, manifest))
    return found


def find_cached(name: str, root: Path | None = None) -> CachedBundle | None:
    """The cached bundle for an exact id, else the newest cached version of a lineage."""
    bundles = cached_bundles(root)
    exact = [b for b in bundles if b.id == name]
    if exact:  # normally one; after a re-publication, the most recently pulled
        return max(exact, key=lambda b: b.path.stat().st_mtime)
    lineage = [b for b in bundles if b.lineage_version and b.lineage_version[0] == name]
    return max(lineage, key=lambda b: b.lineage_version[1]) if lineage else None


def cached_path(entry: dict, root: Path | None = None) -> Path:
    """Where the bundle of a registry entry lives once pulled (checked entries only)."""
    return _bundles(root) / entry["id"] / entry["manifest_sha256"][:KEY_LEN]


def pull(
    entry: dict, source: str, root: Path | None = None, progress: PullProgress | None = None
) -> PullResult:
    """Make the cache hold the verified bundle of ``entry``, fetched from the bundle
    directory ``source`` (a URL or a path). Safe to run in several processes at once."""
    progress = progress or PullProgress()
    check_entry(entry, "registry")
    final = cached_path(entry, root)
    key = entry["manifest_sha256"][:KEY_LEN]
    if final.is_dir() and verify_dir(final, entry["manifest_sha256"])[1] is None:
        return PullResult(entry["id"], final, 0)
    final.parent.mkdir(parents=True, exist_ok=True)
    try:
        with _locked(final.parent / f".{key}.lock", lambda: progress.waiting(entry["id"])):
            repaired = None
            if final.is_dir():  # finished by another process, or damaged
                repaired = verify_dir(final, entry["manifest_sha256"])[1]
                if repaired is None:
                    return PullResult(entry["id"], final, 0)
                shutil.rmtree(final)
            staging = final.parent / f".{key}.partial"
            staging.mkdir(exist_ok=True)
            manifest = _fetch_manifest(entry, source, staging)
            downloaded = _fetch_files(manifest, entry["id"], source, staging, progress)
            os.replace(staging, final)
            return PullResult(entry["id"], final, downloaded, repaired)
    finally:
        progress.finish()


def remove(name: str, root: Path | None = None) -> list[dict]:
    """Delete the cached bundle of an exact id, else of every version of a lineage (as
    ``registry.resolve`` reads names), pulls in progress included. Returns [{id, size}]
    of what went; [] if nothing did."""
    id_dirs = [d for d in sorted(_bundles(root).glob("*")) if d.is_dir()]
    doomed = [d for d in id_dirs if d.name == name] or [
        d for d in id_dirs if (lv := lineage_version(d.name)) and lv[0] == name
    ]
    removed = []
    for id_dir in doomed:
        size = sum(p.stat().st_size for p in id_dir.rglob("*") if p.is_file())
        shutil.rmtree(id_dir)
        removed.append({"id": id_dir.name, "size": size})
    return removed


def _bundles(root: Path | None) -> Path:
    return (root or cache_root()) / "bundles"


def _fetch_manifest(entry: dict, source: str, staging: Path) -> dict:
    path = staging / MANIFEST
    url = child(source, MANIFEST)
    data = path.read_bytes() if path.is_file() else read_small(url, "manifest")
    if sha256_bytes(data) != entry["manifest_sha256"]:
        path.unlink(missing_ok=True)
        raise SupError(
            f"the manifest of {entry['id']} at {url} does not match the registry's "
            "manifest_sha256 (tampered, or a stale registry); nothing was kept"
        )
    manifest = parse_manifest(data, url)
    if manifest.get("id") != entry["id"]:
        raise SupError(f"{url} describes {manifest.get('id')!r}, not {entry['id']!r}")
    if not path.is_file():
        write_bytes_atomic(path, data)
    return manifest


def _fetch_files(
    manifest: dict, bundle_id: str, source: str, staging: Path, progress: PullProgress
) -> int:
    """Download each missing file into ``staging``; returns the bytes downloaded now."""
    files = manifest["files"]
    done = sum(_present(staging, f) for f in files)
    progress.start(bundle_id, sum(f["size"] for f in files), done)
    counted = [0]

    def advance(n: int) -> None:
        counted[0] += n
        progress.advance(n)

    for f in files:
        target = staging / f["name"]
        if target.is_file():  # verified before it was renamed here
            continue
        part = staging / f"{f['name']}.part"
        url = child(source, f["name"])
        fetch_to(url, part, f["size"], advance)
        if sha256_file(part) != f["sha256"]:
            part.unlink()
            raise SupError(
                f"{f['name']} of {bundle_id} from {url} does not match its sha256 in the "
                "manifest (tampered or corrupted); it was removed. Run the command again; "
                "if this repeats, the server's copy is damaged"
            )
        os.replace(part, target)
    return counted[0]


def _present(staging: Path, entry: dict) -> int:
    """Bytes of this file already in ``staging``, finished or partial."""
    for path in (staging / entry["name"], staging / f"{entry['name']}.part"):
        if path.is_file():
            return path.stat().st_size
    return 0


@contextlib.contextmanager
def _locked(path: Path, on_wait):
    """Hold an exclusive ``flock`` on ``path``; call ``on_wait`` if we must queue."""
    import fcntl  # POSIX only, like the rest of the cache's locking

    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_wait()
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield  # closing the file releases the lock, in this process or when it dies
