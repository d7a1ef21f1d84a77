"""Exact continuation probabilities by a trie walk through the KV cache, checked against
teacher-forcing each continuation through the full forward pass, in PyTorch and in the
exported bundle's own graph."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sup.engine.rundir import load_model, open_run
from sup.instruments.legality import continuation_probs, ending_tokens, kv_of_model, log_softmax


def brute_force(model, context, tokens, ends) -> float:
    ids = torch.tensor([context + tokens])
    with torch.no_grad():
        logits, _ = model(ids)
    logp = log_softmax(logits[0].numpy())
    total = sum(logp[len(context) - 1 + i, t] for i, t in enumerate(tokens))
    last = logp[len(context) - 1 + len(tokens)]
    return float(np.exp(total + np.log(np.exp(last[ends]).sum())))


def test_the_trie_walk_equals_teacher_forcing(modern_char_run, char_bundle):
    from sup.play.runtime import OnnxLM

    run = open_run(modern_char_run)
    model, _ = load_model(run, "best")
    tok = run.tokenizer
    context = [tok.eot_id, *tok.encode(" the")]
    words = (" Kenosha", " Kid", " Kin", " never", " you", " K", "")  # shared prefixes, empty
    candidates = {w: tok.encode(w) for w in words}
    ends = ending_tokens(tok)
    assert ends[tok.encode(" ")[0]] and ends[tok.encode("\n")[0]] and ends[tok.eot_id]
    assert not ends[tok.encode("K")[0]]
    got = continuation_probs(*kv_of_model(model), context, candidates, ends)
    for word, tokens in candidates.items():
        assert got[word] == pytest.approx(brute_force(model, context, tokens, ends), rel=1e-4)
    assert sum(got[w] for w in (" Kenosha", " Kid", " Kin", " never", " you")) <= 1 + 1e-9
    lm = OnnxLM(char_bundle)
    shipped = continuation_probs(lm.kv, lm.kv.empty_past, context, candidates, ends)
    for word in words:
        assert shipped[word] == pytest.approx(got[word], rel=1e-3, abs=1e-7)
