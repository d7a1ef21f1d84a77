"""The data directory written by ``sup prepare`` (format version 2): reading it.

::

    DATA_DIR/
      meta.json           what is here and how it was made (below)
      tokenizer.json      the tokenizer, trained on the train split only
      train-000000.bin    token shards: raw little-endian uint16 (uint32 when the
      train-000001.bin    vocabulary exceeds 65,536), each at most ``shard_tokens``
      val-000000.bin      tokens; a split is its shards in order
      val.txt             the held-out text itself, for ``sup eval``

``meta.json``: ``format: "sup-data"``, ``version: 2``, ``tokenizer`` (type, vocab_size,
spec), ``dtype``, ``shard_tokens``, ``source`` (path, kind, sha256, documents, chars),
``split`` (the rule in words, ``val_fraction``), ``train`` and ``val`` (documents,
chars, bytes, tokens, ``shards``: the shard files in order with their token counts;
val also ``oov_chars``), ``overlap`` (val lines that occur verbatim in train) and
``files`` (the sha256 of every other file in the directory). A chat corpus
(``prepare --chat``) adds ``<split>-mask-NNNNNN.bin``, one uint8 per token (1: a
target the loss counts), listed under ``loss_mask`` (rule; per split ``targets`` and
``shards``, sized like the token shards), and ``chat`` (template, special token ids,
longest conversation); ``engine/prepare_chat.py`` says how they are made.

A split is read as one sequence through memory maps (``TokenShards``), so training on
a corpus larger than memory reads only the windows it uses. Version 1 directories (one
``train.bin``) are refused with a message to re-run ``sup prepare``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sup.errors import SupError
from sup.formats.envelope import read_envelope
from sup.formats.schema import FILE_NAME_RE

DATA_FORMAT = "sup-data"
DATA_VERSION = 2
META = "meta.json"
VAL_TEXT = "val.txt"
TOKENIZER = "tokenizer.json"
SPLITS = ("train", "val")
VAL_SEPARATOR = "\n\n"  # between documents in val.txt


def token_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16) if vocab_size <= 2**16 else np.dtype(np.uint32)


def shard_name(split: str, index: int) -> str:
    return f"{split}-{index:06d}.bin"


TOKEN_DTYPES = ("uint16", "uint32")


def load_meta(data_dir: Path) -> dict:
    """``meta.json`` of a version-2 data directory, checked for what readers rely on."""
    data_dir = Path(data_dir)
    path = data_dir / META
    meta = read_envelope(
        path,
        missing=f"{data_dir} is not a sup data directory (no {META}): run `sup prepare`",
        fmt=DATA_FORMAT,
        version=DATA_VERSION,
        kind="sup data meta file",
        fix="re-run `sup prepare` on the corpus (this sup writes token shards)",
    )
    try:
        if meta["dtype"] not in TOKEN_DTYPES:
            raise ValueError(f"dtype {meta['dtype']!r}")
        for split in SPLITS:
            for key in ("tokens", "chars", "bytes"):
                if type(meta[split][key]) is not int or meta[split][key] < 0:
                    raise ValueError(f"{split} {key} {meta[split][key]!r}")
            for shard in meta[split]["shards"]:
                if type(shard["tokens"]) is not int or shard["tokens"] < 0:
                    raise ValueError(f"shard size {shard['tokens']!r}")
                if not isinstance(shard["file"], str) or not FILE_NAME_RE.match(shard["file"]):
                    raise ValueError(f"shard file {shard['file']!r}")
        if not all(isinstance(f, str) and FILE_NAME_RE.match(f) for f in meta["files"]):
            raise ValueError("files")
        tokenizer, source = meta["tokenizer"], meta["source"]
        if type(tokenizer["vocab_size"]) is not int or tokenizer["vocab_size"] < 1:
            raise ValueError("tokenizer vocab_size")
        if type(source["documents"]) is not int or source["documents"] < 1:
            raise ValueError("source documents")
        if "loss_mask" in meta:
            for split in SPLITS:
                mask = meta["loss_mask"][split]
                if [s["tokens"] for s in mask["shards"]] != [
                    s["tokens"] for s in meta[split]["shards"]
                ]:
                    raise ValueError(f"{split} mask shards do not match the token shards")
                for shard in mask["shards"]:
                    if not isinstance(shard["file"], str) or not FILE_NAME_RE.match(shard["file"]):
                        raise ValueError(f"mask shard file {shard['file']!r}")
    except (KeyError, TypeError, ValueError) as e:
        raise SupError(f"{path} is damaged ({e!r}): re-run `sup prepare`") from None
    return meta


class TokenShards:
    """A split's shards as one read-only token sequence, memory-mapped.

    ``windows(starts, length)`` gathers ``length`` consecutive tokens from each start
    (int64, one row per start); a window may cross from one shard into the next.
    """

    def __init__(self, arrays: list[np.ndarray]):
        self.arrays = [a for a in arrays if len(a)]
        lengths = [len(a) for a in self.arrays]
        self.offsets = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])

    def __len__(self) -> int:
        return int(self.offsets[-1])

    def slice(self, start: int, end: int) -> np.ndarray:
        """Tokens ``start .. end - 1`` as int64."""
        if not 0 <= start <= end <= len(self):
            raise IndexError(f"tokens {start}..{end} outside 0..{len(self)}")
        pieces = []
        i = max(int(np.searchsorted(self.offsets, start, side="right")) - 1, 0)
        while start < end:
            base = int(self.offsets[i])
            take = min(end, int(self.offsets[i + 1])) - start
            pieces.append(self.arrays[i][start - base : start - base + take])
            start += take
            i += 1
        if not pieces:
            return np.zeros(0, np.int64)
        return np.concatenate(pieces).astype(np.int64)

    def positions_of(self, token: int) -> np.ndarray:
        """Every position holding ``token``, in order (one pass over each shard)."""
        found = [
            np.flatnonzero(a == token) + int(o)
            for a, o in zip(self.arrays, self.offsets[:-1], strict=True)
        ]
        return np.concatenate(found).astype(np.int64) if found else np.zeros(0, np.int64)

    def windows(self, starts: np.ndarray, length: int) -> np.ndarray:
        starts = np.asarray(starts, dtype=np.int64)
        if starts.size and (starts.min() < 0 or starts.max() + length > len(self)):
            raise IndexError(f"a window of {length} runs past the {len(self)} tokens")
        out = np.empty((starts.size, length), dtype=np.int64)
        shard = np.searchsorted(self.offsets, starts, side="right") - 1
        inside = starts + length <= self.offsets[shard + 1]
        span = np.arange(length)
        for i in np.unique(shard[inside]):  # the usual case: one gather per shard
            rows = np.flatnonzero(inside & (shard == i))
            local = starts[rows] - self.offsets[i]
            out[rows] = self.arrays[i][local[:, None] + span]
        for row in np.flatnonzero(~inside):  # windows that cross a shard boundary
            out[row] = self.slice(int(starts[row]), int(starts[row]) + length)
        return out


def load_tokens(data_dir: Path, split: str, meta: dict | None = None) -> TokenShards:
    """The ``split`` ("train" or "val") of a data directory, memory-mapped."""
    data_dir = Path(data_dir)
    meta = meta or load_meta(data_dir)
    return _load_shards(data_dir, meta[split]["shards"], np.dtype(meta["dtype"]))


def load_mask(data_dir: Path, split: str, meta: dict | None = None) -> TokenShards | None:
    """The loss mask of ``split`` (one uint8 per token, 1 on a counted target), or None
    for a directory without one (every target counts)."""
    data_dir = Path(data_dir)
    meta = meta or load_meta(data_dir)
    if "loss_mask" not in meta:
        return None
    return _load_shards(data_dir, meta["loss_mask"][split]["shards"], np.dtype(np.uint8))


def _load_shards(data_dir: Path, shards: list[dict], dtype: np.dtype) -> TokenShards:
    arrays = []
    for shard in shards:
        path = data_dir / shard["file"]
        if not path.is_file():
            raise SupError(f"{path} is missing: re-run `sup prepare`")
        if path.stat().st_size != shard["tokens"] * dtype.itemsize:
            raise SupError(
                f"{path} holds {path.stat().st_size} bytes, not the {shard['tokens']} tokens "
                f"{META} lists: the data directory is damaged; re-run `sup prepare`"
            )
        if shard["tokens"]:
            arrays.append(np.memmap(path, dtype=dtype, mode="r"))
    return TokenShards(arrays)


@dataclass(frozen=True)
class DataDir:
    path: Path
    meta: dict

    def tokens(self, split: str) -> TokenShards:
        return load_tokens(self.path, split, self.meta)

    def mask(self, split: str) -> TokenShards | None:
        return load_mask(self.path, split, self.meta)


def open_data(data_dir: Path) -> DataDir:
    return DataDir(Path(data_dir), load_meta(data_dir))
