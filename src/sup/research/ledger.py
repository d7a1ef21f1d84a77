"""The ledger (``STUDY/results.tsv``) and the rule that decides what is kept.

One row per experiment, tab-separated, a header first. Columns: ``id`` (1, 2, ...),
``parent`` (the best the experiment was measured against: ``base`` for the baseline
mean, else a row id; empty on baseline rows), ``seed``, ``source`` (baseline, random,
local, llm, llm-retry, fallback), ``delta`` (the config change against the base, JSON),
``config_hash`` (base + delta, seed excluded), ``val_bpb``, ``holdout_bpb`` (scored for
baselines and candidate wins only), ``tokens`` (trained), ``peak_mem_mb`` (the trainer's
max RSS), ``wall_s`` (the trainer's wall time, start-up included), ``status`` and
``description``. The file is rewritten whole (temp file, then rename) for every row, so
a kill leaves the old ledger or the new one, never a torn line.

The rule (``decide``): the baseline runs ``seeds`` times; its mean is the first best and
its sample standard deviation ``sigma`` the noise floor. An experiment is a candidate
only if its val_bpb is below the best's by more than ``K_SIGMA * sigma``; a candidate is
kept only if its holdout_bpb is also below the best's, else ``discard-holdout``. A kept
row becomes the best.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from sup.errors import SupError
from sup.fileio import write_text_atomic

LEDGER = "results.tsv"
K_SIGMA = 2.0
STATUSES = ("baseline", "keep", "discard", "discard-holdout", "crash", "timeout")
SOURCES = ("baseline", "random", "local", "llm", "llm-retry", "fallback")


@dataclass
class Row:
    id: int
    parent: str
    seed: int
    source: str
    delta: dict
    config_hash: str
    val_bpb: float | None
    holdout_bpb: float | None
    tokens: int | None
    peak_mem_mb: float | None
    wall_s: float
    status: str
    description: str


COLUMNS = tuple(f.name for f in fields(Row))


def _cell(name: str, value) -> str:
    if value is None:
        return ""
    if name == "delta":
        return json.dumps(value, separators=(",", ":"))
    if name in ("val_bpb", "holdout_bpb"):
        return f"{value:.6f}"
    if name in ("peak_mem_mb", "wall_s"):
        return f"{value:.1f}"
    return " ".join(str(value).split())  # no tab or newline can break the table


def _parse(name: str, text: str):
    if name == "delta":
        return json.loads(text)
    if name in ("id", "seed"):
        return int(text)
    if name in ("val_bpb", "holdout_bpb", "tokens", "peak_mem_mb", "wall_s"):
        if not text:
            return None
        return int(text) if name == "tokens" else float(text)
    return text


def format_ledger(rows: list[Row]) -> str:
    lines = ["\t".join(COLUMNS)]
    lines += ["\t".join(_cell(n, v) for n, v in asdict(r).items()) for r in rows]
    return "\n".join(lines) + "\n"


def read_ledger(study_dir: Path) -> list[Row]:
    """The ledger's rows (none before the first), refused in one line if damaged."""
    path = Path(study_dir) / LEDGER
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].split("\t") != list(COLUMNS):
        raise SupError(f"{path} is not a sup research ledger (its header differs)")
    rows = []
    for n, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        try:
            if len(cells) != len(COLUMNS):
                raise ValueError(f"{len(cells)} cells, not {len(COLUMNS)}")
            row = Row(
                **{name: _parse(name, cell) for name, cell in zip(COLUMNS, cells, strict=True)}
            )
            if row.status not in STATUSES or row.id != len(rows) + 1:
                raise ValueError(f"status {row.status!r}, id {row.id}")
        except ValueError as e:
            raise SupError(f"{path} line {n} is damaged ({e}): restore it or start anew") from None
        rows.append(row)
    return rows


def append_row(study_dir: Path, rows: list[Row], row: Row) -> list[Row]:
    """``rows`` + ``row``, written whole and atomically; the new list."""
    rows = [*rows, row]
    write_text_atomic(Path(study_dir) / LEDGER, format_ledger(rows))
    return rows


@dataclass(frozen=True)
class Standing:
    """What the next experiment must beat."""

    best: str  # "base" (the baseline mean) or the kept row's id
    val_bpb: float
    holdout_bpb: float
    sigma: float  # the baseline's seed noise (sample standard deviation of its val_bpb)
    delta: dict

    @property
    def bar(self) -> float:
        """val_bpb must be below this to be a candidate."""
        return self.val_bpb - K_SIGMA * self.sigma


def standing(rows: list[Row], seeds: int) -> Standing | None:
    """The best so far, or None until ``seeds`` baseline rows are in."""
    base = [r for r in rows if r.status == "baseline"]
    if len(base) < seeds:
        return None
    vals = [r.val_bpb for r in base]
    now = Standing("base", statistics.fmean(vals), statistics.fmean(r.holdout_bpb for r in base),
                   statistics.stdev(vals), {})  # fmt: skip
    for r in rows:
        if r.status == "keep":
            now = Standing(str(r.id), r.val_bpb, r.holdout_bpb, now.sigma, r.delta)
    return now


def is_candidate(val_bpb: float, now: Standing) -> bool:
    """Beats the best by more than the noise floor (strictly)."""
    return val_bpb < now.bar


def decide(val_bpb: float, holdout_bpb: float | None, now: Standing) -> str:
    """``keep``, ``discard`` or ``discard-holdout``; ``holdout_bpb`` is needed (and
    scored) only for a candidate."""
    if not is_candidate(val_bpb, now):
        return "discard"
    if holdout_bpb is None:
        raise ValueError("a candidate needs its holdout_bpb")
    return "keep" if holdout_bpb < now.holdout_bpb else "discard-holdout"


def study_stats(rows: list[Row], seeds: int) -> dict:
    """Counts by status and source, the noise floor and the best so far."""
    now = standing(rows, seeds)
    experiments = [r for r in rows if r.source != "baseline"]
    return {
        "rows": len(rows),
        "experiments": len(experiments),
        "status": {s: sum(r.status == s for r in rows) for s in STATUSES},
        "source": {s: sum(r.source == s for r in experiments) for s in SOURCES[1:]},
        "llm_fallbacks": sum(r.source == "fallback" for r in experiments),
        "baseline": None
        if now is None
        else {"val_bpb": _base_mean(rows), "sigma": now.sigma, "bar_width": K_SIGMA * now.sigma},
        "best": None if now is None else {**asdict(now), "bar": now.bar},
    }


def _base_mean(rows: list[Row]) -> float:
    return statistics.fmean(r.val_bpb for r in rows if r.status == "baseline")
