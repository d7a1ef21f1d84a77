"""The search space of a study: which config keys proposers may change, and how far.

A space file is TOML, one table per knob, each named after a ``TrainConfig`` key:

    [learning_rate]
    min = 1e-4
    max = 1e-2
    log = true            # drawn and stepped on a log scale (min must be > 0)

    [n_layer]
    values = [1, 2, 4]    # choices, in order: the local proposer steps to a neighbour

    [dropout]
    min = 0.0
    max = 0.2

A range over an int key is an int range; ``int = true`` rounds a float key's draws to
whole numbers. Keys the harness owns (the budget, evaluation, the seed) cannot be knobs:
see ``NOT_KNOBS``. Everything here raises ``UsageError`` in one line, naming the knob.
"""

from __future__ import annotations

import math
import random
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sup.engine.config import FIELD_TYPES, TrainConfig, check_value
from sup.errors import UsageError

# Keys a space may not hold, and why: a proposal must change what is learned, within
# the frozen harness. A seed alone is noise (every ledger row already trains with its
# own seed); the others are the harness's equal budget and fixed measurement.
HARNESS_OWNED = "the harness owns it (every experiment gets the same budget and scoring)"
NOT_KNOBS = {
    "seed": "a change of seed alone is noise, not an experiment (each row has its own seed)",
    "time_budget": HARNESS_OWNED,
    "max_iters": HARNESS_OWNED,
    "lr_decay_iters": HARNESS_OWNED,
    "eval_interval": HARNESS_OWNED,
    "eval_iters": HARNESS_OWNED,
    "keep_checkpoints": HARNESS_OWNED,
    "log_interval": "it changes nothing the score sees",
    "device": "every experiment runs on the same hardware",
    "threads": "every experiment gets the same cores",
    "block_size": "the evaluation windows are block_size tokens long: changing it changes "
    "what is measured (start another study)",
}
FACTOR = 1.5  # the local proposer's step on a range: x or / this
SIGNIFICANT = 4  # float draws are rounded to this many significant digits (readable ledgers)
KNOB_FIELDS = {"values", "min", "max", "log", "int"}


@dataclass(frozen=True)
class Knob:
    name: str
    kind: type  # the TrainConfig key's type
    values: tuple | None = None  # choices, or None for a range
    low: float | None = None
    high: float | None = None
    log: bool = False
    integer: bool = False

    def describe(self) -> str:
        if self.values is not None:
            return f"{self.name}: one of {list(self.values)}"
        scale = ", log scale" if self.log else ""
        what = "int" if self.integer else self.kind.__name__
        return f"{self.name}: {what} in [{self.low}, {self.high}]{scale}"

    def check(self, value: Any) -> Any:
        """``value`` as the key's type if the knob allows it; ValueError saying why not."""
        if self.values is not None:
            for choice in self.values:
                if type(value) is type(choice) and value == choice:
                    return choice
                if self.kind is float and _number(value) and float(value) == choice:
                    return choice
            raise ValueError(f"{self.name} must be one of {list(self.values)}, got {value!r}")
        if not _number(value) or not math.isfinite(value):
            raise ValueError(f"{self.name} must be a number in [{self.low}, {self.high}]")
        if self.integer and float(value) != round(value):
            raise ValueError(f"{self.name} must be a whole number, got {value!r}")
        if not self.low <= value <= self.high:
            raise ValueError(f"{self.name} must be in [{self.low}, {self.high}], got {value!r}")
        return self._typed(value)

    def sample(self, rng: random.Random) -> Any:
        """A uniform draw (log-uniform on a log scale)."""
        if self.values is not None:
            return rng.choice(self.values)
        if self.log:
            x = math.exp(rng.uniform(math.log(self.low), math.log(self.high)))
        else:
            x = rng.uniform(self.low, self.high)
        return self._typed(x)

    def neighbour(self, value: Any, rng: random.Random) -> Any | None:
        """A step away from ``value``: the next or previous choice, or x/÷ ``FACTOR``
        within the range (an additive tenth of the range from zero); None when no step
        changes it."""
        if self.values is not None:
            if value not in self.values:  # the base value may not be one of the choices
                return rng.choice(self.values)
            i = self.values.index(value)
            near = [self.values[j] for j in (i - 1, i + 1) if 0 <= j < len(self.values)]
            return rng.choice(near) if near else None
        moves = [self._step(value, up) for up in rng.sample((True, False), 2)]
        return next((m for m in moves if m != value), None)

    def _step(self, value: Any, up: bool) -> Any:
        if self.log or value > 0:
            x = value * FACTOR if up else value / FACTOR
        else:
            x = value + (1 if up else -1) * (self.high - self.low) / 10
        x = self._typed(x)
        if self.integer and x == value:  # a small int scaled by 1.5 rounds back to itself
            x = self._typed(value + (1 if up else -1))
        return x

    def _typed(self, x: float) -> Any:
        """``x`` as the key's type, rounded (whole, or ``SIGNIFICANT`` digits), in range."""
        if self.integer:
            whole = min(max(round(x), math.ceil(self.low)), math.floor(self.high))
            return self.kind(whole)
        return min(max(float(f"{float(x):.{SIGNIFICANT}g}"), self.low), self.high)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def load_space(path: Path) -> dict:
    """The space file's table (checked; what study.json stores)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"space file not found: {path}")
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"space {path} is not valid UTF-8 TOML: {e}") from None
    knobs_from_table(table, str(path))
    return table


def knobs_from_table(table: dict, where: str) -> dict[str, Knob]:
    if not table:
        raise UsageError(f"space {where} has no knobs: add a table per config key to explore")
    return {name: _knob(name, spec, where) for name, spec in table.items()}


def _knob(name: str, spec: Any, where: str) -> Knob:
    def bad(msg: str) -> UsageError:
        return UsageError(f"space {where}: knob {name!r} {msg}")

    if name not in FIELD_TYPES:
        raise bad(f"is not a config key (valid keys: {', '.join(FIELD_TYPES)})")
    if name in NOT_KNOBS:
        raise bad(f"cannot be explored: {NOT_KNOBS[name]}")
    if not isinstance(spec, dict):
        raise bad("must be a table: values = [...] or min = .. and max = ..")
    if extra := sorted(set(spec) - KNOB_FIELDS):
        raise bad(f"has unknown fields {extra} (fields: {', '.join(sorted(KNOB_FIELDS))})")
    kind = FIELD_TYPES[name]
    if "values" in spec:
        if set(spec) - {"values"}:
            raise bad("takes either values or min/max, not both")
        values = spec["values"]
        if not isinstance(values, list) or not values:
            raise bad("has no values: give a non-empty list")
        try:
            typed = tuple(check_value(name, v, f"space {where}") for v in values)
        except UsageError as e:
            raise bad(f"has a bad value: {e}") from None
        if len(set(typed)) != len(typed):
            raise bad("lists a value twice")
        return Knob(name, kind, values=typed)
    if kind not in (int, float):
        raise bad(f"is a {kind.__name__} key: give its choices as values = [...]")
    if "min" not in spec or "max" not in spec:
        raise bad("needs values = [...] or both min and max")
    low, high = spec["min"], spec["max"]
    flags = {k: spec.get(k, False) for k in ("log", "int")}
    if not all(_number(x) and math.isfinite(x) for x in (low, high)):
        raise bad("needs numbers for min and max")
    if not all(isinstance(v, bool) for v in flags.values()):
        raise bad("takes true or false for log and int")
    if not low < high:
        raise bad(f"has an empty range: min {low} must be below max {high}")
    if flags["log"] and low <= 0:
        raise bad(f"has log = true, which needs min > 0 (got {low})")
    if kind is float:
        low, high = float(low), float(high)
    integer = kind is int or flags["int"]
    if integer and math.floor(high) < math.ceil(low):
        raise bad(f"has no whole number in [{low}, {high}]")
    if kind is int and not all(isinstance(x, int) for x in (low, high)):
        raise bad("is an int key: give whole numbers for min and max")
    return Knob(name, kind, low=low, high=high, log=flags["log"], integer=integer)


def check_delta(knobs: dict[str, Knob], delta: Any) -> dict:
    """A config change as the knobs allow it (values typed), or ValueError saying why."""
    if not isinstance(delta, dict):
        raise ValueError("a config change must be a JSON object of knob: value")
    out = {}
    for key, value in delta.items():
        if key not in knobs:
            why = f" ({NOT_KNOBS[key]})" if key in NOT_KNOBS else ""
            raise ValueError(f"{key!r} is not a knob of this study{why}; knobs: {', '.join(knobs)}")
        out[key] = knobs[key].check(value)
    return out


def canonical(delta: dict, base: TrainConfig) -> dict:
    """``delta`` without the keys it sets to their base value, in the space's key order:
    the same experiment always has the same delta (and the baseline's is empty)."""
    return {k: v for k, v in delta.items() if getattr(base, k) != v}
