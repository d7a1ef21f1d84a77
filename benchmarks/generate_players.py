"""Generation speed of every Python player, with and without the KV cache.

One model, the 10.65M shakespeare_char shape (base arch, 6x384, block 256, random
weights: speed does not depend on what they say), one sequence, greedy, a 1-token
context and 256 new tokens (the cache restarts once, at the last token). Measured in
one process, one after another:

- PyTorch, KV cache (``sup sample``) and no cache (nanoGPT's loop: the whole context
  re-run for every token);
- ONNX Runtime, the bundle's KV graph (``sup NAME``, ``sup serve``) and the full
  graph re-run per token (how GuppyLM's and sup-computer's players generate);
- the same two ONNX paths on the int8 graphs, and the int8/fp32 size ratio.

    python benchmarks/generate_players.py [--new-tokens 256] [--threads 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from _common import machine
from sup.engine.generate import generate
from sup.engine.model import GPT, ModelConfig
from sup.play.runtime import KvRunner, generate_ids, ort_session
from sup.ship.export import export_graphs
from sup.ship.quantize import quantize_graph

GENERATION = {"cache_restart_keep": 128, "banned_ids": [], "stop_ids": []}


def timed(tokens_fn) -> tuple[float, list[int]]:
    t0 = time.perf_counter()
    out = list(tokens_fn())
    return len(out) / (time.perf_counter() - t0), out


def onnx_paths(graph_dir: Path, info: dict, n_new: int, threads: int) -> dict:
    kv = KvRunner(ort_session(graph_dir / "model.kv.onnx", threads), info)
    full_sess = ort_session(graph_dir / "model.onnx", threads)

    def full(ids):
        return full_sess.run(None, {"input_ids": torch.tensor([ids]).numpy()})[0]

    def run(use_cache):
        return generate_ids(
            kv, [0], n_new, GENERATION, temperature=0.0, full=None if use_cache else full
        )

    list(run(True))  # warm-up
    cached, a = timed(lambda: run(True))
    uncached, b = timed(lambda: run(False))
    return {"kv": cached, "full": uncached, "same": a == b, "tokens": a}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--new-tokens", type=int, default=256)
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cfg = ModelConfig(vocab_size=67, block_size=256, n_layer=6, n_head=6, n_embd=384)
    model = GPT(cfg).eval()
    info = {"n_layer": 6, "n_head": 6, "head_dim": 64, "block_size": 256}
    print(f"machine: {machine()}; onnxruntime intra-op threads {args.threads}")
    print(f"model: {model.stats().params / 1e6:.2f}M params, block 256, fp32, greedy")
    print(f"generating {args.new_tokens} tokens from a 1-token context\n")

    def torch_run(use_cache):
        return generate(model, [0], args.new_tokens, temperature=0.0, use_cache=use_cache)

    list(generate(model, [0], 16, temperature=0.0))  # warm-up
    pt_kv, pt_tokens = timed(lambda: torch_run(True))
    pt_full, pt_full_tokens = timed(lambda: torch_run(False))
    rows = [("PyTorch", pt_kv, pt_full, pt_tokens == pt_full_tokens)]

    with tempfile.TemporaryDirectory() as tmp:
        fp32_dir, int8_dir = Path(tmp) / "fp32", Path(tmp) / "int8"
        fp32_dir.mkdir()
        int8_dir.mkdir()
        export_graphs(model, fp32_dir)
        for name in ("model.onnx", "model.kv.onnx"):
            quantize_graph(fp32_dir / name, int8_dir / name)
        fp32 = onnx_paths(fp32_dir, info, args.new_tokens, args.threads)
        int8 = onnx_paths(int8_dir, info, args.new_tokens, args.threads)
        rows.append(("ONNX Runtime fp32", fp32["kv"], fp32["full"], fp32["same"]))
        rows.append(("ONNX Runtime int8", int8["kv"], int8["full"], int8["same"]))
        size = {d.name: sum(f.stat().st_size for f in d.iterdir()) for d in (fp32_dir, int8_dir)}

    print(f"{'player':<20}{'KV tok/s':>10}{'no-cache tok/s':>16}{'ratio':>8}  greedy same")
    for name, kv, full, same in rows:
        print(f"{name:<20}{kv:>10.1f}{full:>16.1f}{kv / full:>7.1f}x  {same}")
    agree = fp32["tokens"] == pt_tokens
    print(f"\nONNX fp32 KV greedy tokens == PyTorch greedy tokens: {agree}")
    ratio = size["int8"] / size["fp32"]
    print(
        f"graphs: fp32 {size['fp32'] / 1e6:.1f} MB, int8 {size['int8'] / 1e6:.1f} MB "
        f"({ratio:.0%}; target <= 35%: {'MET' if ratio <= 0.35 else 'NOT MET'})"
    )
    worst = min(kv / full for _, kv, full, _ in rows)
    print(f"target: KV >= 5x no-cache at {args.new_tokens} tokens, every player -> ", end="")
    print("MET" if worst >= 5 else f"NOT MET (worst {worst:.1f}x)")


if __name__ == "__main__":
    main()
