"""The registry: ``releases/registry.json``, generated from the bundles' manifests.

Nobody edits the registry by hand. ``build_registry`` reads every
``releases/*/manifest.json`` and writes one entry per bundle; ``sup check`` regenerates
it in memory and reports any difference, so it cannot drift from the releases.

Names: an id is ``LINEAGE-N`` (``kenosha-2``); a bare lineage (``kenosha``) resolves to
its highest version. Bundle paths are relative to the registry's own location, so a
registry works the same from a directory, a static web host or ``sup serve``.

Players read registries with the standard library only (no jsonschema, no torch); the
schema is enforced where registries are written and checked.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urljoin, urlparse

from sup import __version__
from sup.bundle import CARD, ID_PATTERN, MANIFEST, read_manifest
from sup.errors import SupError, UsageError
from sup.fileio import sha256_file, write_json_atomic

REGISTRY_FORMAT = "sup-registry"
REGISTRY_VERSION = 1
REGISTRY_FILE = "registry.json"
RELEASE_ID = re.compile(r"^(?P<lineage>[a-z0-9][a-z0-9_.]*(?:-[a-z0-9_.]+)*?)-(?P<n>[0-9]+)$")

_files = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["name", "sha256", "size"],
        "properties": {
            "name": {"type": "string"},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "size": {"type": "integer", "minimum": 0},
        },
    },
}
ENTRY_FIELDS = {
    "id": {"type": "string", "pattern": ID_PATTERN},
    "lineage": {"type": "string"},
    "version": {"type": "integer", "minimum": 1},
    "path": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9_.-]*/$"},
    "manifest_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
    "card": {"type": ["string", "null"]},
    "arch": {"enum": ["base", "modern"]},
    "params": {"type": "integer", "minimum": 1},
    "block_size": {"type": "integer", "minimum": 1},
    "precision": {"enum": ["fp32", "int8"]},
    "tokenizer": {"type": "object", "required": ["type", "vocab_size"]},
    "metrics": {"type": ["object", "null"]},
    "chat": {"type": "boolean"},
    "demo_prompt": {"type": "string"},
    "size": {"type": "integer", "minimum": 0},
    "files": _files,
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
                "properties": ENTRY_FIELDS,
            },
        },
    },
}


def split_id(release_id: str) -> tuple[str, int]:
    """``kenosha-2`` -> (``kenosha``, 2); a bad id is a usage error."""
    m = RELEASE_ID.match(release_id)
    if not m or int(m["n"]) < 1 or len(release_id) > 100:
        raise UsageError(
            f"bad release id {release_id!r}: use NAME-N with a lowercase name and a "
            "version number from 1, e.g. kenosha-1"
        )
    return m["lineage"], int(m["n"])


def registry_entry(bundle_dir: Path) -> dict:
    bundle_dir = Path(bundle_dir)
    manifest = read_manifest(bundle_dir)
    lineage, version = split_id(manifest["id"])
    if bundle_dir.name != manifest["id"]:
        raise SupError(f"{bundle_dir}: directory name differs from its id {manifest['id']!r}")
    names = {f["name"] for f in manifest["files"]}
    return {
        "id": manifest["id"],
        "lineage": lineage,
        "version": version,
        "path": f"{manifest['id']}/",
        "manifest_sha256": sha256_file(bundle_dir / MANIFEST),
        "card": f"{manifest['id']}/{CARD}" if CARD in names else None,
        "arch": manifest["model"]["arch"],
        "params": manifest["model"]["params"],
        "block_size": manifest["model"]["block_size"],
        "precision": manifest["precision"],
        "tokenizer": {
            "type": manifest["tokenizer"]["type"],
            "vocab_size": manifest["tokenizer"]["vocab_size"],
        },
        "metrics": manifest["metrics"],
        "chat": manifest.get("chat") is not None,
        "demo_prompt": manifest["generation"]["demo_prompt"],
        "size": sum(f["size"] for f in manifest["files"]),
        "files": manifest["files"],
    }


def build_registry(releases_dir: Path) -> dict:
    """The registry for every bundle under ``releases_dir``, newest version first."""
    releases_dir = Path(releases_dir)
    entries = [
        registry_entry(d)
        for d in sorted(releases_dir.iterdir())
        if d.is_dir() and not d.name.startswith(".") and (d / MANIFEST).exists()
    ]
    entries.sort(key=lambda e: (e["lineage"], -e["version"]))
    registry = {
        "format": REGISTRY_FORMAT,
        "version": REGISTRY_VERSION,
        "generated_by": f"sup {__version__}",
        "models": entries,
    }
    validate_registry(registry, str(releases_dir / REGISTRY_FILE))
    return registry


def write_registry(releases_dir: Path) -> dict:
    registry = build_registry(releases_dir)
    write_json_atomic(Path(releases_dir) / REGISTRY_FILE, registry)
    return registry


def validate_registry(registry: dict, where: str) -> None:
    errors = schema_errors(registry)
    if errors:
        raise SupError(f"{where}: invalid registry {errors[0]}")


def schema_errors(registry) -> list[str]:
    """Every way ``registry`` breaks REGISTRY_SCHEMA, as "at PATH: why" (empty: valid)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(REGISTRY_SCHEMA)
    errors = sorted(validator.iter_errors(registry), key=lambda e: list(map(str, e.path)))
    return [f"at {'/'.join(map(str, e.path)) or '(top level)'}: {e.message}" for e in errors]


def registry_differences(found: dict, expected: dict, limit: int = 5) -> list[str]:
    """How a registry read from disk differs from the one the manifests generate.

    Entries are matched by id; each difference names the entry and the field
    (``kenosha-1: metrics.bits_per_char is 0.5 in the registry, 0.6035 in the
    manifest``), at most ``limit`` fields per entry. ``generated_by`` is not compared:
    a registry written by an older sup is still correct if every entry is.
    """
    have = {e.get("id"): e for e in found.get("models", []) if isinstance(e, dict)}
    want = {e["id"]: e for e in expected["models"]}
    out = []
    for key in ("format", "version"):
        if found.get(key) != expected[key]:
            out.append(f"{key} is {found.get(key)!r}, expected {expected[key]!r}")
    for rid in want.keys() - have.keys():
        out.append(f"{rid}: released (manifest found) but missing from the registry")
    for rid in have.keys() - want.keys():
        out.append(f"{rid}: listed in the registry but no bundle {rid}/ has that id")
    for rid in sorted(want.keys() & have.keys()):
        diffs = list(_field_differences(have[rid], want[rid], ""))
        out += [f"{rid}: {d}" for d in diffs[:limit]]
        if len(diffs) > limit:
            out.append(f"{rid}: ... and {len(diffs) - limit} more differences")
    order = [e.get("id") for e in found.get("models", []) if isinstance(e, dict)]
    if not out and order != [e["id"] for e in expected["models"]]:
        out.append("models are not in the generated order (by lineage, newest first)")
    return out


def _field_differences(have, want, path: str):
    if isinstance(want, dict) and isinstance(have, dict):
        for key in sorted(want.keys() | have.keys()):
            sub = f"{path}.{key}" if path else key
            if key not in have:
                yield f"{sub} is missing (generated: {_short(want[key])})"
            elif key not in want:
                yield f"{sub} is not a generated field"
            else:
                yield from _field_differences(have[key], want[key], sub)
    elif isinstance(want, list) and isinstance(have, list) and len(want) == len(have):
        for i, (h, w) in enumerate(zip(have, want, strict=True)):
            yield from _field_differences(h, w, f"{path}[{i}]")
    elif have != want or type(have) is not type(want):
        yield f"{path} is {_short(have)} in the registry, {_short(want)} in the manifest"


def _short(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def parse_registry(text: str, where: str) -> dict:
    """Check what players rely on: the format, the version and each entry's keys."""
    try:
        registry = json.loads(text)
    except ValueError as e:
        raise SupError(f"registry {where} is not valid JSON ({e})") from None
    if not isinstance(registry, dict) or registry.get("format") != REGISTRY_FORMAT:
        raise SupError(f"{where} is not a sup registry")
    if registry.get("version") != REGISTRY_VERSION:
        raise SupError(
            f"registry {where} has version {registry.get('version')!r}; this sup reads "
            f"version {REGISTRY_VERSION}: upgrade sup"
        )
    models = registry.get("models")
    if not isinstance(models, list) or not all(
        isinstance(e, dict) and set(ENTRY_FIELDS) <= set(e) for e in models
    ):
        raise SupError(f"registry {where} has malformed model entries")
    return registry


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
