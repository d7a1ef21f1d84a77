"""The CLI's guard: a table of bad invocations and damaged run directories, each of
which must end with a non-zero exit, exactly one stderr line starting ``sup: error:``
and no traceback. Then the cases that need a real environment: a full disk while a
checkpoint is written (a size-limited tmpfs in a private mount namespace), stale
staging left by a kill, and the export's greedy check continuing past end-of-text.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from helpers import SUB_ENV, assert_cli_error, run_sup_many, sets, sup_cmd, sup_ok

NOT_UTF8 = os.fsdecode(b"you \xff\xfe never")  # what the shell passes through as bytes


def edit_json(path: Path, change) -> None:
    obj = json.loads(path.read_text())
    obj = change(obj) or obj
    path.write_text(json.dumps(obj))


def last_checkpoint(run: Path) -> Path:
    return run / "checkpoints" / json.loads((run / "checkpoints" / "last.json").read_text())["dir"]


@pytest.fixture(scope="module")
def damaged_runs(tmp_path_factory, char_run) -> dict[str, Path]:
    """Copies of the tiny char run, each with one file damaged in one way."""
    root = tmp_path_factory.mktemp("damaged")

    def copy(name: str) -> Path:
        return Path(shutil.copytree(char_run, root / name))

    runs = {}
    runs["pointer_list"] = run = copy("pointer_list")
    (run / "checkpoints" / "last.json").write_text("[1, 2]")
    (run / "checkpoints" / "best.json").write_text("[1, 2]")
    runs["pointer_escape"] = run = copy("pointer_escape")
    for which in ("last", "best"):
        (run / "checkpoints" / f"{which}.json").write_text('{"dir": "../../etc", "step": 1}')
    runs["state_list"] = run = copy("state_list")
    (last_checkpoint(run) / "state.json").write_text("[]")
    runs["state_step_text"] = run = copy("state_step_text")
    edit_json(last_checkpoint(run) / "state.json", lambda s: s.update(step="sixty"))
    runs["metrics_number"] = run = copy("metrics_number")
    lines = (run / "metrics.jsonl").read_text().splitlines()
    (run / "metrics.jsonl").write_text("\n".join([lines[0], "5", *lines[1:]]) + "\n")
    runs["metrics_step_text"] = run = copy("metrics_step_text")
    lines[1] = json.dumps({**json.loads(lines[1]), "step": "2"})
    (run / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    runs["run_not_object"] = run = copy("run_not_object")
    edit_json(run / "run.json", lambda info: info.update(model=[]))
    runs["run_wider"] = run = copy("run_wider")  # the config no longer fits the weights
    edit_json(run / "run.json", lambda info: info["config"].update(n_embd=64))
    runs["run_vocab"] = run = copy("run_vocab")
    edit_json(run / "run.json", lambda info: info["model"].update(vocab_size=99))
    return runs


def test_bad_invocations_are_one_line_errors(
    tmp_path, char_run, char_data, char_bundle, damaged_runs
):
    text = tmp_path / "t.txt"
    text.write_text("you never did\n")
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes("# café\nn_layer = 1\n".encode("latin-1"))
    r = damaged_runs
    table = [
        # (argv, exit code, text the line must contain)
        (["sample", char_run, "--temperature", "inf"], 2, "--temperature must be 0 (greedy)"),
        (["sample", char_run, "--temperature", "nan"], 2, "--temperature must be"),
        (["sample", char_run, "--temperature", "1e-320"], 2, "--temperature must be"),
        (["sample", char_run, "--temperature", "1000"], 2, "--temperature must be"),
        (["sample", char_run, "--top-p", "nan"], 2, "--top-p"),
        (["sample", char_run, "--prompt", NOT_UTF8], 2, "not valid UTF-8 (bytes 0xfe 0xff)"),
        (["sample", char_run, "--device", "tpu"], 2, "unknown device 'tpu'"),
        (["sample", char_run, "--device", "cuda:3"], 2, "CUDA GPU"),
        (["eval", char_run, "--text", text, "--device", "gpu0"], 2, "unknown device"),
        (["play", char_bundle, "--temperature", "inf"], 2, "--temperature must be"),
        (["play", char_bundle, "--temperature", "5e-324"], 2, "--temperature must be"),
        (["play", char_bundle, NOT_UTF8], 2, "not valid UTF-8"),
        (["export", char_run, "--out", tmp_path / "b", "--temperature", "nan"], 2, "--temperature"),
        (["export", char_run, "--out", tmp_path / "b", "--top-k", "0"], 2, "--top-k"),
        (["train", latin1, "--data", char_data, "--out", tmp_path / "r1"], 2, "not UTF-8 text"),
        (
            ["train", "--data", char_data, "--out", tmp_path / "r2", *sets(n_layer=10**23)],
            2,
            "n_layer must be at most",
        ),
        (
            ["train", "--data", char_data, "--out", tmp_path / "r3",
             *sets(n_layer=100_000, n_embd=4096)],
            2,
            "does not fit",
        ),
        (["sample", r["pointer_list"]], 1, "best.json is damaged"),
        (["sample", r["pointer_escape"]], 1, "is damaged"),
        (["train", "--resume", r["state_list"]], 1, "state.json is damaged"),
        (
            ["eval", r["state_step_text"], "--text", text, "--checkpoint", "last"],
            1,
            "step should be a step count",
        ),
        (["train", "--resume", r["metrics_number"]], 1, "metrics.jsonl line 2 is not a metrics"),
        (["train", "--resume", r["metrics_step_text"]], 1, "line 2 is not a metrics record"),
        (["sample", r["run_not_object"]], 1, "model should be an object"),
        (["sample", r["run_wider"]], 1, "does not fit the model run.json describes"),
        (["train", "--resume", r["run_wider"], "--set", "max_iters=80"], 1, "does not fit"),
        (["sample", r["run_vocab"]], 1, "does not fit"),
    ]  # fmt: skip
    procs = run_sup_many(*(argv for argv, _, _ in table))
    for (argv, code, text), proc in zip(table, procs, strict=True):
        line = assert_cli_error(proc, code)
        assert text in line, (argv, line)
    assert not (tmp_path / "b").exists() and not (tmp_path / "r2").exists()
    assert (
        json.loads((damaged_runs["run_wider"] / "run.json").read_text())["config"]["n_embd"] == 64
    )


def test_a_resume_cleans_what_a_kill_left_behind(tmp_path, char_run):
    run = Path(shutil.copytree(char_run, tmp_path / "run"))
    stale_dir = run / "checkpoints" / ".step-00000070.k3j2h1"
    stale_dir.mkdir()
    (stale_dir / "model.safetensors").write_bytes(b"\0" * 4096)
    stale_files = [run / ".run.json.a1b2.tmp", run / "checkpoints" / ".last.json.c3d4.tmp"]
    for f in stale_files:
        f.write_text("{")
    keep = run / "checkpoints" / "notes.txt"  # not sup's: never touched
    keep.write_text("mine")
    sup_ok("train", "--resume", run, "--set", "max_iters=62", "--quiet")
    assert not stale_dir.exists() and not any(f.exists() for f in stale_files)
    assert keep.read_text() == "mine"
    assert json.loads((run / "checkpoints" / "last.json").read_text())["step"] == 62


def namespace_prefix() -> list[str]:
    """A private mount namespace to mount a tmpfs in (root needs no user namespace)."""
    if not shutil.which("unshare"):
        pytest.fail("unshare (util-linux) is needed for the full-disk test")
    return ["unshare", "--mount"] if os.geteuid() == 0 else ["unshare", "-r", "--mount"]


def test_a_full_disk_during_a_checkpoint_is_one_line_and_keeps_the_last_one(tmp_path, char_run):
    """The run directory lives on a tmpfs with room for its files but not for one more
    checkpoint: the resume's first save fails; the previous checkpoint must still load."""
    used = sum(f.stat().st_size for f in char_run.rglob("*") if f.is_file())
    checkpoint = sum(f.stat().st_size for f in last_checkpoint(char_run).iterdir())
    size_kib = (used + checkpoint // 2) // 1024 + 16
    mount = tmp_path / "small"
    mount.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    train = " ".join(
        map(str, sup_cmd("train", "--resume", mount / "run", "--set", "max_iters=80", "--quiet"))
    )
    sample = " ".join(
        map(str, sup_cmd("sample", mount / "run", "--max-new-tokens", "8", "--checkpoint", "last"))
    )
    script = textwrap.dedent(f"""\
        set -u
        mount -t tmpfs -o size={size_kib}k tmpfs {mount}
        cp -r {char_run} {mount}/run
        {train} > {out}/train.out 2> {out}/train.err; echo $? > {out}/train.rc
        {sample} > {out}/sample.out 2> {out}/sample.err; echo $? > {out}/sample.rc
        ls -a {mount}/run/checkpoints > {out}/checkpoints.txt
        cat {mount}/run/checkpoints/last.json > {out}/last.json
        """)
    proc = subprocess.run(
        [*namespace_prefix(), "sh", "-c", script],
        env=SUB_ENV,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stderr
    result = subprocess.CompletedProcess(
        [],
        int((out / "train.rc").read_text()),
        (out / "train.out").read_text(),
        (out / "train.err").read_text(),
    )
    line = assert_cli_error(result, 1)
    step = json.loads((char_run / "checkpoints" / "last.json").read_text())["step"]
    assert "cannot write checkpoint" in line and f"step {step} is intact" in line, line
    assert json.loads((out / "last.json").read_text())["step"] == step
    assert not [n for n in (out / "checkpoints.txt").read_text().split() if n.startswith(".step-")]
    assert (out / "sample.rc").read_text().strip() == "0", (out / "sample.err").read_text()


def test_the_export_greedy_check_covers_its_length_past_end_of_text(modern_char_run, char_bundle):
    """With every token a stop token, greedy text ends after one token; the check must
    still compare all 64 (it decodes through stops)."""
    from sup.engine.rundir import load_model, open_run
    from sup.play.runtime import OnnxLM
    from sup.ship.export import KV_GREEDY_TOKENS, kv_greedy_check

    model, _ = load_model(open_run(modern_char_run), "best")
    lm = OnnxLM(char_bundle)
    generation = {**lm.generation, "stop_ids": list(range(lm.model["vocab_size"]))}
    result = kv_greedy_check(model, lm.kv, lm.context("you never")[0], generation)
    assert result == {"tokens": KV_GREEDY_TOKENS, "match": True, "first_mismatch": None}
