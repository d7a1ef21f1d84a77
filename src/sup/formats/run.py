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
import math
import re
from pathlib import Path

from sup.errors import SupError
from sup.formats import schema as s
from sup.formats.envelope import read_envelope

RUN_FORMAT = "sup-run"
RUN_VERSION = 1
RUN_FILE = "run.json"
METRICS = "metrics.jsonl"
CHECKPOINTS = "checkpoints"
POINTERS = ("best", "last")


CHECKPOINT_NAME_RE = re.compile(r"^step-[0-9]{8,}$")
CHECKPOINT_FILES = ("model.safetensors", "state.safetensors")
STATE = "state.json"


def read_run_info(run_dir: Path) -> dict:
    """run.json, with every field a reader of the run relies on checked."""
    path = Path(run_dir) / RUN_FILE
    info = read_envelope(
        path,
        missing=f"{run_dir} is not a sup run directory (no {RUN_FILE})",
        fmt=RUN_FORMAT,
        version=RUN_VERSION,
        kind="sup run file",
        fix="train a new run with this sup",
    )
    check_run_info(info, str(path))
    return info


def check_run_info(info: dict, where: str) -> None:
    fix = "restore run.json, or train the run again"
    s.object_field(info, "config", where, fix)
    model = s.object_field(info, "model", where, fix)
    s.field(model, "vocab_size", _positive, "a positive integer", f"{where} (model)", fix)
    s.object_field(info, "tokenizer", where, fix)
    data = s.object_field(info, "data", where, fix)
    s.field(data, "dir", _text, "a path", f"{where} (data)", fix)
    hashes = s.object_field(data, "sha256", f"{where} (data)", fix)
    for name, digest in hashes.items():
        if not isinstance(digest, str) or not s.SHA256_RE.match(digest):
            raise SupError(f"{where} is damaged: the sha256 of {short_name(name)} is not one")
    if "documents" in data:
        s.field(data, "documents", _positive, "a positive integer", f"{where} (data)", fix)
    if "resumes" in info:
        s.field(info, "resumes", lambda v: isinstance(v, list), "a list", where, fix)


def read_metrics(run_dir: Path) -> list[dict]:
    """Every record of metrics.jsonl, in order. The last line may be cut short by a
    crash mid-write and is then skipped; any other line that is not a record
    (``metrics_record``) means the file is damaged."""
    path = Path(run_dir) / METRICS
    if not path.is_file():
        return []
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except UnicodeDecodeError:
        raise SupError(f"{path} is not UTF-8 text: remove it, or train the run again") from None
    while lines and not lines[-1].strip():
        lines.pop()
    records = []
    for n, line in enumerate(lines, 1):
        try:
            obj = json.loads(line)
        except ValueError:
            if n == len(lines):
                break  # the last line, cut short by a crash mid-write
            obj = None
        record = metrics_record(obj)
        if record is None:
            raise SupError(
                f"{path} line {n} is not a metrics record: delete that line (or the file)"
            )
        records.append(record)
    return records


def metrics_record(obj) -> dict | None:
    """``obj`` if it is a metrics record: an object whose ``step`` is a count and whose
    other values are numbers (or null), or lists of numbers or of lists of numbers (a
    MoE's ``moe_load``: each layer's share per expert); None otherwise."""
    if not isinstance(obj, dict) or not _count(obj.get("step")):
        return None

    def number(v) -> bool:
        return type(v) in (int, float)

    def value(v) -> bool:
        if v is None or number(v):
            return True
        return isinstance(v, list) and all(
            number(x) or (isinstance(x, list) and all(map(number, x))) for x in v
        )

    return obj if all(map(value, obj.values())) else None


def checkpoint_name(step: int) -> str:
    """A checkpoint directory's name, and the pointer that keeps it (``keep_checkpoints``)."""
    return f"step-{step:08d}"


def is_pointer_name(which: str) -> bool:
    """``last``, ``best``, or a kept checkpoint's own pointer (``step-NNNNNNNN``)."""
    return which in POINTERS or bool(CHECKPOINT_NAME_RE.match(which))


def kept_checkpoints(run_dir: Path) -> list[tuple[str, int]]:
    """(name, step) of every checkpoint kept by ``keep_checkpoints``, oldest first."""
    root = Path(run_dir) / CHECKPOINTS
    names = sorted(p.stem for p in root.glob("step-*.json") if CHECKPOINT_NAME_RE.match(p.stem))
    kept = [read_pointer(run_dir, name) for name in names]
    return sorted(k for k in kept if (root / k[0]).is_dir())


def read_pointer(run_dir: Path, which: str = "last") -> tuple[str, int]:
    """The checkpoint directory name and step a pointer (``last``, ``best`` or a kept
    ``step-N``) names."""
    pointer = Path(run_dir) / CHECKPOINTS / f"{which}.json"
    if not pointer.is_file():
        raise SupError(f"no {which!r} checkpoint in {run_dir}: train it first (sup train)")
    try:
        obj = json.loads(pointer.read_bytes())
    except (ValueError, UnicodeDecodeError):
        obj = None
    name = obj.get("dir") if isinstance(obj, dict) else None
    step = obj.get("step") if isinstance(obj, dict) else None
    if not isinstance(name, str) or not CHECKPOINT_NAME_RE.match(name) or not s.is_int(step):
        raise SupError(
            f'checkpoint pointer {pointer} is damaged: write {{"dir": "step-NNNNNNNN", '
            f'"step": N}} naming a checkpoint in {pointer.parent}, or train again'
        )
    return name, step


def checkpoint_dir(run_dir: Path, which: str = "last") -> Path:
    """The checkpoint directory a pointer (``last``, ``best``, ``step-N``) names."""
    name, _ = read_pointer(run_dir, which)
    path = Path(run_dir) / CHECKPOINTS / name
    if not path.is_dir():
        raise SupError(f"checkpoint {path} named by {which}.json is missing")
    return path


def read_checkpoint_state(checkpoint: Path) -> dict:
    """A checkpoint's state.json, with the fields resuming and loading rely on checked
    (what they mean: sup/engine/state.py)."""
    path = Path(checkpoint) / STATE
    fix = "resume from the other pointer (--checkpoint best), or train again"
    try:
        state = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise SupError(f"checkpoint {checkpoint} has no {STATE} ({fix})") from None
    except (OSError, ValueError, UnicodeDecodeError) as e:
        raise SupError(f"{path} is not valid JSON ({e}; {fix})") from None
    if not isinstance(state, dict):
        raise SupError(f"{path} is damaged: it is not a JSON object ({fix})")
    s.field(state, "step", _count, "a step count", str(path), fix)
    for key in ("elapsed_s", "step_time_s"):
        s.field(state, key, _seconds, "a number of seconds", str(path), fix)
    # inf until the first evaluation: json writes it as Infinity, which Python reads back
    s.field(state, "best_val_loss", _loss, "a loss", str(path), fix)
    s.field(state, "precision", _text, "a precision name", str(path), fix)
    files = s.object_field(state, "files", str(path), fix)
    for name in CHECKPOINT_FILES:
        s.field(files, name, _sha256, "a sha256", f"{path} (files)", fix)
    optimizer = s.object_field(state, "optimizer", str(path), fix)
    s.field(optimizer, "param_groups", _objects, "a list of objects", f"{path} (optimizer)", fix)
    scalars = s.object_field(optimizer, "scalars", f"{path} (optimizer)", fix)
    for idx, values in scalars.items():
        if not idx.isdigit() or not isinstance(values, dict):
            raise SupError(f"{path} is damaged: optimizer scalars for {short_name(idx)} ({fix})")
    if state.get("scaler") is not None:
        s.object_field(state, "scaler", str(path), fix)
    return state


def short_name(name: str) -> str:
    return s.short(name, 60)


def _positive(v) -> bool:
    return s.is_int(v) and v > 0


def _count(v) -> bool:
    return s.is_int(v) and v >= 0


def _seconds(v) -> bool:
    return s.is_number(v) and v >= 0


def _loss(v) -> bool:
    return type(v) in (int, float) and not math.isnan(v)


def _text(v) -> bool:
    return isinstance(v, str) and v != ""


def _sha256(v) -> bool:
    return isinstance(v, str) and bool(s.SHA256_RE.match(v))


def _objects(v) -> bool:
    return isinstance(v, list) and all(isinstance(g, dict) for g in v)
