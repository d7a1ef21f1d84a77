"""The recipe interface: ``sup instruments``, ``sup data``, ``sup build`` and ``sup
harness`` through the real CLI on tiny presets; the harness metrics on hand-made samples
whose answers are known; a split made in advance read by ``sup prepare``; bad input."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from helpers import SUB_ENV, assert_cli_error, run_sup, run_sup_many, sup_cmd, sup_ok
from sup.instruments.dream import complete_lines, line_marks, score
from sup.instruments.kenosha import ANCHORS
from sup.instruments.shakespeare import side_of
from sup.instruments.stats import bootstrap_mean, cluster_bootstrap, wilson

# ----------------------------------------------------------------------------- metrics


def test_line_marks_classes():
    anchor = line_marks("You never did the Kenosha Kid.")
    assert anchor.anchor and not anchor.near_miss and not anchor.garbled
    permutation = line_marks("Kid, the never you did Kenosha?")
    assert not permutation.anchor and not permutation.near_miss and not permutation.garbled
    near = line_marks("You nevr did teh Kenosha Kidd.")  # distances 1, 2 (swap), 1
    assert near.near_miss and not near.garbled
    garbled = line_marks("You never did the Wisconsin Kid.")
    assert garbled.garbled and not garbled.near_miss


def test_only_complete_lines_are_scored():
    assert complete_lines("You never did.\nKid the\n\nYou nev") == ["You never did.", "Kid the"]
    assert complete_lines("no newline at all") == []


def test_score_counts_lines_and_covered_anchors():
    samples = [[ANCHORS[0], ANCHORS[0], "You nevr did the Kenosha Kid."], [ANCHORS[1]]]
    s = score(samples)
    assert s["lines"] == 4 and s["anchors_covered"] == 2
    assert s["anchor"]["rate"] == pytest.approx(0.75)
    assert s["near_miss"]["rate"] == pytest.approx(0.25)
    low, high = s["anchor"]["ci95"]
    assert 0 <= low <= 0.75 <= high <= 1


def test_intervals_against_known_answers():
    low, high = wilson(5, 10)  # the textbook case
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)
    assert wilson(0, 0) == (0.0, 1.0)
    assert cluster_bootstrap([2, 2, 2], [4, 4, 4]) == (0.5, 0.5)  # no spread, no width
    low, high = bootstrap_mean([1.0, 2.0, 3.0, 4.0])
    assert 1.0 <= low < 2.5 < high <= 4.0


def test_test_plays_are_recognised_by_name():
    assert side_of("macbeth") == side_of("king_lear") == side_of("the_tragedy_of_macbeth") == "test"
    assert side_of("julius_caesar") == "val" and side_of("hamlet") == "train"


# ----------------------------------------------------------------------------- shakespeare


@pytest.fixture
def works(tmp_path, shared_data) -> Path:
    """Six works, cut short (so a tiny model scores them in seconds), and a stand-in
    Macbeth: the shared directory withholds the real test plays."""
    out = tmp_path / "works"
    out.mkdir()
    for name in ("julius_caesar", "twelfth_night", "tempest", "hamlet", "othello"):
        text = (shared_data / "shakespeare-works" / f"{name}.txt").read_text()
        (out / f"{name}.txt").write_text(text[:12_000])
    text = (shared_data / "shakespeare-works" / "coriolanus.txt").read_text()
    (out / "macbeth.txt").write_text(text[:6_000])
    return out


def test_shakespeare_builds_by_work_and_never_trains_on_the_test_plays(tmp_path, works):
    out = tmp_path / "build"
    proc = sup_ok("build", "shakespeare", "--preset", "tiny", "--from", works, "--out", out,
                  "--quiet")  # fmt: skip
    corpus = json.loads((out / "corpus" / "works" / "manifest.json").read_text())
    assert corpus["counts"] == {"train": 3, "val": 2, "test": 1}
    meta = json.loads((out / "data" / "meta.json").read_text())
    assert meta["source"]["documents"] == 5  # train and val works only
    assert meta["val"]["chars"] == 24_000 and meta["train"]["chars"] == 36_000
    report = json.loads((out / "harness.json").read_text())
    assert {w["work"] for w in report["works"]} == {"julius_caesar", "twelfth_night", "macbeth"}
    assert report["headline"]["side"] == "test"
    assert report["sides"]["test"]["chars"] == 6_000
    assert 0 < report["headline"]["bits_per_char"] < 8
    assert "bpc (test)" in proc.stderr
    assert report["scored"] == "run"

    # the same works scored by a release's own graphs (ONNX Runtime, int8): close to the
    # run's figures, not equal to them
    releases = tmp_path / "releases"
    sup_ok("release", out / "run", "--id", "tinyshk-1", "--releases", releases, "--int8",
           "--data", out / "data")  # fmt: skip
    corpus = out / "corpus" / "works"
    argv = ("harness", "shakespeare", releases / "tinyshk-1", "--corpus", corpus, "--samples",
            "1", "--tokens", "20", "--json")  # fmt: skip
    shipped = json.loads(sup_ok(*argv).stdout)
    assert shipped["scored"] == "bundle"
    for ran, released in zip(report["works"], shipped["works"], strict=True):
        assert ran["work"] == released["work"] and ran["chars"] == released["chars"]
        assert released["bits_per_char"] == pytest.approx(ran["bits_per_char"], abs=0.1)
    assert shipped["headline"]["bits_per_char"] != report["headline"]["bits_per_char"]


# ----------------------------------------------------------------------------- kenosha


def test_kenosha_build_is_skipped_when_done_and_released(tmp_path):
    out, releases = tmp_path / "build", tmp_path / "releases"
    args = ["build", "kenosha", "--preset", "tiny", "--out", out, "--quiet",
            "--release", "tinykenosha-1", "--releases", releases]  # fmt: skip
    first = sup_ok(*args)
    assert "train: 40 steps" in first.stderr and "release: tinykenosha-1" in first.stderr
    report = json.loads((out / "harness.json").read_text())
    assert [c["temperature"] for c in report["conditions"]] == [0.5, 0.9, 1.3]
    seeds = [s for c in report["conditions"] for s in c["seeds"]]
    assert len(seeds) == len(set(seeds)) == 6  # a seed per (temperature, sample)
    assert report["corpus"]["anchor"]["rate"] > 0.1  # the corpus has its anchors
    assert (out / "harness.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the preset keeps every eval's checkpoint, so the report sweeps training progress
    kept = sorted(p.name for p in (out / "run" / "checkpoints").glob("step-*.json"))
    assert kept == ["step-00000020.json", "step-00000040.json"]
    sweep = report["sweep"]
    assert [(p["step"], p["temperature"]) for p in sweep] == [
        (step, t) for step in (20, 40) for t in (0.5, 0.9, 1.3)
    ]
    sweep_seeds = [s for p in sweep for s in p["seeds"]]
    assert len(sweep_seeds) == len(set(sweep_seeds) | set(seeds)) - len(seeds) == 12
    val = out / "data" / "val.txt"
    early, final = (
        json.loads(sup_ok("eval", out / "run", "--text", val, "--json", "--checkpoint", c).stdout)
        for c in ("step-00000020", "last")
    )
    assert (early["step"], final["step"]) == (20, 40)
    assert early["bits_per_char"] != final["bits_per_char"]  # another checkpoint, another model
    card = (releases / "tinykenosha-1" / "MODEL_CARD.md").read_text()
    assert "Harness (`sup harness kenosha`)" in card and "dream score" in card

    second = sup_ok(*args)
    for step in ("corpus", "prepare", "train", "harness", "release"):
        assert f"{step}: up to date" in second.stderr, second.stderr

    # the release plays, and the harness measures it as a bundle (ONNX Runtime)
    sup_ok("play", releases / "tinykenosha-1", "you", "--max-new-tokens", "5")
    proc = sup_ok("harness", "kenosha", releases / "tinykenosha-1", "--samples", "1",
                  "--tokens", "80", "--json")  # fmt: skip
    assert json.loads(proc.stdout)["conditions"][0]["samples"] == 1


def test_an_interrupted_build_continues_where_it_stopped(tmp_path):
    """kill -9 mid-training; the same command again skips the finished steps and resumes
    training from its last checkpoint."""
    out = tmp_path / "build"
    argv = ["build", "kenosha", "--preset", "tiny", "--out", out, "--quiet",
            "--set", "max_iters=300", "--set", "eval_interval=10"]  # fmt: skip
    proc = subprocess.Popen(sup_cmd(*argv), env=SUB_ENV, stderr=subprocess.DEVNULL)
    pointer = out / "run" / "checkpoints" / "last.json"
    deadline = time.monotonic() + 120
    while not pointer.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert pointer.exists(), "training never checkpointed"
    again = run_sup(*argv, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "corpus: up to date" in again.stderr and "prepare: up to date" in again.stderr
    assert "train: resuming at step" in again.stderr, again.stderr
    assert json.loads(pointer.read_text())["step"] == 300


def test_a_build_killed_in_each_step_in_turn_finishes_and_leaves_no_staging(tmp_path):
    """kill -9 as each step starts (corpus, prepare, train, harness, release), one step
    per attempt; every rerun continues, the last one finishes, the release plays, and
    nothing a killed step was staging is left behind."""
    out, releases = tmp_path / "build", tmp_path / "releases"
    argv = ["build", "kenosha", "--preset", "tiny", "--out", out, "--quiet",
            "--release", "killed-1", "--releases", releases]  # fmt: skip
    starts = {"corpus": "corpus: building", "prepare": "prepare: ", "train": "train: 40 steps",
              "harness": "harness: measuring", "release": "release: killed-1"}  # fmt: skip
    for step, line in starts.items():
        proc = subprocess.Popen(sup_cmd(*argv), env=SUB_ENV, stderr=subprocess.PIPE, text=True)
        seen = []
        for text in proc.stderr:
            seen.append(text)
            if line in text:
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=120)
        assert any(line in t for t in seen), (step, seen)
        assert proc.returncode == -signal.SIGKILL, (step, proc.returncode)
        record = json.loads((out / "build.json").read_text())  # written before any step
        assert step not in record["steps"] or step == "train", (step, record)
    done = sup_ok(*argv)
    for step in ("corpus", "prepare"):
        assert f"{step}: up to date" in done.stderr, done.stderr
    assert "release: killed-1" in done.stderr
    sup_ok("play", releases / "killed-1", "you", "--max-new-tokens", "5")
    staging = [p for p in (*out.rglob(".*"), *releases.rglob(".*")) if p.name != ".lock"]
    assert staging == [], staging


# ----------------------------------------------------------------------------- the interface


def test_a_rerun_build_removes_the_staging_a_killed_step_left(tmp_path):
    """A kill between a step's temp write and its rename leaves ``.NAME.XXXXXXXX``
    beside the output; the next build (holding the lock) removes sup's own and nothing
    else."""
    out = tmp_path / "build"
    argv = ["build", "kenosha", "--preset", "tiny", "--out", out, "--quiet"]
    sup_ok(*argv)
    leftovers = [out / ".data.ab12cd34", out / "corpus" / ".kenosha.txt.x1y2z3.tmp"]
    leftovers[0].mkdir()
    (leftovers[0] / "train-000000.bin").write_bytes(b"\0" * 64)
    leftovers[1].write_text("half a corpus")
    theirs = out / ".data-notes"  # not a staging name: kept
    theirs.write_text("mine")
    sup_ok(*argv)
    assert not any(p.exists() for p in leftovers) and theirs.read_text() == "mine"


def test_instruments_lists_each_with_presets_and_headline():
    rows = json.loads(sup_ok("instruments", "--json").stdout)
    names = {r["name"]: r for r in rows}
    assert {"kenosha", "shakespeare", "gatsby"} <= set(names)
    assert set(names["kenosha"]["presets"]) == {"tiny", "cpu", "dream"}
    assert "dream score" in names["kenosha"]["headline"]


def test_bad_recipe_input_is_one_line(tmp_path, works):
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [
        (["build", "nosuch", "--out", tmp_path / "a"], 2, "no instrument named 'nosuch'"),
        (["build", "kenosha", "--preset", "huge", "--out", tmp_path / "b"], 2, "no preset 'huge'"),
        (["data", "shakespeare", "--out", tmp_path / "d", "--from", tmp_path / "no"], 2,
         "no such file or directory of works"),
        (["data", "shakespeare", "--out", tmp_path / "e", "--from", empty], 1, "holds no works"),
        (["data", "kenosha", "--out", tmp_path / "f.txt", "--lines", "0"], 2, "--lines"),
        (["harness", "kenosha", tmp_path / "nothing"], 2, "does not exist"),
        (["harness", "kenosha", empty], 2, "neither a run directory nor a bundle"),
        (["build", "kenosha", "--out", works, "--preset", "tiny"], 1, "not a sup build directory"),
    ]  # fmt: skip
    for (argv, code, text), proc in zip(cases, run_sup_many(*(c[0] for c in cases)), strict=True):
        assert text in assert_cli_error(proc, code), argv
    assert not (tmp_path / "d").exists() and not (tmp_path / "f.txt").exists()
