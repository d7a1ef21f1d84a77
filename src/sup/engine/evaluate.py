"""Honest held-out metrics: every character of the text is paid for.

Definitions (``sup eval``):
- The text is encoded (unknown characters of a char model become ``<unk>``) and preceded
  by the end-of-document token as context, so the first token is predicted too.
- Windows of at most ``block_size`` inputs: non-overlapping by default; with ``--stride S``
  each window moves S tokens and scores only targets not scored before, so later
  targets see up to ``block_size`` tokens of context. Every target is scored exactly once.
- ``token_loss``: mean cross-entropy of the model, nats per target token.
- Spelling charge: a char model cannot say which unseen character an ``<unk>`` stands
  for. Each out-of-vocabulary character is charged the model's cost of ``<unk>`` plus
  ``log2(UNICODE_SCALARS - known_chars)`` bits, a uniform code over every character it
  has never seen. This is a valid code length, so the metric cannot flatter a model that
  cannot spell the text (dropping those characters would).
- ``bits_per_char``: total bits (model + spelling charge) / number of characters.
- ``bits_per_byte``: the same total / number of UTF-8 bytes. Bytes are counted per
  target token from the tokenizer's exact byte table (special tokens 0 bytes), plus
  the bytes of out-of-vocabulary characters; the sum is checked against the text.
"""

from __future__ import annotations

import hashlib
import math

import numpy as np
import torch
import torch.nn.functional as F

from sup.engine.device import autocast
from sup.engine.model import GPT
from sup.engine.vocab import Tokenizer
from sup.errors import SupError, UsageError
from sup.formats.data import TokenShards
from sup.formats.tokenizer import UNICODE_SCALARS, CharTokenizer

LN2 = math.log(2)


def byte_lengths(tok: Tokenizer) -> np.ndarray:
    """Exact UTF-8 byte length of every token id (special tokens: 0)."""
    return np.array([len(tok.token_bytes(i)) for i in range(tok.vocab_size)], dtype=np.int64)


def spelling_bits(tok: Tokenizer) -> float:
    """Extra bits charged per ``<unk>`` target (0 for lossless tokenizers)."""
    if isinstance(tok, CharTokenizer):
        return math.log2(UNICODE_SCALARS - len(tok.chars))
    return 0.0


@torch.no_grad()
def target_nats(
    model: GPT, x: torch.Tensor, y: torch.Tensor, device: torch.device, precision: str
) -> torch.Tensor:
    """Cross-entropy (nats) of each target in ``y`` given inputs ``x``; float64, shape (B, T)."""
    with autocast(device, precision):
        logits, _ = model(x.to(device))
    nats = F.cross_entropy(logits.float().transpose(1, 2), y.to(device), reduction="none")
    return nats.double().cpu()


@torch.no_grad()
def evaluate_windows(
    model: GPT,
    tokens: TokenShards,
    starts: np.ndarray,
    batch_size: int,
    tok: Tokenizer,
    device: torch.device,
    precision: str,
    lengths: np.ndarray | None = None,
) -> dict:
    """Mean loss and bits per byte over fixed windows (used for val checks in training).

    ``lengths`` is ``byte_lengths(tok)``; callers that evaluate repeatedly build it once.

    Targets that are ``<unk>`` get the spelling charge in bits but count 0 bytes, which
    can only raise the figure; ``sup eval`` gives the exact per-character accounting.
    """
    block = model.cfg.block_size
    lengths = byte_lengths(tok) if lengths is None else lengths
    unk_bits = spelling_bits(tok)
    total_nats = total_bits = 0.0
    total_bytes = count = 0
    was_training = model.training
    model.eval()
    for i in range(0, len(starts), batch_size):
        chunk = torch.from_numpy(tokens.windows(starts[i : i + batch_size], block + 1))
        nats = target_nats(model, chunk[:, :-1], chunk[:, 1:], device, precision)
        targets = chunk[:, 1:].numpy()
        batch_nats = nats.sum().item()
        total_nats += batch_nats
        total_bits += batch_nats / LN2
        if isinstance(tok, CharTokenizer):
            total_bits += unk_bits * int((targets == tok.unk_id).sum())
        total_bytes += int(lengths[targets].sum())
        count += targets.size
    model.train(was_training)
    return {"val_loss": total_nats / count, "val_bpb": total_bits / max(total_bytes, 1)}


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


@torch.no_grad()
def evaluate_text(
    model: GPT,
    tok: Tokenizer,
    text: str,
    device: torch.device,
    precision: str,
    stride: int | None = None,
    batch_size: int = 16,
) -> dict:
    if not text:
        raise SupError("the evaluation text is empty")
    block = model.cfg.block_size
    stride = block if stride is None else stride
    if not 1 <= stride <= block:
        raise UsageError(f"--stride must be between 1 and block_size ({block}), got {stride}")
    ids = np.asarray(tok.encode(text, allow_unk=True), dtype=np.int64)
    seq = np.concatenate([[tok.eot_id], ids])
    oov = tok.unknown_chars(text) if isinstance(tok, CharTokenizer) else {}
    model.eval()

    total_nats = 0.0
    windows = windows_for(len(ids), block, stride)
    by_length: dict[int, list[tuple[int, int, int]]] = {}
    for w in windows:
        by_length.setdefault(w[1] - w[0], []).append(w)
    for group in by_length.values():
        for i in range(0, len(group), batch_size):
            batch = group[i : i + batch_size]
            x = torch.from_numpy(np.stack([seq[s:e] for s, e, _ in batch]))
            y = torch.from_numpy(np.stack([seq[s + 1 : e + 1] for s, e, _ in batch]))
            nats = target_nats(model, x, y, device, precision)
            for row, (s, _, first) in enumerate(batch):
                total_nats += nats[row, first - s :].sum().item()

    if not math.isfinite(total_nats):
        raise SupError(
            "the model gives non-finite losses (its weights hold NaN or inf): it is "
            "broken; evaluate an earlier checkpoint or retrain it"
        )
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
        "stride": stride,
        "block_size": block,
        "windows": len(windows),
        "text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
    }
