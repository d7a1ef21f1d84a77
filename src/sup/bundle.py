"""Export bundles: the manifest's JSON Schema, writing it, and verifying a bundle.

A bundle is a directory a player can run with numpy and onnxruntime alone::

    model.onnx        tokens [batch, seq] -> last-position logits
    model.kv.onnx     new tokens + past keys/values -> logits + present keys/values
    tokenizer.json    the run's tokenizer (sup/tokenizer.py)
    MODEL_CARD.md     releases only (sup/card.py)
    manifest.json     this module: what the files are, their sha256, how to generate

The graph signatures and the generation rule every player follows are described in
docs/ARCHITECTURE.md ("Bundles"). This module imports neither torch nor onnxruntime.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sup.errors import SupError
from sup.fileio import sha256_file, write_json_atomic

BUNDLE_FORMAT = "sup-bundle"
BUNDLE_VERSION = 1
MANIFEST = "manifest.json"
GRAPH_FULL = "model.onnx"
GRAPH_KV = "model.kv.onnx"
TOKENIZER = "tokenizer.json"
CARD = "MODEL_CARD.md"
TOKENIZER_TYPES = ("char", "byte", "bpe")  # every player (Python, browser) reads these
# An id names a release: lowercase words joined by '-', ending in a version number.
ID_PATTERN = r"^[a-z0-9][a-z0-9_.]*(-[a-z0-9_.]+)*$"

_int = {"type": "integer", "minimum": 0}
_pos_int = {"type": "integer", "minimum": 1}
_num = {"type": "number"}
_ids = {"type": "array", "items": _int}
_file = {
    "type": "object",
    "required": ["name", "sha256", "size"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$"},
        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "size": _int,
    },
}


def _obj(properties: dict, optional: tuple[str, ...] = ()) -> dict:
    """A JSON Schema object whose listed properties are all required but ``optional``."""
    required = [k for k in properties if k not in optional]
    return {"type": "object", "required": required, "properties": properties}


MANIFEST_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "sup bundle manifest",
    **_obj(
        {
            "format": {"const": BUNDLE_FORMAT},
            "version": {"const": BUNDLE_VERSION},
            "id": {"type": "string", "pattern": ID_PATTERN, "maxLength": 100},
            "created": {"type": "string"},
            "sup_version": {"type": "string"},
            "model": _obj(
                {
                    "arch": {"enum": ["base", "modern"]},
                    "params": _pos_int,
                    "n_layer": _pos_int,
                    "n_head": _pos_int,
                    "n_embd": _pos_int,
                    "head_dim": _pos_int,
                    "block_size": _pos_int,
                    "vocab_size": _pos_int,
                    "mlp": {"enum": ["gelu", "relu2", "swiglu"]},
                    "softcap": _num,
                }
            ),
            "precision": {"enum": ["fp32", "int8"]},
            "graphs": _obj({"full": {"const": GRAPH_FULL}, "kv": {"const": GRAPH_KV}}),
            "tokenizer": _obj(
                {
                    "file": {"const": TOKENIZER},
                    "type": {"enum": list(TOKENIZER_TYPES)},
                    "vocab_size": _pos_int,
                    "eot_id": _int,
                    "unk_id": {"type": ["integer", "null"]},
                }
            ),
            "generation": _obj(
                {
                    "prompt_prefix": _ids,
                    "unprompted_start": {**_ids, "minItems": 1},
                    "stop_ids": _ids,
                    "banned_ids": _ids,
                    "cache_restart_keep": _pos_int,
                    "defaults": _obj(
                        {
                            "temperature": {"type": "number", "minimum": 0},
                            "top_k": {"type": ["integer", "null"], "minimum": 1},
                            "top_p": {
                                "type": ["number", "null"],
                                "exclusiveMinimum": 0,
                                "maximum": 1,
                            },
                            "max_new_tokens": _pos_int,
                        }
                    ),
                    "demo_prompt": {"type": "string"},
                }
            ),
            "chat": {"type": ["object", "null"]},
            "metrics": {"type": ["object", "null"]},
            "training": {"type": "object"},
            "parity": _obj(
                {
                    "tolerance": _num,
                    "fp32_max_abs_diff": _num,
                    "cases": {"type": "array", "minItems": 1},
                    "kv_greedy": _obj({"tokens": _pos_int, "match": {"const": True}}),
                    "int8": _obj(
                        {
                            "floor": _num,
                            "top1_agreement": _num,
                            "bpb_cost": _num,
                            "size_ratio": _num,
                        }
                    ),
                },
                optional=("int8",),
            ),
            "files": {"type": "array", "items": _file, "minItems": 3},
        }
    ),
}


@dataclass
class Bundle:
    path: Path
    manifest: dict


def validate_manifest(manifest: dict, where: str = MANIFEST) -> None:
    import jsonschema

    try:
        jsonschema.validate(manifest, MANIFEST_SCHEMA)
    except jsonschema.ValidationError as e:
        at = "/".join(str(p) for p in e.absolute_path) or "(top level)"
        raise SupError(f"{where}: invalid manifest at {at}: {e.message}") from None


def file_entries(bundle_dir: Path, names: list[str]) -> list[dict]:
    return [
        {"name": n, "sha256": sha256_file(bundle_dir / n), "size": (bundle_dir / n).stat().st_size}
        for n in names
    ]


def write_manifest(bundle_dir: Path, manifest: dict) -> None:
    """Fill in ``files`` from what is in the directory, validate, write atomically."""
    bundle_dir = Path(bundle_dir)
    names = sorted(p.name for p in bundle_dir.iterdir() if p.is_file() and p.name != MANIFEST)
    manifest = {**manifest, "files": file_entries(bundle_dir, names)}
    validate_manifest(manifest, str(bundle_dir / MANIFEST))
    write_json_atomic(bundle_dir / MANIFEST, manifest)


def read_manifest(bundle_dir: Path) -> dict:
    path = Path(bundle_dir) / MANIFEST
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SupError(f"{bundle_dir} is not a sup bundle (no {MANIFEST})") from None
    return parse_manifest(data, str(path))


def parse_manifest(data: bytes, where: str) -> dict:
    """A manifest's JSON, checked for what every reader relies on: format and version."""
    try:
        manifest = json.loads(data)
    except (ValueError, UnicodeDecodeError) as e:
        raise SupError(f"{where} is not valid JSON ({e})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != BUNDLE_FORMAT:
        raise SupError(f"{where} is not a sup bundle manifest")
    if manifest.get("version") != BUNDLE_VERSION:
        raise SupError(
            f"{where}: bundle version {manifest.get('version')!r} is not supported by this "
            f"sup (expects {BUNDLE_VERSION}); upgrade sup or re-export"
        )
    return manifest


def file_problems(bundle_dir: Path, entries: list[dict]) -> list[str]:
    """Each listed file that is missing or whose size or sha256 differs, as a message."""
    problems = []
    for entry in entries:
        path = Path(bundle_dir) / entry["name"]
        if not path.is_file():
            problems.append(f"{path}: missing")
        elif path.stat().st_size != entry["size"]:
            problems.append(
                f"{path}: size {path.stat().st_size} bytes, manifest says {entry['size']}"
            )
        elif sha256_file(path) != entry["sha256"]:
            problems.append(f"{path}: sha256 does not match the manifest")
    return problems


def open_bundle(bundle_dir: Path, verify: bool = True) -> Bundle:
    """Read and validate the manifest; with ``verify``, check every file's sha256."""
    bundle_dir = Path(bundle_dir)
    manifest = read_manifest(bundle_dir)
    validate_manifest(manifest, str(bundle_dir / MANIFEST))
    if verify:
        problems = file_problems(bundle_dir, manifest["files"])
        if problems:
            raise SupError(f"bundle {bundle_dir} failed verification: {problems[0]}")
    return Bundle(bundle_dir, manifest)
