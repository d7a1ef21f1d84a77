"""Bad input through the real CLI: a non-zero exit (2 for usage errors), exactly one
``sup: error:`` line on stderr, no traceback, and nothing overwritten.

Each failing command costs an interpreter start-up and a torch import, so independent
commands of one kind are launched side by side by a module fixture; each test then
checks its own case.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import (
    assert_cli_error,
    checkpoint_path,
    run_sup,
    run_sup_many,
    sets,
    sup_ok,
    tree_snapshot,
)
from sup.engine.prepare import prepare
from sup.errors import UsageError
from sup.instruments.kenosha import generate_corpus

pytestmark = pytest.mark.slow


@pytest.fixture
def run_copy(tmp_path, char_run):
    """A private copy of the session run, free to break."""
    dst = tmp_path / "run"
    shutil.copytree(char_run, dst)
    return dst


# ----------------------------------------------------------------------------- prepare


@pytest.fixture(scope="module")
def prepare_errors(tmp_path_factory, kenosha_txt, char_data):
    root = tmp_path_factory.mktemp("prepare_errors")
    (root / "empty.txt").write_text("")
    (root / "docs.jsonl").write_text(
        '{"text": "fine"}\n{"body": "no text here"}\n', encoding="utf-8"
    )
    (root / "latin1.txt").write_bytes("caf\xe9 au lait\n".encode("latin-1") * 20)
    shutil.copytree(char_data, root / "existing")
    snapshot = tree_snapshot(root / "existing")
    cases = {
        "missing": ["prepare", root / "nope.txt", "--out", root / "out_missing"],
        "empty": ["prepare", root / "empty.txt", "--out", root / "out_empty"],
        "jsonl": ["prepare", root / "docs.jsonl", "--out", root / "out_jsonl"],
        "latin1": ["prepare", root / "latin1.txt", "--out", root / "out_latin1"],
        "exists": ["prepare", kenosha_txt, "--out", root / "existing", "--tokenizer", "byte"],
        "spec": ["prepare", kenosha_txt, "--out", root / "out_spec", "--tokenizer", "bpe:12"],
    }
    results = dict(zip(cases, run_sup_many(*cases.values()), strict=True))
    return root, results, snapshot


def test_missing_input_file(prepare_errors):
    root, results, _ = prepare_errors
    line = assert_cli_error(results["missing"], 1)
    assert "input not found" in line and "nope.txt" in line
    assert not (root / "out_missing").exists()


def test_empty_input_file(prepare_errors):
    root, results, _ = prepare_errors
    line = assert_cli_error(results["empty"], 1)
    assert "empty.txt is empty" in line
    assert not (root / "out_empty").exists()


def test_jsonl_without_text_field(prepare_errors):
    root, results, _ = prepare_errors
    line = assert_cli_error(results["jsonl"], 1)
    assert "docs.jsonl:2" in line and '"text"' in line
    assert not (root / "out_jsonl").exists()


def test_input_that_is_not_utf8(prepare_errors):
    root, results, _ = prepare_errors
    line = assert_cli_error(results["latin1"], 1)
    assert "not UTF-8" in line
    assert not (root / "out_latin1").exists()


def test_prepare_out_exists_is_left_alone(prepare_errors):
    root, results, snapshot = prepare_errors
    line = assert_cli_error(results["exists"], 2)
    assert "already exists" in line and "--force" in line
    assert tree_snapshot(root / "existing") == snapshot


def test_bad_tokenizer_spec(prepare_errors):
    root, results, _ = prepare_errors
    assert "bpe:12" in assert_cli_error(results["spec"], 2)
    assert not (root / "out_spec").exists()
    # nothing half-written is left next to the outputs
    assert not [p.name for p in root.iterdir() if p.name.startswith(".")]


# ----------------------------------------------------------------------------- train config


@pytest.fixture(scope="module")
def train_errors(tmp_path_factory, char_data):
    root = tmp_path_factory.mktemp("train_errors")
    short = root / "short.txt"
    short.write_text(generate_corpus(8, seed=0)[:240], encoding="utf-8")  # val: 24 chars
    prepare(short, "char", root / "short_data")
    (root / "unknown.toml").write_text("n_layer = 1\nlearnig_rate = 0.1\n")
    (root / "wrong.toml").write_text('n_layer = "two"\n')
    (root / "not_data").mkdir()
    v1 = root / "v1_data"  # what sup 0.1 wrote: one train.bin, meta.json version 1
    v1.mkdir()
    (v1 / "train.bin").write_bytes(b"\0\0" * 100)
    (v1 / "meta.json").write_text(json.dumps({"format": "sup-data", "version": 1}))
    data = ["--data", char_data]
    cases = {
        "short": ["train", "--data", root / "short_data", "--out", root / "run_short",
                  *sets(block_size=32, max_iters=5)],
        "unknown_set": ["train", *data, "--out", root / "run_unknown_set", "--set", "n_layers=2"],
        "unknown_toml": ["train", root / "unknown.toml", *data, "--out", root / "run_unknown"],
        "wrong_set": ["train", *data, "--out", root / "run_wrong_set", "--set", "n_layer=two"],
        "wrong_toml": ["train", root / "wrong.toml", *data, "--out", root / "run_wrong_toml"],
        "invalid": ["train", *data, "--out", root / "run_invalid", *sets(n_embd=30, n_head=4)],
        "no_data": ["train", "--data", root / "not_data", "--out", root / "run_no_data"],
        "v1_data": ["train", "--data", v1, "--out", root / "run_v1"],
    }  # fmt: skip
    results = dict(zip(cases, run_sup_many(*cases.values()), strict=True))
    return root, results


def no_runs_created(root: Path) -> bool:
    return not [p for p in root.iterdir() if p.name.startswith(("run_", ".run_"))]


def test_version_1_data_directory_is_refused(train_errors):
    root, results = train_errors
    line = assert_cli_error(results["v1_data"], 1)
    assert "version 1 of the sup data meta file format" in line and "re-run `sup prepare`" in line
    assert no_runs_created(root)


def test_corpus_shorter_than_one_block(train_errors):
    root, results = train_errors
    line = assert_cli_error(results["short"], 1)
    assert "val split has 24 tokens" in line and "block_size" in line
    assert not (root / "run_short").exists()


def test_unknown_config_key(train_errors):
    root, results = train_errors
    for case, source in (("unknown_set", "--set"), ("unknown_toml", "unknown.toml")):
        line = assert_cli_error(results[case], 2)
        assert "unknown config key" in line and source in line
        assert "valid keys:" in line
        listed = line.split("valid keys:", 1)[1]
        for key in ("n_layer", "n_embd", "learning_rate", "max_iters", "seed"):
            assert key in listed
    assert "'n_layers'" in results["unknown_set"].stderr
    assert "'learnig_rate'" in results["unknown_toml"].stderr
    assert no_runs_created(root)


def test_wrong_value_type(train_errors):
    root, results = train_errors
    for case in ("wrong_set", "wrong_toml"):
        line = assert_cli_error(results[case], 2)
        assert "'n_layer'" in line and "must be int" in line and "'two'" in line
    assert no_runs_created(root)


def test_invalid_config_and_flags(train_errors):
    root, results = train_errors
    assert "n_embd must be divisible by n_head" in assert_cli_error(results["invalid"], 2)
    line = assert_cli_error(results["no_data"], 1)
    assert "not a sup data directory" in line
    assert no_runs_created(root)


def test_out_run_dir_exists_contents_unchanged(tmp_path, char_data, run_copy):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("do not delete")
    before_run, before_precious = tree_snapshot(run_copy), tree_snapshot(precious)
    tiny = sets(max_iters=3)
    existing_run, plain_dir, forced_dir = run_sup_many(
        ["train", "--data", char_data, "--out", run_copy, *tiny],
        ["train", "--data", char_data, "--out", precious, *tiny],
        ["train", "--data", char_data, "--out", precious, "--force", *tiny],
    )
    line = assert_cli_error(existing_run, 2)
    assert "already exists" in line and "--resume" in line
    assert "already exists" in assert_cli_error(plain_dir, 2)
    # --force replaces runs only, never a directory sup did not make
    assert "not a sup run directory" in assert_cli_error(forced_dir, 2)
    assert tree_snapshot(run_copy) == before_run
    assert tree_snapshot(precious) == before_precious


# ----------------------------------------------------------------------------- checkpoints


def test_missing_checkpoint(run_copy, char_data):
    shutil.rmtree(run_copy / "checkpoints")
    sample, evaluate, resume = run_sup_many(
        ["sample", run_copy, "--max-new-tokens", 5],
        ["eval", run_copy, "--text", char_data / "val.txt"],
        ["train", "--resume", run_copy],
    )
    assert "no 'best' checkpoint" in assert_cli_error(sample, 1)
    assert "no 'best' checkpoint" in assert_cli_error(evaluate, 1)
    assert "no 'last' checkpoint" in assert_cli_error(resume, 1)
    assert sample.stdout == ""


def test_corrupt_checkpoint(run_copy, char_data):
    model_file = checkpoint_path(run_copy, "best") / "model.safetensors"
    data = model_file.read_bytes()
    model_file.write_bytes(data[: len(data) // 2])
    procs = run_sup_many(["sample", run_copy], ["eval", run_copy, "--text", char_data / "val.txt"])
    for proc in procs:
        line = assert_cli_error(proc, 1)
        assert "corrupt" in line and "model.safetensors" in line
        assert proc.stdout == ""


def test_resume_after_data_directory_changed(tmp_path, kenosha_txt):
    data = tmp_path / "data"
    prepare(kenosha_txt, "char", data)
    run = tmp_path / "run"
    sup_ok("train", "--data", data, "--out", run, "--stop-after", 2, "--quiet",
           *sets(max_iters=10, eval_interval=5))  # fmt: skip
    other = tmp_path / "other.txt"
    other.write_text(generate_corpus(800, seed=99), encoding="utf-8")
    prepare(other, "char", data, force=True)  # what `sup prepare ... --force` does
    before = tree_snapshot(run)
    line = assert_cli_error(run_sup("train", "--resume", run), 1)
    assert "changed since this run started" in line and "sha256" in line
    assert tree_snapshot(run) == before
    assert json.loads((run / "checkpoints" / "last.json").read_text())["step"] == 2


# ----------------------------------------------------------------------------- sample / eval


def test_prompt_with_unknown_characters_and_other_flag_errors(tmp_path, char_run):
    text = tmp_path / "t.txt"
    text.write_text("You never did.")
    prompt, temperature, which, no_text, not_run, bad_int = run_sup_many(
        ["sample", char_run, "--prompt", "You ☃ never Ω"],
        ["sample", char_run, "--temperature", "-1"],
        ["sample", char_run, "--checkpoint", "first"],
        ["eval", char_run, "--text", tmp_path / "nope.txt"],
        ["eval", tmp_path, "--text", text],
        ["train", "--stop-after", "soon"],
    )
    line = assert_cli_error(prompt, 2)
    assert "'☃'" in line and "'Ω'" in line and "2 character(s)" in line
    assert "--temperature must be 0 (greedy) or a number" in assert_cli_error(temperature, 2)
    assert "--checkpoint must be best, last or a kept step-N" in assert_cli_error(which, 2)
    for proc in (prompt, temperature, which):
        assert proc.stdout == ""
    assert "text file not found" in assert_cli_error(no_text, 1)
    assert "not a sup run directory" in assert_cli_error(not_run, 1)
    line = assert_cli_error(bad_int, 2)  # argparse errors keep the one-line contract
    assert "invalid int value" in line and "see: sup train --help" in line


# ----------------------------------------------------------------------------- edge values


def test_seed_out_of_range_is_a_clean_error(tmp_path, char_run, char_data):
    """A seed torch cannot take (outside [0, 2**63)) is a usage error, not a traceback."""
    sample, negative, train = run_sup_many(
        ["sample", char_run, "--seed", str(2**64), "--max-new-tokens", 3],
        ["sample", char_run, "--seed", "-1", "--max-new-tokens", 3],
        ["train", "--data", char_data, "--out", tmp_path / "run",
         *sets(max_iters=2, seed=2**64)],
    )  # fmt: skip
    assert "--seed" in assert_cli_error(sample, 2)
    assert "--seed" in assert_cli_error(negative, 2)
    assert "seed" in assert_cli_error(train, 2)
    assert sample.stdout == "" and not (tmp_path / "run").exists()


def test_resume_survives_a_partial_metrics_line(run_copy):
    """A crash in the middle of a metrics write leaves a cut-off last line; resume drops
    it (it is after the checkpoint anyway) and carries on."""
    with open(run_copy / "metrics.jsonl", "a") as f:
        f.write('{"step": 61, "lo')
    sup_ok("train", "--resume", run_copy, "--set", "max_iters=62", "--quiet")
    steps = [json.loads(line)["step"] for line in (run_copy / "metrics.jsonl").open()]
    assert steps == list(range(1, 63))


# ----------------------------------------------------------------------------- known bugs


def assert_clean_failure(proc) -> str:
    """Any non-zero exit, with the one-line, no-traceback error contract."""
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode != 0
    return assert_cli_error(proc, proc.returncode)


def test_prepare_force_refuses_a_directory_that_is_not_data(tmp_path, kenosha_txt):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.txt").write_text("do not delete")
    refused = False
    try:
        prepare(kenosha_txt, "char", precious, force=True)
    except UsageError:
        refused = True
    assert (precious / "thesis.txt").exists(), "the user's file was deleted"
    assert refused


def test_unusable_output_paths_are_clean_errors(tmp_path, kenosha_txt, char_data):
    a_dir = tmp_path / "a_dir"
    a_dir.mkdir()
    data_over_dir, prepare_under_file, train_under_file = run_sup_many(
        ["data", "kenosha", "--out", a_dir, "--lines", 5, "--force"],
        ["prepare", kenosha_txt, "--out", kenosha_txt / "sub"],
        ["train", "--data", char_data, "--out", kenosha_txt / "run", *sets(max_iters=1)],
    )
    for proc in (data_over_dir, prepare_under_file, train_under_file):
        assert_clean_failure(proc)
    assert a_dir.is_dir() and kenosha_txt.is_file()


def test_an_edited_run_tokenizer_is_refused_everywhere(tmp_path, char_run):
    """run.json records the tokenizer's sha256; every reader of the run checks it."""
    run = tmp_path / "run"
    shutil.copytree(char_run, run)
    tok = json.loads((run / "tokenizer.json").read_text())
    tok["chars"][0], tok["chars"][1] = tok["chars"][1], tok["chars"][0]  # same shape, wrong ids
    (run / "tokenizer.json").write_text(json.dumps(tok))
    procs = run_sup_many(
        ["sample", run, "--max-new-tokens", 5],
        ["eval", run, "--text", run / "run.json"],
        ["export", run, "--out", tmp_path / "bundle"],
        ["train", "--resume", run, "--set", "max_iters=70"],
    )
    for proc in procs:
        line = assert_cli_error(proc, 1)
        assert "not the tokenizer this run was trained with" in line
    assert not (tmp_path / "bundle").exists()
