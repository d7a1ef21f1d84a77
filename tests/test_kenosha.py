"""The kenosha kid corpus generator and the line classifier."""

from __future__ import annotations

from collections import Counter

import pytest

from helpers import assert_cli_error, run_sup_many
from sup.instruments.kenosha import ANCHORS, classify_line, generate_corpus, generate_lines


def test_deterministic_for_a_seed():
    assert generate_corpus(500, seed=7) == generate_corpus(500, seed=7)
    assert generate_corpus(500, drift=0.1, seed=7) == generate_corpus(500, drift=0.1, seed=7)
    assert generate_corpus(500, seed=7) != generate_corpus(500, seed=8)


def test_corpus_shape():
    text = generate_corpus(300, seed=1)
    assert text.endswith("\n") and not text.endswith("\n\n")
    assert text.splitlines() == generate_lines(300, seed=1)
    assert len(text.splitlines()) == 300


def test_about_18_percent_anchors():
    lines = generate_lines(5000, seed=0)
    share = sum(line in ANCHORS for line in lines) / len(lines)
    assert 0.14 <= share <= 0.22
    assert len({line for line in lines if line in ANCHORS}) == len(ANCHORS)  # all nine appear


def test_every_undrifted_line_is_anchor_or_permutation():
    lines = generate_lines(5000, seed=2)
    kinds = Counter(classify_line(line) for line in lines)
    assert set(kinds) == {"anchor", "permutation"}
    assert kinds["permutation"] > kinds["anchor"]
    for line in lines[:500]:
        assert line[0].isupper()
        assert line[-1] in ".?!"
        assert "Kenosha Kid" in line or ("Kenosha" in line and "Kid" in line)


def test_drift_produces_near_misses_and_garbled_lines():
    lines = generate_lines(2000, drift=0.06, seed=0)
    kinds = Counter(classify_line(line) for line in lines)
    off = kinds["near-miss"] + kinds["garbled"]
    assert off > 0.05 * len(lines)
    assert kinds["near-miss"] > 0
    # anchors are never drifted
    assert 0.14 <= kinds["anchor"] / len(lines) <= 0.22
    # the same seed without drift gives different text
    assert lines != generate_lines(2000, seed=0)


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("You never did the Kenosha Kid.", "anchor"),
        ("  Kenosha Kid? You never did!\n", "anchor"),
        ("You never did the Kenosha Kid", "permutation"),  # no terminal: not an anchor
        ("you never did the kenosha kid.", "permutation"),
        ("Kid, kenosha - the you did never...", "permutation"),
        ("The! Kid? Never. Did you Kenosha?", "permutation"),
        ("You nevr did the Kenosha Kid.", "near-miss"),
        ("You never did the Kenosha Kidd.", "near-miss"),
        ("Yuo never did the Kenosha Kid.", "garbled"),  # a swap is two edits
        ("Xyz never did the Kenosha Kid.", "garbled"),
        ("You you did the Kenosha Kid.", "garbled"),  # each target word used once
        ("You never never did the Kenosha Kid.", "garbled"),
        ("You never did the Kid.", "garbled"),
        ("", "garbled"),
        ("hello world", "garbled"),
    ],
)
def test_classify_line(line, kind):
    assert classify_line(line) == kind


def test_anchors_classify_as_anchors():
    assert len(ANCHORS) == 9
    assert all(classify_line(anchor) == "anchor" for anchor in ANCHORS)


def test_cli_writes_the_same_corpus(tmp_path):
    out = tmp_path / "k.txt"
    existing = tmp_path / "existing.txt"
    existing.write_text("keep me\n")
    made, exists, bad_drift = run_sup_many(
        ["data", "kenosha", "--out", out, "--lines", 250, "--seed", 4, "--drift", 0.05],
        ["data", "kenosha", "--out", existing, "--lines", 10],
        ["data", "kenosha", "--out", tmp_path / "d.txt", "--drift", 1.5],
    )
    assert made.returncode == 0, made.stderr
    assert out.read_text(encoding="utf-8") == generate_corpus(250, 0.05, 4)
    assert "wrote 250 lines" in made.stderr
    assert "already exists" in assert_cli_error(exists, 2)
    assert existing.read_text() == "keep me\n"
    assert "--drift" in assert_cli_error(bad_drift, 2)
    assert not (tmp_path / "d.txt").exists()
