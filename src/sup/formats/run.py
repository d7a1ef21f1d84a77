"""The run directory written by ``sup train``: reading it without torch.

::

    RUN_DIR/
      run.json          resolved config, model size, data directory and its sha256s
      tokenizer.json    copy of the data directory's tokenizer
      metrics.jsonl     one JSON object per logged step (fields: sup/engine/train.py)
      checkpoints/      step-NNNNNNNN/ directories and the last.json / best.json
                        pointers (contents: sup/engine/state.py, engine/checkpoint.py)

``sup sample RUN_DIR`` and ``sup eval RUN_DIR`` read nothing outside it. Writing a run
directory and loading its weights is the engine's job (``engine/rundir.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

from sup.errors import SupError
from sup.formats.envelope import read_envelope

RUN_FORMAT = "sup-run"
RUN_VERSION = 1
RUN_FILE = "run.json"
METRICS = "metrics.jsonl"
CHECKPOINTS = "checkpoints"
POINTERS = ("best", "last")


def read_run_info(run_dir: Path) -> dict:
    return read_envelope(
        Path(run_dir) / RUN_FILE,
        missing=f"{run_dir} is not a sup run directory (no {RUN_FILE})",
        fmt=RUN_FORMAT,
        version=RUN_VERSION,
        kind="sup run file",
        fix="train a new run with this sup",
    )


def read_metrics(run_dir: Path) -> list[dict]:
    """Every record of metrics.jsonl, in order; a line cut short by a crash is skipped."""
    path = Path(run_dir) / METRICS
    if not path.is_file():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict):
            records.append(record)
    return records


def checkpoint_dir(run_dir: Path, which: str = "last") -> Path:
    """The checkpoint directory a pointer (``last`` or ``best``) names."""
    pointer = Path(run_dir) / CHECKPOINTS / f"{which}.json"
    if not pointer.exists():
        raise SupError(f"no {which!r} checkpoint in {run_dir}: train it first (sup train)")
    try:
        name = json.loads(pointer.read_text())["dir"]
    except (ValueError, KeyError, TypeError):
        raise SupError(f"checkpoint pointer {pointer} is corrupt") from None
    if not isinstance(name, str) or "/" in name or name.startswith("."):
        raise SupError(f"checkpoint pointer {pointer} is corrupt")
    path = pointer.parent / name
    if not path.is_dir():
        raise SupError(f"checkpoint {path} named by {pointer.name} is missing")
    return path
