"""Honest held-out metrics in PyTorch: every character of the text is paid for.

The scoring rule (the end-of-document context, windows and strides, the spelling charge
for out-of-vocabulary characters, exact byte counts) is ``formats/accounting.py``'s,
shared with ONNX Runtime's scorer (``play/score.py``), so a run and its release are
scored alike. Definitions (``sup eval``):
- ``token_loss``: mean cross-entropy of the model, nats per target token.
- ``bits_per_char``: total bits (model + spelling charge) / number of characters.
- ``bits_per_byte``: the same total / number of UTF-8 bytes.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from sup.engine.device import autocast
from sup.engine.model import GPT
from sup.engine.vocab import Tokenizer
from sup.errors import UsageError
from sup.formats.accounting import (
    LN2,
    byte_lengths,
    encode_for_scoring,
    spelling_bits,
    text_totals,
    windows_for,
)
from sup.formats.data import TokenShards
from sup.formats.tokenizer import CharTokenizer


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
    mask: TokenShards | None = None,
) -> dict:
    """Mean loss and bits per byte over fixed windows (used for val checks in training).

    ``lengths`` is ``byte_lengths(tok)``; callers that evaluate repeatedly build it once.
    ``mask`` (a chat corpus's loss mask): only the targets it marks count, in the loss,
    the bits and the bytes, so val_bpb is bits per byte of the assistant's text.

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
        if mask is not None:
            counted = mask.windows(starts[i : i + batch_size] + 1, block) != 0
            nats = nats * torch.from_numpy(counted)
            targets = targets[counted]
        batch_nats = nats.sum().item()
        total_nats += batch_nats
        total_bits += batch_nats / LN2
        if isinstance(tok, CharTokenizer):
            total_bits += unk_bits * int((targets == tok.unk_id).sum())
        total_bytes += int(lengths[targets].sum())
        count += targets.size
    model.train(was_training)
    return {"val_loss": total_nats / max(count, 1), "val_bpb": total_bits / max(total_bytes, 1)}


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
    block = model.cfg.block_size
    stride = block if stride is None else stride
    if not 1 <= stride <= block:
        raise UsageError(f"--stride must be between 1 and block_size ({block}), got {stride}")
    seq, oov = encode_for_scoring(tok, text)
    ids = seq[1:]
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

    result = text_totals(tok, text, seq, oov, total_nats)
    return {**result, "stride": stride, "block_size": block, "windows": len(windows)}
