"""Noun-swap augmentation for gatsby's training stories (``sup data gatsby --augment N``).

An LLM story that honours its topic names the topic's key noun in its body ("topic: a
snail on a leaf" ... "Theo is a little snail"). A copy of it with that noun swapped for
another, in the topic and the body alike ("topic: a lantern on a leaf" ... "Theo is a
little lantern"), is a story in the same voice whose noun can only be known from the
topic line. With nouns drawn per copy from ``gatsby_templates.SUBJECTS``, a model
learns to name the topic's noun by copying it, in the LLM stories' own style, instead
of remembering which noun goes with which story.

Only the train side is augmented, after the split by topic, so no held-out story is
ever copied; a copy whose topic happens to equal a held-out topic is dropped. Stories
that do not name their key noun, or whose noun is "green", are left as they are. The
level is unchanged: swapping a noun moves no "green".
"""

from __future__ import annotations

import random
import re

from sup.instruments.gatsby import Story


def plural(noun: str) -> str:
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


def forms(noun: str) -> dict[str, str]:
    """Each written form of ``noun`` (singular and the usual plurals) -> its kind."""
    out = {noun: "one", noun + "s": "many", noun + "es": "many"}
    if noun.endswith("y"):
        out[noun[:-1] + "ies"] = "many"
    return out


def swap(text: str, old: str, new: str) -> str:
    """``old`` -> ``new`` as whole words, plural for plural, capital for capital."""
    kinds = forms(old)
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, sorted(kinds, key=len)[::-1])) + r")\b",
                         re.IGNORECASE)  # fmt: skip

    def replace(m: re.Match) -> str:
        word = m.group(0)
        out = new if kinds[word.lower()] == "one" else plural(new)
        return out.capitalize() if word[0].isupper() else out

    return pattern.sub(replace, text)


def augment(
    train: list[Story], copies: int, seed: int, held_out: set[str]
) -> tuple[list[Story], dict]:
    """``copies`` noun-swapped copies of every train story that names its key noun."""
    from sup.instruments.dial import honours_topic, key_noun
    from sup.instruments.gatsby_templates import SUBJECTS

    rng = random.Random(seed)
    made, eligible, dropped = [], 0, 0
    for story in train:
        noun = key_noun(story.topic)
        if not noun or noun == "green" or not honours_topic(story.body, story.topic):
            continue
        if not re.search(rf"\b{re.escape(noun)}\b", story.topic, re.IGNORECASE):
            continue
        eligible += 1
        for new in rng.sample([s for s in SUBJECTS if s != noun], copies):
            copy = Story(story.level, swap(story.topic, noun, new), swap(story.body, noun, new))
            if copy.topic in held_out:
                dropped += 1
                continue
            made.append(copy)
    summary = {"rule": "noun swap (gatsby_augment.py)", "copies": copies, "seed": seed,
               "eligible": eligible, "made": len(made), "dropped_held_out": dropped}  # fmt: skip
    return made, summary
