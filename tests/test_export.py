"""`sup export`: both architectures export with parity measured again here, int8 keeps
both graphs to its floor (measured again here too) and is refused below it, and a
refused or failed export touches nothing and leaves no temporary directory.

The bundles themselves are the session fixtures ``char_bundle`` (modern, fp32) and
``bpe_bundle`` (base, int8); only the two failure tests below export anew.
"""

from __future__ import annotations

import math
import shutil
import subprocess
import sys

import pytest

from gate_support import fp32_parity, int8_gate, torch_model
from helpers import BLOCK, SUB_ENV, assert_cli_error, run_sup_many, sup_ok, tree_snapshot


def check_parity_cases(manifest: dict) -> None:
    """The manifest lists the documented parity cases (which ones, not their figures:
    those are measured again below)."""
    parity = manifest["parity"]
    block = manifest["model"]["block_size"]
    lengths = {1, min(8, block), block // 2, block}  # one token, short, half, full
    for graph in ("full", "kv"):
        cases = [c for c in parity["cases"] if c["graph"] == graph]
        assert {(c["batch"], c["seq"]) for c in cases} == {
            (b, s) for b in (1, 3) for s in lengths
        }, graph
    assert any(c["cached"] > 0 for c in parity["cases"] if c["graph"] == "kv")
    assert parity["kv_greedy"]["tokens"] == 64


def test_modern_fp32_bundle(char_bundle, modern_char_run):
    from sup.formats.manifest import open_bundle

    m = open_bundle(char_bundle, verify=True).manifest  # schema and every sha256
    assert (m["model"]["arch"], m["precision"], m["model"]["block_size"]) == (
        "modern",
        "fp32",
        BLOCK,
    )
    assert "int8" not in m["parity"]
    assert {f["name"] for f in m["files"]} == {"model.onnx", "model.kv.onnx", "tokenizer.json"}
    check_parity_cases(m)
    # measured here: ONNX Runtime on both graphs against the PyTorch checkpoint
    assert fp32_parity(char_bundle, modern_char_run) < 1e-4


def test_modern_fp32_bundle_greedy_equals_pytorch(char_bundle, modern_char_run):
    """64 greedy tokens from the demo prompt, through the bundle's KV graph (cache
    restarts included) by the Python player, equal PyTorch's."""
    from sup.engine.generate import generate
    from sup.play.runtime import OnnxLM

    lm = OnnxLM(char_bundle)
    context, _ = lm.context("you never")
    rule = {k: tuple(lm.generation[k]) for k in ("stop_ids", "banned_ids")}
    want = list(generate(torch_model(modern_char_run), context, 64, temperature=0.0, **rule))
    assert len(want) > BLOCK  # long enough to restart the cache
    assert list(lm.generate(context, 64, temperature=0.0)) == want


def test_base_int8_bundle(bpe_bundle, bpe_run, bpe_data, tmp_path):
    """Both int8 graphs, scored here against the fp32 PyTorch checkpoint on the gate's
    held-out windows, keep to the 95% floor; the manifest records what was measured."""
    from sup.formats.manifest import open_bundle

    m = open_bundle(bpe_bundle, verify=True).manifest
    assert (m["model"]["arch"], m["precision"], m["tokenizer"]["type"]) == (
        "base",
        "int8",
        "bpe",
    )
    check_parity_cases(m)  # measured on the fp32 graphs before quantization
    got = int8_gate(bpe_bundle, bpe_run, bpe_data)
    assert got["finite"]
    assert got["kv_agreement"] >= 0.95 and got["full_agreement"] >= 0.95, got
    q = m["parity"]["int8"]
    positions = got["windows"] * BLOCK
    near = 2 / positions  # the gate compares with the fp32 graphs, here with PyTorch: ties
    assert (q["windows"], q["positions"]) == (got["windows"], positions)
    assert abs(q["top1_agreement"] - got["kv_agreement"]) <= near
    assert q["full"]["lengths"] == list(range(1, BLOCK + 1))  # a 16-token block: every one
    assert abs(q["full"]["top1_agreement"] - got["full_agreement"]) <= near
    assert math.isclose(q["bpb_int8"], got["bpb_int8"], rel_tol=1e-6)
    assert math.isclose(q["bpb_fp32"], got["bpb_fp32"], rel_tol=1e-4)
    # int8 graphs under half the size of the same checkpoint's fp32 graphs, exported here
    sup_ok("export", bpe_run, "--out", tmp_path / "fp32")
    graphs = ("model.onnx", "model.kv.onnx")
    int8_bytes = sum((bpe_bundle / g).stat().st_size for g in graphs)
    fp32_bytes = sum((tmp_path / "fp32" / g).stat().st_size for g in graphs)
    assert int8_bytes < 0.5 * fp32_bytes, (int8_bytes, fp32_bytes)


def test_export_refuses_to_replace_what_is_not_its_own(char_run, char_bundle, tmp_path):
    taken = tmp_path / "taken"
    shutil.copytree(char_bundle, taken)
    other = tmp_path / "other"
    other.mkdir()
    (other / "keep.txt").write_text("mine\n")
    a_file = tmp_path / "file.onnx"
    a_file.write_text("not a bundle\n")
    before = tree_snapshot(tmp_path)

    exists, not_bundle, is_file = run_sup_many(
        ("export", char_run, "--out", taken),
        ("export", char_run, "--out", other, "--force"),
        ("export", char_run, "--out", a_file, "--force"),
    )
    line = assert_cli_error(exists, 2)
    assert "already exists" in line and "--force" in line
    assert "is not a sup bundle; refusing to replace it" in assert_cli_error(not_bundle, 2)
    assert "is not a sup bundle" in assert_cli_error(is_file, 2)
    assert tree_snapshot(tmp_path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file.onnx", "other", "taken"]


def test_failed_export_leaves_no_temporary_directory(char_run, tmp_path):
    """--int8 scores held-out tokens after the graphs are exported and checked; a data
    directory that is not a data directory fails it at that late point."""
    from helpers import run_sup

    empty = tmp_path / "empty-data"
    empty.mkdir()
    out_parent = tmp_path / "bundles"
    out_parent.mkdir()
    proc = run_sup("export", char_run, "--out", out_parent / "b-1", "--int8", "--data", empty)
    assert "has no meta.json" in assert_cli_error(proc, 1)
    assert list(out_parent.iterdir()) == []


def test_parity_failure_refuses_the_export(char_run, tmp_path, monkeypatch):
    import sup.ship.export
    from sup.errors import SupError

    monkeypatch.setattr(sup.ship.export, "TOLERANCE", 0.0)
    with pytest.raises(SupError, match=r"export refused: ONNX Runtime differs .* nothing was"):
        sup.ship.export.export_bundle(char_run, tmp_path / "bundle-1")
    assert list(tmp_path.iterdir()) == []


def test_graphs_carry_no_build_machine_paths(char_bundle, bpe_bundle):
    """The exporter's per-node metadata (stack traces with this checkout's paths) is
    stripped: a bundle says nothing about the machine that built it."""
    from helpers import REPO

    for bundle in (char_bundle, bpe_bundle):
        for graph in ("model.onnx", "model.kv.onnx"):
            data = (bundle / graph).read_bytes()
            assert str(REPO).encode() not in data and b"stack_trace" not in data, graph


# `sup export` with the int8 floor raised out of reach: the real command line, in a
# child Python that changes the one constant first.
RAISED_FLOOR = (
    "import sys\n"
    "import sup.ship.quantize\n"
    "sup.ship.quantize.AGREEMENT_FLOOR = 1.01\n"
    "from sup.cli.main import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


def test_int8_below_the_floor_is_refused_and_writes_nothing(char_run, tmp_path):
    out_parent = tmp_path / "bundles"
    out_parent.mkdir()
    proc = subprocess.run(
        [sys.executable, "-c", RAISED_FLOOR, "export", str(char_run), "--out",
         str(out_parent / "b-1"), "--int8"],
        capture_output=True, text=True, env=SUB_ENV, timeout=180,
    )  # fmt: skip
    line = assert_cli_error(proc, 1)
    assert "int8 export refused: the KV graph has top-1 agreement" in line, line
    assert "(floor 101%)" in line and "nothing was written" in line
    assert list(out_parent.iterdir()) == []  # no bundle, no temporary directory


def test_int8_full_graph_is_scored_too(char_run, char_bundle, tmp_path, monkeypatch):
    """An int8 full-context graph that is another model's (the modern run: same
    vocabulary and block, other weights) while the KV graph is right: refused."""
    import sup.ship.export
    import sup.ship.quantize
    from sup.errors import SupError

    quantize = sup.ship.quantize.quantize_graph

    def other_full_graph(src, dst):
        quantize(char_bundle / "model.onnx" if src.name == "model.onnx" else src, dst)

    monkeypatch.setattr(sup.ship.quantize, "quantize_graph", other_full_graph)
    with pytest.raises(SupError, match=r"the full-context graph has top-1 agreement") as e:
        sup.ship.export.export_bundle(char_run, tmp_path / "bundle-1", int8=True)
    assert "floor 95%" in str(e.value) and "\n" not in str(e.value)
    assert list(tmp_path.iterdir()) == []
