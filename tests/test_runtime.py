"""The torch-free player runtime (sup/runtime.py) and its sampling rule (sup/sampling.py)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from helpers import sup_ok
from sup.engine.generate import pick_token
from sup.play.runtime import OnnxLM
from sup.play.sampling import Utf8Stream, pick_token_np


def greedy_text(lm: OnnxLM, prompt: str, n: int, use_cache: bool = True) -> str:
    ctx, _ = lm.context(prompt)
    stream = Utf8Stream()
    text = "".join(
        stream.push(lm.tokenizer.token_bytes(t))
        for t in lm.generate(ctx, n, temperature=0.0, use_cache=use_cache)
    )
    return text + stream.flush()


def test_onnx_greedy_equals_pytorch_sample_across_cache_restarts(char_bundle, modern_char_run):
    """40 tokens through a 16-token window: the cache restarts several times."""
    lm = OnnxLM(char_bundle)
    want = sup_ok(
        "sample", modern_char_run, "--prompt", "you never", "--temperature", 0,
        "--max-new-tokens", 40,
    ).stdout  # fmt: skip
    assert want == "you never" + greedy_text(lm, "you never", 40) + "\n"


def test_kv_and_full_graph_loops_agree(char_bundle):
    lm = OnnxLM(char_bundle)
    assert greedy_text(lm, "kid", 12, True) == greedy_text(lm, "kid", 12, False)


def test_context_rule(char_bundle):
    lm = OnnxLM(char_bundle)
    gen = lm.manifest["generation"]
    assert lm.context("") == (gen["unprompted_start"], 0)
    ids, unknown = lm.context("you\u2603")  # a snowman is not in the vocabulary
    assert unknown == 1 and ids[0] == gen["prompt_prefix"][0]
    assert ids[-1] == lm.manifest["tokenizer"]["unk_id"]
    long_ids, _ = lm.context("you never did " * 5)
    assert len(long_ids) == lm.block_size  # cropped, no prefix


def test_seeded_sampling_repeats_and_differs(char_bundle):
    lm = OnnxLM(char_bundle)
    ctx, _ = lm.context("you")
    a = list(lm.generate(ctx, 30, temperature=1.0, seed=1))
    b = list(lm.generate(ctx, 30, temperature=1.0, seed=1))
    c = list(lm.generate(ctx, 30, temperature=1.0, seed=2))
    assert a == b and a != c


def test_pick_token_np_follows_the_torch_rule():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=50).astype(np.float32)
    logits[7] = logits.max() + 5
    gen = np.random.default_rng(0)
    tlogits = torch.from_numpy(logits)
    assert pick_token_np(logits, 0.0, None, None, gen) == pick_token(tlogits, 0, None, None, None)
    assert pick_token_np(logits, 1.0, 1, None, gen) == 7  # top-k 1 is greedy
    assert pick_token_np(logits, 1.0, None, 1e-6, gen) == 7  # tiny top-p is greedy
    assert pick_token_np(logits, 0.0, None, None, gen, banned=(7,)) != 7
    ties = np.zeros(5, np.float32)
    assert pick_token_np(ties, 0.0, None, None, gen) == 0  # first index wins ties
    # top-k 3 samples only the three largest
    top3 = set(np.argsort(-logits)[:3].tolist())
    assert {pick_token_np(logits, 5.0, 3, None, gen) for _ in range(200)} <= top3


def test_pick_token_np_samples_the_softmax():
    logits = np.log(np.array([0.5, 0.3, 0.2]))
    gen = np.random.default_rng(1)
    counts = np.bincount([pick_token_np(logits, 1.0, None, None, gen) for _ in range(6000)])
    assert np.allclose(counts / 6000, [0.5, 0.3, 0.2], atol=0.03)


def test_tampered_bundle_is_refused(char_bundle, tmp_path):
    import shutil

    from sup.errors import SupError

    copy = tmp_path / "b"
    shutil.copytree(char_bundle, copy)
    data = bytearray((copy / "model.kv.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "model.kv.onnx").write_bytes(bytes(data))
    with pytest.raises(SupError, match="sha256"):
        OnnxLM(copy)
