"""Time to quality: wall seconds of `sup train` until val loss <= 1.88 on tiny Shakespeare.

Runs the real CLI (`sup train configs/shakespeare-char-cpu.toml`) as a subprocess per
seed, timing the whole command (interpreter start-up and final eval included), then
`sup eval` over the entire val split (last 10% of the text, non-overlapping windows).
Reference: nanoGPT's CPU baby config reaches val loss 1.886 in 87 s on this machine kind.

    python benchmarks/shakespeare_time_to_quality.py [--seeds 1337,1,2]
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

from _common import REPO, machine, prepared_char_data, shakespeare_path

CONFIG = REPO / "configs" / "shakespeare-char-cpu.toml"
TARGET_LOSS, TARGET_S = 1.88, 15.0


def sup(*args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "sup.cli", *args]
    return subprocess.run(cmd, check=True, capture_output=True, text=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", help="tinyshakespeare.txt (default: ../shared/data)")
    ap.add_argument("--seeds", default="1337", help="comma-separated seeds, one run each")
    ap.add_argument("--config", default=str(CONFIG))
    args = ap.parse_args()
    data = prepared_char_data(shakespeare_path(args.corpus))
    print(f"machine: {machine()}")
    print(f"config: {args.config}")
    rows = []
    for seed in [int(s) for s in args.seeds.split(",")]:
        run = Path(tempfile.mkdtemp(prefix="sup-ttq-")) / "run"
        t0 = time.perf_counter()
        sup(
            "train",
            args.config,
            "--data",
            str(data),
            "--out",
            str(run),
            "--quiet",
            "--set",
            f"seed={seed}",
        )
        wall = time.perf_counter() - t0
        last = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
        full = json.loads(sup("eval", str(run), "--text", str(data / "val.txt"), "--json").stdout)
        rows.append((seed, wall, last["val_loss"], full["token_loss"], full["bits_per_char"]))
        print(
            f"seed {seed}: wall {wall:5.1f} s  val_loss (fixed windows) {last['val_loss']:.4f}  "
            f"full-val loss {full['token_loss']:.4f}  bpc {full['bits_per_char']:.4f}"
        )
    walls = [r[1] for r in rows]
    losses = [r[3] for r in rows]
    spread = f" (sd {statistics.stdev(losses):.4f})" if len(rows) > 1 else ""
    print(
        f"mean: wall {statistics.mean(walls):.1f} s, full-val loss {statistics.mean(losses):.4f}"
        f"{spread}"
    )
    ok = max(walls) <= TARGET_S and max(losses) <= TARGET_LOSS
    print(
        f"target: val loss <= {TARGET_LOSS} in <= {TARGET_S:.0f} s -> {'MET' if ok else 'NOT MET'}"
    )


if __name__ == "__main__":
    main()
