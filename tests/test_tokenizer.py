"""Tokenizers: lossless round trips, the token byte table, unknown characters, JSON files."""

from __future__ import annotations

import json
import random

import pytest

from sup.engine.vocab import (
    EOT,
    BpeTokenizer,
    ByteTokenizer,
    CharTokenizer,
    load_tokenizer,
    parse_spec,
    save_tokenizer,
    tokenizer_from_json,
    train_tokenizer,
)
from sup.errors import SupError, UsageError
from sup.instruments.kenosha import generate_corpus

MULTILINGUAL = (
    "héllo wörld — naïve café. 世界你好，日本語のテキスト。한국어 Ελληνικά русский "
    "emoji 🎉🚀 family 👩‍👩‍👧 flag 🇳🇿 combining e\u0301 \t tab\r\nnul\x00 end"
)


def random_unicode(rng: random.Random, n: int) -> str:
    """Arbitrary Unicode scalar values (no surrogates), weighted toward every UTF-8 length."""
    ranges = [(0x00, 0x7F), (0x80, 0x7FF), (0x800, 0xD7FF), (0xE000, 0xFFFF), (0x10000, 0x10FFFF)]
    out = []
    for _ in range(n):
        lo, hi = rng.choice(ranges)
        out.append(chr(rng.randint(lo, hi)))
    return "".join(out)


@pytest.fixture(scope="module")
def bpe() -> BpeTokenizer:
    """A 300-token byte-level BPE trained on a few KB of English-like text."""
    text = generate_corpus(300, seed=1) + "The quick brown fox jumps over the lazy dog.\n" * 20
    tok = BpeTokenizer.train([text], 300)
    assert tok.vocab_size == 300
    return tok


# ----------------------------------------------------------------------------- char


def test_char_round_trip_and_vocabulary():
    text = "You never did the Kenosha Kid? ça — 世界!\n"
    tok = CharTokenizer.train([text])
    assert tok.chars == sorted(set(text))
    assert tok.vocab_size == len(set(text)) + 2
    assert (tok.eot_id, tok.unk_id) == (len(tok.chars), len(tok.chars) + 1)
    ids = tok.encode(text)
    assert len(ids) == len(text)
    assert max(ids) < tok.eot_id
    assert tok.decode(ids) == text
    assert b"".join(tok.token_bytes(i) for i in ids) == text.encode("utf-8")
    assert tok.token_bytes(tok.eot_id) == b"" and tok.token_bytes(tok.unk_id) == b""


def test_char_encode_empty_text():
    tok = CharTokenizer.train(["abc"])
    assert tok.encode("") == []
    assert tok.decode([]) == ""


def test_char_unknown_characters_raise_usage_error_naming_them():
    tok = CharTokenizer.train(["abc "])
    with pytest.raises(UsageError) as info:
        tok.encode("a cab ZQ☃ ☃")
    message = str(info.value)
    assert "3 character(s)" in message
    for ch in ("Z", "Q", "☃"):
        assert repr(ch) in message
    assert "'a'" not in message  # known characters are not named


def test_char_unknown_characters_list_is_capped():
    tok = CharTokenizer.train(["a"])
    with pytest.raises(UsageError, match="and 5 more"):
        tok.encode("bcdefghijklmnop")


def test_char_allow_unk_maps_to_unk_id():
    tok = CharTokenizer.train(["abc"])
    ids = tok.encode("aZb☃c", allow_unk=True)
    assert ids == [0, tok.unk_id, 1, tok.unk_id, 2]
    assert tok.decode(ids) == "abc"  # <unk> stands for no bytes
    assert tok.unknown_chars("aZb☃cZ") == {"Z": 2, "☃": 1}


def test_char_vocabulary_from_empty_text_is_an_error():
    with pytest.raises(SupError):
        CharTokenizer.train(["", ""])


# ----------------------------------------------------------------------------- byte


@pytest.mark.parametrize("text", ["", "ascii only", MULTILINGUAL, "🎉", "\U0010fffd\x7f\x80"])
def test_byte_round_trip_multibyte_and_emoji(text):
    tok = ByteTokenizer()
    ids = tok.encode(text)
    assert ids == list(text.encode("utf-8"))
    assert tok.decode(ids) == text
    assert b"".join(tok.token_bytes(i) for i in ids) == text.encode("utf-8")


def test_byte_tokenizer_specials():
    tok = ByteTokenizer()
    assert tok.vocab_size == 257 and tok.eot_id == 256
    assert tok.token_bytes(tok.eot_id) == b""
    assert tok.decode([104, 105, tok.eot_id]) == "hi"


# ----------------------------------------------------------------------------- bpe


@pytest.mark.parametrize(
    "text",
    [
        "You never did the Kenosha Kid.",
        MULTILINGUAL,
        f"before {EOT} after{EOT}",
        EOT,
        "世界你好" * 5,
        "🎉🚀👩‍👩‍👧🇳🇿",
        "  leading and trailing spaces  \n\n",
        "",
    ],
)
def test_bpe_lossless(bpe, text):
    ids = bpe.encode(text)
    assert bpe.decode(ids) == text
    assert b"".join(bpe.token_bytes(i) for i in ids) == text.encode("utf-8")


def test_bpe_literal_endoftext_is_text_not_the_special_token(bpe):
    ids = bpe.encode(f"a{EOT}b")
    assert bpe.eot_id not in ids
    assert bpe.decode(ids) == f"a{EOT}b"
    assert bpe.token_bytes(bpe.eot_id) == b""


def test_bpe_lossless_on_random_unicode(bpe):
    rng = random.Random(0)
    for n in (1, 7, 64, 400):
        text = random_unicode(rng, n)
        ids = bpe.encode(text)
        assert b"".join(bpe.token_bytes(i) for i in ids) == text.encode("utf-8")
        assert bpe.decode(ids) == text


def test_bpe_token_bytes_split_multibyte_characters(bpe):
    """CJK and emoji are not in a 300-token English vocabulary: their bytes are spread
    over several tokens, so per-token bytes are not valid UTF-8 on their own, yet the
    byte table still concatenates to exactly the text's bytes."""
    text = "世界🎉"
    ids = bpe.encode(text)
    pieces = [bpe.token_bytes(i) for i in ids]
    assert b"".join(pieces) == text.encode("utf-8")
    assert len(ids) > len(text)

    def valid(b: bytes) -> bool:
        try:
            b.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True

    assert not all(valid(p) for p in pieces)


def test_bpe_merges_common_text(bpe):
    text = "You never did the Kenosha Kid."
    assert len(bpe.encode(text)) < len(text.encode("utf-8"))  # merges were learned


def test_bpe_on_tinyshakespeare(tinyshakespeare):
    train, held_out = tinyshakespeare[:20000], tinyshakespeare[-3000:] + MULTILINGUAL
    tok = BpeTokenizer.train([train], 300)
    ids = tok.encode(held_out)
    assert b"".join(tok.token_bytes(i) for i in ids) == held_out.encode("utf-8")
    assert tok.decode(ids) == held_out
    assert len(tok.encode(tinyshakespeare[-3000:])) < 3000


def test_bpe_byte_table_covers_the_vocabulary(bpe):
    lengths = [len(bpe.token_bytes(i)) for i in range(bpe.vocab_size)]
    assert lengths[bpe.eot_id] == 0
    assert sum(1 for n in lengths if n == 0) == 1  # only the special token has no bytes
    single = {bpe.token_bytes(i) for i in range(bpe.vocab_size) if lengths[i] == 1}
    assert single == {bytes([b]) for b in range(256)}  # every byte is reachable


# ----------------------------------------------------------------------------- files


@pytest.mark.parametrize("kind", ["char", "byte", "bpe"])
def test_save_load_round_trip(tmp_path, bpe, kind):
    sample = "You never did the Kenosha Kid! " + ("世界🎉" if kind != "char" else "")
    tok = {"char": CharTokenizer.train([sample]), "byte": ByteTokenizer(), "bpe": bpe}[kind]
    path = tmp_path / "tokenizer.json"
    save_tokenizer(tok, path)
    obj = json.loads(path.read_text(encoding="utf-8"))
    assert obj["type"] == kind
    assert obj["vocab_size"] == tok.vocab_size
    loaded = load_tokenizer(path)
    assert type(loaded) is type(tok)
    assert loaded.vocab_size == tok.vocab_size
    assert loaded.eot_id == tok.eot_id
    assert loaded.encode(sample) == tok.encode(sample)
    assert loaded.decode(tok.encode(sample)) == sample
    assert [loaded.token_bytes(i) for i in range(tok.vocab_size)] == [
        tok.token_bytes(i) for i in range(tok.vocab_size)
    ]


def test_load_unknown_type_is_an_error(tmp_path):
    with pytest.raises(SupError, match="unknown tokenizer type 'wordpiece'"):
        tokenizer_from_json({"type": "wordpiece", "version": 1})
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps({"type": "sentencepiece", "version": 1}))
    with pytest.raises(SupError, match="sentencepiece"):
        load_tokenizer(path)


def test_load_bad_files_are_errors(tmp_path):
    with pytest.raises(SupError, match="not found"):
        load_tokenizer(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(SupError, match="not valid JSON"):
        load_tokenizer(bad)
    with pytest.raises(SupError, match="version"):
        tokenizer_from_json({"type": "byte", "version": 99})


def test_parse_spec():
    assert parse_spec("char") == ("char", None)
    assert parse_spec("byte") == ("byte", None)
    assert parse_spec("bpe:1024") == ("bpe", 1024)
    for bad in ("bpe:10", "bpe:x", "bpe:", "word", "BPE:300"):
        with pytest.raises(UsageError):
            parse_spec(bad)


def test_train_tokenizer_dispatch():
    assert isinstance(train_tokenizer("char", ["ab"]), CharTokenizer)
    assert isinstance(train_tokenizer("byte", ["ab"]), ByteTokenizer)
    tok = train_tokenizer("bpe:270", [generate_corpus(100, seed=2)])
    assert isinstance(tok, BpeTokenizer) and tok.vocab_size == 270
