"""The player-side tokenizers (sup/bpe.py, no Hugging Face) against the training side.

The shared vectors in tests/vectors/tokenizers.json are also what the browser
tokenizers are tested on (web/test/), so all three implementations agree."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sup.engine.vocab import BpeTokenizer
from sup.errors import SupError
from sup.formats.bpe import WHITE_SPACE, split_words
from sup.formats.tokenizer import player_tokenizer

VECTORS = Path(__file__).parent / "vectors" / "tokenizers.json"


def vector_cases():
    data = json.loads(VECTORS.read_text(encoding="utf-8"))
    for entry in data["tokenizers"]:
        for i, case in enumerate(entry["cases"]):
            yield pytest.param(entry["tokenizer"], case, id=f"{entry['name']}-{i}")


@pytest.mark.parametrize(("tokenizer", "case"), list(vector_cases()))
def test_player_tokenizer_matches_the_shared_vectors(tokenizer, case):
    tok = player_tokenizer(tokenizer)
    ids = tok.encode(case["text"], allow_unk=True)
    assert ids == case["ids"]
    assert [tok.token_bytes(i).hex() for i in ids] == case["token_bytes_hex"]
    unk = getattr(tok, "unk_id", None)
    assert sum(1 for i in ids if i == unk) == case["unknown"]


def test_vectors_are_current():
    """The committed vectors equal what the training-side tokenizers produce today."""
    from sup.engine.vocab import tokenizer_from_json

    data = json.loads(VECTORS.read_text(encoding="utf-8"))
    for entry in data["tokenizers"]:
        tok = tokenizer_from_json(entry["tokenizer"])
        for case in entry["cases"]:
            assert tok.encode(case["text"], allow_unk=True) == case["ids"], case["text"]


def test_pure_bpe_equals_hugging_face_on_all_of_shakespeare(tinyshakespeare):
    hf = BpeTokenizer.train([tinyshakespeare[:200_000]], 512)
    pure = player_tokenizer(hf.to_json())
    assert pure.encode(tinyshakespeare) == hf.encode(tinyshakespeare)


def test_split_words_follows_the_gpt2_pattern():
    assert split_words("I'm  here's 12ab") == ["I", "'m", " ", " here", "'s", " 12", "ab"]
    assert split_words("a  \n b") == ["a", "  \n", " b"]
    assert split_words("end   ") == ["end", "   "]
    assert split_words("x\u0085\u0085y") == ["x", "\u0085", "\u0085", "y"]  # White_Space
    assert split_words("x\ufeffy") == ["x", "\ufeff", "y"]  # not White_Space


def test_white_space_is_the_unicode_property():
    # Python's isspace() adds the four information separators U+001C..U+001F.
    assert {c for c in map(chr, range(0x3001)) if c.isspace()} - WHITE_SPACE == set(
        "\x1c\x1d\x1e\x1f"
    )


def test_player_tokenizer_rejects_unknown_formats():
    with pytest.raises(SupError, match="version"):
        player_tokenizer({"type": "char", "version": 9, "chars": []})
    with pytest.raises(SupError, match="unknown tokenizer type"):
        player_tokenizer({"type": "wordpiece", "version": 1})
