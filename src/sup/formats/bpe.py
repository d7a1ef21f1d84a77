"""Byte-level BPE encoding in plain Python, for the players (no ``tokenizers``, no torch).

Training and corpus encoding use Hugging Face ``tokenizers`` (sup/engine/vocab.py); the
players read the same ``tokenizer.json`` and encode with this file, which follows the
same two steps and is tested to give identical ids (tests/vectors/):

1. Split the text with the GPT-2 pattern
   ``'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+``.
   Python's ``re`` has no ``\\p{..}``, so ``split_words`` scans by hand. ``\\s`` is the
   Unicode White_Space property (what the Rust regex engine uses; Python's
   ``str.isspace`` and JavaScript's ``\\s`` each differ from it on a few code points).
2. Map each piece's UTF-8 bytes to the byte-level alphabet and apply merges in rank
   order, the lowest-ranked adjacent pair first (leftmost on ties), until none applies.

A literal ``<|endoftext|>`` in text is ordinary text here, as it is when training data
is encoded, so encoding stays lossless.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from sup.errors import SupError
from sup.formats.tokenizer import EOT, byte_to_unicode

# The Unicode White_Space property (PropList.txt).
WHITE_SPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
CONTRACTIONS = ("s", "t", "re", "ve", "m", "ll", "d")
# The ``bpe-words`` pre-tokenizer (sup.engine.vocab): ``' ?\S+|\s+(?!\S)|\s+'``, whole
# whitespace-separated words with their leading space, so merges can grow a token per
# word (a chess move). Written out with the White_Space characters themselves, so Hugging
# Face's regex engine, Python and JavaScript all mean the same class by it; the players
# recognise this exact string and split with their own code.
_WS_CLASS = "".join(sorted(WHITE_SPACE))
WORDS_PATTERN = f" ?[^{_WS_CLASS}]+|[{_WS_CLASS}]+(?![^{_WS_CLASS}])|[{_WS_CLASS}]+"
MAX_VOCAB = 1 << 24


@lru_cache(maxsize=4096)
def char_class(ch: str) -> str:
    """'s' (White_Space), 'L' (letter), 'N' (number) or 'o' (anything else)."""
    if ch in WHITE_SPACE:
        return "s"
    cat = unicodedata.category(ch)[0]
    return cat if cat in "LN" else "o"


def _run(text: str, i: int, cls: str) -> int:
    """End of the run of characters of class ``cls`` starting at ``i``."""
    n = len(text)
    while i < n and char_class(text[i]) == cls:
        i += 1
    return i


def split_words(text: str) -> list[str]:
    """Pre-tokenize exactly like the GPT-2 pattern (see the module docstring)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        end = _match_at(text, i, n)
        out.append(text[i:end])
        i = end
    return out


def split_spaced_words(text: str) -> list[str]:
    """Pre-tokenize exactly like ``WORDS_PATTERN``: a word with its leading space, or
    whitespace (the last space of a run stays with the word after it)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        start = i + 1 if text[i] == " " and i + 1 < n else i
        if text[start] not in WHITE_SPACE:
            end = start
            while end < n and text[end] not in WHITE_SPACE:
                end += 1
        else:
            end = i
            while end < n and text[end] in WHITE_SPACE:
                end += 1
            if end < n and end - 1 > i:
                end -= 1
        out.append(text[i:end])
        i = end
    return out


def pre_tokenizer_split(hf: dict):
    """The split function for a Hugging Face tokenizer's ``pre_tokenizer``: GPT-2's
    (``ByteLevel`` with its regex) or spaced words (``WORDS_PATTERN``, then ``ByteLevel``
    without one). Anything else is refused rather than encoded differently."""
    pre = hf.get("pre_tokenizer") or {}
    if pre.get("type") == "ByteLevel" and pre.get("use_regex", True):
        return split_words
    steps = pre.get("pretokenizers") if pre.get("type") == "Sequence" else None
    if (
        isinstance(steps, list) and len(steps) == 2
        and steps[0].get("type") == "Split"
        and steps[0].get("pattern") == {"Regex": WORDS_PATTERN}
        and steps[0].get("behavior") == "Isolated" and not steps[0].get("invert")
        and steps[1].get("type") == "ByteLevel" and steps[1].get("use_regex") is False
    ):  # fmt: skip
        return split_spaced_words
    raise SupError("tokenizer.json: a BPE pre-tokenizer this player does not support")


def _match_at(text: str, i: int, n: int) -> int:
    ch = text[i]
    if ch == "'":
        for suffix in CONTRACTIONS:
            if text.startswith(suffix, i + 1):
                return i + 1 + len(suffix)
    # " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": an optional space, then one class
    start = i + 1 if ch == " " and i + 1 < n else i
    cls = char_class(text[start])
    if cls != "s":
        return _run(text, start, cls)
    # "\s+(?!\S)": whitespace not followed by a non-space (so a space stays with the
    # next word), else "\s+"
    end = _run(text, i, "s")
    if end < n and end - 1 > i:
        return end - 1
    return end


class PureBpe:
    """The player-side twin of ``engine.vocab.BpeTokenizer`` (same JSON, same ids)."""

    kind = "bpe"

    def __init__(self, obj: dict):
        hf = obj["hf"]
        model = hf.get("model", {})
        if model.get("type") != "BPE":
            raise SupError("tokenizer.json: expected a BPE model")
        self.vocab: dict[str, int] = model["vocab"]
        self.ranks: dict[tuple[str, str], int] = {}
        for rank, merge in enumerate(model["merges"]):
            a, b = merge.split(" ", 1) if isinstance(merge, str) else merge
            self.ranks[(a, b)] = rank
        specials = {t["content"]: t["id"] for t in hf.get("added_tokens", [])}
        if EOT not in specials:
            raise SupError(f"tokenizer.json: BPE tokenizer has no {EOT} token")
        self.eot_id = specials[EOT]
        self.specials = specials  # <|endoftext|> and, in a chat model, its turn markers
        self.vocab_size = obj["vocab_size"]
        # Checked before the tables below are sized or indexed by them (a damaged file
        # could otherwise ask for a terabyte list, or index from the end).
        if type(self.vocab_size) is not int or not 0 < self.vocab_size <= MAX_VOCAB:
            raise ValueError(f"vocab_size must be from 1 to {MAX_VOCAB}")
        ids = [*self.vocab.values(), *specials.values()]
        if not all(type(i) is int and 0 <= i < self.vocab_size for i in ids):
            raise ValueError("token ids must be from 0 to vocab_size - 1")
        self._byte_char = byte_to_unicode()
        to_byte = {c: b for b, c in self._byte_char.items()}
        self._bytes = [b""] * self.vocab_size
        for token, token_id in self.vocab.items():
            if token_id not in specials.values():
                self._bytes[token_id] = bytes(to_byte[c] for c in token)
        self._word_cache: dict[str, list[int]] = {}
        self._split = pre_tokenizer_split(hf)

    def _merge(self, word: str) -> list[int]:
        symbols = list(word)
        while len(symbols) > 1:
            best, at = None, -1
            for j in range(len(symbols) - 1):
                rank = self.ranks.get((symbols[j], symbols[j + 1]))
                if rank is not None and (best is None or rank < best):
                    best, at = rank, j
            if best is None:
                break
            symbols[at : at + 2] = [symbols[at] + symbols[at + 1]]
        return [self.vocab[s] for s in symbols]

    def encode(self, text: str, allow_unk: bool = False) -> list[int]:
        ids: list[int] = []
        for piece in self._split(text):
            cached = self._word_cache.get(piece)
            if cached is None:
                word = "".join(self._byte_char[b] for b in piece.encode("utf-8"))
                cached = self._merge(word)
                if len(self._word_cache) < 100_000:
                    self._word_cache[piece] = cached
            ids.extend(cached)
        return ids

    def token_bytes(self, token_id: int) -> bytes:
        return self._bytes[token_id]

    def special_tokens(self) -> dict[str, int]:
        return dict(self.specials)

    def decode(self, ids: list[int]) -> str:
        return b"".join(self._bytes[i] for i in ids).decode("utf-8", errors="replace")
