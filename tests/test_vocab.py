"""Streaming tokenization: a corpus read in chunks gives exactly the ids, and trains
exactly the vocabulary, of its whole text."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from sup.engine.vocab import BpeTokenizer, bpe_pieces, encode_document, train_tokenizer
from sup.formats.bpe import WHITE_SPACE
from sup.instruments.kenosha import generate_corpus

# Whitespace runs of every kind around the cut points a streamed reader might choose.
ODD = (
    "a  b\n\n\nc \t d\u3000e\u0085f \n g\r\nh  \n\n  i's'  j\u2028k\u00a0 l"
    " 12 34  56 !! ?? 'll 've\n\n\n\n  \t\n"
) * 40


def chunked(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]


@pytest.fixture(scope="module")
def bpe(tinyshakespeare) -> BpeTokenizer:
    return train_tokenizer("bpe:512", [[tinyshakespeare[:200_000]]])


@pytest.mark.parametrize("size", [1, 7, 64, 1000])
def test_bpe_pieces_are_cut_only_at_safe_points(size):
    pieces = list(bpe_pieces(chunked(ODD, 13), size=size))
    assert "".join(pieces) == ODD
    for left, right in itertools.pairwise(pieces):
        assert left[-1] not in WHITE_SPACE and right[0] in WHITE_SPACE


@pytest.mark.parametrize("chunk", [1, 5, 97, 4096])
def test_streamed_bpe_ids_equal_whole_text_ids(bpe, tinyshakespeare, chunk):
    for text in (ODD, tinyshakespeare[200_000:230_000]):
        whole = bpe.encode(text)
        streamed = np.concatenate(list(encode_document(bpe, chunked(text, chunk))))
        assert streamed.tolist() == whole


def test_streamed_bpe_training_equals_training_on_the_whole_text(tinyshakespeare):
    text = tinyshakespeare[:100_000] + ODD
    whole = BpeTokenizer.train([text], 400)
    streamed = train_tokenizer("bpe:400", [chunked(text, 333)])
    assert streamed.hf_json["model"] == whole.hf_json["model"]


def test_char_and_byte_stream_per_character():
    text = generate_corpus(50, seed=1) + "naïve 🎉\n"
    for spec in ("char", "byte"):
        tok = train_tokenizer(spec, [chunked(text, 17)])
        streamed = np.concatenate(list(encode_document(tok, chunked(text, 3))))
        assert streamed.tolist() == tok.encode(text)
