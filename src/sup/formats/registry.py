"""The registry (``registry.json``): its JSON Schema, reading it, and resolving names.

A registry lists released bundles; ``sup/ship/registry.py`` generates it from their
manifests and nobody edits it by hand. Names: an id is ``LINEAGE-N`` (``kenosha-2``);
a bare lineage (``kenosha``) resolves to its highest version. Bundle paths are relative
to the registry's own location, so a registry works the same from a directory, a
static web host or ``sup serve``.

A registry is untrusted input (anyone can host one). Players read it with the standard
library only: ``parse_registry`` checks the format, the version and each entry's keys,
and ``check_entry`` checks, with the schema's own patterns, every value that becomes a
path, a cache key or a comparison before it is used. The whole schema is enforced
where registries are written and checked (``jsonschema``).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urljoin, urlparse

from sup.errors import SupError, UsageError
from sup.formats import schema as s
from sup.formats.envelope import parse_envelope
from sup.formats.manifest import ARCHS, FILE_ENTRY, PRECISIONS

REGISTRY_FORMAT = "sup-registry"
REGISTRY_VERSION = 1
REGISTRY_FILE = "registry.json"

ENTRY_FIELDS = {
    "id": {"type": "string", "pattern": s.BUNDLE_ID, "maxLength": s.MAX_ID_LENGTH},
    "lineage": {"type": "string"},
    "version": s.POSITIVE_INT,
    "path": {"type": "string", "pattern": s.BUNDLE_PATH, "maxLength": s.MAX_ID_LENGTH + 1},
    "manifest_sha256": s.SHA256_STRING,
    "card": {"type": ["string", "null"]},
    "arch": {"enum": list(ARCHS)},
    "params": s.POSITIVE_INT,
    "block_size": s.POSITIVE_INT,
    "precision": {"enum": list(PRECISIONS)},
    "tokenizer": {"type": "object", "required": ["type", "vocab_size"]},
    "metrics": {"type": ["object", "null"]},
    "chat": {"type": "boolean"},
    "demo_prompt": {"type": "string"},
    "size": s.NON_NEGATIVE_INT,
    "files": {"type": "array", "items": FILE_ENTRY},
}
# Written by every sup that knows the field, but not required of a version 1 registry
# (players must still read registries written before it existed).
OPTIONAL_ENTRY_FIELDS = {
    # int8 bundles: bits per byte of the shipped int8 graphs on the int8 gate's held-out
    # windows (manifest parity.int8.bpb_int8); null for fp32 bundles, whose graphs
    # score what ``metrics`` says (export parity)
    "int8_bits_per_byte": {"type": ["number", "null"]},
}
REGISTRY_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "sup registry",
    "type": "object",
    "required": ["format", "version", "generated_by", "models"],
    "properties": {
        "format": {"const": REGISTRY_FORMAT},
        "version": {"const": REGISTRY_VERSION},
        "generated_by": {"type": "string"},
        "models": {
            "type": "array",
            "items": {
                "type": "object",
                "required": list(ENTRY_FIELDS),
                "additionalProperties": False,
                "properties": {**ENTRY_FIELDS, **OPTIONAL_ENTRY_FIELDS},
            },
        },
    },
}


def registry_schema_errors(registry) -> list[str]:
    """Every way ``registry`` breaks the schema (needs ``jsonschema``)."""
    return s.schema_errors(registry, REGISTRY_SCHEMA)


def split_id(release_id: str) -> tuple[str, int]:
    """``kenosha-2`` -> (``kenosha``, 2); a bad id is a usage error."""
    m = s.RELEASE_ID_RE.match(release_id)
    if not m or int(m["n"]) < 1 or len(release_id) > s.MAX_ID_LENGTH:
        raise UsageError(
            f"bad release id {release_id!r}: use NAME-N with a lowercase name and a "
            "version number from 1, e.g. kenosha-1"
        )
    return m["lineage"], int(m["n"])


def lineage_version(release_id: str) -> tuple[str, int] | None:
    """``kenosha-2`` -> (``kenosha``, 2), or None for an id that is not NAME-N."""
    m = s.RELEASE_ID_RE.match(release_id)
    return (m["lineage"], int(m["n"])) if m else None


def parse_registry(text: str, where: str) -> dict:
    """Check what players rely on: the format, the version and each entry's keys."""
    registry = parse_envelope(
        text,
        f"registry {where}",
        fmt=REGISTRY_FORMAT,
        version=REGISTRY_VERSION,
        kind="sup registry",
        fix="upgrade sup, or fix the registry",
        strict=True,
    )
    models = registry.get("models")
    if not isinstance(models, list) or not all(
        isinstance(e, dict) and set(ENTRY_FIELDS) <= set(e) for e in models
    ):
        raise SupError(f"registry {where} has malformed model entries")
    return registry


def check_entry(entry: dict, where: str) -> None:
    """Refuse an entry whose values would become paths, keys or comparisons unless they
    are plain (``parse_registry`` checks only that the keys exist)."""
    for key, pattern in (
        ("id", s.BUNDLE_ID_RE),
        ("path", s.BUNDLE_PATH_RE),
        ("manifest_sha256", s.SHA256_RE),
    ):
        value = entry.get(key)
        if (
            not isinstance(value, str)
            or not pattern.match(value)
            or len(value) > s.MAX_ID_LENGTH + 1
        ):
            raise SupError(f"{where}: a model entry has a bad {key} {value!r}; refusing it")
    version = entry.get("version")
    if not isinstance(entry.get("lineage"), str) or type(version) is not int or version < 1:
        raise SupError(f"{where}: model {entry['id']} has a bad lineage or version; refusing it")


def resolve(registry: dict, name: str) -> dict:
    """The entry for an exact id, or the highest version of a lineage."""
    models = registry["models"]
    for entry in models:
        if entry["id"] == name:
            return entry
    lineage = [e for e in models if e["lineage"] == name]
    if lineage:
        return max(lineage, key=lambda e: e["version"])
    known = sorted({e["lineage"] for e in models})
    hint = f"; known: {', '.join(known)}" if known else "; the registry is empty"
    raise SupError(f"no model named {name!r} in the registry{hint} (see: sup list)")


def bundle_url(registry_location: str, entry: dict) -> str:
    """Where an entry's bundle lives: its path resolved against the registry's URL/path."""
    if is_url(registry_location):
        return urljoin(registry_location, entry["path"])
    return str(Path(registry_location).parent / entry["path"])


def is_url(location: str) -> bool:
    return urlparse(location).scheme in ("http", "https")
