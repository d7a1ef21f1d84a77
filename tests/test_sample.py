"""`sup sample`: streaming, seeds, greedy cache equivalence, long prompts, closed pipes."""

from __future__ import annotations

import subprocess

import pytest

from helpers import BLOCK, SUB_ENV, run_sup_many, sup_cmd, sup_ok
from sup.errors import UsageError
from sup.instruments.kenosha import generate_corpus
from sup.play.sampling import check_sampling

pytestmark = pytest.mark.slow


def test_streams_to_stdout_and_stops_quietly_when_the_pipe_closes(char_run):
    """Like `sup sample RUN --max-new-tokens 20000 | head -c 20`: the first bytes arrive
    while generation is still running, and closing the pipe early ends it cleanly."""
    proc = subprocess.Popen(
        sup_cmd("sample", char_run, "--max-new-tokens", 20000, "--temperature", 0),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=SUB_ENV,
    )
    try:
        head = proc.stdout.read(20)
        still_running = proc.poll() is None
        proc.stdout.close()
        err = proc.stderr.read().decode("utf-8", errors="replace")
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(head) == 20
    assert still_running  # 20000 tokens take seconds: the output was streamed
    assert "Traceback" not in err and "Exception ignored" not in err, err
    assert "BrokenPipe" not in err, err
    assert proc.returncode == 0, err


def test_seed_is_reproducible_and_seeds_differ(char_run):
    args = ["sample", char_run, "--prompt", "You", "--max-new-tokens", 150, "--temperature", 1,
            "--num-samples", 2]  # fmt: skip
    procs = run_sup_many([*args, "--seed", 1], [*args, "--seed", 1], [*args, "--seed", 2])
    for proc in procs:
        assert proc.returncode == 0, proc.stderr
    first, again, other = (proc.stdout for proc in procs)
    assert first == again
    assert first != other
    samples = first.split("\n---\n")
    assert len(samples) == 2
    assert all(s.startswith("You") for s in samples)
    assert samples[0] != samples[1]  # the generator moves on between samples
    # it generated text, not just the prompt (a sample may end early on <|endoftext|>)
    assert all(len(s) > len("You") for s in samples)


@pytest.mark.parametrize("prompt", ["", "Kid"])
def test_greedy_cached_equals_uncached(char_run, prompt):
    n = BLOCK - 1 - len(prompt)  # the whole generation fits in one context window
    args = ["sample", char_run, "--prompt", prompt, "--temperature", 0, "--max-new-tokens", n]
    procs = run_sup_many(args, [*args, "--no-cache"])
    for proc in procs:
        assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    cached, uncached = (proc.stdout for proc in procs)
    assert cached == uncached
    assert cached.startswith(prompt)
    assert len(cached) == len(prompt) + n + 1  # n characters and the final newline


def test_prompt_longer_than_the_context_prints_a_notice(char_run, kenosha_txt):
    prompt = kenosha_txt.read_text(encoding="utf-8")[:40]
    proc = sup_ok("sample", char_run, "--prompt", prompt, "--max-new-tokens", 30, "--seed", 3)
    notes = proc.stderr.strip().splitlines()
    assert notes == [f"note: prompt is 40 tokens; using its last {BLOCK} (the model's context)"]
    assert proc.stdout.startswith(prompt)
    assert len(proc.stdout) > len(prompt) + 1


def test_bpe_sample_is_valid_utf8(bpe_run):
    proc = subprocess.run(
        sup_cmd("sample", bpe_run, "--prompt", "世界 🎉", "--max-new-tokens", 200,
                "--temperature", 1.2, "--seed", 5),
        capture_output=True, env=SUB_ENV, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode("utf-8")  # strict: streaming never splits a character
    assert text.startswith("世界 🎉")


def test_sample_with_top_k_and_top_p(char_run):
    proc, greedy = run_sup_many(
        ["sample", char_run, "--max-new-tokens", 100, "--top-k", 1, "--top-p", 0.5,
         "--temperature", 1.0],
        ["sample", char_run, "--max-new-tokens", 100, "--temperature", 0],
    )  # fmt: skip
    assert proc.returncode == 0 and greedy.returncode == 0
    assert proc.stdout == greedy.stdout  # top-k 1 is greedy whatever the temperature
    # the corpus has only a few dozen characters; everything printed must be one of them
    alphabet = set(generate_corpus(2000))
    assert set(proc.stdout) <= alphabet


def test_check_sampling_flags():
    check_sampling(0.0, None, None)
    check_sampling(1.5, 1, 1.0)
    for temperature, top_k, top_p in ((-1, None, None), (float("nan"), None, None),
                                      (1, 0, None), (1, None, 0.0), (1, None, 1.5)):  # fmt: skip
        with pytest.raises(UsageError):
            check_sampling(temperature, top_k, top_p)


def test_start_context_follows_the_training_data():
    from sup.engine.vocab import ByteTokenizer, CharTokenizer
    from sup.play.sampling import start_context

    tok = CharTokenizer(list("ab\n"))
    newline = tok.encode("\n")
    # one text file: the model never saw <|endoftext|>, so start at a line boundary
    assert start_context(tok, [], 16, multi_document=False) == newline
    # several documents: a new document starts after <|endoftext|>
    assert start_context(tok, [], 16, multi_document=True) == [tok.eot_id]
    # a prompt follows the document start; a long one keeps its last block tokens
    assert start_context(tok, [0, 1], 16, multi_document=False) == [tok.eot_id, 0, 1]
    assert start_context(tok, list(range(3)) * 10, 16, False) == (list(range(3)) * 10)[-16:]
    # no newline in the vocabulary: fall back to the document start
    no_newline = CharTokenizer(list("ab"))
    assert start_context(no_newline, [], 16, multi_document=False) == [no_newline.eot_id]
    assert start_context(ByteTokenizer(), [], 16, multi_document=False) == [10]
