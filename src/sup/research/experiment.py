"""One experiment: ``sup train`` in a child process, then scored here.

The trainer runs as ``sup train`` in a child process with its own process group, so a
crash is an exit code and a hang is a timeout (the whole group is killed), never the
loop's end.
On Linux the child also dies with the loop (``PR_SET_PDEATHSIG``), so a kill -9 of
``sup research run`` leaves no trainer writing into a directory the next run removes;
elsewhere the next run kills a trainer still holding the run's lock (``clear``).

Scoring is the loop's, not the trainer's: the run's ``last`` checkpoint on the study's
fixed windows (``evaluate_windows``, on the CPU in fp32), so every row is measured by
one rule whatever the experiment changed.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from sup.research.study import Study, set_args

POLL_S = 0.05
PID_FILE = "trainer.pid"


@dataclass
class Outcome:
    status: str  # ok | crash | timeout
    wall_s: float
    peak_mem_mb: float  # the trainer's max RSS
    tokens: int | None
    error: str  # the trainer's last stderr line, for a crash


def exp_dir(study: Study, row_id: int) -> Path:
    return study.path / "exp" / f"{row_id:04d}"


def trainer_main(argv: list[str]) -> None:
    """The child: ``PARENT_PID sup-args...``. On Linux it asks for a SIGKILL when the
    loop dies, then runs ``sup`` in this process (no fork-time hook: the loop may have
    threads)."""
    parent, args = int(argv[0]), argv[1:]
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
        if os.getppid() != parent:  # the loop died before the line above: follow it
            os._exit(1)
    from sup.cli.main import main

    sys.exit(main(args))


CHILD = "import sys; from sup.research.experiment import trainer_main; trainer_main(sys.argv[1:])"


def train(study: Study, row_id: int, values: dict) -> Outcome:
    """Train ``values`` into ``exp/NNNN/run`` under the study's timeout."""
    where = exp_dir(study, row_id)
    clear(where)
    where.mkdir(parents=True)
    cmd = [sys.executable, "-c", CHILD, str(os.getpid()), "train", "--data", str(study.data_dir),
           "--out", str(where / "run"), "--quiet", "--json"]  # fmt: skip
    for item in set_args(values):
        cmd += ["--set", item]
    start = time.monotonic()
    with open(where / "train.json", "wb") as out, open(where / "train.log", "wb") as err:
        # A session of its own: one process group to kill on a timeout.
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                start_new_session=True)  # fmt: skip
    (where / PID_FILE).write_text(str(proc.pid))
    timed_out = False
    try:
        deadline = start + study.timeout_s
        # Wait without reaping (WNOWAIT): while the trainer is a zombie its process group
        # id cannot be reused, so killing the group afterwards hits only what it left.
        while os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
            if time.monotonic() > deadline:
                timed_out = True
                break
            time.sleep(POLL_S)
    finally:
        _kill_group(proc.pid)  # the trainer on a timeout or an interrupt, and its leftovers
        _, status, usage = os.wait4(proc.pid, 0)  # reaped here: wait4 gives its rusage
        proc.returncode = os.waitstatus_to_exitcode(status)  # so Popen never waits again
    wall = time.monotonic() - start
    peak = usage.ru_maxrss / (2**20 if sys.platform == "darwin" else 1024)
    if timed_out:
        return Outcome("timeout", wall, peak, None, f"no result after {study.timeout_s:g}s")
    code = proc.returncode
    if code != 0:
        return Outcome("crash", wall, peak, None, _last_line(where / "train.log", code))
    try:
        result = json.loads((where / "train.json").read_text().strip().splitlines()[-1])
    except (ValueError, IndexError):
        return Outcome("crash", wall, peak, None, "exit 0 without a result on stdout")
    return Outcome("ok", wall, peak, _tokens(where / "run", result["step"]), "")


def _tokens(run_dir: Path, steps: int) -> int:
    from sup.formats.run import read_run_info

    cfg = read_run_info(run_dir)["config"]
    return steps * cfg["batch_size"] * cfg["block_size"] * cfg["gradient_accumulation_steps"]


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _last_line(log: Path, code: int) -> str:
    lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    last = lines[-1].removeprefix("sup: error: ") if lines else "no output"
    return f"exit {code}: {last}"


def clear(where: Path) -> None:
    """Remove a half-written experiment directory (a killed loop's), first killing a
    trainer that still writes into it: one holds its run's lock while it lives."""
    if not where.exists():
        return
    lock, pid_file = where / "run" / ".lock", where / PID_FILE
    if lock.is_file() and pid_file.is_file():
        import fcntl

        with open(lock, "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:  # alive: the pid file names its process group
                _kill_group(int(pid_file.read_text()))
                fcntl.flock(handle, fcntl.LOCK_EX)  # released when it has died
    shutil.rmtree(where)


def drop_checkpoints(study: Study, row_id: int) -> None:
    """A discarded experiment keeps its log and metrics, not its weights."""
    shutil.rmtree(exp_dir(study, row_id) / "run" / "checkpoints", ignore_errors=True)


def score(study: Study, row_id: int, which: str) -> float:
    """bits per byte of the run's last checkpoint on the study's ``which`` windows
    ("val" or "holdout")."""
    import torch

    from sup.engine.evaluate import evaluate_windows
    from sup.engine.rundir import load_model, open_run
    from sup.formats.data import load_mask, load_tokens

    _threads(study.base_config().threads)
    run = open_run(exp_dir(study, row_id) / "run")
    model, _ = load_model(run, "last")
    batch = max(1, min(run.config.batch_size, 64))
    data = study.data_dir
    result = evaluate_windows(model, load_tokens(data, "val"), study.windows(which), batch,
                              run.tokenizer, torch.device("cpu"), "fp32",
                              mask=load_mask(data, "val"))  # fmt: skip
    return result["val_bpb"]


@functools.cache
def _threads(requested: int) -> int:
    """Scoring's torch threads, chosen once a process as training chooses them (on a
    busy machine, fewer than the cores: spinning threads contend with the other work)."""
    from sup.engine.device import set_threads

    return set_threads(requested)
