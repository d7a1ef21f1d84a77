"""The modern training options at CPU scale: AdamW vs Muon, dense vs mixture of experts.

Tiny Shakespeare (char, nanoGPT's split), one model shape, the same token budget per
run, three seeds per condition (each condition runs the same seeds: the seed sets the
initialisation and the batch order, so paired seeds compare like with like). Every run
is the real CLI (`sup train` in a subprocess); the figure is the final val loss (nats
per char) on the run's fixed val windows, then `sup eval` over the whole val split.
Prints per-condition mean ± std and each condition's difference from the baseline
(dense AdamW) with its paired-seed mean and std. Also wall seconds and tokens/s: the
MoE computes every expert (engine/moe.py), so it is slower per token by design.

    python benchmarks/training_options.py [--seeds 1,2,3] [--iters 400]
        [--conditions dense-adamw,dense-muon]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine, prepared_char_data, shakespeare_path

SHAPE = {"arch": "modern", "n_layer": 4, "n_head": 2, "n_embd": 128, "block_size": 128,
         "batch_size": 16, "dropout": 0.0, "eval_interval": 10**6, "eval_iters": 40,
         "warmup_iters": 20, "min_lr": 1e-4, "threads": 2, "precision": "bf16"}  # fmt: skip
CONDITIONS = {
    "dense-adamw": {"learning_rate": 3e-3},
    "dense-muon": {"learning_rate": 3e-3, "optimizer": "muon", "muon_lr": 0.02},
    "moe-adamw": {"learning_rate": 3e-3, "mlp": "moe", "moe_experts": 4, "moe_top_k": 2},
}


def sup(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "sup.cli", *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True)


def run(data: Path, values: dict, seed: int, iters: int) -> dict:
    out = Path(tempfile.mkdtemp(prefix="sup-opt-")) / "run"
    sets = [f"--set={k}={str(v).lower() if isinstance(v, bool) else v}"
            for k, v in {**SHAPE, **values, "seed": seed, "max_iters": iters}.items()]  # fmt: skip
    t0 = time.perf_counter()
    result = json.loads(sup("train", "--data", str(data), "--out", str(out), "--quiet",
                            "--json", *sets).stdout)  # fmt: skip
    wall = time.perf_counter() - t0
    full = json.loads(sup("eval", str(out), "--text", str(data / "val.txt"), "--json").stdout)
    return {"val_loss": result["val_loss"], "full": full["token_loss"], "wall": wall,
            "tok_s": result["tokens_per_s"], "params": result["params"]}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", help="tinyshakespeare.txt (default: ../shared/data)")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--iters", type=int, default=400)
    ap.add_argument(
        "--conditions",
        default=",".join(CONDITIONS),
        help="which conditions (dense-adamw, the baseline, always runs)",
    )
    args = ap.parse_args()
    names = ["dense-adamw"] + [n for n in args.conditions.split(",") if n != "dense-adamw"]
    unknown = [n for n in names if n not in CONDITIONS]
    if unknown:
        ap.error(f"unknown condition {unknown[0]!r}; choose from {', '.join(CONDITIONS)}")
    seeds = [int(s) for s in args.seeds.split(",")]
    data = prepared_char_data(shakespeare_path(args.corpus))
    print(f"machine: {machine()}")
    print(f"shape: {SHAPE}, {args.iters} steps x {SHAPE['batch_size'] * SHAPE['block_size']} "
          f"tokens, seeds {seeds}")  # fmt: skip
    results = {name: [run(data, CONDITIONS[name], s, args.iters) for s in seeds]
               for name in names}  # fmt: skip
    base = results["dense-adamw"]
    for name, rows in results.items():
        full = [r["full"] for r in rows]
        diff = [r["full"] - b["full"] for r, b in zip(rows, base, strict=True)]
        sd = statistics.stdev(full) if len(full) > 1 else 0.0
        dsd = statistics.stdev(diff) if len(diff) > 1 else 0.0
        print(
            f"{name:12s} params {rows[0]['params']:,}  val loss (whole split) "
            f"{statistics.mean(full):.4f} ± {sd:.4f}  vs dense-adamw {statistics.mean(diff):+.4f}"
            f" ± {dsd:.4f} (paired)  window val {statistics.mean(r['val_loss'] for r in rows):.4f}"
            f"  {statistics.mean(r['tok_s'] for r in rows):,.0f} tok/s  "
            f"{statistics.mean(r['wall'] for r in rows):.1f} s/run"
        )
        print(f"  per seed: {', '.join(f'{x:.4f}' for x in full)}")


if __name__ == "__main__":
    main()
