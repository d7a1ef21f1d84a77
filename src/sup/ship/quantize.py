"""int8 bundles: dynamic quantization with a measured, enforced quality floor.

ONNX Runtime's dynamic quantization stores MatMul and Gather weights as int8 and
quantizes activations on the fly. Its cost is measured, not assumed: fp32 and int8
KV graphs read the same held-out windows side by side (teacher forcing, one token per
step, all windows as one batch) and we record

- ``top1_agreement``: the fraction of positions where both graphs rank the same token
  first (every position of every window, including the first);
- ``bpb_fp32`` / ``bpb_int8``: bits per byte of the windows' next tokens under each
  graph (nats summed over predicted tokens / ln 2 / their UTF-8 bytes; special tokens
  stand for 0 bytes, as in training's val_bpb), and ``bpb_cost`` = int8 - fp32;
- ``size_ratio``: int8 graphs + tokenizer over fp32 graphs + tokenizer, in bytes.

Below ``AGREEMENT_FLOOR`` or with a non-finite logit the export is refused.
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
    """Logits at every position of every window: [windows, block, vocab]."""
    past = kv.empty_past(windows.shape[0])
    steps = []
    for t in range(windows.shape[1]):
        logits, past = kv(windows[:, t : t + 1], past)
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


def quantize_bundle_graphs(work: Path, run, model_info: dict, data_dir: Path | None) -> dict:
    """Replace both graphs in ``work`` with int8 versions if they pass; return figures."""
    windows = held_out_windows(run, data_dir)
    fp32_size = sum((work / n).stat().st_size for n in (GRAPH_FULL, GRAPH_KV, TOKENIZER))
    for name in (GRAPH_FULL, GRAPH_KV):
        quantize_graph(work / name, work / f"int8.{name}")
    fp32 = teacher_forced_logits(KvRunner(ort_session(work / GRAPH_KV), model_info), windows)
    int8_kv = KvRunner(ort_session(work / f"int8.{GRAPH_KV}"), model_info)
    int8 = teacher_forced_logits(int8_kv, windows)
    tok = run.tokenizer
    byte_len = np.array([len(tok.token_bytes(i)) for i in range(tok.vocab_size)], np.int64)
    finite = bool(np.isfinite(int8).all())
    agreement = float((fp32.argmax(-1) == int8.argmax(-1)).mean())
    bpb_fp32 = bits_per_byte(fp32, windows, byte_len)
    bpb_int8 = bits_per_byte(int8, windows, byte_len) if finite else float("inf")
    if not finite or agreement < AGREEMENT_FLOOR:
        why = "non-finite logits" if not finite else f"top-1 agreement {agreement:.1%}"
        raise SupError(
            f"int8 export refused: {why} with fp32 on {windows.shape[0]} held-out windows "
            f"(floor {AGREEMENT_FLOOR:.0%}); export without --int8; nothing was written"
        )
    for name in (GRAPH_FULL, GRAPH_KV):
        (work / f"int8.{name}").replace(work / name)
    int8_size = sum((work / n).stat().st_size for n in (GRAPH_FULL, GRAPH_KV, TOKENIZER))
    return {
        "floor": AGREEMENT_FLOOR,
        "top1_agreement": agreement,
        "windows": int(windows.shape[0]),
        "positions": int(windows.size),
        "bpb_fp32": bpb_fp32,
        "bpb_int8": bpb_int8,
        "bpb_cost": bpb_int8 - bpb_fp32,
        "fp32_bytes": fp32_size,
        "int8_bytes": int8_size,
        "size_ratio": int8_size / fp32_size,
    }
