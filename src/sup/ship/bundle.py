"""Writing a bundle's manifest: list the directory's files with their sha256 and size,
validate the whole manifest against its schema, and write it atomically. The format
and its readers are ``sup/formats/manifest.py``."""

from __future__ import annotations

from pathlib import Path

from sup.fileio import sha256_file, write_json_atomic
from sup.formats.manifest import MANIFEST, check_player_fields, validate_manifest


def file_entries(bundle_dir: Path, names: list[str]) -> list[dict]:
    return [
        {"name": n, "sha256": sha256_file(bundle_dir / n), "size": (bundle_dir / n).stat().st_size}
        for n in names
    ]


def write_manifest(bundle_dir: Path, manifest: dict) -> dict:
    """Fill in ``files`` from what is in the directory, validate, write atomically;
    returns the manifest as written."""
    bundle_dir = Path(bundle_dir)
    names = sorted(p.name for p in bundle_dir.iterdir() if p.is_file() and p.name != MANIFEST)
    manifest = {**manifest, "files": file_entries(bundle_dir, names)}
    where = str(bundle_dir / MANIFEST)
    validate_manifest(manifest, where)
    check_player_fields(manifest, where)  # never write what a player would refuse
    write_json_atomic(bundle_dir / MANIFEST, manifest, strict=True)
    return manifest
