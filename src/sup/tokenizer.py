"""Tokenizers: char, byte and byte-level BPE, saved as JSON with an explicit ``type``.

Every tokenizer exposes the same small surface:

- ``encode(text, allow_unk=False) -> list[int]`` and ``decode(ids) -> str``
- ``token_bytes(id) -> bytes``: the exact UTF-8 bytes a token stands for (special
  tokens stand for no bytes). Streaming output and bits-per-byte use this table, never
  ``decode([id])``, which would inflate tokens that hold part of a multi-byte character.
- ``eot_id``: the end-of-document token every vocabulary reserves.
- ``to_json()``: a dict with ``type`` saying which class loads it back.

The char tokenizer also reserves an ``<unk>`` id. Encoding text with a character outside
the vocabulary is an error unless the caller opts in with ``allow_unk=True``.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cached_property
from pathlib import Path

import numpy as np

from sup.errors import SupError, UsageError
from sup.fileio import write_json_atomic

EOT = "<|endoftext|>"
UNK = "<unk>"
FORMAT_VERSION = 1
# Unicode scalar values a character could be: all code points minus the surrogates.
UNICODE_SCALARS = 0x110000 - 0x800


class CharTokenizer:
    """One id per character seen in the training text, then ``<|endoftext|>``, ``<unk>``."""

    kind = "char"

    def __init__(self, chars: list[str]):
        self.chars = sorted(set(chars))
        self.eot_id = len(self.chars)
        self.unk_id = len(self.chars) + 1
        self.vocab_size = len(self.chars) + 2
        self._codepoints = np.array([ord(c) for c in self.chars], dtype=np.int64)

    @classmethod
    def train(cls, texts: list[str]) -> CharTokenizer:
        seen: set[str] = set()
        for text in texts:
            seen.update(text)
        if not seen:
            raise SupError("cannot build a char vocabulary from empty text")
        return cls(sorted(seen))

    def unknown_chars(self, text: str) -> Counter:
        known = set(self.chars)
        return Counter(c for c in text if c not in known)

    def encode(self, text: str, allow_unk: bool = False) -> list[int]:
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        if codes.size == 0:
            return []
        pos = np.searchsorted(self._codepoints, codes)
        pos_clipped = np.minimum(pos, len(self._codepoints) - 1)
        known = self._codepoints[pos_clipped] == codes
        if not known.all():
            if not allow_unk:
                missing = sorted({chr(int(c)) for c in codes[~known]})
                shown = ", ".join(repr(c) for c in missing[:10])
                more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
                raise UsageError(
                    f"text has {len(missing)} character(s) this char tokenizer cannot "
                    f"encode: {shown}{more}"
                )
            pos_clipped = np.where(known, pos_clipped, self.unk_id)
        return pos_clipped.tolist()

    def decode(self, ids: list[int]) -> str:
        return b"".join(self.token_bytes(i) for i in ids).decode("utf-8", errors="replace")

    def token_bytes(self, token_id: int) -> bytes:
        if token_id < len(self.chars):
            return self.chars[token_id].encode("utf-8")
        return b""

    def special_tokens(self) -> dict[str, int]:
        return {EOT: self.eot_id, UNK: self.unk_id}

    def to_json(self) -> dict:
        return {
            "type": self.kind,
            "version": FORMAT_VERSION,
            "vocab_size": self.vocab_size,
            "chars": self.chars,
            "special_tokens": self.special_tokens(),
        }


class ByteTokenizer:
    """The 256 byte values, then ``<|endoftext|>``. Lossless, nothing to train."""

    kind = "byte"

    def __init__(self) -> None:
        self.eot_id = 256
        self.vocab_size = 257

    def encode(self, text: str, allow_unk: bool = False) -> list[int]:
        return list(text.encode("utf-8"))

    def decode(self, ids: list[int]) -> str:
        return bytes(i for i in ids if i < 256).decode("utf-8", errors="replace")

    def token_bytes(self, token_id: int) -> bytes:
        return bytes([token_id]) if token_id < 256 else b""

    def special_tokens(self) -> dict[str, int]:
        return {EOT: self.eot_id}

    def to_json(self) -> dict:
        return {
            "type": self.kind,
            "version": FORMAT_VERSION,
            "vocab_size": self.vocab_size,
            "special_tokens": self.special_tokens(),
        }


def byte_to_unicode() -> dict[int, str]:
    """The byte-level BPE alphabet: each byte maps to one printable character.

    Printable Latin-1 bytes stand for themselves; the rest are shifted to code points
    from 256 upwards, in byte order. This is the convention HF ``ByteLevel`` uses, so
    the vocabulary strings in ``tokenizer.json`` can be turned back into exact bytes.
    """
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("\u00a1"), ord("\u00ac") + 1),
        *range(ord("\u00ae"), ord("\u00ff") + 1),
    ]
    mapping = {b: chr(b) for b in printable}
    shifted = 0
    for b in range(256):
        if b not in mapping:
            mapping[b] = chr(256 + shifted)
            shifted += 1
    return mapping


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
    kind = obj.get("type")
    if obj.get("version") != FORMAT_VERSION:
        raise SupError(f"tokenizer format version {obj.get('version')!r} is not supported")
    if kind == "char":
        return CharTokenizer(obj["chars"])
    if kind == "byte":
        return ByteTokenizer()
    if kind == "bpe":
        return BpeTokenizer(obj["hf"])
    raise SupError(f"unknown tokenizer type {kind!r} (expected char, byte or bpe)")


def load_tokenizer(path: Path) -> Tokenizer:
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SupError(f"tokenizer not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SupError(f"tokenizer {path} is not valid JSON ({e})") from None
    return tokenizer_from_json(obj)


def save_tokenizer(tok: Tokenizer, path: Path) -> None:
    write_json_atomic(path, tok.to_json())
