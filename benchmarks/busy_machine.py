"""Training on a machine where another process holds a core: the default thread count.

A spinning process (``python -c "while True: pass"``) is pinned to the first usable
core, then the same small `sup train` job (tiny Shakespeare, characters; 2 layers,
width 128, block 128, batch 16) runs under four thread settings, in this one process:

- ``threads=1``: the baseline;
- ``threads=0``: sup's default (``engine/device.py``: the usable cores minus the busy ones);
- ``threads=N``: every usable core (what PyTorch picks by itself);
- ``threads=0`` again with nothing else running (the idle machine, for reference).

Each reports tokens / wall second over its timed steps (the first two are warm-up),
timed here around the steps, and its ratio to the baseline. Target: the default is
within 0.8x of the best setting on the busy machine, and never the 100x collapse of
spinning threads contending for a held core.

    python benchmarks/busy_machine.py [--steps 30]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import machine, prepared_char_data, shakespeare_path
from sup.engine.config import TrainConfig
from sup.engine.device import default_threads, usable_cores
from sup.engine.train import Reporter, train

SHAPE = dict(n_layer=2, n_head=4, n_embd=128, block_size=128, batch_size=16)
WARMUP = 2


class StepClock(Reporter):
    """Wall time of each step, measured here (not the trainer's own figures)."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def step(self, record: dict) -> None:
        self.times.append(time.perf_counter())


def tokens_per_s(data: Path, threads: int, steps: int) -> float:
    run = Path(tempfile.mkdtemp(prefix="sup-bench-busy-")) / "run"
    cfg = TrainConfig(
        **SHAPE, max_iters=WARMUP + steps, eval_interval=10_000, eval_iters=1,
        warmup_iters=0, precision="fp32", threads=threads,
    )  # fmt: skip
    clock = StepClock()
    train(run, cfg, data, reporter=clock)
    timed = clock.times[WARMUP - 1 :]
    per_step = SHAPE["batch_size"] * SHAPE["block_size"]
    return per_step * (len(timed) - 1) / (timed[-1] - timed[0])


def spinner(core: int) -> subprocess.Popen:
    code = f"import os; os.sched_setaffinity(0, {{{core}}})\nwhile True: pass"
    return subprocess.Popen([sys.executable, "-c", code])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", help="tinyshakespeare.txt (default: ../shared/data)")
    ap.add_argument("--steps", type=int, default=30, help="timed steps per setting")
    args = ap.parse_args()
    data = prepared_char_data(shakespeare_path(args.corpus))
    cores = usable_cores()
    print(f"machine: {machine()}; usable cores {cores} (os.cpu_count() {os.cpu_count()})")
    print(f"model: {SHAPE}, fp32, {args.steps} timed steps per setting")
    busy = spinner(cores[0])
    try:
        time.sleep(1.0)
        chosen = default_threads()
        print(f"busy machine: one core spinning; sup's default chooses {chosen} thread(s)")
        results = {}
        for label, threads in (
            ("threads=1 (baseline)", 1),
            ("threads=0 (sup default)", 0),
            (f"threads={len(cores)} (every core)", len(cores)),
        ):
            results[label] = tokens_per_s(data, threads, args.steps)
    finally:
        busy.kill()
        busy.wait()
    time.sleep(0.5)
    idle = tokens_per_s(data, 0, args.steps)
    base = results["threads=1 (baseline)"]
    for label, tps in results.items():
        print(f"  {label:30s} {tps:9,.0f} tok/s  ratio {tps / base:6.2f}x")
    print(f"idle machine: threads=0 chooses {default_threads()}: {idle:,.0f} tok/s")
    best = max(results.values())
    default = results["threads=0 (sup default)"]
    verdict = "MET" if default >= 0.8 * best else "NOT MET"
    print(f"target: default >= 0.8x the best busy-machine setting: {default / best:.2f}x {verdict}")


if __name__ == "__main__":
    main()
