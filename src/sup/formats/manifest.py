"""The bundle manifest (``manifest.json``): its JSON Schema, and reading and verifying
a bundle directory. Torch-free and jsonschema-free, so every player can use it.

A bundle is a directory a player can run with numpy and onnxruntime alone::

    model.onnx        tokens [batch, seq] -> last-position logits
    model.kv.onnx     new tokens + past keys/values -> logits + present keys/values
    tokenizer.json    the run's tokenizer (sup/formats/tokenizer.py)
    MODEL_CARD.md     releases only (sup/ship/card.py)
    manifest.json     what the files are, their sha256, how to generate

The graph signatures and the generation rule every player follows are described in
docs/ARCHITECTURE.md ("Bundles"). Writing a manifest is ``sup/ship/bundle.py``.

Two levels of checking: ``parse_manifest`` is what a player relies on (format,
version, a file list of plain names with sha256s and sizes, checked with the schema's
own patterns); ``validate_manifest`` checks the whole schema (writers and ``sup check``,
which have ``jsonschema``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sup.errors import SupError
from sup.fileio import sha256_file
from sup.formats import schema as s
from sup.formats.envelope import parse_envelope
from sup.formats.tokenizer import TOKENIZER_TYPES

BUNDLE_FORMAT = "sup-bundle"
BUNDLE_VERSION = 1
MANIFEST = "manifest.json"
GRAPH_FULL = "model.onnx"
GRAPH_KV = "model.kv.onnx"
TOKENIZER = "tokenizer.json"
CARD = "MODEL_CARD.md"
ARCHS = ("base", "modern")
MLPS = ("gelu", "relu2", "swiglu")
PRECISIONS = ("fp32", "int8")

_ids = {"type": "array", "items": s.NON_NEGATIVE_INT}
FILE_ENTRY = {
    "type": "object",
    "required": ["name", "sha256", "size"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "pattern": s.FILE_NAME, "maxLength": s.MAX_FILE_NAME_LENGTH},
        "sha256": s.SHA256_STRING,
        "size": s.NON_NEGATIVE_INT,
    },
}

MANIFEST_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "sup bundle manifest",
    **s.obj(
        {
            "format": {"const": BUNDLE_FORMAT},
            "version": {"const": BUNDLE_VERSION},
            "id": {"type": "string", "pattern": s.BUNDLE_ID, "maxLength": s.MAX_ID_LENGTH},
            "created": {"type": "string"},
            "sup_version": {"type": "string"},
            "model": s.obj(
                {
                    "arch": {"enum": list(ARCHS)},
                    "params": s.POSITIVE_INT,
                    "n_layer": s.POSITIVE_INT,
                    "n_head": s.POSITIVE_INT,
                    "n_embd": s.POSITIVE_INT,
                    "head_dim": s.POSITIVE_INT,
                    "block_size": s.POSITIVE_INT,
                    "vocab_size": s.POSITIVE_INT,
                    "mlp": {"enum": list(MLPS)},
                    "softcap": s.NUMBER,
                }
            ),
            "precision": {"enum": list(PRECISIONS)},
            "graphs": s.obj({"full": {"const": GRAPH_FULL}, "kv": {"const": GRAPH_KV}}),
            "tokenizer": s.obj(
                {
                    "file": {"const": TOKENIZER},
                    "type": {"enum": list(TOKENIZER_TYPES)},
                    "vocab_size": s.POSITIVE_INT,
                    "eot_id": s.NON_NEGATIVE_INT,
                    "unk_id": {"type": ["integer", "null"]},
                }
            ),
            "generation": s.obj(
                {
                    "prompt_prefix": _ids,
                    "unprompted_start": {**_ids, "minItems": 1},
                    "stop_ids": _ids,
                    "banned_ids": _ids,
                    "cache_restart_keep": s.POSITIVE_INT,
                    "defaults": s.obj(
                        {
                            "temperature": {"type": "number", "minimum": 0},
                            "top_k": {"type": ["integer", "null"], "minimum": 1},
                            "top_p": {
                                "type": ["number", "null"],
                                "exclusiveMinimum": 0,
                                "maximum": 1,
                            },
                            "max_new_tokens": s.POSITIVE_INT,
                        }
                    ),
                    "demo_prompt": {"type": "string"},
                }
            ),
            "chat": {"type": ["object", "null"]},
            "metrics": {"type": ["object", "null"]},
            "training": {"type": "object"},
            "parity": s.obj(
                {
                    "tolerance": s.NUMBER,
                    "fp32_max_abs_diff": s.NUMBER,
                    "cases": {"type": "array", "minItems": 1},
                    "kv_greedy": s.obj({"tokens": s.POSITIVE_INT, "match": {"const": True}}),
                    "int8": s.obj(
                        {
                            "floor": s.NUMBER,
                            "top1_agreement": s.NUMBER,
                            "bpb_cost": s.NUMBER,
                            "size_ratio": s.NUMBER,
                            # the KV graph's figures are the fields above; the full graph's:
                            "full": s.obj(
                                {
                                    "top1_agreement": s.NUMBER,
                                    "positions": s.POSITIVE_INT,
                                    "lengths": {"type": "array", "items": s.POSITIVE_INT},
                                }
                            ),
                        }
                    ),
                },
                optional=("int8",),
            ),
            "files": {"type": "array", "items": FILE_ENTRY, "minItems": 3},
        }
    ),
}


@dataclass
class Bundle:
    path: Path
    manifest: dict


def validate_manifest(manifest: dict, where: str = MANIFEST) -> None:
    """The whole schema (needs ``jsonschema``: writers and ``sup check``)."""
    s.validate(manifest, MANIFEST_SCHEMA, where, "manifest")


def manifest_schema_errors(manifest) -> list[str]:
    return s.schema_errors(manifest, MANIFEST_SCHEMA)


def read_manifest(bundle_dir: Path) -> dict:
    path = Path(bundle_dir) / MANIFEST
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SupError(f"{bundle_dir} is not a sup bundle (no {MANIFEST})") from None
    return parse_manifest(data, str(path))


def parse_manifest(data: bytes, where: str) -> dict:
    """A manifest's JSON, checked for what every reader relies on: the format, the
    version and a file list of plain, distinct names with a sha256 and a size each."""
    manifest = parse_envelope(
        data,
        where,
        fmt=BUNDLE_FORMAT,
        version=BUNDLE_VERSION,
        kind="sup bundle manifest",
        fix="upgrade sup or re-export the bundle",
    )
    check_files(manifest, where)
    return manifest


def check_files(manifest: dict, where: str) -> None:
    """The manifest's file list: plain, distinct names with a sha256 and a size each
    (the schema's ``FILE_ENTRY`` rules, checked without ``jsonschema``)."""
    files = manifest.get("files")
    if not isinstance(files, list) or not files:
        raise SupError(f"{where}: the manifest lists no files")
    names = set()
    for f in files:
        name = f.get("name") if isinstance(f, dict) else None
        if (
            not isinstance(name, str)
            or not s.FILE_NAME_RE.match(name)
            or name == MANIFEST
            or name in names
            or len(name) > s.MAX_FILE_NAME_LENGTH
        ):
            raise SupError(f"{where}: bad file name {name!r} in the manifest; refusing it")
        if not isinstance(f.get("sha256"), str) or not s.SHA256_RE.match(f["sha256"]):
            raise SupError(f"{where}: file {name} has no valid sha256 in the manifest")
        if type(f.get("size")) is not int or f["size"] < 0:
            raise SupError(f"{where}: file {name} has no valid size in the manifest")
        names.add(name)


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
    """Read the manifest (whole-schema validation too where ``jsonschema`` is
    installed); with ``verify``, check every file's size and sha256."""
    bundle_dir = Path(bundle_dir)
    manifest = read_manifest(bundle_dir)
    validate_manifest(manifest, str(bundle_dir / MANIFEST))
    if verify:
        problems = file_problems(bundle_dir, manifest["files"])
        if problems:
            raise SupError(f"bundle {bundle_dir} failed verification: {problems[0]}")
    return Bundle(bundle_dir, manifest)
