"""int8 bundles: dynamic quantization with a measured, enforced quality floor.

ONNX Runtime's dynamic quantization stores MatMul and Gather weights as int8 and
quantizes activations on the fly. Its cost is measured, not assumed, on both graphs a
bundle ships, each quantized graph read side by side with its fp32 original on the
same held-out windows (all windows as one batch):

- the KV graph, teacher-forced one token per step, scored at every position of every
  window (the first included). Its figures are ``parity.int8``'s top-level fields:
  ``top1_agreement`` (the fraction of positions where both graphs rank the same token
  first); ``bpb_fp32`` / ``bpb_int8``, bits per byte of the windows' next tokens under
  each graph (nats summed over predicted tokens / ln 2 / their UTF-8 bytes; special
  tokens stand for 0 bytes, as in training's val_bpb), and ``bpb_cost`` = int8 - fp32;
- the full-context graph (``model.onnx``, what a player without the cache runs), on
  prefixes of every window at up to ``FULL_LENGTHS`` evenly spaced lengths from one
  token to the whole block, scored at each prefix's last position (the only one the
  graph returns): ``full.top1_agreement`` over ``full.positions``, and ``full.lengths``;
- ``size_ratio``: int8 graphs + tokenizer over fp32 graphs + tokenizer, in bytes.

If either graph agrees with fp32 below ``floor`` (``AGREEMENT_FLOOR`` unless the caller
sets another) or returns a non-finite logit, the export is refused.
"""

from __future__ import annotations

import contextlib
import io
import logging
import math
from pathlib import Path

import numpy as np

from sup.errors import SupError
from sup.formats.data import META, load_tokens
from sup.formats.manifest import GRAPH_FULL, GRAPH_KV, TOKENIZER
from sup.play.runtime import KvRunner, ort_session

AGREEMENT_FLOOR = 0.95
MAX_WINDOWS = 32
# Each prefix length is one run of the full graph over every window; the cost grows
# with the square of the block, so the lengths are sampled rather than all taken.
FULL_LENGTHS = 16


def quantize_graph(src: Path, dst: Path) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    # The exporter's intermediate shape annotations trip the quantizer's own shape
    # inference ("inferred shape and existing shape differ"); it re-derives them anyway.
    model = onnx.load(src)
    del model.graph.value_info[:]
    logging.getLogger().setLevel(logging.ERROR)  # the quantizer logs through root
    with contextlib.redirect_stdout(io.StringIO()):
        quantize_dynamic(model, dst, weight_type=QuantType.QInt8)


def held_out_windows(run, data_dir: Path | None) -> np.ndarray:
    """Evenly spaced, non-overlapping windows of ``block_size`` tokens from the val split."""
    data_dir = Path(data_dir or run.info["data"]["dir"])
    if not (data_dir / META).is_file():
        raise SupError(
            f"--int8 measures quality on held-out tokens, but {data_dir} has no {META}: "
            "pass --data DATA_DIR (the run's prepared data)"
        )
    tokens = load_tokens(data_dir, "val")
    block = run.config.block_size
    count = min(MAX_WINDOWS, len(tokens) // block)
    if count < 1:
        raise SupError(
            f"the val split of {data_dir} has fewer than {block} tokens; cannot score int8"
        )
    starts = np.linspace(0, len(tokens) - block, count).astype(np.int64)
    return tokens.windows(starts, block)


def teacher_forced_logits(kv: KvRunner, windows: np.ndarray) -> np.ndarray:
    """KV graph logits at every position of every window: [windows, block, vocab]."""
    past = kv.empty_past(windows.shape[0])
    steps = []
    for t in range(windows.shape[1]):
        logits, past = kv(windows[:, t : t + 1], past)
        steps.append(logits)
    return np.stack(steps, axis=1)


def prefix_lengths(block: int, count: int = FULL_LENGTHS) -> list[int]:
    """Up to ``count`` distinct lengths from 1 to ``block``, evenly spaced, both ends in."""
    return sorted({int(n) for n in np.linspace(1, block, min(count, block)).round()})


def prefix_logits(full_session, windows: np.ndarray, lengths: list[int]) -> np.ndarray:
    """Full graph logits at the last position of each prefix: [windows, lengths, vocab]."""
    steps = []
    for n in lengths:
        ids = np.ascontiguousarray(windows[:, :n], dtype=np.int64)
        (logits,) = full_session.run(None, {"input_ids": ids})
        steps.append(logits)
    return np.stack(steps, axis=1)


def bits_per_byte(logits: np.ndarray, windows: np.ndarray, byte_len: np.ndarray) -> float:
    pred = logits[:, :-1].astype(np.float64)
    targets = windows[:, 1:]
    shifted = pred - pred.max(axis=-1, keepdims=True)
    logz = np.log(np.exp(shifted).sum(axis=-1))
    nll = logz - np.take_along_axis(shifted, targets[..., None], axis=-1)[..., 0]
    total_bytes = int(byte_len[targets].sum())
    return float(nll.sum() / math.log(2) / max(total_bytes, 1))


def top1_agreement(fp32: np.ndarray, int8: np.ndarray) -> float:
    return float((fp32.argmax(-1) == int8.argmax(-1)).mean())


def quantize_bundle_graphs(
    work: Path, run, model_info: dict, data_dir: Path | None, floor: float | None = None
) -> dict:
    """Replace both graphs in ``work`` with int8 versions if both pass; return figures."""
    floor = AGREEMENT_FLOOR if floor is None else floor  # read now: it may have been changed
    windows = held_out_windows(run, data_dir)
    fp32_size = sum((work / n).stat().st_size for n in (GRAPH_FULL, GRAPH_KV, TOKENIZER))
    for name in (GRAPH_FULL, GRAPH_KV):
        quantize_graph(work / name, work / f"int8.{name}")

    def kv_logits(name: str) -> np.ndarray:
        return teacher_forced_logits(KvRunner(ort_session(work / name), model_info), windows)

    lengths = prefix_lengths(windows.shape[1])

    def full_logits(name: str) -> np.ndarray:
        return prefix_logits(ort_session(work / name), windows, lengths)

    scores = {}  # graph -> (fp32 logits, int8 logits)
    scores["KV"] = (kv_logits(GRAPH_KV), kv_logits(f"int8.{GRAPH_KV}"))
    scores["full-context"] = (full_logits(GRAPH_FULL), full_logits(f"int8.{GRAPH_FULL}"))
    for graph, (fp32, int8) in scores.items():
        agreement = top1_agreement(fp32, int8)
        finite = bool(np.isfinite(int8).all())
        if not finite or not agreement >= floor:
            why = "non-finite logits" if not finite else f"top-1 agreement {agreement:.1%}"
            raise SupError(
                f"int8 export refused: the {graph} graph has {why} with fp32 on "
                f"{windows.shape[0]} held-out windows (floor {floor:.0%}); export without "
                "--int8; nothing was written"
            )
    tok = run.tokenizer
    byte_len = np.array([len(tok.token_bytes(i)) for i in range(tok.vocab_size)], np.int64)
    fp32, int8 = scores["KV"]
    bpb_fp32 = bits_per_byte(fp32, windows, byte_len)
    bpb_int8 = bits_per_byte(int8, windows, byte_len)
    for name in (GRAPH_FULL, GRAPH_KV):
        (work / f"int8.{name}").replace(work / name)
    int8_size = sum((work / n).stat().st_size for n in (GRAPH_FULL, GRAPH_KV, TOKENIZER))
    full_fp32, full_int8 = scores["full-context"]
    return {
        "floor": floor,
        "top1_agreement": top1_agreement(fp32, int8),
        "windows": int(windows.shape[0]),
        "positions": int(windows.size),
        "bpb_fp32": bpb_fp32,
        "bpb_int8": bpb_int8,
        "bpb_cost": bpb_int8 - bpb_fp32,
        "full": {
            "top1_agreement": top1_agreement(full_fp32, full_int8),
            "positions": int(full_fp32.shape[0] * full_fp32.shape[1]),
            "lengths": lengths,
        },
        "fp32_bytes": fp32_size,
        "int8_bytes": int8_size,
        "size_ratio": int8_size / fp32_size,
    }
