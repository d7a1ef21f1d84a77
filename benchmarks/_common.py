"""Shared bits for the benchmarks: where the corpus is, a prepared char data dir, machine facts."""

from __future__ import annotations

import os
import platform
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

SHARED_DATA = REPO.parent / "shared" / "data"
SHAKESPEARE = SHARED_DATA / "tinyshakespeare.txt"


def shakespeare_path(arg: str | None) -> Path:
    path = Path(arg) if arg else SHAKESPEARE
    if not path.is_file():
        sys.exit(f"benchmark: corpus not found at {path}; pass --corpus PATH")
    return path


def prepared_char_data(corpus: Path) -> Path:
    """tinyshakespeare as char tokens, first 90% train / last 10% val (nanoGPT's split)."""
    from sup.engine.prepare import prepare

    out = Path(tempfile.mkdtemp(prefix="sup-bench-")) / "data"
    prepare(corpus, "char", out, val_fraction=0.1)
    return out


def machine() -> str:
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    threads = torch.get_num_threads()
    return f"{cpu}, {os.cpu_count()} cores, torch {torch.__version__}, {threads} threads"
