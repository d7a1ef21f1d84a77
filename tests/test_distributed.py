"""Training across processes: `torchrun --nproc-per-node 2 -m sup train` on this CPU
(gloo). Two ranks of batch B follow one process of batch 2B; a DDP run stopped midway
resumes to the uninterrupted run's numbers; a rank killed mid-run stops the run with
its last checkpoint whole, and training resumes from it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import SUB_ENV, read_metrics, sets, sup_ok

pytestmark = pytest.mark.slow

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
SHAPE = {"max_iters": 8, "eval_interval": 4, "log_interval": 1, "dropout": 0.0}


def torchrun(*args, timeout: float = 180) -> subprocess.CompletedProcess:
    cmd = [*TORCHRUN, "-m", "sup", *(str(a) for a in args)]
    return subprocess.run(cmd, capture_output=True, text=True, env=SUB_ENV, timeout=timeout)


def torchrun_ok(*args) -> subprocess.CompletedProcess:
    proc = torchrun(*args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


def close(a: list, b: list, rel: float = 1e-5) -> bool:
    return len(a) == len(b) and all(
        (x is None and y is None) or abs(x - y) <= rel * max(abs(x), abs(y))
        for x, y in zip(a, b, strict=False)
    )


def test_two_ranks_of_batch_b_train_like_one_process_of_batch_2b(tmp_path, char_data):
    ddp, single = tmp_path / "ddp", tmp_path / "single"
    proc = torchrun_ok("train", "--data", char_data, "--out", ddp, "--quiet", "--json",
                       *sets(**SHAPE, batch_size=2))  # fmt: skip
    result = json.loads(proc.stdout)  # rank 0 alone prints
    assert result["finished"] and result["step"] == 8
    sup_ok("train", "--data", char_data, "--out", single, "--quiet", *sets(**SHAPE, batch_size=4))
    a, b = read_metrics(ddp), read_metrics(single)
    assert [r["step"] for r in a] == list(range(1, 9))  # one writer: no line twice
    assert close([r["loss"] for r in a], [r["loss"] for r in b])
    assert close([r.get("val_loss") for r in a], [r.get("val_loss") for r in b])
    assert len({r["loss"] for r in a}) > 1


def test_a_moe_under_ddp_balances_as_one_process_does(tmp_path, char_data):
    """The experts' loads are summed over ranks before the bias moves, so the routing,
    and with it every loss, follows the one-process run."""
    moe = {**SHAPE, "arch": "modern", "mlp": "moe", "moe_bias_rate": 0.01}
    torchrun_ok("train", "--data", char_data, "--out", tmp_path / "ddp", "--quiet",
                *sets(**moe, batch_size=2))  # fmt: skip
    sup_ok("train", "--data", char_data, "--out", tmp_path / "one", "--quiet",
           *sets(**moe, batch_size=4))  # fmt: skip
    a, b = read_metrics(tmp_path / "ddp"), read_metrics(tmp_path / "one")
    assert close([r["loss"] for r in a], [r["loss"] for r in b])
    assert [r["moe_load"] for r in a] == [r["moe_load"] for r in b]


def test_a_ddp_run_stopped_midway_resumes_to_the_same_numbers(tmp_path, char_data):
    whole, halves = tmp_path / "whole", tmp_path / "halves"
    common = ["train", "--data", char_data, "--quiet", *sets(**SHAPE, batch_size=2)]
    torchrun_ok(*common, "--out", whole)
    torchrun_ok(*common, "--out", halves, "--stop-after", 4)
    assert [r["step"] for r in read_metrics(halves)] == [1, 2, 3, 4]
    torchrun_ok("train", "--resume", halves, "--quiet")
    a, b = read_metrics(whole), read_metrics(halves)
    assert [r["step"] for r in b] == list(range(1, 9))
    assert [r["loss"] for r in a] == [r["loss"] for r in b]  # exact: same ranks, same order
    assert [r.get("val_loss") for r in a] == [r.get("val_loss") for r in b]


def rank_pids(parent: int, rank: str) -> list[int]:
    """Processes below ``parent`` started with RANK=``rank`` in their environment."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            env = (entry / "environ").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if f"RANK={rank}".encode() in env and ppid == parent:
            found.append(int(entry.name))
    return found


def test_a_rank_that_dies_stops_the_run_and_its_checkpoint_resumes(tmp_path, char_data):
    run = tmp_path / "run"
    cmd = [*TORCHRUN, "-m", "sup", "train", "--data", str(char_data), "--out", str(run),
           "--quiet", *sets(**{**SHAPE, "max_iters": 100000, "eval_interval": 20},
                            batch_size=2)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=SUB_ENV)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if (run / "checkpoints" / "last.json").is_file() and len(read_metrics(run)) > 45:
                break
            time.sleep(0.1)
        victims = rank_pids(proc.pid, "1")
        assert victims, "rank 1 not found"
        os.kill(victims[0], signal.SIGKILL)
        _, err = proc.communicate(timeout=150)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode != 0
    assert "another rank stopped" in err and "the last checkpoint is step" in err, err[-2000:]
    assert "[rank0]: Traceback" not in err  # rank 0 says what happened in one line
    saved = json.loads((run / "checkpoints" / "last.json").read_text())["step"]
    assert saved >= 20
    more = f"max_iters={saved + 4}"
    torchrun_ok("train", "--resume", run, "--quiet", "--set", more)
    steps = [r["step"] for r in read_metrics(run)]
    assert steps == list(range(1, saved + 5))  # lines past the checkpoint were redone once
