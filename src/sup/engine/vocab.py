"""Training vocabularies (char, byte, byte-level BPE) and encoding corpora, streamed.

The tokenizer file format and the char and byte tokenizers live in
``sup/formats/tokenizer.py`` (players use them too); this module adds what only the
engine needs: training a vocabulary on the train split, and ``BpeTokenizer``, byte-level
BPE through Hugging Face ``tokenizers``, which encodes whole corpora quickly. Players
encode the same ``tokenizer.json`` with ``sup/formats/bpe.py`` and get the same ids.

Streaming without changing a single id: a corpus arrives in chunks, and byte-level BPE
must see the same pre-tokens (GPT-2 pattern pieces, or for ``bpe-words`` spaced words)
as it would on the whole document. ``bpe_pieces`` re-cuts a document's chunks only where
a non-whitespace character is followed by a whitespace one: no pattern piece spans such
a point (letter, number and punctuation runs, and spaced words, hold no whitespace after
their first character, and a whitespace piece starts there whatever comes before), and
the pieces after it depend only on the text after it (the pattern looks ahead, never
behind). So training and encoding piece by piece give the whole-document
result; tests/test_vocab.py checks it on tiny Shakespeare and adversarial whitespace.
Char and byte tokenizers are per character, so any cut is safe for them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from functools import cached_property
from pathlib import Path

import numpy as np

from sup.errors import SupError, UsageError
from sup.fileio import write_json_atomic
from sup.formats.bpe import WHITE_SPACE, WORDS_PATTERN
from sup.formats.tokenizer import (
    EOT,
    ByteTokenizer,
    CharTokenizer,
    byte_to_unicode,
    json_header,
    player_tokenizer,
    read_tokenizer_json,
)


class BpeTokenizer:
    """Byte-level BPE trained with Hugging Face ``tokenizers``; lossless on any UTF-8."""

    kind = "bpe"

    def __init__(self, hf_json: dict):
        from tokenizers import Tokenizer

        self.hf_json = hf_json
        self._tok = Tokenizer.from_str(json.dumps(hf_json))
        # Literal "<|endoftext|>" in user text stays text, so encoding stays lossless.
        self._tok.encode_special_tokens = True
        self.vocab_size = self._tok.get_vocab_size()
        eot = self._tok.token_to_id(EOT)
        if eot is None:
            raise SupError(f"BPE tokenizer has no {EOT} token; re-run `sup prepare`")
        self.eot_id = eot

    @classmethod
    def train(
        cls, texts: Iterable[str], vocab_size: int, words: bool = False, specials: tuple = ()
    ) -> BpeTokenizer:
        """Train on ``texts``: pieces of documents, each cut at a safe point
        (``bpe_pieces``) so that pre-tokenization sees whole words. ``words``: split at
        whitespace only (``bpe-words:N``, ``formats.bpe.WORDS_PATTERN``), not by GPT-2's
        letter/number/punctuation classes, so a word such as ``e2e4`` can become a token.
        ``specials``: special tokens after ``<|endoftext|>`` (a chat template's markers)."""
        from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers

        tok = Tokenizer(models.BPE())
        if words:
            tok.pre_tokenizer = pre_tokenizers.Sequence([
                pre_tokenizers.Split(Regex(WORDS_PATTERN), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ])  # fmt: skip
        else:
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=[EOT, *specials],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        tok.train_from_iterator(texts, trainer)
        return cls(json.loads(tok.to_str()))

    def encode(self, text: str, allow_unk: bool = False) -> list[int]:
        return self._tok.encode(text, add_special_tokens=False).ids

    def encode_array(self, text: str, allow_unk: bool = False) -> np.ndarray:
        return np.asarray(self.encode(text), dtype=np.int64)

    def encode_batch(self, texts: list[str]) -> list[np.ndarray]:
        """Several independent pieces at once (Hugging Face encodes them in parallel)."""
        encoded = self._tok.encode_batch(texts, add_special_tokens=False)
        return [np.asarray(e.ids, dtype=np.int64) for e in encoded]

    def decode(self, ids: list[int]) -> str:
        return b"".join(self.token_bytes(i) for i in ids).decode("utf-8", errors="replace")

    @cached_property
    def _bytes_table(self) -> list[bytes]:
        to_byte = {ch: b for b, ch in byte_to_unicode().items()}
        specials = {t["id"] for t in self.hf_json.get("added_tokens", [])}
        table = [b""] * self.vocab_size
        for token, token_id in self._tok.get_vocab(with_added_tokens=True).items():
            if token_id not in specials:
                table[token_id] = bytes(to_byte[ch] for ch in token)
        return table

    def token_bytes(self, token_id: int) -> bytes:
        return self._bytes_table[token_id]

    def special_tokens(self) -> dict[str, int]:
        """``<|endoftext|>`` and any other special tokens (a chat model's turn markers)."""
        return {t["content"]: t["id"] for t in self.hf_json.get("added_tokens", [])}

    def to_json(self) -> dict:
        return {**json_header(self), "hf": self.hf_json}


Tokenizer = CharTokenizer | ByteTokenizer | BpeTokenizer


# A cut point for streamed BPE: a whitespace character right after a non-whitespace one
# (whitespace is Unicode White_Space, the pattern's \s; see the module docstring).
_WS = "".join(sorted(WHITE_SPACE))
_SAFE_CUT = re.compile(f"(?<=[^{re.escape(_WS)}])[{re.escape(_WS)}]")
PIECE_CHARS = 1 << 16  # target size of a streamed BPE piece
_LOOK_BACK = 4096  # how far before the target size a cut is looked for


def bpe_pieces(chunks: Iterable[str], size: int = PIECE_CHARS) -> Iterator[str]:
    """One document's text, from chunks cut anywhere, as pieces of about ``size``
    characters cut only at safe points. Text with no safe point is held until one
    comes (or the document ends)."""
    carry = ""
    for chunk in chunks:
        text, start = carry + chunk, 0
        while len(text) - start > size:
            cut = _safe_cut(text, start, start + size)
            if cut is None:
                break
            yield text[start:cut]
            start = cut
        carry = text[start:]
    if carry:
        yield carry


def _safe_cut(text: str, start: int, target: int) -> int | None:
    """The last safe cut in (start, target], else the first after target, else None."""
    last = None
    for m in _SAFE_CUT.finditer(text, max(start + 1, target - _LOOK_BACK), target + 1):
        last = m.start()
    if last is not None:
        return last
    m = _SAFE_CUT.search(text, target + 1)
    return m.start() if m else None


def document_pieces(tok: Tokenizer, chunks: Iterable[str]) -> Iterator[str]:
    """A document's text in pieces that ``tok`` can encode one at a time."""
    return bpe_pieces(chunks) if isinstance(tok, BpeTokenizer) else iter(chunks)


def encode_document(tok: Tokenizer, chunks: Iterable[str], batch: int = 16) -> Iterator[np.ndarray]:
    """Token ids of one document, streamed: equal to encoding its whole text
    (``allow_unk``: a char tokenizer maps unseen characters to ``<unk>``)."""
    if not isinstance(tok, BpeTokenizer):
        for chunk in chunks:
            yield tok.encode_array(chunk, allow_unk=True)
        return
    pending: list[str] = []
    for piece in bpe_pieces(chunks):
        pending.append(piece)
        if len(pending) == batch:
            yield from tok.encode_batch(pending)
            pending = []
    if pending:
        yield from tok.encode_batch(pending)


def parse_spec(spec: str) -> tuple[str, int | None]:
    """``char`` | ``byte`` | ``bpe:N`` | ``bpe-words:N`` -> (kind, vocab size or None).
    ``bpe-words`` is BPE over whitespace-separated words (moves, in the chess corpora)."""
    if spec in ("char", "byte"):
        return spec, None
    kind, _, size_text = spec.partition(":")
    if kind in ("bpe", "bpe-words") and size_text:
        try:
            size = int(size_text)
        except ValueError:
            size = -1
        if not 260 <= size <= 1_000_000:
            raise UsageError(f"bad BPE vocab size in {spec!r}: use {kind}:N with N in 260..1000000")
        return kind, size
    raise UsageError(
        f"unknown tokenizer {spec!r}: use char, byte, bpe:N or bpe-words:N (e.g. bpe:1024)"
    )


def train_tokenizer(
    spec: str, documents: Iterable[Iterable[str]], specials: tuple = ()
) -> Tokenizer:
    """A tokenizer for ``spec`` trained on ``documents``, each an iterable of text
    chunks (read lazily: a corpus streams through once). ``specials``: extra special
    tokens, BPE only (a chat template's markers)."""
    kind, size = parse_spec(spec)
    if specials and kind not in ("bpe", "bpe-words"):
        raise UsageError(f"a chat corpus needs a BPE tokenizer (bpe:N), not {spec!r}")
    if kind == "char":
        return CharTokenizer.train(chunk for doc in documents for chunk in doc)
    if kind == "byte":
        return ByteTokenizer()
    pieces = (p for doc in documents for p in bpe_pieces(doc))
    return BpeTokenizer.train(pieces, size, words=kind == "bpe-words", specials=specials)


def tokenizer_from_json(obj: dict) -> Tokenizer:
    """Like ``formats.tokenizer.player_tokenizer``, but BPE through Hugging Face
    ``tokenizers`` (fast on whole corpora)."""
    player = player_tokenizer(obj)  # the one structural check of the file
    if obj["type"] != "bpe":
        return player
    try:
        tok = BpeTokenizer(obj["hf"])
    except SupError:
        raise
    except Exception as e:  # tokenizers raises plain Exception for a malformed model
        raise SupError(f"tokenizer.json is damaged ({str(e).splitlines()[0][:200]})") from None
    if tok.vocab_size != player.vocab_size:
        raise SupError(
            f"tokenizer.json is damaged (its BPE model has {tok.vocab_size} tokens, "
            f"its vocab_size says {player.vocab_size})"
        )
    return tok


def load_tokenizer(path: Path) -> Tokenizer:
    return tokenizer_from_json(read_tokenizer_json(path))


def save_tokenizer(tok: Tokenizer, path: Path) -> None:
    write_json_atomic(path, tok.to_json())
