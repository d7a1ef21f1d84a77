"""`sup check`: a clean releases directory passes; each kind of damage is reported as
its own line naming the file (and entry or field), with a non-zero exit."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import run_sup, sup_ok


@pytest.fixture
def copy(released, tmp_path) -> Path:
    out = tmp_path / "releases"
    shutil.copytree(released, out)
    return out


def edit_json(path: Path, change) -> None:
    obj = json.loads(path.read_text())
    change(obj)
    path.write_text(json.dumps(obj, indent=2))


def problems(releases: Path, *docs, cwd: Path | None = None) -> list[str]:
    """Run `sup check`, assert it failed properly, return its problem lines."""
    proc = run_sup("check", "--releases", releases, "--docs", *docs, cwd=cwd)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 1, proc.stderr
    *lines, last = proc.stderr.strip().splitlines()
    lines = [line for line in lines if not line.startswith("hint: ")]
    assert last == f"sup: error: {len(lines)} problem{'s' if len(lines) != 1 else ''} found"
    assert proc.stdout == ""
    return lines


def has(lines: list[str], *parts: str) -> bool:
    return any(all(p in line for p in parts) for line in lines)


def flip_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_flipped_byte_in_a_graph(copy):
    flip_byte(copy / "tiny-1" / "model.kv.onnx")
    lines = problems(copy)
    assert lines == [f"{copy / 'tiny-1' / 'model.kv.onnx'}: sha256 does not match the manifest"]


def test_truncated_file(copy):
    path = copy / "tiny-2" / "model.onnx"
    size = path.stat().st_size
    path.write_bytes(path.read_bytes()[: size // 2])
    lines = problems(copy)
    assert lines == [f"{path}: size {size // 2} bytes, manifest says {size}"]


def test_hand_edited_registry_field(copy):
    params = json.loads((copy / "tiny-1" / "manifest.json").read_text())["model"]["params"]

    def edit(registry):
        registry["models"][1]["params"] += 1

    edit_json(copy / "registry.json", edit)
    assert problems(copy) == [
        f"{copy / 'registry.json'}: tiny-1: params is {params + 1} in the registry, "
        f"{params} in the manifest"
    ]
    proc = run_sup("check", "--releases", copy, "--docs")
    assert "hint: " in proc.stderr and "sup check --write-registry" in proc.stderr
    sup_ok("check", "--releases", copy, "--docs", "--write-registry")


def test_registry_that_breaks_its_schema(copy):
    edit_json(copy / "registry.json", lambda r: r["models"][0].pop("size"))
    lines = problems(copy)
    assert has(lines, "registry.json: invalid at models/0: 'size' is a required property")
    assert has(lines, "tiny-2: size is missing")


def test_missing_registry(copy):
    (copy / "registry.json").unlink()
    assert has(problems(copy), "registry.json: missing, but", "holds bundles")


def test_registered_bundle_that_is_gone(copy):
    shutil.rmtree(copy / "tiny-1")
    assert problems(copy) == [
        f"{copy / 'registry.json'}: tiny-1: listed in the registry but no bundle tiny-1/ "
        "has that id"
    ]


def test_card_figures_are_checked_wherever_they_appear(released):
    from sup.ship.card import card_problems

    manifest = json.loads((released / "tiny-1" / "manifest.json").read_text())
    text = (released / "tiny-1" / "MODEL_CARD.md").read_text()
    assert card_problems(manifest, text) == []
    bpc = f"{manifest['metrics']['bits_per_char']:.4f}"
    head, evaluation = text.split("## Evaluation")  # edit the second table only
    row = f"| bits per character | {bpc} |"
    assert row in head and row in evaluation
    edited = head + "## Evaluation" + evaluation.replace(row, "| bits per character | 0.1 |")
    assert card_problems(manifest, edited) == [
        f"says bits per character 0.1, the manifest gives {bpc}"
    ]
    assert card_problems(manifest, edited.replace(row, "")) == [
        f"says bits per character 0.1, the manifest gives {bpc}"
    ]
    no_rows = "\n".join(ln for ln in text.splitlines() if "| bits per character |" not in ln)
    assert card_problems(manifest, no_rows) == [
        f"has no 'bits per character' row (the manifest gives {bpc})"
    ]


def test_json_report(copy):
    (copy / "tiny-1" / "notes.txt").write_text("not part of the release\n")
    proc = run_sup("check", "--releases", copy, "--docs", "--json")
    assert proc.returncode == 1, proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] is False
    assert report["bundles"] == ["tiny-1", "tiny-2"]
    assert report["problems"] == [f"{copy / 'tiny-1' / 'notes.txt'}: not listed in the manifest"]
    assert report["registry"] == "up to date"


def test_deleted_card(copy):
    (copy / "tiny-1" / "MODEL_CARD.md").unlink()
    assert problems(copy) == [f"{copy / 'tiny-1' / 'MODEL_CARD.md'}: missing"]
    (copy / "tiny-2" / "MODEL_CARD.md").unlink()  # tiny-1's card links to this one
    assert problems(copy)[1:] == [f"{copy / 'tiny-2' / 'MODEL_CARD.md'}: missing"]


def test_extra_file(copy):
    (copy / "tiny-1" / "notes.txt").write_text("not part of the release\n")
    assert problems(copy) == [f"{copy / 'tiny-1' / 'notes.txt'}: not listed in the manifest"]


def test_stray_and_leftover_directories(copy):
    (copy / "scratch").mkdir()
    (copy / ".tiny-3.release-x1y2").mkdir()  # what a killed `sup release` leaves
    (copy / ".git-like").mkdir()  # other hidden entries are none of check's business
    assert problems(copy) == [
        f"{copy / '.tiny-3.release-x1y2'}: left behind by an interrupted sup release; remove it",
        f"{copy / 'scratch'}: not a bundle (no manifest.json); remove it from the releases",
    ]


def test_broken_relative_link(copy, tmp_path):
    doc = tmp_path / "GUIDE.md"
    doc.write_text(
        "# Guide\n\nSee [the card](releases/tiny-1/MODEL_CARD.md#limitations) and\n"
        "[results](docs/RESULTS.md), [mail](mailto:a@b.c), [web](https://x.y/z.md).\n"
    )
    lines = problems(copy, doc, cwd=tmp_path)
    assert lines == [
        f"{doc}:4: broken link docs/RESULTS.md ({tmp_path / 'docs' / 'RESULTS.md'} does not exist)"
    ]


def test_changed_manifest_metric(copy):
    def edit(m):
        m["metrics"]["bits_per_char"] = 9.0

    edit_json(copy / "tiny-1" / "manifest.json", edit)
    lines = problems(copy)
    card = copy / "tiny-1" / "MODEL_CARD.md"
    assert has(lines, f"{card}: says bits per character", "the manifest gives 9.0000")
    assert has(lines, "registry.json: tiny-1: manifest_sha256 is")
    assert has(lines, "registry.json: tiny-1: metrics.bits_per_char is", "9.0 in the manifest")


@pytest.mark.parametrize("delta", [-1, 1])
def test_block_size_that_is_not_the_graphs(copy, delta):
    def edit(m):
        m["model"]["block_size"] += delta

    edit_json(copy / "tiny-1" / "manifest.json", edit)
    lines = problems(copy)
    full, kv = (copy / "tiny-1" / "model.onnx", copy / "tiny-1" / "model.kv.onnx")
    if delta < 0:
        assert has(lines, f"{full}: accepts more than block_size 15 positions"), lines
        assert has(lines, f"{kv}: accepts more than block_size 15 positions"), lines
    else:
        assert has(lines, f"{full}: fails on a full block of 17 tokens"), lines
        assert has(lines, f"{kv}: fails on a past of 16 positions plus one token"), lines


def test_int8_figures_below_the_floor(copy):
    """A manifest whose int8 gate figures the gate itself would have refused."""

    def edit(m):
        m["parity"]["int8"]["full"]["top1_agreement"] = 0.5
        m["parity"]["int8"]["floor"] = 0.9

    edit_json(copy / "tiny-2" / "manifest.json", edit)
    lines = problems(copy)
    where = copy / "tiny-2" / "manifest.json"
    assert has(lines, f"{where}: int8 full graph top-1 agreement 50.00% is below the floor 90%")
    assert has(lines, f"{where}: int8 floor 0.9 is below sup's 0.95")
    assert not has(lines, "int8 KV graph")


def test_int8_bundle_without_its_gate_figures(copy):
    edit_json(copy / "tiny-2" / "manifest.json", lambda m: m["parity"].pop("int8"))
    lines = problems(copy)
    assert has(lines, "tiny-2/manifest.json: precision int8 but parity.int8 is absent")


def test_tokenizer_type_no_player_reads(copy):
    edit_json(copy / "tiny-2" / "manifest.json", lambda m: m["tokenizer"].update(type="sp"))
    lines = problems(copy)
    assert has(lines, "tiny-2/manifest.json: invalid manifest at tokenizer/type: 'sp' is not one")


def test_no_releases_is_fine(tmp_path):
    proc = sup_ok("check", "--releases", tmp_path / "none", "--docs")
    assert proc.stdout.startswith("ok: no releases in ")
    assert "(no registry.json)" in proc.stdout


def test_default_docs_are_readme_and_docs(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "README.md").write_text("[arch](docs/ARCH.md) [x](#top)\n")
    (tmp_path / "docs" / "ARCH.md").write_text("[up](../README.md#sup) [gone](gone.md)\n")
    proc = run_sup("check", cwd=tmp_path)  # no --docs: README.md and docs/*.md here
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "docs/ARCH.md:1: broken link gone.md (docs/gone.md does not exist)",
        "sup: error: 1 problem found",
    ]


def test_markdown_links_skip_code_and_web_links():
    from sup.ship.check import markdown_links

    text = (
        '[a](one.md) `[b](code.md)` ![img](pic.png "title")\n'
        "```\n[c](fenced.md)\n```\n"
        "[`src/x.py`](src/x.py) [d](<with space.md>) [e](../up.md#anchor)\n"
        "[ref]: refs/target.md\n"
    )
    assert markdown_links(text) == [
        (1, "one.md"),
        (1, "pic.png"),
        (5, "src/x.py"),
        (5, "with space.md"),
        (5, "../up.md#anchor"),
        (6, "refs/target.md"),
    ]
