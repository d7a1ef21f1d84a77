"""Streaming `sup prepare`: wall time and peak memory on a generated ~1 GB text file.

Three measurements, all in this run:

1. the baseline: what a from-scratch prepare script does (nanoGPT's shakespeare_char
   ``prepare.py``: read the whole text, a Python list of ids, ``np.array``), on tiny
   Shakespeare, written here and importing nothing from sup;
2. sup's ``prepare()`` on tiny Shakespeare, in-process like the baseline;
3. the real `sup prepare` command on a generated corpus of about ``--size-mb`` MB
   (tiny Shakespeare's lines, shuffled by a seeded generator, until the size is
   reached), with the peak RSS of the `sup prepare` process (``ru_maxrss``).

Throughput is source MB (UTF-8 bytes) per wall second (for 3, of the whole command,
interpreter start-up included). Targets: peak RSS under 1.5 GB on the large corpus,
and MB/s on it at least the baseline's on tiny Shakespeare.

    python benchmarks/prepare_stream.py [--size-mb 1000] [--tokenizer char]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import machine, shakespeare_path

RSS_TARGET = 1.5e9


def baseline_prepare(corpus: Path, out: Path) -> float:
    """nanoGPT-style char prepare (whole text in memory); returns wall seconds."""
    t0 = time.perf_counter()
    data = corpus.read_text(encoding="utf-8")
    chars = sorted(set(data))
    stoi = {c: i for i, c in enumerate(chars)}
    n = len(data)
    train, val = data[: int(n * 0.9)], data[int(n * 0.9) :]
    out.mkdir(parents=True, exist_ok=True)
    np.array([stoi[c] for c in train], dtype=np.uint16).tofile(out / "train.bin")
    np.array([stoi[c] for c in val], dtype=np.uint16).tofile(out / "val.bin")
    return time.perf_counter() - t0


def generate_corpus(source: Path, out: Path, size_bytes: int, seed: int = 0) -> int:
    """Shuffled lines of ``source`` until ``size_bytes``; written in blocks."""
    lines = [line + "\n" for line in source.read_text(encoding="utf-8").splitlines()]
    rng = random.Random(seed)
    written = 0
    with open(out, "w", encoding="utf-8") as f:
        while written < size_bytes:
            block = "".join(rng.choices(lines, k=20_000))
            f.write(block)
            written += len(block.encode("utf-8"))
    return written


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", help="tinyshakespeare.txt (default: ../shared/data)")
    ap.add_argument("--size-mb", type=float, default=1000.0)
    ap.add_argument("--tokenizer", default="char")
    ap.add_argument("--keep", action="store_true", help="keep the generated files")
    args = ap.parse_args()
    source = shakespeare_path(args.corpus)
    work = Path(tempfile.mkdtemp(prefix="sup-prepare-bench-"))
    print(f"machine: {machine()}")
    small_mb = source.stat().st_size / 1e6

    base_s = baseline_prepare(source, work / "baseline")
    print(f"baseline (whole text, Python lists), tiny Shakespeare: {small_mb / base_s:6.2f} MB/s")
    from sup.engine.prepare import prepare  # in-process, like the baseline

    t0 = time.perf_counter()
    prepare(source, args.tokenizer, work / "small")
    sup_small_s = time.perf_counter() - t0
    print(
        f"sup prepare --tokenizer {args.tokenizer}, tiny Shakespeare (in-process): "
        f"{small_mb / sup_small_s:6.2f} MB/s  ratio {base_s / sup_small_s:.2f}x"
    )

    big = work / "big.txt"
    size = generate_corpus(source, big, int(args.size_mb * 1e6))
    wall, rss = sup_prepare(big, work / "big", args.tokenizer)
    print(
        f"sup prepare --tokenizer {args.tokenizer}, generated {size / 1e6:,.0f} MB: "
        f"{wall:.1f} s, {size / 1e6 / wall:6.2f} MB/s, peak RSS {rss / 1e9:.2f} GB"
    )
    ok_rss = rss < RSS_TARGET
    ok_speed = size / 1e6 / wall >= small_mb / base_s
    print(
        f"target: peak RSS < {RSS_TARGET / 1e9:.1f} GB -> {'MET' if ok_rss else 'NOT MET'}; "
        f"MB/s at scale >= the baseline's on tiny Shakespeare -> "
        f"{'MET' if ok_speed else 'NOT MET'}"
    )
    if not args.keep:
        subprocess.run(["rm", "-rf", str(work)], check=False)


def sup_prepare(corpus: Path, out: Path, tokenizer: str) -> tuple[float, int]:
    """Wall seconds and peak RSS (bytes) of the real `sup prepare` command, run under a
    fresh wrapper process so that ``ru_maxrss`` of its children is this command's own."""
    code = (
        "import resource, subprocess, sys, time;"
        "t = time.perf_counter();"
        "subprocess.run(sys.argv[1:], check=True, capture_output=True);"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    cmd = [sys.executable, "-m", "sup.cli", "prepare", str(corpus), "--out", str(out)]
    cmd += ["--tokenizer", tokenizer, "--force"]
    proc = subprocess.run(
        [sys.executable, "-c", code, *cmd],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ},
    )
    wall, peak_kb = proc.stdout.split()
    return float(wall), int(peak_kb) * 1024


if __name__ == "__main__":
    main()
