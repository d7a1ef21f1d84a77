"""Tests that read the shared corpora (../shared/data) skip where they are absent, but
fail loudly under CI=true: CI always lays them out, so a skip there would hide a broken
setup behind a green run. Checked on a real test of the suite, run by a real pytest
with SUP_SHARED_DATA pointing at nothing."""

from __future__ import annotations

import subprocess
import sys

from helpers import REPO, SUB_ENV

TARGET = "tests/test_tokenizer.py::test_bpe_on_tinyshakespeare"  # uses `tinyshakespeare`


def pytest_without_shared_data(tmp_path, ci: str | None) -> subprocess.CompletedProcess:
    env = {**SUB_ENV, "SUP_SHARED_DATA": str(tmp_path / "no-shared-data")}
    env.pop("CI", None)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TARGET],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_missing_shared_data_skips_outside_ci(tmp_path):
    proc = pytest_without_shared_data(tmp_path, None)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 skipped" in proc.stdout, proc.stdout
    assert f"shared corpora not found at {tmp_path / 'no-shared-data'}" in proc.stdout


def test_missing_shared_data_fails_under_ci(tmp_path):
    proc = pytest_without_shared_data(tmp_path, "true")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "1 error" in proc.stdout and "skipped" not in proc.stdout, proc.stdout
    missing = tmp_path / "no-shared-data"
    why = f"shared corpora not found at {missing} (CI=true: the test setup must be complete)"
    assert why in proc.stdout, proc.stdout
