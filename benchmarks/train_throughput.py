"""Training throughput and MFU: `sup train` (both architectures) against a plain fp32 loop.

Model: nanoGPT's shakespeare_char shape (6 layers, 6 heads, 384 wide, block 256) at
batch 32, on tiny Shakespeare as characters. Conditions, all in this one process on the
same data:

- the baseline: ``plain_gpt.py``, a nanoGPT-style fp32 loop that imports nothing from sup;
- ``sup train`` with ``precision=auto`` for ``arch=base`` and ``arch=modern``.

Each skips its first two steps (warm-up) and reports tokens / wall seconds of the timed
steps. MFU = tokens/s x training FLOPs per token / the machine's matmul peak, where the
FLOPs per token are ``6 N + 12 n_layer n_embd block`` (N: parameters without the
position table; PaLM appendix B) and the peak is measured here, now, as the best
square-matmul FLOP/s in the condition's precision (bf16 for sup on a CPU with native
bf16, fp32 for the baseline). Target: >= 50% MFU for both architectures.

    python benchmarks/train_throughput.py [--steps 6] [--baseline-steps 3] [--compile]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch

from _common import machine, prepared_char_data, shakespeare_path
from plain_gpt import train_tokens_per_s
from sup.engine.config import TrainConfig
from sup.engine.device import peak_flops
from sup.engine.train import train
from sup.formats.data import load_meta, load_tokens

SHAPE = dict(n_layer=6, n_head=6, n_embd=384, block_size=256, batch_size=32)
WARMUP = 2
TARGET_MFU = 0.50


def flops_per_token(params_without_positions: int) -> int:
    return (
        6 * params_without_positions
        + 12 * SHAPE["n_layer"] * SHAPE["n_embd"] * (SHAPE["block_size"])
    )


def sup_train(data_dir: Path, arch: str, steps: int, compile: bool) -> dict:
    run = Path(tempfile.mkdtemp(prefix="sup-bench-run-")) / "run"
    cfg = TrainConfig(
        **SHAPE,
        arch=arch,
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
    per_step = SHAPE["batch_size"] * SHAPE["block_size"]
    seconds = sum(per_step / r["tokens_per_s"] for r in timed)
    n = result["params"] - (SHAPE["block_size"] * SHAPE["n_embd"] if arch == "base" else 0)
    return {
        "tokens_per_s": per_step * len(timed) / seconds,
        "precision": result["precision"],
        "flops_per_token": flops_per_token(n),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", help="tinyshakespeare.txt (default: ../shared/data)")
    ap.add_argument("--steps", type=int, default=6, help="timed steps of sup train")
    ap.add_argument("--baseline-steps", type=int, default=3, help="timed steps of the fp32 loop")
    ap.add_argument("--compile", action="store_true", help="also time compile=true")
    ap.add_argument("--arch", choices=("base", "modern", "both"), default="both")
    args = ap.parse_args()
    data = prepared_char_data(shakespeare_path(args.corpus))
    vocab = load_meta(data)["tokenizer"]["vocab_size"]
    tokens = load_tokens(data, "train").slice(0, len(load_tokens(data, "train")))
    cpu = torch.device("cpu")
    peaks = {p: peak_flops(cpu, p) for p in ("fp32", "bf16")}
    print(f"machine: {machine()}")
    print(
        f"measured matmul peak: fp32 {peaks['fp32'] / 1e9:,.0f} GFLOP/s, "
        f"bf16 {peaks['bf16'] / 1e9:,.0f} GFLOP/s"
    )
    print(f"model: shakespeare_char shape {SHAPE}, vocab {vocab}")

    base_tps, base_params = train_tokens_per_s(tokens, vocab, SHAPE, args.baseline_steps, WARMUP)
    base_fpt = flops_per_token(base_params - SHAPE["block_size"] * SHAPE["n_embd"])
    print(
        f"{'plain fp32 loop (baseline)':32s} {base_tps:8,.0f} tok/s  "
        f"MFU {base_tps * base_fpt / peaks['fp32']:6.1%} of fp32 peak"
    )
    archs = ("base", "modern") if args.arch == "both" else (args.arch,)
    verdicts = []
    for compile in (False, True) if args.compile else (False,):
        for arch in archs:
            r = sup_train(data, arch, args.steps, compile)
            mfu = r["tokens_per_s"] * r["flops_per_token"] / peaks[r["precision"]]
            label = f"sup train {arch} ({r['precision']}{', compile' if compile else ''})"
            print(
                f"{label:32s} {r['tokens_per_s']:8,.0f} tok/s  MFU {mfu:6.1%} of "
                f"{r['precision']} peak  ratio {r['tokens_per_s'] / base_tps:.2f}x"
            )
            if not compile:
                verdicts.append(f"{arch} {'MET' if mfu >= TARGET_MFU else 'NOT MET'}")
    print(f"target: MFU >= {TARGET_MFU:.0%} -> {', '.join(verdicts)}")


if __name__ == "__main__":
    main()
