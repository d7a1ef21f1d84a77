"""The tokenizer file (``tokenizer.json``) and the tokenizers every player runs.

A tokenizer is saved as JSON with an explicit ``type``: ``char``, ``byte`` or ``bpe``.
This module reads that JSON and holds the char and byte tokenizers (numpy and the
standard library only); byte-level BPE is encoded in plain Python by ``formats/bpe.py``
for players and with Hugging Face ``tokenizers`` by ``engine/vocab.py`` for training,
both from the same file, with identical ids (tested).

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
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from sup.errors import SupError, UsageError

EOT = "<|endoftext|>"
UNK = "<unk>"
FORMAT_VERSION = 1
TOKENIZER_TYPES = ("char", "byte", "bpe")  # every player (Python, browser) reads these
# Unicode scalar values a character could be: all code points minus the surrogates.
UNICODE_SCALARS = 0x110000 - 0x800


def json_header(tok) -> dict:
    """The fields every ``tokenizer.json`` starts with; each type adds its own."""
    return {
        "type": tok.kind,
        "version": FORMAT_VERSION,
        "vocab_size": tok.vocab_size,
        "special_tokens": tok.special_tokens(),
    }


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
    def train(cls, texts: Iterable[str]) -> CharTokenizer:
        """The characters of ``texts`` (any iterable of strings, e.g. streamed chunks)."""
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
        return self.encode_array(text, allow_unk).tolist()

    def encode_array(self, text: str, allow_unk: bool = False) -> np.ndarray:
        """``encode`` as an int64 array, without a Python int per token."""
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        if codes.size == 0:
            return codes
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
        return pos_clipped

    def decode(self, ids: list[int]) -> str:
        return b"".join(self.token_bytes(i) for i in ids).decode("utf-8", errors="replace")

    def token_bytes(self, token_id: int) -> bytes:
        if token_id < len(self.chars):
            return self.chars[token_id].encode("utf-8")
        return b""

    def special_tokens(self) -> dict[str, int]:
        return {EOT: self.eot_id, UNK: self.unk_id}

    def to_json(self) -> dict:
        return {**json_header(self), "chars": self.chars}


class ByteTokenizer:
    """The 256 byte values, then ``<|endoftext|>``. Lossless, nothing to train."""

    kind = "byte"

    def __init__(self) -> None:
        self.eot_id = 256
        self.vocab_size = 257

    def encode(self, text: str, allow_unk: bool = False) -> list[int]:
        return list(text.encode("utf-8"))

    def encode_array(self, text: str, allow_unk: bool = False) -> np.ndarray:
        return np.frombuffer(text.encode("utf-8"), dtype=np.uint8).astype(np.int64)

    def decode(self, ids: list[int]) -> str:
        return bytes(i for i in ids if i < 256).decode("utf-8", errors="replace")

    def token_bytes(self, token_id: int) -> bytes:
        return bytes([token_id]) if token_id < 256 else b""

    def special_tokens(self) -> dict[str, int]:
        return {EOT: self.eot_id}

    def to_json(self) -> dict:
        return json_header(self)


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


def read_tokenizer_json(path: Path) -> dict:
    """The tokenizer file's JSON object, with a supported ``version`` and ``type``."""
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SupError(f"tokenizer not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise SupError(f"tokenizer {path} is not valid JSON ({e})") from None
    check_tokenizer_json(obj, str(path))
    return obj


def check_tokenizer_json(obj, where: str) -> None:
    if not isinstance(obj, dict):
        raise SupError(f"tokenizer {where} is not a JSON object")
    if obj.get("version") != FORMAT_VERSION:
        raise SupError(f"tokenizer format version {obj.get('version')!r} is not supported")
    if obj.get("type") not in TOKENIZER_TYPES:
        raise SupError(
            f"unknown tokenizer type {obj.get('type')!r} (expected {', '.join(TOKENIZER_TYPES)})"
        )


def player_tokenizer(obj: dict):
    """A tokenizer from its JSON object with no dependency beyond numpy (BPE in plain
    Python, ``formats/bpe.py``)."""
    check_tokenizer_json(obj, "object")
    try:
        tok = _player_tokenizer(obj)
        declared = obj.get("vocab_size", tok.vocab_size)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        # the one boundary for a damaged or hostile file: fields of the wrong type or
        # shape end here, whichever constructor met them
        raise SupError(f"tokenizer.json is damaged ({type(e).__name__}: {e})") from None
    if declared != tok.vocab_size:
        raise SupError(f"tokenizer.json is damaged (vocab_size {declared!r} != {tok.vocab_size})")
    return tok


def _player_tokenizer(obj: dict):
    from sup.formats.bpe import PureBpe

    if obj["type"] == "char":
        chars = obj["chars"]
        if not all(isinstance(c, str) and len(c) == 1 for c in chars):
            raise ValueError("chars must be single characters")
        return CharTokenizer(chars)
    if obj["type"] == "byte":
        return ByteTokenizer()
    return PureBpe(obj)


def load_player_tokenizer(path: Path):
    return player_tokenizer(read_tokenizer_json(path))
