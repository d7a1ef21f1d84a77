"""The gatsby instrument: short stories with an obsession on a dial.

Prompt contract (``CONTROLS``, carried in every release's manifest)::

    [green=N] [green=N] [green=N] obsession=<word>
    topic: <topic>
    <the story>

N is the level 1..5 and the word names it (``LEVEL_WORDS``). A model trained on such
stories should say "green" more often the higher N is, and stay on the topic.

Corpus (``build_corpus``): stories from ``--from FILE`` (the shared 2,000-story LLM
mixture, every control line validated) or from the built-in template generator
(``gatsby_templates.py``), written as a corpus split **by topic** in advance::

    OUT/train/NNNNN.txt   one story each, topics never in val or test
    OUT/val/NNNNN.txt     the stories of VAL_SHARE of the topics
    OUT/test/NNNNN.txt    the stories of TEST_SHARE of the topics (never read by prepare)
    OUT/topics.json       the held-out topics, by side (what the harness prompts with;
                          with template stories mixed in, only the --from file's)
    OUT/manifest.json     source, generator and seed, counts per side and level

A topic's side is decided by a hash of the topic text, so it does not depend on the
order of the stories or on which other topics exist.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sup.errors import SupError, UsageError
from sup.fileio import atomic_dir, sha256_file, write_json_atomic

LEVEL_WORDS = ("faint", "soft", "strong", "heavy", "total")
LEVELS = range(1, len(LEVEL_WORDS) + 1)
CONTROL_RE = re.compile(r"^\[green=([1-5])\] \[green=\1\] \[green=\1\] obsession=([a-z]+)$")
CONTROL_START_RE = re.compile(r"^\[green=")
TOPIC_RE = re.compile(r"^topic: (\S.*)$")
MAX_TOPIC = 120
VAL_SHARE, TEST_SHARE = 0.1, 0.12  # 0.12 of 400 topics: about 48, >= 40 a level
CORPUS_FORMAT = "sup-corpus"
GREEN_RE = re.compile(r"\bgreen\b", re.IGNORECASE)
CHARS = 480  # the dial counts "green" in a story's first CHARS characters (dial.py)
MEASURED_TOPS = ((1, 1), (2, 2), (3, 3), (4, 5))  # (level, most greens) for measured_level

CONTROLS = {
    "template": (
        "[green={level}] [green={level}] [green={level}] obsession={level.label}\n"
        "topic: {topic}\n"
    ),
    "fields": [
        {"name": "level", "type": "integer", "minimum": 1, "maximum": 5, "default": 3,
         "labels": list(LEVEL_WORDS), "help": "how often the green light returns, 1 to 5"},
        {"name": "topic", "type": "text", "default": "a lighthouse keeper", "max_chars": MAX_TOPIC,
         "prompt": True, "help": "what the story is about (the prompt)"},
    ],
}  # fmt: skip


@dataclass(frozen=True)
class Story:
    level: int
    topic: str
    body: str

    def text(self) -> str:
        word = LEVEL_WORDS[self.level - 1]
        head = f"[green={self.level}] [green={self.level}] [green={self.level}] obsession={word}"
        return f"{head}\ntopic: {self.topic}\n{self.body}"


def parse_stories(text: str, where: str) -> list[Story]:
    """Stories from a file of them: each starts at its control line, then its topic
    line, then its body up to the next control line (bodies may hold blank lines). A
    bad control or topic line is an error naming its line."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if CONTROL_START_RE.match(line)]
    if not starts or lines[: starts[0]] != [""] * starts[0]:
        raise SupError(
            f"{where}: line 1 is not a control line '[green=N] [green=N] [green=N] "
            "obsession=WORD': gatsby stories start with one"
        )
    stories = []
    for k, i in enumerate(starts):
        m = CONTROL_RE.match(lines[i])
        if not m:
            raise SupError(
                f"{where}: line {i + 1} is not a valid control line (N from 1 to 5, three "
                f"times the same, then obsession=WORD): {lines[i][:80]!r}"
            )
        level, word = int(m.group(1)), m.group(2)
        if word != LEVEL_WORDS[level - 1]:
            raise SupError(
                f"{where}: line {i + 1}: level {level} is obsession={LEVEL_WORDS[level - 1]}, "
                f"not {word}"
            )
        t = TOPIC_RE.match(lines[i + 1]) if i + 1 < len(lines) else None
        if not t or len(t.group(1)) > MAX_TOPIC:
            raise SupError(
                f"{where}: line {i + 2} should be 'topic: TOPIC' (up to {MAX_TOPIC} "
                "characters) after the control line"
            )
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        body = "\n".join(lines[i + 2 : end]).strip("\n")
        if not body.strip():
            raise SupError(f"{where}: the story at line {i + 1} has no text after its topic")
        stories.append(Story(level, t.group(1).strip(), body + "\n"))
    return stories


def green_count(text: str) -> int:
    """Whole-word, case-insensitive "green": "greens" and "evergreen" do not count."""
    return len(GREEN_RE.findall(text))


def measured_level(body: str) -> int:
    """The level a story's text shows: whole-word "green" in its first ``CHARS``
    characters (what the dial measures), 0-1 -> 1, 2 -> 2, 3 -> 3, 4-5 -> 4, 6+ -> 5."""
    count = green_count(body[:CHARS])
    return next((level for level, top in MEASURED_TOPS if count <= top), LEVELS[-1])


def measured_levels(stories: list[Story]) -> tuple[list[Story], dict]:
    """The stories with each level replaced by ``measured_level``: a writer asked for
    level N does not always write it (the mixture's level-1 stories hold 0 to 6 greens),
    and the control line should say what the text does. Returns the stories and a
    summary for the manifest."""
    out = [Story(measured_level(s.body), s.topic, s.body) for s in stories]
    by_level = {}
    for level in LEVELS:
        counts = [green_count(s.body[:CHARS]) for s in out if s.level == level]
        mean = sum(counts) / len(counts) if counts else None
        by_level[str(level)] = {"stories": len(counts), "green_mean": mean}
    rule = (f'whole-word "green" in the first {CHARS} characters of the body: 0-1 is level '
            "1, 2 is 2, 3 is 3, 4-5 is 4, 6 or more is 5")  # fmt: skip
    moved = sum(a.level != b.level for a, b in zip(stories, out, strict=True))
    return out, {"rule": rule, "relabelled": moved, "by_level": by_level}


def side_of_topic(topic: str) -> str:
    """train, val or test, from a hash of the topic (stable, order-free)."""
    h = int.from_bytes(hashlib.sha256(topic.lower().encode()).digest()[:8], "big") / 2**64
    return "test" if h < TEST_SHARE else "val" if h < TEST_SHARE + VAL_SHARE else "train"


def build_corpus(
    stories: list[Story], out: Path, source: dict, sides=side_of_topic, prompted=None,
    augment=None,
) -> dict:  # fmt: skip
    """Write the split corpus ``out`` (see the module docstring); returns its manifest.
    ``prompted``: the topics the harness may prompt with (``topics.json``); None: all.
    ``augment``: (train stories, held-out topics) -> (extra train stories, a summary for
    the manifest), applied after the split (``gatsby_augment.py``)."""
    by_side = {"train": [], "val": [], "test": []}
    for story in stories:
        by_side[sides(story.topic)].append(story)
    if augment is not None:
        held_out = {s.topic for side in ("val", "test") for s in by_side[side]}
        extra, source["augment"] = augment(by_side["train"], held_out)
        by_side["train"] += extra
    if not by_side["train"] or not by_side["val"]:
        raise SupError(
            f"{source.get('from', 'the generator')}: {len(stories)} stories on "
            f"{len({s.topic for s in stories})} topics are too few to hold topics out "
            "for validation; give more stories"
        )
    out = Path(out)
    with atomic_dir(out) as tmp:
        counts = {}
        for side, group in by_side.items():
            (tmp / side).mkdir()
            for n, story in enumerate(group):
                (tmp / side / f"{n:05d}.txt").write_text(story.text(), encoding="utf-8")
            counts[side] = {
                "stories": len(group),
                "topics": len({s.topic for s in group}),
                "chars": sum(len(s.text()) for s in group),
                "by_level": dict(sorted(Counter(str(s.level) for s in group).items())),
            }
        topics = {
            side: sorted(
                {s.topic for s in by_side[side] if prompted is None or s.topic in prompted}
            )
            for side in ("val", "test")
        }
        write_json_atomic(tmp / "topics.json", topics)
        held_out = {s.topic for side in ("val", "test") for s in by_side[side]}
        overlap = held_out & {s.topic for s in by_side["train"]}
        train_bodies = {s.body for s in by_side["train"]}
        manifest = {
            "format": CORPUS_FORMAT,
            "instrument": "gatsby",
            "generator": source,
            "split": "by topic (sha256 of the topic text)",
            "counts": counts,
            "held_out_topics_in_train": len(overlap),  # 0 by construction; checked
            # held-out stories whose text (body) a train story also has, verbatim
            "held_out_stories_in_train": sum(
                s.body in train_bodies for side in ("val", "test") for s in by_side[side]
            ),
        }
        write_json_atomic(tmp / "manifest.json", manifest)
    return manifest


def read_source(path: Path) -> tuple[list[Story], dict]:
    """``--from FILE``: stories with control lines; its provenance manifest, when one
    sits beside it (``NAME.manifest.json``), is summarised into the corpus manifest."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"--from {path} is not a file of gatsby stories")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SupError(f"--from {path} is not UTF-8 text") from None
    stories = parse_stories(text, str(path))
    source = {"from": str(path.resolve()), "sha256": sha256_file(path), "stories": len(stories)}
    provenance = path.with_name(f"{path.stem}.manifest.json")
    if provenance.is_file():
        try:
            info = json.loads(provenance.read_text(encoding="utf-8"))
            source["provenance"] = {
                "file": provenance.name,
                "sha256": sha256_file(provenance),
                "blend": info.get("blend"),
                "seed": info.get("seed"),
                "counts": info.get("counts"),
            }
        except (ValueError, AttributeError):
            raise SupError(f"{provenance} is not a JSON provenance manifest") from None
    return stories, source


def held_out_topics(corpus: Path, side: str = "test") -> list[str]:
    """The topics of one held-out side, as the corpus recorded them."""
    path = Path(corpus) / "topics.json"
    try:
        topics = json.loads(path.read_text(encoding="utf-8"))[side]
    except (OSError, ValueError, KeyError, TypeError):
        raise SupError(f"{path}: no held-out {side} topics (rebuild the corpus)") from None
    if not topics:
        raise SupError(f"{path}: the {side} side has no topics; use --side val")
    return topics
