"""Writing the registry: ``releases/registry.json``, generated from the bundles' manifests.

Nobody edits the registry by hand. ``build_registry`` reads every
``releases/*/manifest.json`` and writes one entry per bundle; ``sup check`` regenerates
it in memory and reports any difference, so it cannot drift from the releases. The
format, its schema and the readers players use are ``sup/formats/registry.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

from sup import __version__
from sup.errors import SupError
from sup.fileio import sha256_file, write_json_atomic
from sup.formats.manifest import CARD, MANIFEST, read_manifest
from sup.formats.registry import (
    REGISTRY_FILE,
    REGISTRY_FORMAT,
    REGISTRY_SCHEMA,
    REGISTRY_VERSION,
    split_id,
)
from sup.formats.schema import validate


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
        "int8_bits_per_byte": manifest["parity"].get("int8", {}).get("bpb_int8"),
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
    write_json_atomic(Path(releases_dir) / REGISTRY_FILE, registry, strict=True)
    return registry


def validate_registry(registry: dict, where: str) -> None:
    validate(registry, REGISTRY_SCHEMA, where, "registry")


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
