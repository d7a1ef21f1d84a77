"""A study directory and its frozen harness, checked every time it is opened.

    STUDY/study.json    the harness (below), its sha256, and the settings a later
                        ``init`` may change: the space and the timeout
    STUDY/lessons.md    free text the llm proposer reads each time (yours to edit)
    STUDY/results.tsv   the ledger (ledger.py)
    STUDY/exp/NNNN/     one experiment: run/ (a sup run directory), train.log, train.json
    STUDY/progress.png  ``sup research status``'s chart

The harness is what makes two numbers of a study comparable: the data directory (its
path and the sha256 of its meta.json), the base config values, the wall-clock budget,
the number of baseline seeds, the evaluation windows and ``HARNESS_VERSION``. Windows
come from the val split cut in two halves: evenly spaced windows of ``block_size`` tokens
in the first half score ``val_bpb`` (what proposers see); the same number in the second
half is the holdout, which only re-scores the baselines and candidate wins. A study whose
data or harness no longer matches is refused in one line: start a new study.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sup import __version__
from sup.engine.config import TrainConfig, check_value, load_config, parse_override
from sup.errors import SupError, UsageError
from sup.fileio import sha256_file, write_json_atomic, write_text_atomic
from sup.formats.data import META, load_meta
from sup.formats.envelope import read_envelope
from sup.research.space import Knob, knobs_from_table, load_space

HARNESS_VERSION = 1
FORMAT = "sup-research-study"
STUDY_FILE = "study.json"
LESSONS = "lessons.md"
MIN_BUDGET_S = 2.0  # below this a run measures start-up and warm-up, not training
MIN_SEEDS = DEFAULT_SEEDS = 3  # the noise floor is the spread of at least three baselines
DEFAULT_WINDOWS = 128  # per half (val and holdout)
STARTUP_S = 60.0  # the default timeout is 3 x budget + this (imports, scoring, a slow disk)
HUGE = 10**12  # max_iters and eval_interval: the budget ends the run, not a step count
FIX = "start a new study (sup research init NEW_STUDY ...)"
LESSONS_TEXT = """\
# Lessons

Free text the llm proposer reads before every proposal: what worked, what did not, what
to try next, what to leave alone. Edit it while the study runs.
"""


def harness_keys(budget_s: float) -> dict:
    """Config keys every experiment gets, over the base (which may not set them: these
    win) and the proposal: the same wall-clock budget, no evaluation or checkpoint until
    the budget is spent (the study scores the run itself), a final val check of one
    batch."""
    return {"time_budget": budget_s, "max_iters": HUGE, "eval_interval": HUGE,
            "eval_iters": 1, "keep_checkpoints": False}  # fmt: skip


def parse_budget(text: str) -> float:
    """``60s``, ``90``, ``1.5m`` or ``1h`` in seconds, at least ``MIN_BUDGET_S``."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([smh]?)\s*", str(text))
    if not m:
        raise UsageError(f"--budget must be seconds like 60s, 2m or 1h, got {text!r}")
    seconds = float(m[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[m[2]]
    if seconds < MIN_BUDGET_S:
        raise UsageError(
            f"--budget {text} is under the {MIN_BUDGET_S:g}s minimum: so short a run measures "
            "start-up and warm-up, not what a change does to training"
        )
    return seconds


def set_args(values: dict) -> list[str]:
    """``key=value`` strings that ``parse_override`` reads back to the same values
    (what ``sup train --set`` receives)."""
    return [f"{k}={_text(v)}" for k, v in values.items()]


def _text(value) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return repr(value) if isinstance(value, float) else str(value)


def config_of(values: dict) -> TrainConfig:
    """The config ``sup train --set`` builds from ``values`` (depth rules included)."""
    return load_config(None, set_args(values))


@dataclass
class Study:
    path: Path
    info: dict  # study.json
    knobs: dict[str, Knob]

    @property
    def harness(self) -> dict:
        return self.info["harness"]

    @property
    def data_dir(self) -> Path:
        return Path(self.harness["data"]["path"])

    @property
    def budget_s(self) -> float:
        return self.harness["budget_s"]

    @property
    def seeds(self) -> int:
        return self.harness["seeds"]

    @property
    def base_values(self) -> dict:
        return self.harness["base"]

    @property
    def timeout_s(self) -> float:
        return self.info["timeout_s"]

    @property
    def base_seed(self) -> int:
        return self.base_config().seed

    def base_config(self) -> TrainConfig:
        return config_of(self.base_values)

    def windows(self, which: str) -> np.ndarray:
        return np.asarray(self.harness["windows"][which], dtype=np.int64)

    def run_values(self, delta: dict, seed: int) -> dict:
        """What one experiment trains with: base, the change, the harness keys, its seed."""
        return {**self.base_values, **delta, **harness_keys(self.budget_s), "seed": seed}

    def config_hash(self, delta: dict) -> str:
        """Names a config regardless of seed: base values with the change applied."""
        values = {k: v for k, v in {**self.base_values, **delta}.items() if k != "seed"}
        return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()[:12]


def harness_sha256(harness: dict) -> str:
    return hashlib.sha256(json.dumps(harness, sort_keys=True).encode()).hexdigest()


def base_values(base: Path | None, sets: list[str]) -> dict:
    """The base config as the values a user gave (file, then ``--set``), checked by
    building the config from them; defaults stay defaults."""
    load_config(base, sets)  # every check `sup train` makes, with its messages
    values: dict = {}
    if base is not None:
        import tomllib

        table = tomllib.loads(Path(base).read_text(encoding="utf-8"))
        values = {k: check_value(k, v, str(base)) for k, v in table.items()}
    values.update(parse_override(item) for item in sets)
    return values


def evaluation_windows(data_dir: Path, block: int, count: int) -> dict:
    """``count`` evenly spaced window starts in each half of the val split, each window
    ``block + 1`` tokens inside its half (so the two sets share no token)."""
    n = load_meta(data_dir)["val"]["tokens"]
    half = n // 2
    out = {"length": block}
    for name, lo, hi in (("val", 0, half), ("holdout", half, n)):
        last = hi - block - 1  # the last start whose window stays inside [lo, hi)
        if last < lo:
            raise SupError(
                f"{data_dir}'s val split has {n} tokens: each half needs at least block_size "
                f"+ 1 = {block + 1} for one window; use a longer val split or a smaller "
                "block_size"
            )
        picks = np.linspace(lo, last, min(count, last - lo + 1)).astype(np.int64)
        out[name] = np.unique(picks).tolist()
    return out


def init_study(
    path: Path,
    data_dir: Path,
    budget: str,
    space: Path,
    base: Path | None = None,
    sets: list[str] = (),
    seeds: int = DEFAULT_SEEDS,
    windows: int = DEFAULT_WINDOWS,
    timeout: float | None = None,
) -> dict:
    """Write STUDY/study.json. A study that exists keeps its harness and ledger: init
    again with the same harness changes only the space and the timeout."""
    path, data_dir = Path(path), Path(data_dir).resolve()
    budget_s = parse_budget(budget)
    if seeds < MIN_SEEDS:
        raise UsageError(f"--seeds must be at least {MIN_SEEDS} (the noise floor is their spread)")
    if windows < 1:
        raise UsageError("--windows must be at least 1")
    timeout_s = 3 * budget_s + STARTUP_S if timeout is None else float(timeout)
    if timeout_s <= budget_s:
        raise UsageError(f"--timeout must be longer than the budget ({budget_s:g}s)")
    load_meta(data_dir)  # a data directory at all, before hashing anything in it
    table = load_space(space)
    values = base_values(base, list(sets))
    cfg = config_of({**values, **harness_keys(budget_s)})
    harness = {
        "data": {"path": str(data_dir), "meta_sha256": sha256_file(data_dir / META)},
        "base": values,
        "budget_s": budget_s,
        "seeds": seeds,
        "windows": evaluation_windows(data_dir, cfg.block_size, windows),
        "scoring": {"checkpoint": "last", "device": "cpu", "precision": "fp32"},
    }
    info = {
        "format": FORMAT,
        "version": HARNESS_VERSION,
        "harness": harness,
        "harness_sha256": harness_sha256(harness),
        "space": table,
        "timeout_s": timeout_s,
        "sup_version": __version__,
    }
    created = not (path / STUDY_FILE).exists()
    if not created:
        old = open_study(path, check_data=False).info
        if old["harness_sha256"] != info["harness_sha256"]:
            differ = [k for k in harness if old["harness"].get(k) != harness[k]]
            raise UsageError(
                f"{path} is a study with another harness ({', '.join(differ)} differ): its "
                f"ledger was measured under that one; {FIX}"
            )
    path.mkdir(parents=True, exist_ok=True)
    write_json_atomic(path / STUDY_FILE, info)
    if not (path / LESSONS).exists():
        write_text_atomic(path / LESSONS, LESSONS_TEXT)
    study = Study(path, info, knobs_from_table(table, str(space)))
    return {"study": str(path), "created": created, "info": info, "knobs": study.knobs}


def open_study(path: Path, check_data: bool = True) -> Study:
    """The study at ``path``, refused in one line if its harness is not intact, is
    another version's, or its data directory has changed since init."""
    path = Path(path)
    info = read_envelope(
        path / STUDY_FILE,
        missing=f"{path} is not a study (no {STUDY_FILE}): run `sup research init` first",
        fmt=FORMAT,
        version=HARNESS_VERSION,
        kind="sup research study",
        fix=FIX,
    )
    try:
        harness = info["harness"]
        data = harness["data"]
        recorded = harness_sha256(harness)
        if info["harness_sha256"] != recorded:
            raise SupError(
                f"{path / STUDY_FILE}'s harness was edited (its sha256 no longer matches): "
                f"a study's harness is frozen; {FIX}"
            )
        if check_data:
            meta = Path(data["path"]) / META
            if not meta.is_file():
                raise SupError(f"the study's data directory {data['path']} is gone ({META})")
            if sha256_file(meta) != data["meta_sha256"]:
                raise SupError(
                    f"{data['path']} is not the data this study was measured on (its "
                    f"{META} sha256 differs from the one in {path / STUDY_FILE}): {FIX}"
                )
        knobs = knobs_from_table(info["space"], str(path / STUDY_FILE))
    except (KeyError, TypeError) as e:
        raise SupError(f"{path / STUDY_FILE} is damaged (missing {e}): {FIX}") from None
    return Study(path, info, knobs)
