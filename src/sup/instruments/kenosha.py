"""The kenosha kid corpus: punctuated permutations of "you never did the kenosha kid".

Pynchon's riff (Gravity's Rainbow) re-stresses and re-punctuates one sentence until it
means six different things. The generator is deterministic for a seed and uses only the
standard library:

- about 18% of lines are one of nine canonical anchor phrasings;
- the rest are random orders of the six words, joined by weighted separators (a space
  most often, then comma, question mark, full stop, exclamation, dash) and closed by a
  weighted terminal; a word after ``? ! .`` is capitalised, and Kenosha Kid always is;
- ``drift`` (per letter, 0 by default) makes a dreamier corpus: each letter of a
  non-anchor line is, with that probability, swapped with the next, doubled, dropped or
  replaced by a random lowercase letter (equal odds).

``classify_line`` sorts a generated line into anchor / permutation / near-miss / garbled,
which the demo uses to say how well a model learned the corpus.
"""

from __future__ import annotations

import random
import string

WORDS = ("you", "never", "did", "the", "kenosha", "kid")
PROPER = {"kenosha": "Kenosha", "kid": "Kid"}
ANCHORS = (
    "You never did the Kenosha Kid.",
    "You never did the Kenosha Kid?",
    "You never did the Kenosha Kid!",
    "You? Never did the Kenosha Kid!",
    "You never did. The Kenosha Kid.",
    "You never? Did the Kenosha Kid?",
    "You, never, did the Kenosha Kid.",
    "Never did you the Kenosha Kid?",
    "Kenosha Kid? You never did!",
)
ANCHOR_SHARE = 0.18
SEPARATORS = ((" ", 70), (", ", 12), ("? ", 5), (". ", 5), ("! ", 3), (" - ", 5))
TERMINALS = ((".", 50), ("?", 25), ("!", 15), ("...", 10))


def _weighted(rng: random.Random, table) -> str:
    return rng.choices([t for t, _ in table], weights=[w for _, w in table])[0]


def _drift(line: str, rate: float, rng: random.Random) -> str:
    out: list[str] = []
    chars = list(line)
    i = 0
    while i < len(chars):
        c = chars[i]
        if c.isalpha() and rng.random() < rate:
            kind = rng.randrange(4)
            if kind == 0 and i + 1 < len(chars):  # swap with the next character
                out += [chars[i + 1], c]
                i += 2
                continue
            if kind == 1:
                out += [c, c]
            elif kind == 3:
                out.append(rng.choice(string.ascii_lowercase))
            # kind 2 (or a swap at the end): drop the letter
        else:
            out.append(c)
        i += 1
    return "".join(out)


def permutation_line(rng: random.Random) -> str:
    words = list(WORDS)
    rng.shuffle(words)
    parts = []
    capital = True
    for i, word in enumerate(words):
        text = PROPER.get(word, word)
        if capital:
            text = text[0].upper() + text[1:]
        parts.append(text)
        if i < len(words) - 1:
            sep = _weighted(rng, SEPARATORS)
            parts.append(sep)
            capital = sep.strip() in ("?", ".", "!")
    parts.append(_weighted(rng, TERMINALS))
    return "".join(parts)


def generate_lines(n_lines: int, drift: float = 0.0, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for _ in range(n_lines):
        if rng.random() < ANCHOR_SHARE:
            lines.append(rng.choice(ANCHORS))
        else:
            line = permutation_line(rng)
            lines.append(_drift(line, drift, rng) if drift > 0 else line)
    return lines


def generate_corpus(n_lines: int = 20000, drift: float = 0.0, seed: int = 0) -> str:
    return "\n".join(generate_lines(n_lines, drift, seed)) + "\n"


def _words(line: str) -> list[str]:
    cleaned = "".join(c.lower() if c.isalpha() else " " for c in line)
    return cleaned.split()


def _edit_distance(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def classify_line(line: str) -> str:
    """``anchor`` (exact), ``permutation`` (the six words once each, any punctuation),
    ``near-miss`` (six words, each within one edit of a distinct target word) or
    ``garbled``."""
    line = line.strip()
    if line in ANCHORS:
        return "anchor"
    words = _words(line)
    if sorted(words) == sorted(WORDS):
        return "permutation"
    if len(words) == len(WORDS):
        remaining = list(WORDS)
        for w in words:
            match = next((t for t in remaining if _edit_distance(w, t) <= 1), None)
            if match is None:
                return "garbled"
            remaining.remove(match)
        return "near-miss"
    return "garbled"
