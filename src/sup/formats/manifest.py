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
from sup.formats.controls import check_controls
from sup.formats.envelope import parse_envelope
from sup.formats.tokenizer import TOKENIZER_TYPES

BUNDLE_FORMAT = "sup-bundle"
# A game release's board tiers (sup.chess.tiers; named here, the reader imports no engine).
GAME_TIERS = ("micro", "regular", "grand")
BUNDLE_VERSION = 1
MANIFEST = "manifest.json"
GRAPH_FULL = "model.onnx"
GRAPH_KV = "model.kv.onnx"
TOKENIZER = "tokenizer.json"
CARD = "MODEL_CARD.md"
ARCHS = ("base", "modern")
MLPS = ("gelu", "relu2", "swiglu", "moe")
PRECISIONS = ("fp32", "int8")

# The valid temperatures, in every player, `sup serve` and the browser page
# (web/src/sampling.js): 0 (greedy) or a finite number in [MIN, MAX]. Below MIN the
# logits divided by it overflow (a subnormal gives inf - inf = NaN), and above MAX
# every distribution is already uniform to within float precision.
MIN_TEMPERATURE = 0.01
MAX_TEMPERATURE = 100.0
TEMPERATURE_RULE = f"0 (greedy) or a number from {MIN_TEMPERATURE:g} to {MAX_TEMPERATURE:g}"


def temperature_ok(temperature) -> bool:
    """Whether ``temperature`` is valid (``TEMPERATURE_RULE``)."""
    if not s.is_number(temperature):
        return False
    return temperature == 0 or MIN_TEMPERATURE <= temperature <= MAX_TEMPERATURE


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
                            "temperature": {
                                "anyOf": [
                                    {"const": 0},
                                    {
                                        "type": "number",
                                        "minimum": MIN_TEMPERATURE,
                                        "maximum": MAX_TEMPERATURE,
                                    },
                                ]
                            },
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
            "controls": {"type": ["object", "null"]},  # checked by formats/controls.py
            # a game instrument: the players run its game loop (sup/play/daydream.py)
            "game": s.obj({"kind": {"const": "chess"}, "tier": {"enum": list(GAME_TIERS)}}),
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
        },
        optional=("controls", "game"),  # absent: a plain text model
    ),
}


@dataclass
class Bundle:
    path: Path
    manifest: dict

    def file(self, name: str) -> Path:
        """A file of this bundle a player may open: one the manifest lists (with the
        sha256 that verification checks), and a plain file directly inside the bundle
        directory, never a symbolic link or a path that leads elsewhere."""
        if name not in {f["name"] for f in self.manifest["files"]}:
            raise SupError(f"{self.path}: {name!r} is not one of the bundle's listed files")
        path = self.path / name
        if path.is_symlink() or not path.is_file() or path.resolve().parent != self.path.resolve():
            raise SupError(f"{path} is not a plain file inside the bundle; refusing it")
        return path


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
        strict=True,
    )
    check_files(manifest, where)
    check_player_fields(manifest, where)
    return manifest


MAX_BLOCK_SIZE = 1 << 20  # far beyond any model here; bounds the arrays a player makes


def check_player_fields(manifest: dict, where: str) -> None:
    """Every field a player reads, checked for what it can be on its own and against
    the other fields (ids inside the vocabulary, a prefix shorter than the block): a
    hostile or damaged manifest is one line here, never a numpy or ONNX Runtime error
    later. What it must match in the graphs is checked when they are loaded
    (``play/runtime.py``)."""
    fix = "re-export the bundle"
    graphs = s.object_field(manifest, "graphs", where, fix)
    tokenizer = s.object_field(manifest, "tokenizer", where, fix)
    # The graphs and tokenizer have fixed names, and must be files the manifest lists
    # with a sha256: a player never opens a path a manifest makes up.
    listed = {f["name"] for f in manifest["files"]}
    for obj, key, name in ((graphs, "full", GRAPH_FULL), (graphs, "kv", GRAPH_KV),
                           (tokenizer, "file", TOKENIZER)):  # fmt: skip
        if obj.get(key) != name or name not in listed:
            raise SupError(
                f"{where}: the bundle must name its files {GRAPH_FULL}, {GRAPH_KV} and "
                f"{TOKENIZER} and list them with their sha256; refusing it"
            )
    model = s.object_field(manifest, "model", where, fix)
    for key in ("n_layer", "n_head", "head_dim", "vocab_size"):
        s.field(model, key, _positive, "a positive integer", f"{where} (model)", fix)
    s.field(model, "block_size", lambda v: _positive(v) and v <= MAX_BLOCK_SIZE,
            f"an integer from 1 to {MAX_BLOCK_SIZE}", f"{where} (model)", fix)  # fmt: skip
    vocab, block = model["vocab_size"], model["block_size"]
    s.field(tokenizer, "vocab_size", lambda v: v == vocab, f"the model's {vocab}",
            f"{where} (tokenizer)", fix)  # fmt: skip
    check_generation(s.object_field(manifest, "generation", where, fix), vocab, block, where)
    if not isinstance(manifest.get("id"), str) or not s.BUNDLE_ID_RE.match(manifest["id"]):
        raise SupError(f"{where}: the bundle's id is not a valid id; refusing it")
    if manifest.get("controls") is not None:
        check_controls(manifest["controls"], where)


def check_generation(generation: dict, vocab: int, block: int, where: str) -> None:
    """The generation rule's values, against the vocabulary and the block size."""
    base, where, fix = where, f"{where} (generation)", "re-export the bundle"

    def ids(minimum: int, maximum: int):
        return lambda v: (
            isinstance(v, list)
            and minimum <= len(v) <= maximum
            and all(s.is_int(i) and 0 <= i < vocab for i in v)
        )

    token_ids = f"token ids from 0 to {vocab - 1}"
    s.field(generation, "prompt_prefix", ids(0, block - 1), f"fewer than {block} {token_ids}",
            where, fix)  # fmt: skip
    s.field(generation, "unprompted_start", ids(1, block), f"1 to {block} {token_ids}",
            where, fix)  # fmt: skip
    s.field(generation, "stop_ids", ids(0, vocab), token_ids, where, fix)
    s.field(generation, "banned_ids", ids(0, vocab - 1), f"{token_ids}, not all of them",
            where, fix)  # fmt: skip
    if len(set(generation["banned_ids"])) >= vocab:
        raise SupError(f"{where}: the manifest bans every token; refusing it")
    s.field(generation, "cache_restart_keep", lambda v: _positive(v) and v <= block,
            f"an integer from 1 to {block}", where, fix)  # fmt: skip
    defaults = s.object_field(generation, "defaults", where, fix)
    check_defaults(defaults, base + " (generation.defaults)")
    if "demo_prompt" in generation:
        s.field(generation, "demo_prompt", lambda v: isinstance(v, str), "text", where, fix)


def check_defaults(defaults: dict, where: str) -> None:
    """Sampling defaults, by the rules every player enforces on its flags."""
    fix = "re-export the bundle with valid sampling defaults"
    s.field(defaults, "temperature", temperature_ok, TEMPERATURE_RULE, where, fix)
    s.field(defaults, "top_k", lambda v: v is None or _positive(v), "null or at least 1",
            where, fix)  # fmt: skip
    s.field(defaults, "top_p", lambda v: v is None or (s.is_number(v) and 0 < v <= 1),
            "null or a number in (0, 1]", where, fix)  # fmt: skip
    s.field(defaults, "max_new_tokens", lambda v: _positive(v) and v <= MAX_NEW_TOKENS,
            f"an integer from 1 to {MAX_NEW_TOKENS}", where, fix)  # fmt: skip


MAX_NEW_TOKENS = 1 << 20


def _positive(v) -> bool:
    return s.is_int(v) and v > 0


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
        if path.is_symlink():  # its target could be any file on the machine
            problems.append(f"{path}: a symbolic link (a bundle holds plain files)")
        elif not path.is_file():
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
