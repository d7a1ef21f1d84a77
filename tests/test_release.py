"""`sup release`: bundle + model card + registry from a run, its refusals, and a failed
release that leaves the releases directory exactly as it was.

The two real releases come from the session fixture ``released`` (conftest.py), which
test_check.py checks and tampers with copies of, because each is a full export.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from gate_support import int8_gate
from helpers import (
    BLOCK,
    NOTES,
    ODD_TEXT,
    SUB_ENV,
    assert_cli_error,
    run_sup_many,
    sup_cmd,
    sup_ok,
    tree_snapshot,
)


def manifest(bundle: Path) -> dict:
    return json.loads((bundle / "manifest.json").read_text())


def test_release_writes_bundle_card_and_registry(released, char_run):
    from sup.formats.manifest import open_bundle
    from sup.ship.registry import build_registry

    bundle = open_bundle(released / "tiny-1", verify=True)  # schema and every sha256
    m = bundle.manifest
    assert m["id"] == "tiny-1"
    names = {f["name"] for f in m["files"]}
    assert names == {"model.onnx", "model.kv.onnx", "tokenizer.json", "MODEL_CARD.md"}
    assert sorted(p.name for p in (released / "tiny-1").iterdir()) == sorted(
        [*names, "manifest.json"]
    )
    assert m["metrics"]["text"] == "val.txt"
    assert m["metrics"]["oov_chars"] == 0
    assert m["generation"]["demo_prompt"] == "you never"

    card = (released / "tiny-1" / "MODEL_CARD.md").read_text()
    for heading in ("## At a glance", "## Data", "## Training", "## Evaluation",
                    "## Export", "## Intended use", "## Limitations", "## Notes"):  # fmt: skip
        assert f"\n{heading}\n" in card, heading
    assert card.rstrip().endswith("with its size and sha256.")
    assert NOTES.strip() in card.split("## Notes", 1)[1]
    assert f"| bits per character | {m['metrics']['bits_per_char']:.4f} |" in card
    assert f"| parameters | {m['model']['params']:,} |" in card
    assert m["metrics"]["text_sha256"] in card
    assert "cannot be encoded" in card  # the char vocabulary's limitation

    registry = json.loads((released / "registry.json").read_text())
    assert registry == json.loads(json.dumps(build_registry(released)))
    entry = next(e for e in registry["models"] if e["id"] == "tiny-1")
    assert entry["card"] == "tiny-1/MODEL_CARD.md"
    assert entry["metrics"] == m["metrics"]
    assert not [p.name for p in released.iterdir() if p.name.startswith(".")]


def test_release_metrics_are_sup_eval_figures(released, char_run, char_data):
    proc = sup_ok("eval", char_run, "--text", char_data / "val.txt", "--json")
    want = json.loads(proc.stdout)
    got = manifest(released / "tiny-1")["metrics"]
    for key in ("bits_per_char", "bits_per_byte", "token_loss", "tokens", "chars", "bytes",
                "oov_chars", "text_sha256"):  # fmt: skip
        assert got[key] == want[key], key


def test_int8_release_with_own_text(released, char_run, char_data):
    chars = set(json.loads((char_run / "tokenizer.json").read_text())["chars"])
    m = manifest(released / "tiny-2")
    assert m["precision"] == "int8"
    assert m["training"]["checkpoint"] == "last"
    assert m["metrics"]["text"] == "odd.txt"
    assert m["metrics"]["chars"] == len(ODD_TEXT)
    unseen = sum(c not in chars for c in ODD_TEXT)  # ï, —, 🎉: charged, not dropped
    assert unseen > 0 and m["metrics"]["oov_chars"] == unseen
    card = (released / "tiny-2" / "MODEL_CARD.md").read_text()
    assert "the int8 graphs' measured cost" in card
    assert "## Notes" not in card

    # The card's agreement row against both int8 graphs scored here, with the fp32
    # PyTorch checkpoint released (last) as the reference.
    got = int8_gate(released / "tiny-2", char_run, char_data, checkpoint="last")
    assert got["finite"] and min(got["kv_agreement"], got["full_agreement"]) >= 0.95, got
    row = re.search(
        r"^\| int8 top-1 agreement \| ([\d.]+)% \(KV graph\), ([\d.]+)% \(full graph\) \|$",
        card,
        re.M,
    )
    assert row, card
    near = 100 * 2 / (got["windows"] * BLOCK) + 0.005  # ties with PyTorch, and rounding
    assert abs(float(row[1]) - 100 * got["kv_agreement"]) <= near
    assert abs(float(row[2]) - 100 * got["full_agreement"]) <= near


def test_list_shows_the_figure_of_the_shipped_graphs(released, char_run, char_data, tmp_path):
    """`sup list`: the int8 release shows the bits per byte of its int8 graphs (scored
    here), labelled; the fp32 release shows `sup eval`'s bits per character."""
    env = {**SUB_ENV, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("SUP_REGISTRY", None)
    listed = subprocess.run(
        sup_cmd("list", "--registry", released / "registry.json"),
        capture_output=True, text=True, env=env, timeout=60, check=True,
    ).stdout.splitlines()  # fmt: skip
    assert listed[0].split() == [
        "ID", "PARAMS", "TOKENIZER", "PRECISION", "SIZE", "HELD-OUT", "BITS", "CACHED"
    ]  # fmt: skip
    rows = {line.split()[0]: line for line in listed[1:]}
    int8_bpb = int8_gate(released / "tiny-2", char_run, char_data, checkpoint="last")["bpb_int8"]
    assert f" {int8_bpb:.3f} bpb (int8) " in rows["tiny-2"], rows["tiny-2"]
    fp32 = json.loads(sup_ok("eval", char_run, "--text", char_data / "val.txt", "--json").stdout)
    assert f" {fp32['bits_per_char']:.3f} bpc " in rows["tiny-1"], rows["tiny-1"]


def test_lineage_resolves_to_the_newest_version(released):
    from sup.formats.registry import parse_registry, resolve

    path = released / "registry.json"
    registry = parse_registry(path.read_text(), str(path))
    assert [e["id"] for e in registry["models"]] == ["tiny-2", "tiny-1"]
    assert resolve(registry, "tiny")["id"] == "tiny-2"
    assert resolve(registry, "tiny-1")["id"] == "tiny-1"


def test_check_passes_on_fresh_releases(released, tmp_path):
    proc = sup_ok("check", "--releases", released, "--docs", cwd=tmp_path)
    assert proc.stdout.startswith("ok: 2 releases in "), proc.stdout
    assert "registry up to date" in proc.stdout
    assert "1 relative link in 2 Markdown files resolves" in proc.stdout


def test_release_refusals_write_nothing(released, char_run, tmp_path):
    from sup.ship.registry import write_registry

    gap = tmp_path / "gap"  # tiny-2 released, tiny-1 not
    shutil.copytree(released, gap)
    shutil.rmtree(gap / "tiny-1")
    write_registry(gap)
    untrained = tmp_path / "untrained"
    shutil.copytree(char_run, untrained, ignore=shutil.ignore_patterns("checkpoints"))
    before = {d: tree_snapshot(d) for d in (released, gap)}
    fresh = tmp_path / "fresh"

    bad_id, exists, lower, no_ckpt, bad_text = run_sup_many(
        ("release", char_run, "--id", "Tiny_3", "--releases", released),
        ("release", char_run, "--id", "tiny-1", "--releases", released),
        ("release", char_run, "--id", "tiny-1", "--releases", gap),
        ("release", untrained, "--id", "tiny-1", "--releases", fresh),
        ("release", char_run, "--id", "tiny-1", "--releases", fresh, "--text", tmp_path / "no.txt"),
    )
    assert "bad release id 'Tiny_3'" in assert_cli_error(bad_id, 2)
    line = assert_cli_error(exists, 2)
    assert "already exists" in line and "tiny-3" in line and "--force" in line
    assert "versions only go up: release tiny-3" in assert_cli_error(lower, 2)
    assert "no 'best' checkpoint" in assert_cli_error(no_ckpt, 1)
    assert "no.txt not found" in assert_cli_error(bad_text, 1)
    assert {d: tree_snapshot(d) for d in (released, gap)} == before
    assert not fresh.exists()


def _fake_export(source: Path):
    """An export_bundle stand-in that copies an existing release (no graphs exported)."""
    from sup.formats.manifest import CARD, read_manifest
    from sup.ship.bundle import write_manifest

    def export_bundle(run_dir, out, *, bundle_id, metrics, **_):
        shutil.copytree(source, out)
        (out / CARD).unlink()
        m = {**read_manifest(out), "id": bundle_id, "metrics": metrics}
        write_manifest(out, {k: v for k, v in m.items() if k != "files"})
        return read_manifest(out)

    return export_bundle


@pytest.mark.parametrize("release_id", ["tiny-3", "tiny-2"])
def test_failed_registry_write_restores_releases(
    released, char_run, tmp_path, monkeypatch, release_id
):
    """A new release (tiny-3) or a --force replacement (tiny-2) whose registry write
    fails: the bundle, the old bundle and registry.json are exactly as before."""
    import sup.ship.export
    import sup.ship.release
    from sup.errors import SupError

    releases = tmp_path / "releases"
    shutil.copytree(released, releases)
    before = tree_snapshot(releases)
    monkeypatch.setattr(sup.ship.export, "export_bundle", _fake_export(released / "tiny-1"))

    def broken_registry(_):
        raise OSError("disk full")

    monkeypatch.setattr(sup.ship.release, "write_registry", broken_registry)
    with pytest.raises(OSError, match="disk full"):
        sup.ship.release.release(char_run, release_id, releases, force=True)
    assert tree_snapshot(releases) == before
    assert sorted(p.name for p in releases.iterdir()) == ["registry.json", "tiny-1", "tiny-2"]

    monkeypatch.undo()  # the same stand-in, registry intact: the release goes through
    monkeypatch.setattr(sup.ship.export, "export_bundle", _fake_export(released / "tiny-1"))
    result = sup.ship.release.release(char_run, release_id, releases, force=True)
    assert result["replaced"] == (release_id == "tiny-2")
    assert result["lineage_resolves_to"] == ("tiny-3" if release_id == "tiny-3" else "tiny-2")
    with pytest.raises(SupError, match="already exists"):
        sup.ship.release.release(char_run, release_id, releases)
