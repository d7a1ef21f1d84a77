"""Sampling speed with and without the KV cache.

The 10.65M shakespeare_char model (base arch, 6x384, block 256), one sequence: a
1-token prompt, then 255 new tokens so the context grows to the full 256. Without the
cache each new token re-runs the whole context (nanoGPT's loop); with it, one token.
Random weights: speed does not depend on what the weights say.

    python benchmarks/sample_kv_cache.py [--new-tokens 255] [--precision fp32]
"""

from __future__ import annotations

import argparse
import time

import torch

from _common import machine
from sup.engine.generate import generate
from sup.engine.model import GPT, ModelConfig


def tokens_per_s(model: GPT, n_new: int, use_cache: bool, precision: str) -> tuple[float, list]:
    gen = torch.Generator().manual_seed(0)
    t0 = time.perf_counter()
    out = list(
        generate(
            model,
            [0],
            n_new,
            temperature=0.0,
            generator=gen,
            use_cache=use_cache,
            precision=precision,
        )
    )
    return len(out) / (time.perf_counter() - t0), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--new-tokens", type=int, default=255)
    ap.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    args = ap.parse_args()
    torch.manual_seed(0)
    model = GPT(ModelConfig(vocab_size=67, block_size=256, n_layer=6, n_head=6, n_embd=384))
    model.eval()
    print(f"machine: {machine()}")
    print(f"model: {model.stats().params / 1e6:.2f}M params, block 256, {args.precision}")
    tokens_per_s(model, 16, True, args.precision)  # warm-up
    cached, a = tokens_per_s(model, args.new_tokens, True, args.precision)
    uncached, b = tokens_per_s(model, args.new_tokens, False, args.precision)
    same = "identical" if a == b else "DIFFERENT"
    print(f"no cache (full forward per token): {uncached:8.1f} tokens/s")
    print(
        f"KV cache                         : {cached:8.1f} tokens/s  ratio {cached / uncached:.1f}x"
    )
    print(f"greedy tokens with and without cache: {same}")
    print(
        f"target: >= 5x at {args.new_tokens + 1} tokens -> "
        f"{'MET' if cached >= 5 * uncached else 'NOT MET'}"
    )


if __name__ == "__main__":
    main()
