"""``sup check``: everything a release promises, verified from the files alone.

Releases are copied, uploaded and served; a hand edit, a truncated upload or a stale
registry must be caught before a player meets it. The check needs no run directory and
no torch (numpy, onnxruntime and jsonschema only), and it reports every problem it
finds, not just the first, each as one line that names the file:

- ``registry.json`` exists (when anything is released), validates against its schema and
  equals the registry regenerated from the manifests (differences name entry and field);
- every bundle directory has a valid manifest whose id is its directory name; every
  listed file exists with the listed size and sha256; nothing unlisted is there; it has
  a model card, and the card states the manifest's headline figures (card.py);
- an int8 bundle records the int8 gate's figures (quantize.py), and both graphs'
  top-1 agreement reaches the recorded floor, which is no lower than sup's;
- the tokenizer is a type every player reads and matches the manifest;
- both graphs have the documented inputs and outputs, and run at the manifest's shapes:
  the KV graph accepts exactly ``block_size`` positions (a past of ``block_size - 1``
  plus one token) and refuses one more, the full graph a whole block. Running the graph
  is what players rely on; reading position tables out of it would depend on how the
  exporter named and folded them;
- relative links in Markdown documents (README, docs, model cards) resolve.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import numpy as np

from sup.errors import SupError
from sup.formats.manifest import (
    CARD,
    MANIFEST,
    file_problems,
    manifest_schema_errors,
    read_manifest,
)
from sup.formats.registry import REGISTRY_FILE, registry_schema_errors, split_id
from sup.formats.tokenizer import TOKENIZER_TYPES
from sup.ship.card import card_problems
from sup.ship.registry import build_registry, registry_differences

# name, element type, rank: the graph signatures of the bundle spec
SIGNATURES = {
    "full": (
        [("input_ids", "tensor(int64)", 2)],
        [("logits", "tensor(float)", 2)],
    ),
    "kv": (
        [("input_ids", "tensor(int64)", 2), ("past", "tensor(float)", 6)],
        [("logits", "tensor(float)", 2), ("present", "tensor(float)", 6)],
    ),
}


@dataclass
class CheckReport:
    releases: str
    registry: str = "absent"  # absent | up to date | problems
    bundles: list[str] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    documents: int = 0
    links: int = 0
    problems: list[str] = field(default_factory=list)
    hints: list[str] = field(default_factory=list)  # what to do about the problems

    @property
    def ok(self) -> bool:
        return not self.problems


def default_docs() -> list[Path]:
    """README.md and docs/*.md of the current directory (a checkout), where present."""
    return [p for p in [Path("README.md"), *sorted(Path("docs").glob("*.md"))] if p.is_file()]


def check(releases: Path, docs: list[Path] | None = None) -> CheckReport:
    """Check ``releases`` and the Markdown ``docs`` (default: ``default_docs()``); the
    releases' model cards are always link-checked too."""
    releases = Path(releases)
    report = CheckReport(str(releases))
    bundle_dirs = []
    if releases.is_dir():
        entries = sorted(releases.iterdir())
        bundle_dirs = [d for d in entries if d.is_dir() and not d.name.startswith(".")]
        report.problems += [
            f"{d}: left behind by an interrupted sup release; remove it"
            for d in entries
            if d.is_dir() and d.name.startswith(".") and ".release-" in d.name
        ]
    elif releases.exists():
        report.problems.append(f"{releases}: not a directory")
    for bundle_dir in bundle_dirs:
        report.problems += check_bundle(bundle_dir, report)
    report.problems += check_registry(releases, bool(bundle_dirs), report)
    cards = [d / CARD for d in bundle_dirs if (d / CARD).is_file()]
    docs = default_docs() if docs is None else [Path(p) for p in docs]
    for doc in [*docs, *cards]:
        report.problems += check_links(doc, report)
    return report


def check_registry(releases: Path, any_bundles: bool, report: CheckReport) -> list[str]:
    path = releases / REGISTRY_FILE
    if not path.exists():
        if any_bundles:
            report.registry = "problems"
            return [f"{path}: missing, but {releases} holds bundles"]
        return []
    report.registry = "problems"
    try:
        found = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        return [f"{path}: not valid JSON ({e})"]
    problems = [f"{path}: invalid {e}" for e in registry_schema_errors(found)]
    try:
        expected = build_registry(releases)
    except SupError as e:
        return [*problems, f"{path}: cannot be regenerated from the manifests: {e}"]
    if isinstance(found, dict):
        problems += [f"{path}: {d}" for d in registry_differences(found, expected)]
    if problems:
        report.hints.append(
            f"{path} is generated from the manifests and never edited: once the bundles "
            "are right, rewrite it with `sup check --write-registry`"
        )
    else:
        report.registry = "up to date"
    return problems


def check_bundle(bundle_dir: Path, report: CheckReport) -> list[str]:
    """Problems of one release directory (its graphs are run only if intact)."""
    if not (bundle_dir / MANIFEST).exists():
        return [f"{bundle_dir}: not a bundle (no {MANIFEST}); remove it from the releases"]
    try:
        manifest = read_manifest(bundle_dir)
    except SupError as e:
        return [str(e)]
    where = bundle_dir / MANIFEST
    invalid = manifest_schema_errors(manifest)
    if invalid:
        return [f"{where}: invalid manifest {e}" for e in invalid]
    report.bundles.append(manifest["id"])
    problems = []
    if manifest["id"] != bundle_dir.name:
        problems.append(f"{where}: id {manifest['id']!r} differs from the directory name")
    try:
        split_id(manifest["id"])
    except SupError:
        problems.append(f"{where}: id {manifest['id']!r} is not a release id NAME-N")
    problems += [f"{where}: {p}" for p in int8_problems(manifest)]
    listed = {f["name"]: f for f in manifest["files"]}
    for name in (*manifest["graphs"].values(), manifest["tokenizer"]["file"]):
        if name not in listed:
            problems.append(f"{where}: {name} is not among the listed files")
    intact = set()
    for entry in manifest["files"]:
        damage = file_problems(bundle_dir, [entry])
        problems += damage
        if not damage:
            intact.add(entry["name"])
    report.files += len(intact)
    report.bytes += sum(listed[n]["size"] for n in intact)
    for extra in sorted(p.name for p in bundle_dir.iterdir()):
        if extra not in listed and extra != MANIFEST:
            problems.append(f"{bundle_dir / extra}: not listed in the manifest")
    if CARD not in listed:
        problems.append(f"{bundle_dir / CARD}: missing (every release carries a model card)")
    elif CARD in intact:
        text = (bundle_dir / CARD).read_text(encoding="utf-8", errors="replace")
        problems += [f"{bundle_dir / CARD}: {p}" for p in card_problems(manifest, text)]
    if manifest["tokenizer"]["file"] in intact:
        problems += check_tokenizer(bundle_dir, manifest)
    for kind, name in manifest["graphs"].items():
        if name in intact:
            found = check_graph(bundle_dir, kind, name, manifest)
            problems += [f"{bundle_dir / name}: {p}" for p in found]
    return problems


def int8_problems(manifest: dict) -> list[str]:
    """An int8 bundle without the gate's figures, or with figures the gate refuses."""
    from sup.ship.quantize import AGREEMENT_FLOOR

    q = manifest["parity"].get("int8")
    if (manifest["precision"] == "int8") != (q is not None):
        state = "absent" if q is None else "present"
        return [f"precision {manifest['precision']} but parity.int8 is {state}"]
    if q is None:
        return []
    problems = []
    if q["floor"] < AGREEMENT_FLOOR:
        problems.append(f"int8 floor {q['floor']:g} is below sup's {AGREEMENT_FLOOR:g}")
    for graph, agreement in (("KV", q["top1_agreement"]), ("full", q["full"]["top1_agreement"])):
        if not agreement >= q["floor"]:
            problems.append(
                f"int8 {graph} graph top-1 agreement {agreement:.2%} is below the floor "
                f"{q['floor']:.0%}"
            )
    return problems


def check_tokenizer(bundle_dir: Path, manifest: dict) -> list[str]:
    path = bundle_dir / manifest["tokenizer"]["file"]
    try:
        tok = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        return [f"{path}: not valid JSON ({e})"]
    want = manifest["tokenizer"]
    problems = []
    if tok.get("type") not in TOKENIZER_TYPES:
        problems.append(
            f"{path}: type {tok.get('type')!r} is not one every player reads "
            f"({', '.join(TOKENIZER_TYPES)})"
        )
    for key in ("type", "vocab_size"):
        if tok.get(key) != want[key]:
            problems.append(f"{path}: {key} {tok.get(key)!r}, the manifest says {want[key]!r}")
    return problems


def check_graph(bundle_dir: Path, kind: str, name: str, manifest: dict) -> list[str]:
    """The graph's signature and its behaviour at the manifest's block size."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 4  # the over-length probe fails on purpose; no log noise
    opts.intra_op_num_threads = 1
    try:
        sess = ort.InferenceSession(
            str(bundle_dir / name), opts, providers=["CPUExecutionProvider"]
        )
    except Exception as e:  # onnxruntime raises its own exception types
        return [f"ONNX Runtime cannot load it ({str(e).splitlines()[0]})"]
    got = (
        [(i.name, i.type, len(i.shape)) for i in sess.get_inputs()],
        [(o.name, o.type, len(o.shape)) for o in sess.get_outputs()],
    )
    if got != SIGNATURES[kind]:
        return [f"signature {_sig(got)} is not the {kind} graph's {_sig(SIGNATURES[kind])}"]
    m = manifest["model"]
    block, vocab = m["block_size"], m["vocab_size"]

    def past(length: int) -> np.ndarray:
        return np.zeros((m["n_layer"], 2, 1, m["n_head"], length, m["head_dim"]), np.float32)

    def run(length: int, new: int):
        ids = np.zeros((1, new), np.int64)
        feed = {"input_ids": ids} if kind == "full" else {"input_ids": ids, "past": past(length)}
        try:
            return sess.run(None, feed)
        except Exception as e:
            return str(e).splitlines()[0]

    if kind == "full":
        at, beyond = run(0, block), run(0, block + 1)
        probe = f"a full block of {block} tokens"
    else:
        at, beyond = run(block - 1, 1), run(block, 1)
        probe = f"a past of {block - 1} positions plus one token"
    if isinstance(at, str):
        return [f"fails on {probe} (the manifest's block_size is {block}): {at}"]
    problems = []
    if at[0].shape != (1, vocab) or not np.isfinite(at[0]).all():
        problems.append(f"logits of shape {at[0].shape}, expected finite (1, {vocab})")
    if kind == "kv" and at[1].shape[4] != block:
        problems.append(f"present holds {at[1].shape[4]} positions, expected {block}")
    if not isinstance(beyond, str):
        problems.append(
            f"accepts more than block_size {block} positions: the manifest's block size "
            "is smaller than the graph's"
        )
    return problems


def _sig(sig) -> str:
    """``(input_ids int64[2]) -> (logits float[2])``: names, element types, ranks."""

    def one(items):
        return ", ".join(f"{n} {t.removeprefix('tensor(').rstrip(')')}[{r}]" for n, t, r in items)

    return f"({one(sig[0])}) -> ({one(sig[1])})"


# [text](target "title") and ![alt](target), and reference definitions: [id]: target
_INLINE = re.compile(
    r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]"  # [text] or ![alt], one level of nested brackets
    r"\(\s*(?:<([^>\n]*)>|([^\s)]*))"  # (<target>  or  (target
    r"(?:\s+(?:\"[^\"]*\"|'[^']*'|\([^)]*\)))?\s*\)"  # optional "title", then )
)
_REFDEF = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s.*)?$", re.M)
_FENCE = re.compile(r"^ {0,3}(```|~~~).*?^ {0,3}\1[^\n]*$", re.M | re.S)
_CODE_SPAN = re.compile(r"(`+)(?!`).+?(?<!`)\1", re.S)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def markdown_links(text: str) -> list[tuple[int, str]]:
    """(line number, target) of every link outside code, in document order."""

    def blank(m: re.Match) -> str:  # keep offsets, so line numbers stay right
        return re.sub(r"[^\n]", " ", m.group(0))

    text = _FENCE.sub(blank, text)
    text = _CODE_SPAN.sub(lambda m: "x" * len(m.group(0)), text)
    found = [(m.start(), _first(m.group(1), m.group(2))) for m in _INLINE.finditer(text)]
    found += [(m.start(), m.group(1)) for m in _REFDEF.finditer(text)]
    return [(text.count("\n", 0, pos) + 1, target) for pos, target in sorted(found)]


def check_links(doc: Path, report: CheckReport) -> list[str]:
    """Relative links of one Markdown file whose file or directory does not exist.

    Links with a scheme (https:, mailto:) and in-page anchors are not followed; the
    anchor part of ``FILE.md#anchor`` is ignored; a link starting with ``/`` is taken
    from the current directory (a checkout's root, as on GitHub)."""
    try:
        text = doc.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        return [f"{doc}: cannot read it as UTF-8 text ({e})"]
    report.documents += 1
    problems = []
    for line, target in markdown_links(text):
        path = unquote(target.split("#", 1)[0].split("?", 1)[0])
        if not path or _SCHEME.match(target) or target.startswith("//"):
            continue
        report.links += 1
        resolved = Path(path.lstrip("/")) if path.startswith("/") else doc.parent / path
        if not resolved.exists():
            problems.append(f"{doc}:{line}: broken link {target} ({resolved} does not exist)")
    return problems


def _first(*values):
    return next(v for v in values if v is not None)
