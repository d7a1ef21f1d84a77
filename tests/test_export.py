"""`sup export`: both architectures export with recorded parity, int8 keeps to its floor,
and a refused or failed export touches nothing and leaves no temporary directory.

The bundles themselves are the session fixtures ``char_bundle`` (modern, fp32) and
``bpe_bundle`` (base, int8); only the two failure tests below export anew.
"""

from __future__ import annotations

import shutil

import pytest

from helpers import BLOCK, assert_cli_error, run_sup_many, tree_snapshot


def check_parity(manifest: dict) -> None:
    parity = manifest["parity"]
    block = manifest["model"]["block_size"]
    lengths = {1, min(8, block), block // 2, block}  # one token, short, half, full
    for graph in ("full", "kv"):
        cases = [c for c in parity["cases"] if c["graph"] == graph]
        assert {(c["batch"], c["seq"]) for c in cases} == {
            (b, s) for b in (1, 3) for s in lengths
        }, graph
        assert all(c["max_abs_diff"] < 1e-4 for c in cases), cases
    assert parity["tolerance"] == 1e-4
    assert parity["fp32_max_abs_diff"] == max(c["max_abs_diff"] for c in parity["cases"])
    assert any(c["cached"] > 0 for c in parity["cases"] if c["graph"] == "kv")
    assert parity["kv_greedy"]["match"] is True
    assert parity["kv_greedy"]["tokens"] == 64


def test_modern_fp32_bundle(char_bundle):
    from sup.formats.manifest import open_bundle

    m = open_bundle(char_bundle, verify=True).manifest  # schema and every sha256
    assert (m["model"]["arch"], m["precision"], m["model"]["block_size"]) == (
        "modern",
        "fp32",
        BLOCK,
    )
    assert "int8" not in m["parity"]
    assert {f["name"] for f in m["files"]} == {"model.onnx", "model.kv.onnx", "tokenizer.json"}
    check_parity(m)


def test_base_int8_bundle(bpe_bundle):
    from sup.formats.manifest import open_bundle

    m = open_bundle(bpe_bundle, verify=True).manifest
    assert (m["model"]["arch"], m["precision"], m["tokenizer"]["type"]) == (
        "base",
        "int8",
        "bpe",
    )
    check_parity(m)  # measured on the fp32 graphs before quantization
    q = m["parity"]["int8"]
    assert q["top1_agreement"] >= q["floor"] == 0.95
    assert q["size_ratio"] < 0.5, q
    assert q["positions"] == q["windows"] * BLOCK


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
