"""Training throughput: a plain fp32 PyTorch loop vs `sup train` with precision=auto.

Model: nanoGPT's shakespeare_char shape (base arch, 6 layers, 6 heads, 384 wide, block
256, batch 64). Both conditions run in this one process on the same data; each skips
its first steps (warm-up) and reports tokens / wall seconds of the timed steps.

    python benchmarks/train_throughput.py [--steps 8] [--baseline-steps 4] [--compile]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from _common import machine, prepared_char_data, shakespeare_path
from sup.engine.config import TrainConfig
from sup.engine.model import GPT, ModelConfig
from sup.engine.prepare import load_tokens
from sup.engine.train import train

SHAPE = dict(n_layer=6, n_head=6, n_embd=384, block_size=256, batch_size=64)
WARMUP = 2


def plain_fp32_loop(data_dir: Path, steps: int) -> float:
    """What a from-scratch PyTorch script does: fp32 weights and math, stock AdamW."""
    tokens = load_tokens(data_dir, "train")
    torch.manual_seed(0)
    T, B = SHAPE["block_size"], SHAPE["batch_size"]
    model = GPT(ModelConfig(vocab_size=67, block_size=T, n_layer=6, n_head=6, n_embd=384))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    elapsed = 0.0
    for i in range(WARMUP + steps):
        starts = rng.integers(0, len(tokens) - T - 1, B)
        chunk = torch.from_numpy(tokens[starts[:, None] + np.arange(T + 1)].astype(np.int64))
        t0 = time.perf_counter()
        logits, _ = model(chunk[:, :-1])
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), chunk[:, 1:].reshape(-1))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if i >= WARMUP:
            elapsed += time.perf_counter() - t0
    return steps * B * T / elapsed


def sup_train(data_dir: Path, steps: int, compile: bool) -> tuple[float, str]:
    run = Path(tempfile.mkdtemp(prefix="sup-bench-run-")) / "run"
    cfg = TrainConfig(
        **SHAPE,
        arch="base",
        max_iters=WARMUP + steps,
        eval_interval=10_000,
        eval_iters=1,
        warmup_iters=0,
        precision="auto",
        compile=compile,
    )
    result = train(run, cfg, data_dir)
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    timed = [r for r in records if r["step"] > WARMUP]
    tokens = SHAPE["batch_size"] * SHAPE["block_size"] * len(timed)
    seconds = sum(SHAPE["batch_size"] * SHAPE["block_size"] / r["tokens_per_s"] for r in timed)
    return tokens / seconds, result["precision"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", help="tinyshakespeare.txt (default: ../shared/data)")
    ap.add_argument("--steps", type=int, default=8, help="timed steps of sup train")
    ap.add_argument("--baseline-steps", type=int, default=4, help="timed steps of the fp32 loop")
    ap.add_argument("--compile", action="store_true", help="also time compile=true")
    args = ap.parse_args()
    data = prepared_char_data(shakespeare_path(args.corpus))
    print(f"machine: {machine()}")
    print(f"model: shakespeare_char shape {SHAPE}, base arch")
    base = plain_fp32_loop(data, args.baseline_steps)
    print(f"plain fp32 PyTorch loop : {base:8,.0f} tokens/s")
    sup_tps, precision = sup_train(data, args.steps, compile=False)
    print(f"sup train (auto={precision}): {sup_tps:8,.0f} tokens/s  ratio {sup_tps / base:.2f}x")
    if args.compile:
        comp_tps, _ = sup_train(data, args.steps, compile=True)
        print(f"sup train + compile     : {comp_tps:8,.0f} tokens/s  ratio {comp_tps / base:.2f}x")
    print(f"target: >= 3x the fp32 loop -> {'MET' if sup_tps >= 3 * base else 'NOT MET'}")


if __name__ == "__main__":
    main()
