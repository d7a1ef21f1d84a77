"""End to end through the real CLI: corpus -> prepare -> train (stop, resume) -> sample
-> eval, with a genuinely tiny model. The whole path takes a few seconds of compute;
most of the wall time is interpreter start-ups importing torch."""

from __future__ import annotations

import json
import math
import time

from helpers import read_metrics, run_sup_many, sets, sup_ok


def test_smoke_end_to_end(tmp_path):
    t0 = time.monotonic()
    corpus = tmp_path / "kenosha.txt"
    data = tmp_path / "data"
    run = tmp_path / "run"

    sup_ok("data", "kenosha", "--out", corpus, "--lines", 1500, "--seed", 1)
    sup_ok("prepare", corpus, "--tokenizer", "char", "--out", data)
    vocab = json.loads((data / "meta.json").read_text())["tokenizer"]["vocab_size"]

    config = sets(max_iters=120, eval_interval=20, eval_iters=4, batch_size=8, dropout=0.0)
    first = sup_ok("train", "--data", data, "--out", run, "--stop-after", 60, "--json", *config)
    assert json.loads(first.stdout)["step"] == 60
    assert "training" in first.stderr  # progress went to stderr, the result to stdout
    final = json.loads(sup_ok("train", "--resume", run, "--json", "--quiet").stdout)
    assert final["finished"] and final["step"] == 120

    metrics = read_metrics(run)
    assert [r["step"] for r in metrics] == list(range(1, 121))
    evals = [r["val_loss"] for r in metrics if "val_loss" in r]
    assert len(evals) == 6
    initial = metrics[0]["loss"]
    assert math.isclose(initial, math.log(vocab), rel_tol=0.1)  # untrained: about uniform
    assert final["val_loss"] == evals[-1]
    assert evals[-1] < evals[0] < initial  # it learned
    assert evals[-1] < 0.8 * initial

    sample, evaluate = run_sup_many(
        ["sample", run, "--prompt", "You", "--max-new-tokens", 80, "--seed", 2],
        ["eval", run, "--text", data / "val.txt", "--json"],
    )
    assert sample.returncode == 0 and evaluate.returncode == 0, sample.stderr + evaluate.stderr
    assert sample.stdout.startswith("You")
    assert len(sample.stdout.strip()) > len("You")

    result = json.loads(evaluate.stdout)
    assert result["chars"] == len((data / "val.txt").read_text(encoding="utf-8"))
    assert math.isclose(result["token_loss"], final["best_val_loss"], rel_tol=0.1)
    assert result["bits_per_char"] < math.log2(vocab)

    elapsed = time.monotonic() - t0
    assert elapsed < 90, f"smoke path took {elapsed:.1f}s"  # ~15 s on a 2-core CPU
