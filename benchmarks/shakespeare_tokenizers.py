"""Tokenizers compared for the shakespeare instrument at equal parameters and equal wall time.

Each tokenizer gets the same transformer body (the embedding table grows with the vocab;
both counts are printed) and the same training wall time: a 30-step pilot measures its
tokens/s, then ``max_iters`` is set so training takes ``--minutes``. Every run goes
through the real CLI (`sup prepare`, `sup train`), on a corpus split by work
(`sup data shakespeare`), and is scored by the instrument's harness: bits per character
of each whole validation work (Julius Caesar, Twelfth Night, the Sonnets), every
character counted. The choice is made on validation; test plays are never looked at here.

    python benchmarks/shakespeare_tokenizers.py [--works DIR] [--minutes 6]
        [--tokenizers char,bpe:512,bpe:1024,bpe:2048] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import REPO, SHARED_DATA, machine

BODY = dict(arch="modern", n_layer=6, n_head=4, n_embd=256, block_size=256, batch_size=16,
            dropout=0.0, learning_rate=2e-3, min_lr=1e-4, warmup_iters=50, beta2=0.99,
            weight_decay=0.1, eval_iters=20, seed=1337)  # fmt: skip
PILOT_STEPS = 30


def sup(*args) -> str:
    cmd = [sys.executable, "-m", "sup.cli", *map(str, args)]
    return subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=REPO).stdout


def sets(values: dict) -> list[str]:
    return [item for k, v in values.items() for item in ("--set", f"{k}={v}")]


def tokens_per_second(run: Path) -> float:
    """Median tokens/s of the pilot's steps after the first ten (warm-up excluded)."""
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    speeds = sorted(r["tokens_per_s"] for r in rows if r["step"] > 10)
    return speeds[len(speeds) // 2]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--works", help="a corpus written by `sup data shakespeare` (default: "
                    "built from ../shared/data/shakespeare-works)")  # fmt: skip
    ap.add_argument("--tokenizers", default="char,bpe:512,bpe:1024,bpe:2048")
    ap.add_argument("--minutes", type=float, default=6.0, help="training wall time per run")
    ap.add_argument("--set", action="append", default=[], help="a body key on top of BODY")
    ap.add_argument("--out", help="keep the runs here (default: a temp dir)")
    args = ap.parse_args()
    root = Path(args.out or tempfile.mkdtemp(prefix="sup-tok-"))
    root.mkdir(parents=True, exist_ok=True)
    works = Path(args.works) if args.works else root / "works"
    if not works.exists():
        sup("data", "shakespeare", "--from", SHARED_DATA / "shakespeare-works", "--out", works)
    body = dict(BODY)
    for item in args.set:
        key, value = item.split("=", 1)
        body[key] = value
    print(f"machine: {machine()}")
    print(f"body: {body}; {args.minutes:g} min of training each")
    rows = []
    for spec in args.tokenizers.split(","):
        name = spec.replace(":", "")
        data = root / f"data-{name}"
        if not (data / "meta.json").is_file():
            sup("prepare", works, "--tokenizer", spec, "--out", data)
        meta = json.loads((data / "meta.json").read_text())
        pilot = root / f"pilot-{name}"
        pilot_sets = {
            **body,
            "max_iters": PILOT_STEPS,
            "eval_interval": PILOT_STEPS,
            "eval_iters": 1,
        }
        sup("train", "--data", data, "--out", pilot, "--quiet", "--force", *sets(pilot_sets))
        speed = tokens_per_second(pilot)
        tokens_per_step = int(body["batch_size"]) * int(body["block_size"])
        steps = max(PILOT_STEPS, int(args.minutes * 60 * speed / tokens_per_step))
        run = root / f"run-{name}"
        t0 = time.perf_counter()
        sup("train", "--data", data, "--out", run, "--quiet", "--force",
            *sets({**body, "max_iters": steps, "eval_interval": max(steps // 4, 1)}))  # fmt: skip
        wall = time.perf_counter() - t0
        report = json.loads(sup("harness", "shakespeare", run, "--corpus", works, "--samples",
                                "1", "--tokens", "1", "--json"))  # fmt: skip
        info = json.loads((run / "run.json").read_text())
        val = report["sides"]["val"]
        chars_per_token = meta["train"]["chars"] / meta["train"]["tokens"]
        row = dict(tokenizer=spec, vocab=meta["tokenizer"]["vocab_size"],
                   params=info["model"]["params"], chars_per_token=chars_per_token, steps=steps,
                   chars_seen=steps * tokens_per_step * chars_per_token, wall=wall,
                   val_bpc=val["bits_per_char"],
                   per_work={w["work"]: w["bits_per_char"] for w in report["works"]
                             if w["side"] == "val"})  # fmt: skip
        rows.append(row)
        print(json.dumps(row), flush=True)
    print()
    print("| tokenizer | vocab | params | chars/token | steps | train chars seen | wall | "
          "val bits/char |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['tokenizer']} | {r['vocab']:,} | {r['params'] / 1e6:.2f}M | "
              f"{r['chars_per_token']:.2f} | {r['steps']:,} | {r['chars_seen'] / 1e6:.1f}M | "
              f"{r['wall']:.0f} s | {r['val_bpc']:.3f} |")  # fmt: skip
    best = min(rows, key=lambda r: r["val_bpc"])
    print(f"\nlowest validation bits per character: {best['tokenizer']} ({best['val_bpc']:.3f})")


if __name__ == "__main__":
    main()
