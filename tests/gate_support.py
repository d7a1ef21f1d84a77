"""The export gates worked out again from scratch, for the export and release tests.

The exporter records what its parity and int8 checks measured; a test that re-read
those figures would only test that the exporter agrees with itself. These helpers
measure the same facts independently: the PyTorch checkpoint gives the fp32 reference
logits, and the bundle's graphs run in ONNX Runtime here, fed by hand.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

WINDOWS = 32  # the int8 gate's documented number of held-out windows (at most)


def session(path: Path):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


def torch_model(run_dir: Path, checkpoint: str = "best"):
    from sup.engine.rundir import load_model, open_run

    model, _ = load_model(open_run(run_dir), checkpoint, "cpu")
    return model.float().eval()


def val_windows(data_dir: Path, block: int) -> np.ndarray:
    """Up to WINDOWS evenly spaced windows of ``block`` tokens spanning the val split."""
    from sup.formats.data import load_tokens

    tokens = load_tokens(data_dir, "val")
    starts = np.linspace(0, len(tokens) - block, min(WINDOWS, len(tokens) // block))
    return tokens.windows(starts.astype(np.int64), block)


def empty_past(manifest: dict, batch: int) -> np.ndarray:
    m = manifest["model"]
    return np.zeros((m["n_layer"], 2, batch, m["n_head"], 0, m["head_dim"]), np.float32)


def kv_teacher_forced(bundle: Path, windows: np.ndarray) -> np.ndarray:
    """The KV graph fed one token per step: logits at every position [W, T, V]."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    kv = session(bundle / "model.kv.onnx")
    past, steps = empty_past(manifest, len(windows)), []
    for t in range(windows.shape[1]):
        logits, past = kv.run(None, {"input_ids": windows[:, t : t + 1], "past": past})
        steps.append(logits)
    return np.stack(steps, axis=1)


def full_every_prefix(bundle: Path, windows: np.ndarray) -> np.ndarray:
    """The full graph on every prefix: logits at each prefix's last position [W, T, V]."""
    full = session(bundle / "model.onnx")
    steps = [
        full.run(None, {"input_ids": windows[:, :n]})[0] for n in range(1, windows.shape[1] + 1)
    ]
    return np.stack(steps, axis=1)


def bits_per_byte(logits: np.ndarray, windows: np.ndarray, bundle: Path) -> float:
    """Bits per byte of each window's next tokens (special tokens count 0 bytes)."""
    from sup.formats.tokenizer import player_tokenizer

    tok = player_tokenizer(json.loads((bundle / "tokenizer.json").read_text()))
    byte_len = np.array([len(tok.token_bytes(i)) for i in range(tok.vocab_size)])
    logp = torch.log_softmax(torch.from_numpy(logits[:, :-1]).double(), dim=-1)
    targets = torch.from_numpy(windows[:, 1:])
    nats = -logp.gather(-1, targets[..., None]).sum().item()
    return nats / math.log(2) / int(byte_len[windows[:, 1:]].sum())


def int8_gate(bundle: Path, run_dir: Path, data_dir: Path, checkpoint: str = "best") -> dict:
    """Top-1 agreement of an int8 bundle's two graphs with the fp32 checkpoint, and bits
    per byte under the int8 KV graph, on the gate's held-out windows."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    windows = val_windows(data_dir, manifest["model"]["block_size"])
    with torch.no_grad():
        ref = torch_model(run_dir, checkpoint)(torch.from_numpy(windows))[0].numpy()
    kv, full = kv_teacher_forced(bundle, windows), full_every_prefix(bundle, windows)
    return {
        "windows": len(windows),
        "finite": bool(np.isfinite(kv).all() and np.isfinite(full).all()),
        "kv_agreement": float((kv.argmax(-1) == ref.argmax(-1)).mean()),
        "full_agreement": float((full.argmax(-1) == ref.argmax(-1)).mean()),
        "bpb_int8": bits_per_byte(kv, windows, bundle),
        "bpb_fp32": bits_per_byte(ref, windows, bundle),
    }


def fp32_parity(bundle: Path, run_dir: Path, checkpoint: str = "best") -> float:
    """Largest |logit difference| between an fp32 bundle's graphs and the checkpoint at
    batch 1 and 3 and lengths 1, 8, half and a whole block; the KV graph also with
    half of each sequence cached first."""
    manifest = json.loads((bundle / "manifest.json").read_text())
    model = torch_model(run_dir, checkpoint)
    m = manifest["model"]
    full, kv = session(bundle / "model.onnx"), session(bundle / "model.kv.onnx")
    rng = np.random.default_rng(0)
    worst = 0.0
    for batch in (1, 3):
        for seq in sorted({1, min(8, m["block_size"]), m["block_size"] // 2, m["block_size"]}):
            ids = rng.integers(0, m["vocab_size"], (batch, seq), dtype=np.int64)
            with torch.no_grad():
                ref = model(torch.from_numpy(ids))[0][:, -1].numpy()
            cached, past = seq // 2, empty_past(manifest, batch)
            if cached:
                _, past = kv.run(None, {"input_ids": ids[:, :cached], "past": past})
            (got_full,) = full.run(None, {"input_ids": ids})
            got_kv, present = kv.run(None, {"input_ids": ids[:, cached:], "past": past})
            assert present.shape[4] == seq
            worst = max(
                worst, float(np.abs(got_full - ref).max()), float(np.abs(got_kv - ref).max())
            )
    return worst
