"""Training through the CLI, and bit-exact resume: stop-after, SIGINT and SIGKILL."""

from __future__ import annotations

import json
import math
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from helpers import (
    SUB_ENV,
    TINY,
    assert_cli_error,
    checkpoint_path,
    read_metrics,
    run_sup,
    run_sup_many,
    sets,
    sup_cmd,
    sup_ok,
)

pytestmark = pytest.mark.slow

EXACT = {"max_iters": 10, "log_interval": 1, "eval_interval": 5, "dropout": 0.1}


def load_tensors(run_dir: Path, which: str = "last") -> tuple[dict, dict]:
    ckpt = checkpoint_path(run_dir, which)
    return load_file(str(ckpt / "model.safetensors")), load_file(str(ckpt / "state.safetensors"))


def assert_same_tensors(a: dict, b: dict) -> None:
    assert sorted(a) == sorted(b)
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        assert torch.equal(a[key], b[key]), f"{key} differs"


def start_training(run: Path, char_data: Path, *extra: str, **overrides) -> subprocess.Popen:
    """A long `sup train` in the background (stderr piped, as text), for tests that
    signal, kill or race it."""
    cmd = sup_cmd("train", "--data", char_data, "--out", run, *extra, *sets(**overrides))
    return subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=SUB_ENV
    )


def wait_for(predicate, proc: subprocess.Popen, timeout: float = 90.0, poll: float = 0.01) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc.poll() is not None:
            _, err = proc.communicate()
            pytest.fail(f"training exited early ({proc.returncode}):\n{err}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("timed out waiting for training progress")
        time.sleep(poll)


def n_metric_lines(run_dir: Path) -> int:
    path = run_dir / "metrics.jsonl"
    return path.read_text().count("\n") if path.exists() else 0


def last_logged_step(run_dir: Path) -> int:
    path = run_dir / "metrics.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    try:
        return json.loads(lines[-1])["step"] if lines else 0
    except ValueError:
        return 0


# Each condition is trained straight through (A) and in two halves (B); B must equal A
# bit for bit. bf16 covers the master-weight path (precision=auto picks it on CPUs with
# native bf16, as every preset does); accumulation covers several batches per step.
RESUME_CONDITIONS = {
    "fp32-base": {},
    "bf16-base": {"precision": "bf16"},
    "bf16-modern": {"precision": "bf16", "arch": "modern"},
    "fp32-modern-accum3": {"arch": "modern", "gradient_accumulation_steps": 3},
    "bf16-modern-muon": {"precision": "bf16", "arch": "modern", "optimizer": "muon"},
    "bf16-modern-moe": {"precision": "bf16", "arch": "modern", "mlp": "moe"},
    "auto-modern-accum2": {
        "precision": "auto",
        "arch": "modern",
        "gradient_accumulation_steps": 2,
    },
}


@pytest.mark.parametrize("condition", sorted(RESUME_CONDITIONS))
def test_exact_resume_after_stop_after(tmp_path, char_data, condition):
    extra = RESUME_CONDITIONS[condition]
    a, b = tmp_path / "A", tmp_path / "B"
    common = ["train", "--data", char_data, "--quiet", "--json", *sets(**EXACT, **extra)]
    proc_a, proc_b = run_sup_many([*common, "--out", a], [*common, "--out", b, "--stop-after", 5])
    for proc in (proc_a, proc_b):
        assert proc.returncode == 0, proc.stderr
    result_a = json.loads(proc_a.stdout)
    assert result_a["finished"] and result_a["step"] == 10
    expected = extra.get("precision", "fp32")
    if expected != "auto":
        assert result_a["precision"] == expected

    first = json.loads(proc_b.stdout)
    assert first["step"] == 5 and not first["finished"]
    assert json.loads((b / "checkpoints" / "last.json").read_text())["step"] == 5
    half = read_metrics(b)
    assert [r["step"] for r in half] == [1, 2, 3, 4, 5]
    # the first half alone equals A's first half (the same seed and data)
    assert [r["loss"] for r in half] == [r["loss"] for r in read_metrics(a)[:5]]

    second = json.loads(sup_ok("train", "--resume", b, "--quiet", "--json").stdout)
    assert second["step"] == 10 and second["finished"]
    assert second["precision"] == result_a["precision"]

    ma, mb = read_metrics(a), read_metrics(b)
    assert [r["step"] for r in ma] == list(range(1, 11))
    assert [r["step"] for r in mb] == list(range(1, 11))
    # steps 6..10 were computed after the resume: exact, not approx
    assert [r["loss"] for r in ma[5:]] == [r["loss"] for r in mb[5:]]
    assert [r["lr"] for r in ma] == [r["lr"] for r in mb]
    assert [r.get("val_loss") for r in ma] == [r.get("val_loss") for r in mb]
    assert [r.get("val_bpb") for r in ma] == [r.get("val_bpb") for r in mb]
    assert ma[4]["val_loss"] is not None and ma[9]["val_loss"] is not None
    assert len({r["loss"] for r in ma}) > 1  # dropout and batches really vary per step
    assert result_a["val_loss"] == second["val_loss"]
    assert result_a["best_val_loss"] == second["best_val_loss"]

    model_a, state_a = load_tensors(a)
    model_b, state_b = load_tensors(b)
    assert_same_tensors(model_a, model_b)  # bitwise-equal weights
    assert_same_tensors(state_a, state_b)  # AdamW moments and RNG states too
    # checkpoints hold fp32 weights whatever the precision (bf16 keeps fp32 masters)
    assert {t.dtype for t in model_a.values()} == {torch.float32}
    if result_a["precision"] == "bf16":  # masters are not bf16 values rounded back up
        assert any(not torch.equal(t, t.bfloat16().float()) for t in model_a.values())
    assert checkpoint_path(a).name == checkpoint_path(b).name == "step-00000010"

    # and the run files agree apart from wall-clock figures
    run_a = json.loads((a / "run.json").read_text())
    run_b = json.loads((b / "run.json").read_text())
    assert run_a["config"] == run_b["config"] and run_a["model"] == run_b["model"]


def test_resume_accepts_a_model_key_set_to_its_saved_value(tmp_path, char_run):
    """A command line that repeats the run's settings resumes; a real change does not."""
    run = tmp_path / "run"
    shutil.copytree(char_run, run)
    # one after the other: a run directory has one writer at a time
    changed = run_sup(
        "train", "--resume", run, "--set", "max_iters=62", "--set", "learning_rate=0.001"
    )
    same = run_sup(
        "train", "--resume", run, "--quiet", "--set", "max_iters=62",
        "--set", "n_embd=32", "--set", "arch=base", "--set", "learning_rate=0.003",
    )  # fmt: skip
    assert same.returncode == 0, same.stderr
    assert [r["step"] for r in read_metrics(run)][-1] == 62
    line = assert_cli_error(changed, 2)
    assert "learning_rate cannot change when resuming" in line and "0.003" in line


def test_resume_can_extend_a_finished_run_but_not_change_the_model(tmp_path, char_run):
    run = tmp_path / "run"
    shutil.copytree(char_run, run)
    # one after the other: a run directory has one writer at a time
    finished = run_sup("train", "--resume", run)
    changed = run_sup("train", "--resume", run, "--set", "n_layer=2")
    line = assert_cli_error(finished, 2)
    assert "already finished 60" in line and "max_iters" in line
    line = assert_cli_error(changed, 2)
    assert "n_layer cannot change when resuming" in line

    sup_ok("train", "--resume", run, "--set", "max_iters=64", "--quiet")
    steps = [r["step"] for r in read_metrics(run)]
    assert steps == list(range(1, 65))
    assert json.loads((run / "checkpoints" / "last.json").read_text())["step"] == 64


def test_sigint_saves_a_checkpoint_and_resume_finishes(tmp_path, char_data):
    run = tmp_path / "run"
    proc = start_training(
        run, char_data, max_iters=5000, eval_interval=1000, log_interval=1, dropout=0.1
    )
    try:
        wait_for(lambda: n_metric_lines(run) >= 3, proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    match = re.search(r"interrupted at step (\d+); resume with: sup train --resume (\S+)", err)
    assert match, err
    stopped = int(match.group(1))
    assert 3 <= stopped < 5000
    assert Path(match.group(2)) == run
    assert json.loads((run / "checkpoints" / "last.json").read_text())["step"] == stopped
    ckpt = checkpoint_path(run)
    assert (ckpt / "model.safetensors").is_file() and (ckpt / "state.json").is_file()
    before = read_metrics(run)
    assert [r["step"] for r in before] == list(range(1, stopped + 1))

    target = stopped + 5
    result = json.loads(
        sup_ok("train", "--resume", run, "--set", f"max_iters={target}", "--json", "--quiet").stdout
    )
    assert result["finished"] and result["step"] == target
    after = read_metrics(run)
    assert [r["step"] for r in after] == list(range(1, target + 1))
    assert "val_loss" in after[-1]  # the last step is always evaluated
    # the steps trained after the signal equal an uninterrupted run's
    straight = tmp_path / "straight"
    sup_ok(
        "train", "--data", char_data, "--out", straight, "--quiet",
        *sets(max_iters=5000, eval_interval=1000, log_interval=1, dropout=0.1),
        "--stop-after", target,
    )  # fmt: skip
    expected = read_metrics(straight)
    assert [r["loss"] for r in after[stopped:]] == [r["loss"] for r in expected[stopped:]]


def test_sigkill_then_resume_has_no_duplicate_steps(tmp_path, char_data):
    run = tmp_path / "run"
    proc = start_training(
        run, char_data, "--quiet", max_iters=5000, eval_interval=7, log_interval=1, dropout=0.1
    )
    last_json = run / "checkpoints" / "last.json"

    def between_checkpoints() -> bool:
        # Kill a few steps after a checkpoint (every 7 steps), so the killed run has
        # logged steps the resume must redo, well away from the checkpoint write itself.
        step = last_logged_step(run)
        return last_json.exists() and step >= 10 and step % 7 == 3

    try:
        wait_for(between_checkpoints, proc, poll=0.001)
        proc.kill()  # SIGKILL: no handler, no final checkpoint
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL

    ckpt_step = json.loads(last_json.read_text())["step"]
    assert ckpt_step % 7 == 0 and ckpt_step >= 7
    before = read_metrics(run)
    logged = [r["step"] for r in before]
    assert logged == list(range(1, logged[-1] + 1))
    assert logged[-1] > ckpt_step  # steps after the checkpoint were lost with the process

    target = logged[-1] + 10
    sup_ok("train", "--resume", run, "--set", f"max_iters={target}", "--quiet")
    after = read_metrics(run)
    steps = [r["step"] for r in after]
    assert steps == list(range(1, target + 1))  # no duplicates, no gaps
    # steps redone after the checkpoint reproduce what the killed run had logged
    assert [r["loss"] for r in after[: len(before)]] == [r["loss"] for r in before]
    assert json.loads(last_json.read_text())["step"] == target


def test_train_result_and_run_dir_contents(char_run, char_data):
    """The session run (60 steps, eval every 20) through the CLI: files and metrics."""
    info = json.loads((char_run / "run.json").read_text())
    assert info["format"] == "sup-run"
    assert info["data"]["dir"] == str(char_data.resolve())
    assert info["tokenizer"]["type"] == "char"
    assert info["config"]["n_embd"] == 32 and info["config"]["lr_decay_iters"] == 60
    assert (char_run / "tokenizer.json").read_bytes() == (char_data / "tokenizer.json").read_bytes()
    metrics = read_metrics(char_run)
    assert [r["step"] for r in metrics] == list(range(1, 61))
    evals = [r for r in metrics if "val_loss" in r]
    assert [r["step"] for r in evals] == [20, 40, 60]
    for r in metrics:
        assert r["loss"] > 0 and r["lr"] > 0 and r["tokens_per_s"] > 0
    elapsed = [r["elapsed_s"] for r in metrics]
    assert elapsed == sorted(elapsed)
    best = json.loads((char_run / "checkpoints" / "best.json").read_text())
    assert best["step"] == min(evals, key=lambda r: r["val_loss"])["step"]
    dirs = sorted(p.name for p in (char_run / "checkpoints").iterdir() if p.is_dir())
    assert dirs == sorted({checkpoint_path(char_run, "last").name,
                           checkpoint_path(char_run, "best").name})  # fmt: skip


def test_a_diverging_run_stops_at_once_with_one_line(tmp_path, char_data):
    """A learning rate of 1e30 blows the weights up within a step or two: the run stops
    at the first non-finite loss, before any checkpoint, and says what to do."""
    run = tmp_path / "run"
    proc = run_sup(
        "train", "--data", char_data, "--out", run, "--quiet",
        *sets(max_iters=200, eval_interval=100, learning_rate=1e30, min_lr=0, warmup_iters=0),
    )  # fmt: skip
    line = assert_cli_error(proc, 1)
    assert "training diverged at step" in line and "before any checkpoint" in line
    assert "learning_rate" in line
    record = json.loads((run / "diverged.json").read_text())
    assert 1 <= record["step"] < 200 and record["last_good_step"] is None
    steps = [r["step"] for r in read_metrics(run)]
    assert steps == list(range(1, record["step"]))  # the diverged step is not logged
    assert all(math.isfinite(r["loss"]) for r in read_metrics(run))
    assert not (run / "checkpoints" / "last.json").exists()


def test_after_a_divergence_resume_may_lower_the_learning_rate(tmp_path, char_run):
    """diverged.json (what the trainer writes on divergence) lets a resume change the
    optimisation; run.json then records what the run trains with and when it changed."""
    run = tmp_path / "run"
    shutil.copytree(char_run, run)
    (run / "diverged.json").write_text(json.dumps({"step": 61, "last_good_step": 60}))
    sup_ok(
        "train", "--resume", run, "--quiet",
        "--set", "max_iters=63", "--set", "learning_rate=0.001", "--set", "min_lr=0.0001",
    )  # fmt: skip
    assert not (run / "diverged.json").exists()
    info = json.loads((run / "run.json").read_text())
    assert info["config"]["learning_rate"] == 0.001 and info["config"]["max_iters"] == 63
    assert info["resumes"][-1]["step"] == 60
    assert info["resumes"][-1]["changed"]["learning_rate"] == [0.003, 0.001]
    assert [r["step"] for r in read_metrics(run)][-1] == 63
    # without the marker the same change is refused again
    refused = run_sup(
        "train", "--resume", run, "--set", "max_iters=64", "--set", "learning_rate=0.01"
    )
    assert "learning_rate cannot change when resuming" in assert_cli_error(refused, 2)


@pytest.mark.parametrize("grad_clip", [1.0, 0.0])
def test_train_step_never_steps_the_weights_with_a_nan_gradient(char_data, grad_clip):
    from sup.engine.config import TrainConfig
    from sup.engine.state import build_state
    from sup.engine.train import Diverged, train_step
    from sup.formats.data import load_meta, load_tokens

    vocab = load_meta(char_data)["tokenizer"]["vocab_size"]
    cfg = TrainConfig(**TINY, max_iters=5, grad_clip=grad_clip).resolved()
    state = build_state(cfg, vocab, load_tokens(char_data, "train"), torch.device("cpu"), "fp32")
    train_step(state, state.model)  # a healthy step
    with torch.no_grad():
        state.model.blocks[0].mlp.fc.weight[0, 0] = float("nan")
    before = {k: v.clone() for k, v in state.model.state_dict().items()}
    with pytest.raises(Diverged) as caught:
        train_step(state, state.model)
    assert caught.value.step == 2 and state.step == 1
    after = state.model.state_dict()
    for key in before:  # bitwise the same, the planted NaN included
        assert torch.allclose(before[key], after[key], rtol=0, atol=0, equal_nan=True), key


def test_a_run_directory_has_one_writer(tmp_path, char_data):
    run = tmp_path / "run"
    proc = start_training(
        run, char_data, "--quiet", max_iters=100000, eval_interval=50000, log_interval=1
    )
    try:
        wait_for(lambda: n_metric_lines(run) >= 2, proc)
        second, replace = run_sup_many(
            ["train", "--resume", run, "--set", "max_iters=200000"],
            ["train", "--data", char_data, "--out", run, "--force", *sets(max_iters=5)],
        )
        for p in (second, replace):
            assert "being trained by another sup process" in assert_cli_error(p, 2)
        assert (run / "run.json").is_file() and proc.poll() is None  # untouched, still running
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=60)
    assert proc.returncode == 130
    # the lock went with the process: the run resumes now
    sup_ok("train", "--resume", run, "--quiet", "--set", f"max_iters={last_logged_step(run) + 1}")
