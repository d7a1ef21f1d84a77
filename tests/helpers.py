"""Helpers shared by the tests: run the real ``sup`` CLI, check its error contract, read
run directories. Fixtures that use them live in conftest.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
# The shared corpora beside the checkout; SUP_SHARED_DATA points elsewhere (the tests
# of the fixtures' missing-data rule point it at nothing).
SHARED_DATA = Path(
    os.environ.get("SUP_SHARED_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data"
)

# Two cores shared with whatever else runs on the machine: one intra-op thread keeps
# these tiny models fast and the timings steady (spinning OpenMP workers that compete
# for a busy core make each step ~100x slower).
torch.set_num_threads(1)
SUB_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
SUB_ENV.pop("PYTHONWARNINGS", None)

# A genuinely tiny model: the shape every CLI training test starts from.
TINY = {
    "n_layer": 1,
    "n_head": 2,
    "n_embd": 32,
    "block_size": 16,
    "batch_size": 4,
    "eval_iters": 2,
    "precision": "fp32",
    "device": "cpu",
    "warmup_iters": 2,
    "learning_rate": 3e-3,
}
BLOCK = TINY["block_size"]

# Card notes and a held-out text for the `released` fixture (conftest.py); the text has
# characters the char model has never seen (they are charged, not dropped).
NOTES = "Trained for the sup test suite.\n\nSee [the other release](../tiny-2/MODEL_CARD.md).\n"
ODD_TEXT = "You never did the Kenosha Kid? Naïve — 🎉\nDid you never?\n"


def skip_unless_ci(reason: str) -> None:
    """Skip a test whose setup is absent, except under CI=true: CI sets everything up
    (the shared corpora, Chromium, npm packages), so there a missing piece is a broken
    setup step, not a reason to pass."""
    import pytest

    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: the test setup must be complete)", pytrace=False)
    pytest.skip(reason)


def sets(**overrides) -> list[str]:
    """``--set key=value`` flags for TINY updated with ``overrides``."""
    values = {**TINY, **overrides}
    out: list[str] = []
    for key, value in values.items():
        out += ["--set", f"{key}={str(value).lower() if isinstance(value, bool) else value}"]
    return out


def sup_cmd(*args) -> list[str]:
    return [sys.executable, "-m", "sup.cli", *(str(a) for a in args)]


def run_sup(*args, timeout: float = 180, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the real ``sup`` command line in a subprocess; never raises on failure."""
    return subprocess.run(
        sup_cmd(*args),
        capture_output=True,
        text=True,
        env=SUB_ENV,
        timeout=timeout,
        cwd=cwd,
    )


def run_sup_many(
    *calls, timeout: float = 180, parallel: int = 4
) -> list[subprocess.CompletedProcess]:
    """Run independent ``sup`` commands side by side, ``parallel`` at a time (each is
    mostly interpreter start-up and the torch import); results in the order given.
    Never raises on failure."""
    results: list[subprocess.CompletedProcess] = []
    for i in range(0, len(calls), parallel):
        batch = calls[i : i + parallel]
        procs = [
            subprocess.Popen(
                sup_cmd(*args),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=SUB_ENV,
            )
            for args in batch
        ]
        try:
            for args, proc in zip(batch, procs, strict=True):
                out, err = proc.communicate(timeout=timeout)
                results.append(
                    subprocess.CompletedProcess(sup_cmd(*args), proc.returncode, out, err)
                )
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    return results


def sup_ok(*args, **kw) -> subprocess.CompletedProcess:
    proc = run_sup(*args, **kw)
    assert proc.returncode == 0, (
        f"sup {' '.join(map(str, args))} exited {proc.returncode}\n{proc.stderr}"
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc


def assert_cli_error(proc: subprocess.CompletedProcess, code: int) -> str:
    """The CLI failed the way it promises: exit ``code``, exactly one ``sup: error:``
    line on stderr, no traceback. Returns that line."""
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == code, f"exit {proc.returncode}, stderr:\n{proc.stderr}"
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one stderr line, got:\n{proc.stderr}"
    assert lines[0].startswith("sup: error:"), lines[0]
    return lines[0]


def read_metrics(run_dir: Path) -> list[dict]:
    path = Path(run_dir) / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def checkpoint_path(run_dir: Path, which: str = "last") -> Path:
    pointer = json.loads((Path(run_dir) / "checkpoints" / f"{which}.json").read_text())
    return Path(run_dir) / "checkpoints" / pointer["dir"]


def tree_snapshot(root: Path) -> dict[str, bytes]:
    """Relative path -> file bytes, for "nothing was overwritten" checks."""
    root = Path(root)
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}
