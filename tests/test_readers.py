"""Every file reader, fed arbitrary input: a valid object or sup's own one-line error.

One property per format (run, checkpoint state, pointer, metrics, manifest, registry,
tokenizer, data index), each with three kinds of input drawn by hypothesis:

- arbitrary bytes (not JSON, not UTF-8, cut short);
- arbitrary JSON values (wrong shapes: a list, a number, nested objects);
- a real file of that format, made by the test fixtures, with one value somewhere in
  it replaced by arbitrary JSON or one key deleted (the damage the readers must name).

The reader must return or raise ``SupError`` with a one-line message; any other
exception (KeyError, TypeError, AttributeError, MemoryError, ...) fails the property.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sup.errors import SupError

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()  # NaN and infinities included
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)
SETTINGS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def dump(value) -> bytes:
    return json.dumps(value).encode()


@st.composite
def damaged(draw, document):
    """``document`` with one value replaced by arbitrary JSON, or one key deleted."""
    doc = json.loads(json.dumps(document))
    node, path = doc, []
    while isinstance(node, dict | list) and node and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(node) if isinstance(node, dict) else range(len(node))))
        path.append((node, key))
        node = node[key]
    if not path:
        return draw(JSON)
    parent, key = path[-1]
    if isinstance(parent, dict) and draw(st.booleans()):
        del parent[key]
    else:
        parent[key] = draw(JSON)
    return doc


def inputs(document) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=200),
        JSON.map(dump),
        damaged(document).map(dump),
        st.just(dump(document)).map(lambda b: b[: len(b) // 2]),
    )


def holds(reader: Callable[[Path], object], files: Callable[[Path], None]) -> None:
    """Run ``reader`` on a fresh directory prepared by ``files``: it returns, or raises a
    one-line SupError."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files(root)
        try:
            reader(root)
        except SupError as e:
            assert "\n" not in str(e), str(e)


def doc(path: Path):
    return json.loads(Path(path).read_text())


# ----------------------------------------------------------------------------- run directory


@pytest.fixture(scope="module")
def run_files(char_run):
    from sup.formats.run import checkpoint_dir, read_metrics

    ckpt = checkpoint_dir(char_run)
    return {
        "run": doc(char_run / "run.json"),
        "state": doc(ckpt / "state.json"),
        "pointer": doc(char_run / "checkpoints" / "last.json"),
        "ckpt_name": ckpt.name,
        "metrics": read_metrics(char_run),
    }


def test_run_json(run_files):
    from sup.formats.run import read_run_info

    @SETTINGS
    @given(inputs(run_files["run"]))
    def check(data):
        holds(read_run_info, lambda root: (root / "run.json").write_bytes(data))

    check()


def test_checkpoint_state(run_files):
    from sup.formats.run import read_checkpoint_state

    @SETTINGS
    @given(inputs(run_files["state"]))
    def check(data):
        holds(read_checkpoint_state, lambda root: (root / "state.json").write_bytes(data))

    check()


def test_checkpoint_pointer(run_files):
    from sup.formats.run import checkpoint_dir

    def files(data):
        def write(root):
            (root / "checkpoints" / run_files["ckpt_name"]).mkdir(parents=True)
            (root / "checkpoints" / "last.json").write_bytes(data)

        return write

    @SETTINGS
    @given(inputs(run_files["pointer"]))
    def check(data):
        holds(checkpoint_dir, files(data))

    check()


def test_metrics_lines(run_files):
    from sup.formats.run import read_metrics

    records = run_files["metrics"][:4]
    lines = st.lists(
        st.one_of(damaged(records[0]).map(json.dumps), JSON.map(json.dumps), st.text(max_size=30)),
        max_size=3,
    )

    @SETTINGS
    @given(lines, st.integers(0, 4))
    def check(bad, at):
        good = [json.dumps(r) for r in records]
        text = "\n".join(good[:at] + bad + good[at:]) + "\n"
        holds(read_metrics, lambda root: (root / "metrics.jsonl").write_text(text))

    check()


# ----------------------------------------------------------------------------- data directory


def test_data_index(char_data):
    from sup.formats.data import load_meta

    @SETTINGS
    @given(inputs(doc(char_data / "meta.json")))
    def check(data):
        holds(load_meta, lambda root: (root / "meta.json").write_bytes(data))

    check()


# ----------------------------------------------------------------------------- tokenizers


@pytest.mark.parametrize("run", ["char_run", "bpe_run"])
def test_tokenizer_files(run, request):
    from sup.engine.vocab import load_tokenizer
    from sup.formats.tokenizer import load_player_tokenizer

    tokenizer = doc(request.getfixturevalue(run) / "tokenizer.json")

    @SETTINGS
    @given(inputs(tokenizer))
    def check(data):
        for load in (load_player_tokenizer, load_tokenizer):  # players', then the engine's
            holds(
                lambda root, load=load: load(root / "tokenizer.json"),
                lambda root: (root / "tokenizer.json").write_bytes(data),
            )

    check()


# ----------------------------------------------------------------------------- bundles, registries


def test_manifest(char_bundle):
    from sup.formats.manifest import parse_manifest

    @SETTINGS
    @given(inputs(doc(char_bundle / "manifest.json")))
    def check(data):
        holds(lambda root: parse_manifest(data, "manifest.json"), lambda root: None)

    check()


def test_registry(releases_dir):
    from sup.formats.registry import check_entry, parse_registry, resolve

    def read(data: bytes):
        registry = parse_registry(data.decode("utf-8", errors="replace"), "registry.json")
        for entry in registry["models"]:
            check_entry(entry, "registry.json")
        for entry in registry["models"]:
            resolve(registry, entry["id"])

    @SETTINGS
    @given(inputs(doc(releases_dir / "registry.json")))
    def check(data):
        holds(lambda root: read(data), lambda root: None)

    check()


def test_a_valid_bundle_still_opens(char_bundle, tmp_path):
    """The checks above refuse damage, not the real thing."""
    from sup.play.runtime import OnnxLM

    shutil.copytree(char_bundle, tmp_path / "b")
    assert OnnxLM(tmp_path / "b").block_size > 0
