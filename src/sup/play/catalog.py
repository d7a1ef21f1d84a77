"""Where a model comes from: a bundle directory, the cache, or a registry.

``locate`` is the policy every ``sup NAME`` follows, in this order:

1. NAME is a bundle directory (it holds ``manifest.json``, or contains a ``/``): it is
   verified and played in place.
2. NAME is an exact id (``kenosha-2``) that is cached and verifies: it is played with
   no network at all. Releases are immutable, so a cached id is never stale.
3. Otherwise the registry is read, NAME resolved (an exact id, or a lineage's newest
   version) and the bundle pulled into the cache unless it is there already.
4. If the registry cannot be reached (or none is configured), the newest cached version
   of NAME is played, with a note saying so.

The registry is ``--registry``, else ``$SUP_REGISTRY`` (a URL or a path, to
``registry.json`` or to the directory holding it), else ``releases/registry.json`` of the
checkout sup runs from. Every entry's id, path and hash are checked before any of them
names a file (``formats.registry.check_entry``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import sup
from sup.errors import SupError, UsageError
from sup.formats.manifest import MANIFEST
from sup.formats.registry import (
    REGISTRY_FILE,
    bundle_url,
    check_entry,
    is_url,
    lineage_version,
    parse_registry,
    resolve,
)
from sup.play.cache import (
    PullProgress,
    PullResult,
    cached_bundles,
    cached_path,
    find_cached,
    pull,
    verify_dir,
)
from sup.play.download import Unreachable, read_small

ENV = "SUP_REGISTRY"


class NoRegistry(SupError):
    """No registry was given and this checkout has none: only the cache can help."""


@dataclass(frozen=True)
class Located:
    """A bundle ready to play: where it is, and how it was found."""

    id: str
    path: Path
    origin: str  # "directory" | "cache" | "registry" | "offline"
    pulled: PullResult | None = None  # set when origin is "registry"
    note: str | None = None  # why the registry was not used, when origin is "offline"


def registry_location(flag: str | None = None) -> str:
    """The registry to read: the flag, the environment, or this checkout's releases."""
    location = flag or os.environ.get(ENV, "")
    if not location:
        default = Path(sup.__file__).resolve().parents[2] / "releases" / REGISTRY_FILE
        if default.is_file():
            return str(default)
        raise NoRegistry(
            f"no registry configured: set {ENV} to a registry.json URL or path (or pass --registry)"
        )
    if urlparse(location).scheme == "file":
        location = url2pathname(urlparse(location).path)
    elif not is_url(location) and "://" in location:
        raise UsageError(f"registry {location!r}: only http(s) URLs and local paths work")
    if is_url(location) and location.endswith("/"):
        return location + REGISTRY_FILE
    if not is_url(location) and Path(location).is_dir():
        return str(Path(location) / REGISTRY_FILE)
    return location


def load_registry(location: str) -> dict:
    """Fetch and parse a registry, refusing any entry whose names are not plain."""
    registry = parse_registry(read_small(location, "registry").decode("utf-8", "replace"), location)
    for entry in registry["models"]:
        check_entry(entry, f"registry {location}")
    return registry


def is_bundle_path(name: str) -> bool:
    return "/" in name or os.sep in name or (Path(name) / MANIFEST).is_file()


def locate(
    name: str,
    registry: str | None = None,
    *,
    root: Path | None = None,
    progress: PullProgress | None = None,
) -> Located:
    """Find (pulling if need be) a verified bundle for ``name``; see the module doc."""
    if is_bundle_path(name):
        return _local_dir(Path(name))
    if lineage_version(name):
        hit = find_cached(name, root)
        if hit and hit.id == name and verify_dir(hit.path, hit.path.name)[1] is None:
            return Located(hit.id, hit.path, "cache")
    try:
        location = registry_location(registry)
        reg = load_registry(location)
    except (NoRegistry, Unreachable) as e:
        return _offline(name, root, str(e))
    entry = resolve(reg, name)
    pulled = pull(entry, bundle_url(location, entry), root, progress)
    return Located(entry["id"], pulled.path, "registry", pulled)


def listing(registry: str | None = None, root: Path | None = None) -> dict:
    """The registry's models, each marked cached or not; offline, the cached models.

    Returns {"registry": location, "offline": why not or None, "models": [...]}, where
    each model is the registry entry (without its file list) plus "cached" (a path or
    None).
    """
    location = None
    try:
        location = registry_location(registry)
        models = load_registry(location)["models"]
    except (NoRegistry, Unreachable) as e:
        cached = [_summary(b.manifest) | {"cached": str(b.path)} for b in cached_bundles(root)]
        if not cached:
            raise type(e)(f"{e}, and nothing is cached") from None
        return {"registry": location, "offline": str(e), "models": cached}
    rows = []
    for entry in models:
        path = cached_path(entry, root)
        row = {k: v for k, v in entry.items() if k != "files"}
        rows.append(row | {"cached": str(path) if (path / MANIFEST).is_file() else None})
    return {"registry": location, "offline": None, "models": rows}


def _local_dir(path: Path) -> Located:
    if not path.is_dir():
        raise SupError(f"no bundle directory at {path}")
    manifest, problem = verify_dir(path)
    if problem:
        raise SupError(f"bundle {path} failed verification: {problem}")
    return Located(str(manifest.get("id", path.name)), path, "directory")


def _offline(name: str, root: Path | None, reason: str) -> Located:
    hit = find_cached(name, root)
    if hit is None:
        raise Unreachable(f"{reason}, and {name!r} is not cached")
    problem = verify_dir(hit.path, hit.path.name)[1]
    if problem:
        raise SupError(f"{reason}, and the cached {hit.id} is damaged ({problem})")
    return Located(hit.id, hit.path, "offline", note=f"{reason}; playing cached {hit.id}")


def _summary(manifest: dict) -> dict:
    """What the registry would say about a cached bundle, from its manifest."""
    model, tokenizer = manifest.get("model", {}), manifest.get("tokenizer", {})
    lineage, version = lineage_version(manifest["id"]) or (manifest["id"], None)
    return {
        "id": manifest["id"],
        "lineage": lineage,
        "version": version,
        "arch": model.get("arch"),
        "params": model.get("params"),
        "block_size": model.get("block_size"),
        "precision": manifest.get("precision"),
        "tokenizer": {"type": tokenizer.get("type"), "vocab_size": tokenizer.get("vocab_size")},
        "metrics": manifest.get("metrics"),
        "int8_bits_per_byte": _int8_bits_per_byte(manifest),
        "chat": manifest.get("chat") is not None,
        "demo_prompt": manifest.get("generation", {}).get("demo_prompt"),
        "size": sum(f["size"] for f in manifest["files"]),
    }


def _int8_bits_per_byte(manifest: dict):
    """The int8 gate's bits per byte of the shipped graphs (None for fp32 bundles)."""
    parity = manifest.get("parity")
    q = parity.get("int8") if isinstance(parity, dict) else None
    return q.get("bpb_int8") if isinstance(q, dict) else None
