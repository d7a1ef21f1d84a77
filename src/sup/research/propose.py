"""Proposers: what the next experiment changes, as a config delta against the base.

- ``random``: every knob drawn uniformly from the space (log-uniform on a log scale);
- ``local``: the current best's config with one or two knobs moved to a neighbouring
  choice or scaled x/÷ 1.5 within range (``Knob.neighbour``);
- ``llm``: an OpenAI-compatible model reads the ledger as a compact table (no holdout
  numbers: a holdout veto shows as a discard) and ``STUDY/lessons.md``, and replies with
  a JSON delta; it is checked against the space, gets one re-prompt with the error, and
  then falls back to ``local`` (``ask.py``), which the row's ``source`` records.

Row N's proposal draws from its own generator, seeded by the study and N, so a row
redone after a kill gets the same random or local proposal. A config already in the
ledger (the baseline's included) is never proposed again: rerunning it would be a
change of seed alone. None means no untried config was found in ``TRIES`` draws.
"""

from __future__ import annotations

import os
import random
from dataclasses import dataclass, field

from sup.errors import SupError, UsageError
from sup.research.ask import ask_json
from sup.research.ledger import K_SIGMA, Row, Standing
from sup.research.space import canonical, check_delta
from sup.research.study import LESSONS, Study

PROPOSERS = ("random", "local", "llm")
TRIES = 200
LEDGER_ROWS = 60  # the llm sees the latest rows (and every kept one)
LLM_TIMEOUT_S = 120.0
ASK = "Propose the next experiment."


@dataclass
class Proposal:
    delta: dict
    source: str  # random | local | llm | llm-retry | fallback
    description: str
    usage: dict[str, int] = field(default_factory=dict)  # llm tokens, when one was asked
    errors: list[str] = field(default_factory=list)  # the llm's failed attempts


@dataclass
class LlmSettings:
    url: str
    model: str
    temperature: float = 0.7
    max_tokens: int = 400


def describe(delta: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in delta.items()) or "(base)"


def rng_for(study: Study, row_id: int) -> random.Random:
    return random.Random(f"sup-research:{study.base_seed}:{row_id}")


def propose(
    kind: str, study: Study, rows: list[Row], now: Standing, row_id: int,
    llm: LlmSettings | None = None,
) -> Proposal | None:  # fmt: skip
    rng = rng_for(study, row_id)
    if kind == "random":
        return propose_random(study, rows, rng)
    if kind == "local":
        return propose_local(study, rows, now, rng)
    if kind == "llm":
        if llm is None:
            raise UsageError("the llm proposer needs --llm-url and --llm-model")
        return propose_llm(study, rows, now, rng, llm)
    raise UsageError(f"--proposer must be one of {', '.join(PROPOSERS)}, got {kind!r}")


def propose_random(study: Study, rows: list[Row], rng: random.Random) -> Proposal | None:
    base, tried = study.base_config(), {r.config_hash for r in rows}
    for _ in range(TRIES):
        delta = canonical({k: knob.sample(rng) for k, knob in study.knobs.items()}, base)
        if study.config_hash(delta) not in tried:
            return Proposal(delta, "random", f"random: {describe(delta)}")
    return None


def propose_local(
    study: Study, rows: list[Row], now: Standing, rng: random.Random
) -> Proposal | None:
    base, tried, knobs = study.base_config(), {r.config_hash for r in rows}, study.knobs
    current = {k: now.delta.get(k, getattr(base, k)) for k in knobs}
    for _ in range(TRIES):
        names = rng.sample(list(knobs), min(len(knobs), rng.choice((1, 2))))
        moved = {n: v for n in names if (v := knobs[n].neighbour(current[n], rng)) is not None}
        delta = canonical({**now.delta, **moved}, base)
        if moved and study.config_hash(delta) not in tried:
            steps = ", ".join(f"{n} {current[n]} -> {v}" for n, v in moved.items())
            return Proposal(delta, "local", f"local from {now.best}: {steps}")
    return None


def llm_client(url: str):
    try:
        import openai
    except ModuleNotFoundError:
        raise SupError("the llm proposer needs the openai package: pip install openai") from None
    key = os.environ.get("OPENAI_API_KEY") or "none"  # local servers take any key
    return openai.OpenAI(base_url=url, api_key=key, timeout=LLM_TIMEOUT_S, max_retries=1)


def propose_llm(
    study: Study, rows: list[Row], now: Standing, rng: random.Random, llm: LlmSettings
) -> Proposal | None:
    base = study.base_config()
    tried = {r.config_hash: r.id for r in rows}

    def validate(obj: dict):
        obj = dict(obj)
        note = obj.pop("note", None)
        delta = canonical(check_delta(study.knobs, obj), base)
        if not delta:
            raise ValueError("that is the base config itself: change at least one knob")
        if (seen := tried.get(study.config_hash(delta))) is not None:
            raise ValueError(f"that config was measured already (row {seen}): propose a new one")
        return delta, " ".join(str(note).split()) if note else ""

    answer = ask_json(
        llm_client(llm.url), llm.model, llm_messages(study, rows, now, rng), validate,
        lambda: propose_local(study, rows, now, rng),
        temperature=llm.temperature, max_tokens=llm.max_tokens,
    )  # fmt: skip
    if answer.source == "fallback":
        if answer.value is None:
            return None
        why = answer.errors[-1] if answer.errors else "no reply"
        return Proposal(answer.value.delta, "fallback",
                        f"llm fallback ({why}) -> {answer.value.description}",
                        answer.usage, answer.errors)  # fmt: skip
    delta, note = answer.value
    text = f"{answer.source}: {describe(delta)}" + (f" ({note})" if note else "")
    return Proposal(delta, answer.source, text, answer.usage, answer.errors)


def llm_messages(study: Study, rows: list[Row], now: Standing, rng: random.Random) -> list:
    """A system message with the rules, the knobs, the ledger, the current best and the
    lessons, then the one short request (``ASK``): the context comes first and the
    question last, as every chat model is trained to read."""
    base = study.base_config()
    knobs = "\n".join(f"- {k.describe()} (base {getattr(base, k.name)})"
                      for k in study.knobs.values())  # fmt: skip
    first = next(iter(study.knobs.values()))
    example = {first.name: first.sample(rng), "note": "why, in a few words"}
    shown = [r for r in rows if r.status == "keep" or r.id > len(rows) - LEDGER_ROWS]
    table = ["id\tstatus\tval_bpb\tchange\tdescription"]
    for r in shown:
        status = "discard" if r.status == "discard-holdout" else r.status
        bpb = "" if r.val_bpb is None else f"{r.val_bpb:.4f}"
        table.append(f"{r.id}\t{status}\t{bpb}\t{_json(r.delta)}\t{r.description}")
    lessons = study.path / LESSONS
    notes = lessons.read_text(encoding="utf-8").strip() if lessons.is_file() else ""
    system = (
        "You choose the next experiment of a study that trains a small language model. "
        f"Every experiment trains from scratch for the same {study.budget_s:g}s wall-clock "
        "budget and is scored in bits per byte on fixed validation text (val_bpb, lower is "
        "better). A result is kept only if it beats the current best by more than "
        f"{K_SIGMA * now.sigma:.4f} ({K_SIGMA:g} times the baseline's seed-to-seed spread) "
        "and also does better on a hidden holdout set.\n\nKnobs (the only keys you may set):\n"
        f"{knobs}\n\nLedger:\n" + "\n".join(table) + f"\n\nCurrent best: {now.best} "
        f"(val_bpb {now.val_bpb:.4f}, change {_json(now.delta)}); to be kept, beat "
        f"{now.bar:.4f}.\n\nLessons:\n{notes or '(none yet)'}\n\nReply with one JSON object "
        "and nothing else: the knobs to change against the base config (a knob left out "
        f'keeps its base value), optionally with a "note". For example: {_json(example)}'
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": ASK}]


def _json(obj) -> str:
    import json

    return json.dumps(obj, separators=(", ", ": "))
