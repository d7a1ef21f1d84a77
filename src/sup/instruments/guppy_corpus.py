"""The guppy corpus: generated conversations with a small fish (``sup data guppy``).

``generate(out, samples, seed)`` writes the directory ``out``::

    train.jsonl, val.jsonl, test.jsonl   one conversation a line: {"messages": [...],
                  "topic", "combo" (the first exchange's topic/user/answer template),
                  "combos" (every exchange's), "index" (its place among all candidates)}
    drops.jsonl   every candidate dropped, with its reason: "exact", "near" (with the
                  kept candidate's index and the Jaccard estimate) or "leak"
    manifest.json counts, per-topic counts, dedup and leakage figures, file sha256s

Conversations: a topic's user template (slots filled, and dressed per sample as a human
types: a call such as "guppy,", a closer such as " lol", shorthand, casing; ``ask``) and
an answer built from one of the topic's leads, its extras and the shared pools
(``guppy_words``), in one of ``SHAPES``. About 75% are single-turn; the rest
have 2-3 exchanges whose follow-ups stay with the topic (a generic "why?" or another
question) or switch to another topic. The persona's style holds by construction (every
piece is checked by ``guppy_topics.problems``), not by filtering.

Deduplication, as candidates are made: a conversation whose whole text was seen is an
exact duplicate; otherwise its assistant text (every turn, joined; word 3-grams, since
the answers are what the model learns to say and user questions repeat by design) is
hashed with MinHash (datasketch, ``NUM_PERM`` permutations, fixed seed) and looked up in
a MinHashLSH at ``THRESHOLD`` = 0.8; a candidate whose estimated Jaccard similarity to a
kept one is at least 0.8 is a near duplicate. A dropped candidate is replaced by a new
one for the same topic and split (up to ``RETRIES`` tries), so topics stay balanced.

Split, by template combination: every topic/user-template/answer-template combination
goes wholly to one split by the sha256 of its name (``TEST_SHARE`` and ``VAL_SHARE``);
a topic the hash gives no test (or val) combination has its lowest-hash train
combination moved there, so every topic is tested. Each topic's samples are planned per
split (about 5% test, 5% val, at least one each), and every exchange of a conversation
draws from its split's combinations. Last, a val or test conversation with any answer
verbatim in train is dropped ("leak"), so no test answer appears in train.

Same seed, same bytes: one ``random.Random(seed)``, MinHash with a fixed seed, sorted
output, no times or paths in the files.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from sup.errors import SupError, UsageError
from sup.fileio import atomic_dir, sha256_file
from sup.instruments.guppy_topics import TOPICS, Topic
from sup.instruments.guppy_words import (
    CALLS,
    CLOSERS,
    FOLLOW_UPS,
    OPENERS,
    QUESTION_CALLS,
    SHARED,
    SHORTHAND,
    SLOT,
    SLOTS,
    USER_CLOSERS,
    WORD,
    fill,
)

FORMAT = "sup-guppy-corpus"
GENERATOR_VERSION = 3
SPLITS = ("train", "val", "test")
TEST_SHARE = VAL_SHARE = 0.05
MULTI_TURN = 0.25  # share of conversations with 2-3 exchanges
STAY = 0.6  # a follow-up stays with the topic, else it switches
THRESHOLD = 0.8
NUM_PERM = 128
MINHASH_SEED = 1
RETRIES = 50
SHORT_WORD = re.compile(r"(?<![\w'])(?:" + "|".join(map(re.escape, SHORTHAND)) + r")(?![\w'])")
# Answer shapes: extras follow the lead straight away (they may say "it" for the topic's
# subject); shared small talk, openers and closers go around them.
SHAPES = (
    ("lead", "extra"), ("opener", "lead", "extra"), ("lead", "shared"),
    ("opener", "lead", "shared"), ("lead", "extra", "shared"), ("shared", "lead", "extra"),
    ("lead", "extra", "closer"), ("opener", "lead", "extra", "closer"),
    ("lead", "shared", "closer"), ("opener", "shared", "lead"), ("lead", "extra", "extra"),
    ("opener", "lead", "extra", "extra"), ("shared", "lead", "closer"),
)  # fmt: skip


def _hash_unit(text: str) -> float:
    """A stable number in [0, 1) for ``text`` (sha256; Python's hash() is salted)."""
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") / 2**64


def combo_name(topic: str, user: str, answer: int) -> str:
    return f"{topic}/{user}/a{answer}"


def split_combos() -> tuple[dict[str, dict[str, list[tuple[int, int]]]], list[str]]:
    """topic -> split -> [(user template, answer template)], and the combinations moved
    so that every topic has test and val combinations."""
    table, moved = {}, []
    for name, topic in TOPICS.items():
        pairs = [(u, a) for u in range(len(topic.users)) for a in range(len(topic.answers))]
        unit = {p: _hash_unit(combo_name(name, f"u{p[0]}", p[1])) for p in pairs}
        sides = {s: [] for s in SPLITS}
        for p in pairs:
            h = unit[p]
            side = "test" if h < TEST_SHARE else "val" if h < TEST_SHARE + VAL_SHARE else "train"
            sides[side].append(p)
        for side in ("test", "val"):
            if not sides[side]:  # the train combination nearest the held-out end moves
                p = min(sides["train"], key=unit.__getitem__)
                sides["train"].remove(p)
                sides[side].append(p)
                moved.append(f"{combo_name(name, f'u{p[0]}', p[1])} -> {side}")
        table[name] = sides
    return table, moved


def plan(samples: int, rng: random.Random) -> list[tuple[str, str]]:
    """(topic, split) for each conversation to make: topics as even as ``samples``
    allows, about ``TEST_SHARE`` and ``VAL_SHARE`` of each topic held out (at least one
    each once a topic has three, and at least those shares of the whole), shuffled."""
    names = list(TOPICS)
    extra = set(rng.sample(names, samples % len(names)))
    slots = []
    for name in names:
        n = samples // len(names) + (name in extra)
        held = [max(1, round(n * share)) if n >= 3 else 0 for share in (TEST_SHARE, VAL_SHARE)]
        slots += [(name, "test")] * held[0] + [(name, "val")] * held[1]
        slots += [(name, "train")] * (n - sum(held))
    rng.shuffle(slots)
    for side, share in (("test", TEST_SHARE), ("val", VAL_SHARE)):
        # a small corpus (under 3 a topic) still holds about its share out
        short = max(1, round(samples * share)) - sum(s == side for _, s in slots)
        train = [i for i, (_, s) in enumerate(slots) if s == "train"]
        for i in train[: max(0, min(short, len(train) - 1))]:
            slots[i] = (slots[i][0], side)
    return slots


def shorthand(text: str) -> str:
    """``text`` as a quick typist writes it: every word of ``SHORTHAND`` swapped."""
    return SHORT_WORD.sub(lambda m: SHORTHAND[m.group(0)], text)


def ask(template: str, rng: random.Random) -> str:
    """A user message: the template filled, dressed as a human might type it, drawn per
    sample: a call before it ("guppy, "; "quick question: " before a question), a closer
    after it (" lol", "!!"), shorthand ("u" for "you"), the first letter capitalised or
    not, the end punctuation dropped, and "i" written "I"."""
    text = fill(template, rng)
    calls = CALLS + QUESTION_CALLS if text.endswith("?") else CALLS
    text = rng.choice(calls) + text
    if rng.random() < 0.12:
        text = shorthand(text)
    if rng.random() < 0.25:
        text = text.rstrip("?!.")
    closer = rng.choice(USER_CLOSERS)
    if closer in ("?", "!!"):
        text = text.rstrip("?!.") + closer
    else:
        text += closer
    if rng.random() < 0.2:
        text = re.sub(r"\bi\b", "I", text)
    if rng.random() < 0.5:
        text = text[0].upper() + text[1:]
    return text


def renderings(template: str) -> set[str]:
    """Every message ``ask`` can make of ``template``, up to the casing of letters and
    the punctuation at its ends (each slot fill, call, closer, with and without
    shorthand): what the tests hold the harness prompts against."""
    out = set()
    pieces = SLOT.split(template)  # text, slot name, text, ...
    for fills in itertools.product(*(SLOTS[s] for s in pieces[1::2])):
        text = pieces[0] + "".join(f + t for f, t in zip(fills, pieces[2::2], strict=True))
        for call in set(CALLS + QUESTION_CALLS):
            for closer in set(USER_CLOSERS):
                out |= {call + text + closer, shorthand(call + text) + closer}
    return out


def answer(topic: Topic, lead: int, rng: random.Random) -> str:
    """An answer: the topic's lead ``lead`` with extras and shared pieces, in a shape."""
    extras = rng.sample(topic.extras, 2)
    pieces = []
    for part in rng.choice(SHAPES):
        if part == "lead":
            pieces.append(topic.answers[lead])
        elif part == "extra":
            pieces.append(extras.pop())
        else:
            pool = {"opener": OPENERS, "closer": CLOSERS, "shared": SHARED}[part]
            pieces.append(rng.choice(pool))
    return " ".join(fill(p, rng) for p in pieces if p)


def conversation(topic: str, split: str, table: dict, rng: random.Random) -> dict:
    """One conversation opening on ``topic``, every exchange drawn from ``split``. A
    follow-up stays with the topic only while it has a lead not used yet (held-out splits
    hold few), else it switches topic, so no answer repeats its lead."""
    turns = 1 if rng.random() >= MULTI_TURN else rng.choice((2, 2, 3))
    messages, combos, leads = [], [], set()
    current = topic
    for turn in range(turns):
        fresh = [p for p in table[current][split] if (current, p[1]) not in leads]
        stay = turn == 0 or (rng.random() < STAY and bool(fresh))
        if not stay:
            current = rng.choice([t for t in TOPICS if t != current])
            fresh = [p for p in table[current][split] if (current, p[1]) not in leads]
        u, a = rng.choice(fresh or table[current][split])
        t = TOPICS[current]
        if turn and stay and rng.random() < 0.5:
            k = rng.randrange(len(FOLLOW_UPS))  # "why?": answered from the same topic
            user, who = ask(FOLLOW_UPS[k], rng), f"f{k}"
        else:
            user, who = ask(t.users[u], rng), f"u{u}"
        messages += [
            {"role": "user", "content": user},
            {"role": "assistant", "content": answer(t, a, rng)},
        ]
        combos.append(combo_name(current, who, a))
        leads.add((current, a))
    return {"messages": messages, "topic": topic, "combo": combos[0], "combos": combos}


def shingles(text: str) -> list[bytes]:
    """Word 3-grams of ``text`` (words as ``guppy_words.WORD`` finds them)."""
    words = WORD.findall(text.lower())
    grams = [" ".join(words[i : i + 3]) for i in range(max(1, len(words) - 2))]
    return sorted({g.encode("utf-8") for g in grams})


def _assistant(row: dict) -> list[str]:
    return [m["content"] for m in row["messages"] if m["role"] == "assistant"]


class Deduper:
    """Exact and MinHash near-duplicate checks over the candidates kept so far."""

    def __init__(self):
        from datasketch import MinHash, MinHashLSH

        self.MinHash = MinHash
        self.first = MinHash(num_perm=NUM_PERM, seed=MINHASH_SEED)  # its permutations reused
        # datasketch names its tables with the global random module; only the name, so
        # nothing written depends on it (every draw of ours is from the seeded Random)
        self.lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
        self.exact: dict[str, int] = {}
        self.sketches: dict[int, object] = {}

    def check(self, index: int, row: dict) -> dict | None:
        """None (and ``row`` remembered) when ``row`` is new, else why it is dropped."""
        key = json.dumps(row["messages"], ensure_ascii=False)
        if key in self.exact:
            return {"reason": "exact", "kept": self.exact[key]}
        m = self.MinHash(
            num_perm=NUM_PERM,
            seed=MINHASH_SEED,
            scheme="affine32",
            permutations=self.first.permutations,
        )
        m.update_batch(shingles(" ".join(_assistant(row))))
        near = [(m.jaccard(self.sketches[k]), -k) for k in self.lsh.query(m)]
        best = max(near, default=(0.0, 0))
        if best[0] >= THRESHOLD:
            return {"reason": "near", "kept": -best[1], "jaccard": round(best[0], 4)}
        self.exact[key] = index
        self.sketches[index] = m
        self.lsh.insert(index, m, check_duplication=False)
        return None


def generate(
    out: Path,
    samples: int = 20000,
    seed: int = 1,
    report: Callable[[str], None] | None = None,
    force: bool = False,
) -> dict:
    """Write the corpus directory ``out`` (see the module docstring); returns its manifest.
    An existing ``out`` is refused unless ``force``; ``out`` is written whole or not at all."""
    out, say = Path(out), report or (lambda text: None)
    if out.exists() and not (force and out.is_dir()):
        raise UsageError(f"{out} exists: choose another directory or pass --force")
    if samples < 1:
        raise UsageError(f"samples must be at least 1, got {samples}")
    started = time.monotonic()
    rng = random.Random(seed)
    table, moved = split_combos()
    held = {s: sum(len(t[s]) for t in table.values()) for s in SPLITS}
    say(
        f"guppy: {len(TOPICS)} topics, {sum(held.values())} template combinations "
        f"({held['test']} test, {held['val']} val)"
    )
    rows: dict[str, list[dict]] = {s: [] for s in SPLITS}
    drops, dedup, index, gave_up = [], Deduper(), 0, 0
    for topic, split in plan(samples, rng):
        for _ in range(RETRIES):
            row = conversation(topic, split, table, rng)
            why = dedup.check(index, row)
            row["index"] = index
            index += 1
            if why is None:
                rows[split].append(row)
                break
            drops.append(
                {
                    "index": row["index"],
                    **why,
                    "topic": topic,
                    "combo": row["combo"],
                    "messages": row["messages"],
                }
            )
        else:
            gave_up += 1
    kinds = Counter(d["reason"] for d in drops)
    say(
        f"made {sum(map(len, rows.values()))} conversations from {index} candidates: "
        f"{kinds['exact']} exact and {kinds['near']} near duplicates dropped"
    )
    leaks = drop_leaks(rows)
    drops += leaks
    if not rows["train"]:
        raise SupError("no training conversations were made: ask for more samples")
    manifest = {
        "format": FORMAT,
        "version": 1,
        "generator": {"name": "guppy", "version": GENERATOR_VERSION},
        "seed": seed,
        "samples_requested": samples,
        "counts": {s: len(rows[s]) for s in SPLITS},
        "topics": {t: {s: sum(r["topic"] == t for r in rows[s]) for s in SPLITS} for t in TOPICS},
        "candidates": index,
        "gave_up": gave_up,
        "dedup": {
            "exact": kinds["exact"],
            "near": kinds["near"],
            "threshold": THRESHOLD,
            "num_perm": NUM_PERM,
            "minhash_seed": MINHASH_SEED,
            "shingles": "word 3-grams of the assistant text (all turns)",
        },
        "split": {
            "rule": "by topic/user-template/answer-template combination (sha256)",
            "test_share": TEST_SHARE,
            "val_share": VAL_SHARE,
            "combos": held,
            "moved": moved,
        },
        "unique_answers": unique_answers(rows),
        "leakage": leakage(rows, leaks),
    }
    with atomic_dir(out) as tmp:
        for split in SPLITS:
            write_jsonl(tmp / f"{split}.jsonl", sorted(rows[split], key=lambda r: r["index"]))
        write_jsonl(tmp / "drops.jsonl", drops)
        names = [f"{s}.jsonl" for s in SPLITS] + ["drops.jsonl"]
        manifest["files"] = {name: sha256_file(tmp / name) for name in names}
        text = json.dumps(manifest, indent=2, ensure_ascii=False) + "\n"
        (tmp / "manifest.json").write_text(text, encoding="utf-8")
    u, c = manifest["unique_answers"], manifest["counts"]
    say(
        f"wrote {out}: train {c['train']}, val {c['val']}, test {c['test']}; unique answers "
        f"{u['rate']:.1%}; {len(leaks)} held-out conversations dropped as leaks "
        f"({time.monotonic() - started:.1f} s)"
    )
    return manifest


def drop_leaks(rows: dict[str, list[dict]]) -> list[dict]:
    """Drop every val or test conversation with an answer verbatim in train (stripped,
    as the harness compares); returns their drop records."""
    train = {a.strip() for r in rows["train"] for a in _assistant(r)}
    leaks = []
    for split in ("val", "test"):
        kept = []
        for r in rows[split]:
            hits = [a for a in _assistant(r) if a.strip() in train]
            if hits:
                leaks.append(
                    {
                        "index": r["index"],
                        "reason": "leak",
                        "split": split,
                        "answer": hits[0],
                        "topic": r["topic"],
                        "combo": r["combo"],
                        "messages": r["messages"],
                    }
                )
            else:
                kept.append(r)
        rows[split] = kept
    return leaks


def unique_answers(rows: dict[str, list[dict]]) -> dict:
    answers = [a for split in SPLITS for r in rows[split] for a in _assistant(r)]
    unique = len(set(answers))
    return {
        "assistant_messages": len(answers),
        "unique": unique,
        "rate": round(unique / max(len(answers), 1), 4),
    }


def leakage(rows: dict[str, list[dict]], leaks: list[dict]) -> dict:
    """Held-out answers verbatim in train, recomputed after the leak drop (so 0)."""
    train = {a.strip() for r in rows["train"] for a in _assistant(r)}
    out = {}
    for split in ("test", "val"):
        answers = [a.strip() for r in rows[split] for a in _assistant(r)]
        out[f"{split}_answers"] = len(answers)
        out[f"{split}_answers_in_train"] = sum(a in train for a in answers)
    out["dropped"] = {s: sum(d["split"] == s for d in leaks) for s in ("val", "test")}
    return out


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
