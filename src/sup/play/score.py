"""A text scored by a bundle's own graphs, with ONNX Runtime and no torch: what a
release (int8 included) really does on held-out text, by ``sup eval``'s rule
(``formats/accounting.py``: the same windows, spelling charge and byte counts).

The KV graph is teacher-forced one token per step over a batch of windows at once (it
returns only the last new position's logits, so a window of n inputs takes n steps);
windows of one length are batched together.
"""

from __future__ import annotations

import numpy as np

from sup.formats.accounting import encode_for_scoring, text_totals, windows_for

BATCH = 32  # windows per batch: the past grows to [n_layer, 2, BATCH, heads, block, dim]


def log_softmax_at(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Nats of each row's target: -log softmax(logits)[target], in float64."""
    z = logits.astype(np.float64)
    z -= z.max(axis=-1, keepdims=True)
    logz = np.log(np.exp(z).sum(axis=-1))
    return logz - np.take_along_axis(z, targets[:, None], axis=-1)[:, 0]


def score_text(lm, text: str) -> dict:
    """Bits per character and per byte of ``text`` under the bundle ``lm`` (an
    ``OnnxLM``), non-overlapping windows of its block size."""
    block = lm.block_size
    seq, oov = encode_for_scoring(lm.tokenizer, text)
    windows = windows_for(len(seq) - 1, block, block)
    by_length: dict[int, list[tuple[int, int, int]]] = {}
    for w in windows:
        by_length.setdefault(w[1] - w[0], []).append(w)
    total_nats = 0.0
    for length, group in by_length.items():
        for i in range(0, len(group), BATCH):
            batch = group[i : i + BATCH]
            x = np.stack([seq[s:e] for s, e, _ in batch])
            y = np.stack([seq[s + 1 : e + 1] for s, e, _ in batch])
            past = lm.kv.empty_past(len(batch))
            for t in range(length):
                logits, past = lm.kv(x[:, t : t + 1], past)
                total_nats += float(log_softmax_at(logits, y[:, t]).sum())
    result = text_totals(lm.tokenizer, text, seq, oov, total_nats)
    return {**result, "stride": block, "block_size": block, "windows": len(windows)}
