"""How a text is scored, shared by every evaluator (PyTorch's ``engine/evaluate.py`` and
ONNX Runtime's ``play/score.py``), so a run and its release are scored by one rule.

- The text is encoded (unknown characters of a char model become ``<unk>``) and preceded
  by the end-of-document token, so its first token is predicted too.
- ``windows_for``: windows of at most ``block_size`` inputs; each moves ``stride``
  tokens and scores only targets not scored before, so every target is scored once.
- ``spelling_bits``: a char model cannot say which unseen character an ``<unk>`` stands
  for, so each out-of-vocabulary character is charged ``log2(UNICODE_SCALARS -
  known_chars)`` bits on top of the model's cost of ``<unk>`` (a uniform code over every
  character it has never seen: a valid code length, so it cannot flatter).
- ``byte_lengths``: each token's exact UTF-8 byte length (special tokens 0), for bits
  per byte; ``text_totals`` checks that the tokens and out-of-vocabulary characters
  account for the text's bytes exactly and returns the figures every report carries.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np

from sup.errors import SupError
from sup.formats.tokenizer import UNICODE_SCALARS, CharTokenizer

LN2 = math.log(2)


def byte_lengths(tok) -> np.ndarray:
    """Exact UTF-8 byte length of every token id (special tokens: 0)."""
    return np.array([len(tok.token_bytes(i)) for i in range(tok.vocab_size)], dtype=np.int64)


def spelling_bits(tok) -> float:
    """Extra bits charged per ``<unk>`` target (0 for lossless tokenizers)."""
    if isinstance(tok, CharTokenizer):
        return math.log2(UNICODE_SCALARS - len(tok.chars))
    return 0.0


def windows_for(n_targets: int, block: int, stride: int) -> list[tuple[int, int, int]]:
    """(start, end, first_scored) per window: inputs ``seq[start:end]`` predict targets
    ``start..end-1``; targets from ``first_scored`` on are scored in this window."""
    windows = []
    start, scored_to = 0, 0
    while scored_to < n_targets:
        end = min(start + block, n_targets)
        windows.append((start, end, scored_to))
        scored_to = end
        start += stride
    return windows


def encode_for_scoring(tok, text: str) -> tuple[np.ndarray, dict]:
    """The sequence to score (end-of-document, then the text's ids) and the text's
    out-of-vocabulary characters with their counts."""
    if not text:
        raise SupError("the evaluation text is empty")
    ids = np.asarray(tok.encode(text, allow_unk=True), dtype=np.int64)
    oov = tok.unknown_chars(text) if isinstance(tok, CharTokenizer) else {}
    return np.concatenate([[tok.eot_id], ids]), dict(oov)


def text_totals(tok, text: str, seq: np.ndarray, oov: dict, total_nats: float) -> dict:
    """Every figure of a scored text from the model's summed nats (see the module doc)."""
    if not math.isfinite(total_nats):
        raise SupError(
            "the model gives non-finite losses (its weights hold NaN or inf): it is "
            "broken; evaluate an earlier checkpoint or retrain it"
        )
    ids = seq[1:]
    n_unk = sum(oov.values())
    charge = spelling_bits(tok) * n_unk
    total_bits = total_nats / LN2 + charge
    n_bytes = len(text.encode("utf-8"))
    counted = int(byte_lengths(tok)[ids].sum()) + sum(
        len(c.encode("utf-8")) * k for c, k in oov.items()
    )
    if counted != n_bytes:  # the byte table must account for the text exactly
        raise SupError(f"internal error: tokens cover {counted} bytes, text has {n_bytes}")
    return {
        "token_loss": total_nats / len(ids),
        "bits_per_char": total_bits / len(text),
        "bits_per_byte": total_bits / n_bytes,
        "tokens": len(ids),
        "chars": len(text),
        "bytes": n_bytes,
        "oov_chars": n_unk,
        "oov_distinct": len(oov),
        "oov_charge_bits": charge,
        "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
    }
