"""The data directory written by ``sup prepare``: ``meta.json`` and the token files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from sup.errors import SupError

DATA_FORMAT = "sup-data"
DATA_VERSION = 1
VAL_SEPARATOR = "\n\n"  # between documents in val.txt


def token_dtype(vocab_size: int) -> np.dtype:
    return np.dtype(np.uint16) if vocab_size <= 2**16 else np.dtype(np.uint32)


def load_meta(data_dir: Path) -> dict:
    path = Path(data_dir) / "meta.json"
    if not path.exists():
        raise SupError(f"{data_dir} is not a sup data directory (no meta.json): run `sup prepare`")
    meta = json.loads(path.read_text(encoding="utf-8"))
    if meta.get("format") != DATA_FORMAT:
        raise SupError(f"{path} is not a sup data meta file")
    return meta


def load_tokens(data_dir: Path, split: str) -> np.ndarray:
    meta = load_meta(data_dir)
    path = Path(data_dir) / f"{split}.bin"
    if not path.exists():
        raise SupError(f"{path} is missing: re-run `sup prepare`")
    return np.memmap(path, dtype=np.dtype(meta["dtype"]), mode="r")
