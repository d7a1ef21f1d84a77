"""``sup research run``: the baseline, then experiments, each a ledger row.

The loop is resumable from the ledger alone. An experiment directory without a ledger
row (a kill mid-experiment) is removed and its row redone under the same id, with the
same proposal for the seeded proposers; rows already written are never rerun. One loop
runs a study at a time (an ``flock`` on ``STUDY/.lock``, dropped by the kernel when the
process dies).

Seeds: row N trains with seed ``base seed + N``, so the baseline's seeds and the
experiments' are all distinct, and a redone row gets its seed again.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path

from sup.errors import SupError, UsageError
from sup.research import experiment
from sup.research.ledger import (
    Row,
    Standing,
    append_row,
    decide,
    is_candidate,
    read_ledger,
    standing,
    study_stats,
)
from sup.research.propose import LlmSettings, Proposal, propose
from sup.research.study import Study, open_study

LOCK = ".lock"


@contextmanager
def study_lock(path: Path):
    import fcntl

    with open(path / LOCK, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise UsageError(
                f"{path} is being run by another sup research process: one loop at a time"
            ) from None
        yield


def run_study(
    study_dir: Path,
    experiments: int,
    proposer: str = "random",
    llm: LlmSettings | None = None,
    keep_all: bool = False,
    on_row: Callable[[Row, Standing | None], None] | None = None,
) -> dict:
    """Complete the baseline, then run ``experiments`` more rows. ``on_row`` hears of
    each row as it lands (the CLI prints it)."""
    if experiments < 0:
        raise UsageError("--experiments must be at least 0")
    study = open_study(study_dir)
    on_row = on_row or (lambda row, now: None)
    usage = {"prompt_tokens": 0, "completion_tokens": 0}
    new: list[Row] = []
    note = None
    with study_lock(study.path):
        rows = read_ledger(study.path)
        for leftover in (study.path / "exp").glob("*"):
            if leftover.name.isdigit() and int(leftover.name) > len(rows):
                experiment.clear(leftover)
        while sum(r.status == "baseline" for r in rows) < study.seeds:
            row = baseline_row(study, len(rows) + 1)
            rows = append_row(study.path, rows, row)
            new.append(row)
            on_row(row, standing(rows, study.seeds))
            if row.status != "baseline":
                log = experiment.exp_dir(study, row.id) / "train.log"
                raise SupError(
                    f"baseline run {row.id} failed ({row.status}: {row.description}); fix the "
                    f"base config (see {log}) and run again"
                )
        for _ in range(experiments):
            now = standing(rows, study.seeds)
            row_id = len(rows) + 1
            proposal = propose(proposer, study, rows, now, row_id, llm)
            if proposal is None:
                note = "no untried config found in the space: it is exhausted"
                break
            for key in usage:
                usage[key] += proposal.usage.get(key, 0)
            row = experiment_row(study, row_id, proposal, now, keep_all)
            rows = append_row(study.path, rows, row)
            new.append(row)
            on_row(row, standing(rows, study.seeds))
    return {
        "study": str(study.path),
        "new_rows": [asdict(r) for r in new],
        "stats": study_stats(rows, study.seeds),
        "llm_usage": usage,
        "note": note,
    }


def _measure(study: Study, row_id: int, delta: dict) -> tuple[dict, float | None]:
    """Train and score on the val windows: the row's fields so far, and val_bpb (None
    for a crash or timeout)."""
    seed = (study.base_seed + row_id) % 2**63
    out = experiment.train(study, row_id, study.run_values(delta, seed))
    fields = {"id": row_id, "seed": seed, "delta": delta, "config_hash": study.config_hash(delta),
              "tokens": out.tokens, "peak_mem_mb": out.peak_mem_mb, "wall_s": out.wall_s,
              "holdout_bpb": None}  # fmt: skip
    if out.status != "ok":
        return {**fields, "status": out.status, "description": f"{out.status}: {out.error}"}, None
    try:
        val = experiment.score(study, row_id, "val")
    except SupError as e:
        return {**fields, "status": "crash", "description": f"crash: scoring failed: {e}"}, None
    if not math.isfinite(val):
        return {**fields, "status": "crash", "description": f"crash: val_bpb is {val}"}, None
    return fields, val


def baseline_row(study: Study, row_id: int) -> Row:
    fields, val = _measure(study, row_id, {})
    fields.setdefault("status", "baseline")
    fields.setdefault("description", "baseline")
    if val is not None:
        fields["holdout_bpb"] = experiment.score(study, row_id, "holdout")
    return Row(parent="", source="baseline", val_bpb=val, **fields)


def experiment_row(
    study: Study, row_id: int, proposal: Proposal, now: Standing, keep_all: bool
) -> Row:
    fields, val = _measure(study, row_id, proposal.delta)
    if val is not None:
        # The holdout is looked at only for a candidate: the fewer times it is scored,
        # the less a long study can fit it by selection.
        if is_candidate(val, now):
            fields["holdout_bpb"] = experiment.score(study, row_id, "holdout")
        fields["status"] = decide(val, fields["holdout_bpb"], now)
        fields["description"] = proposal.description
    else:
        fields["description"] += f" ({proposal.description})"
    if fields["status"] != "keep" and not keep_all:
        experiment.drop_checkpoints(study, row_id)
    return Row(parent=now.best, source=proposal.source, val_bpb=val, **fields)


def study_status(study_dir: Path, chart: bool = True) -> dict:
    """The ledger, its stats and (``chart``) ``STUDY/progress.png`` redrawn."""
    from sup.research.chart import progress_chart

    study = open_study(study_dir)
    rows = read_ledger(study.path)
    path = study.path / "progress.png"
    if chart:
        progress_chart(rows, study.seeds, path, f"sup research: {study.path.name}")
    return {
        "study": str(study.path),
        "budget_s": study.budget_s,
        "seeds": study.seeds,
        "knobs": [k.describe() for k in study.knobs.values()],
        "rows": [asdict(r) for r in rows],
        "stats": study_stats(rows, study.seeds),
        "chart": str(path) if chart else None,
    }
