"""Training vocabularies (char, byte, byte-level BPE) and the fast BPE encoder.

The tokenizer file format and the char and byte tokenizers live in
``sup/formats/tokenizer.py`` (players use them too); this module adds what only the
engine needs: training a vocabulary on the train split, and ``BpeTokenizer``, byte-level
BPE through Hugging Face ``tokenizers``, which encodes whole corpora quickly. Players
encode the same ``tokenizer.json`` with ``sup/formats/bpe.py`` and get the same ids.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

from sup.errors import SupError, UsageError
from sup.fileio import write_json_atomic
from sup.formats.tokenizer import (
    EOT,
    FORMAT_VERSION,
    ByteTokenizer,
    CharTokenizer,
    byte_to_unicode,
    check_tokenizer_json,
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
    def train(cls, texts: list[str], vocab_size: int) -> BpeTokenizer:
        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            special_tokens=[EOT],
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
            show_progress=False,
        )
        tok.train_from_iterator(_chunks(texts), trainer)
        return cls(json.loads(tok.to_str()))

    def encode(self, text: str, allow_unk: bool = False) -> list[int]:
        return self._tok.encode(text, add_special_tokens=False).ids

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
        return {EOT: self.eot_id}

    def to_json(self) -> dict:
        return {
            "type": self.kind,
            "version": FORMAT_VERSION,
            "vocab_size": self.vocab_size,
            "special_tokens": self.special_tokens(),
            "hf": self.hf_json,
        }


Tokenizer = CharTokenizer | ByteTokenizer | BpeTokenizer


def _chunks(texts: list[str], size: int = 1 << 16):
    """Feed the BPE trainer bounded pieces, cut at line ends so words stay whole."""
    for text in texts:
        start = 0
        while start < len(text):
            end = text.find("\n", start + size)
            end = len(text) if end == -1 else end + 1
            yield text[start:end]
            start = end


def parse_spec(spec: str) -> tuple[str, int | None]:
    """``char`` | ``byte`` | ``bpe:N`` -> (kind, vocab size or None)."""
    if spec in ("char", "byte"):
        return spec, None
    if spec.startswith("bpe:"):
        try:
            size = int(spec[4:])
        except ValueError:
            size = -1
        if not 260 <= size <= 1_000_000:
            raise UsageError(f"bad BPE vocab size in {spec!r}: use bpe:N with N in 260..1000000")
        return "bpe", size
    raise UsageError(f"unknown tokenizer {spec!r}: use char, byte or bpe:N (e.g. bpe:1024)")


def train_tokenizer(spec: str, texts: list[str]) -> Tokenizer:
    kind, size = parse_spec(spec)
    if kind == "char":
        return CharTokenizer.train(texts)
    if kind == "byte":
        return ByteTokenizer()
    return BpeTokenizer.train(texts, size)


def tokenizer_from_json(obj: dict) -> Tokenizer:
    """Like ``formats.tokenizer.player_tokenizer``, but BPE through Hugging Face
    ``tokenizers`` (fast on whole corpora)."""
    check_tokenizer_json(obj, "object")
    if obj["type"] == "char":
        return CharTokenizer(obj["chars"])
    if obj["type"] == "byte":
        return ByteTokenizer()
    return BpeTokenizer(obj["hf"])


def load_tokenizer(path: Path) -> Tokenizer:
    return tokenizer_from_json(read_tokenizer_json(path))


def save_tokenizer(tok: Tokenizer, path: Path) -> None:
    write_json_atomic(path, tok.to_json())
