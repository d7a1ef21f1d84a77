"""Writing a data directory's pieces as they stream past: token shards, and the line
fingerprints that measure how much of val appears verbatim in train.

Neither holds the corpus: a ``ShardWriter`` appends each encoded chunk to the current
shard file and rolls over at ``shard_tokens``; a ``LineSet`` keeps one 64-bit hash per
distinct line (8 bytes a line, compacted as it grows), never the lines themselves.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from sup.formats.data import shard_name

MAX_LINE = 1 << 20  # a longer line is fingerprinted as several


class ShardWriter:
    """Token shards of one split, ``<split>-NNNNNN.bin``, each hashed as it is written."""

    def __init__(self, directory: Path, split: str, dtype: np.dtype, shard_tokens: int):
        self.directory, self.split = Path(directory), split
        self.dtype, self.shard_tokens = np.dtype(dtype), shard_tokens
        self.shards: list[dict] = []
        self.sha256: dict[str, str] = {}
        self.tokens = 0
        self._file = None
        self._digest = None
        self._in_shard = 0

    def write(self, ids: np.ndarray) -> None:
        ids = np.asarray(ids)
        while ids.size:
            if self._file is None or self._in_shard == self.shard_tokens:
                self._next_shard()
            take = min(ids.size, self.shard_tokens - self._in_shard)
            data = ids[:take].astype(self.dtype).tobytes()
            self._file.write(data)
            self._digest.update(data)
            self._in_shard += take
            self.shards[-1]["tokens"] += take
            self.tokens += take
            ids = ids[take:]

    def _next_shard(self) -> None:
        self._finish_shard()
        name = shard_name(self.split, len(self.shards))
        self._file = open(self.directory / name, "wb")  # noqa: SIM115 (closed in close())
        self._digest = hashlib.sha256()
        self.shards.append({"file": name, "tokens": 0})
        self._in_shard = 0

    def _finish_shard(self) -> None:
        if self._file is not None:
            self._file.close()
            self.sha256[self.shards[-1]["file"]] = self._digest.hexdigest()
            self._file = None

    def close(self) -> list[dict]:
        """Finish the last shard (an empty split still gets one, empty, shard);
        returns ``[{file, tokens}]`` in order."""
        if not self.shards:
            self._next_shard()
        self._finish_shard()
        return self.shards


LINE_ENDS = ("\n", "\r", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")


class LineSet:
    """Fingerprints of the non-empty stripped lines of streamed text, a document at a
    time (lines as ``str.splitlines`` cuts them).

    ``add_chunk`` takes a document's text in pieces cut anywhere; a line split between
    pieces is joined before it is hashed. With ``keep_all`` every line's fingerprint is
    kept (the val side: each line counts); otherwise only distinct ones (the train
    side: membership). Fingerprints are Python's 64-bit string hash: compared within
    one process only, never stored, so its per-process salt does not matter."""

    def __init__(self, keep_all: bool = False):
        self.keep_all = keep_all
        self._parts: list[np.ndarray] = []
        self._pending: list[int] = []
        self._carry = ""

    def add_chunk(self, text: str) -> None:
        lines = (self._carry + text).splitlines(keepends=True)
        self._carry = ""
        if lines and not lines[-1].endswith(LINE_ENDS):
            self._carry = lines.pop()
            if len(self._carry) > MAX_LINE:
                lines.append(self._carry)
                self._carry = ""
        self._add_lines(lines)

    def end_document(self) -> None:
        if self._carry:
            self._add_lines([self._carry])
            self._carry = ""

    def _add_lines(self, lines: list[str]) -> None:
        self._pending += [hash(s) for line in lines if (s := line.strip())]
        if len(self._pending) >= 1 << 16:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            part = np.array(self._pending, dtype=np.int64)
            self._parts.append(part if self.keep_all else np.unique(part))
            self._pending = []
        if not self.keep_all and len(self._parts) > 64:
            self._parts = [np.unique(np.concatenate(self._parts))]

    def hashes(self) -> np.ndarray:
        self.end_document()
        self._flush()
        if not self._parts:
            return np.zeros(0, np.int64)
        joined = np.concatenate(self._parts)
        return joined if self.keep_all else np.unique(joined)


def line_overlap(train: LineSet, val: LineSet) -> dict:
    """How many of val's non-empty lines occur verbatim (after stripping) in train."""
    val_lines = val.hashes()
    seen = int(np.isin(val_lines, train.hashes()).sum())
    n = int(val_lines.size)
    return {
        "val_lines": n,
        "val_lines_in_train": seen,
        "fraction": round(seen / n, 4) if n else 0.0,
    }
