"""How much probability a model gives to each of a few continuations, exactly, without
sampling: the daydream harness's illegal probability mass (1 minus the mass on every
legal move), from the engine's legal list.

A continuation is a token sequence (a move's spelling, as the tokenizer writes it after
the game so far) followed by any token that ends a move (one that starts with a space
or a newline, or end-of-text): P(move) = P(its tokens) x P(an ending token next). The
continuations are walked as a trie, level by level, through a KV step function, so the
context is run once and each distinct prefix costs one cached token:
``kv(ids [batch, new], past) -> (last logits [batch, vocab], present)``, with
``empty_past(batch)``, as ``play.runtime.KvRunner`` (a bundle) and ``kv_of_model`` (a
run, in PyTorch) both provide.
"""

from __future__ import annotations

import numpy as np

CHUNK = 64  # prefixes stepped at once (the past is copied per prefix)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.astype(np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def logsumexp(values: np.ndarray) -> float:
    top = values.max()
    return float(top + np.log(np.exp(values - top).sum()))


def continuation_probs(kv, empty_past, context: list[int], candidates: dict[str, list[int]],
                       ends: np.ndarray) -> dict[str, float]:  # fmt: skip
    """P(each candidate's tokens, then a token in ``ends`` (a boolean mask over the
    vocabulary)) after ``context``. The caller keeps context + longest candidate within
    the model's block."""
    logits, past = kv(np.asarray([context], np.int64), empty_past(1))
    # prefix -> (its past, row in it, log P(prefix), log P(next token | prefix))
    frontier = {(): (past, 0, 0.0, log_softmax(logits[0]))}
    probs: dict[str, float] = {}
    depth = 0
    while True:
        for name, tokens in candidates.items():
            if len(tokens) == depth:
                _, _, logp, nxt = frontier[tuple(tokens)]
                probs[name] = float(np.exp(logp + logsumexp(nxt[ends])))
        children = sorted({tuple(t[: depth + 1]) for t in candidates.values() if len(t) > depth})
        if not children:
            return probs
        grown = {}
        for i in range(0, len(children), CHUNK):
            chunk = children[i : i + CHUNK]
            parents = [frontier[c[:-1]] for c in chunk]
            past = np.concatenate([p[0][:, :, p[1] : p[1] + 1] for p in parents], axis=2)
            ids = np.asarray([[c[-1]] for c in chunk], np.int64)
            logits, present = kv(ids, past)
            for row, (child, parent) in enumerate(zip(chunk, parents, strict=True)):
                logp = parent[2] + parent[3][child[-1]]
                grown[child] = (present, row, logp, log_softmax(logits[row]))
        frontier = grown
        depth += 1


def kv_of_model(model):
    """A run's model as a KV step function (PyTorch, no grad), and its empty past."""
    import torch

    from sup.ship.graphs import KvGraph

    graph = KvGraph(model).eval()
    cfg = model.cfg

    def kv(ids: np.ndarray, past: np.ndarray):
        with torch.no_grad():
            logits, present = graph(torch.from_numpy(ids), torch.from_numpy(past))
        return logits.float().numpy(), present.numpy()

    def empty_past(batch: int) -> np.ndarray:
        shape = (cfg.n_layer, 2, batch, cfg.n_head, 0, cfg.n_embd // cfg.n_head)
        return np.zeros(shape, np.float32)

    return kv, empty_past


def ending_tokens(tokenizer) -> np.ndarray:
    """The tokens that end a move: those whose bytes start with a space or a newline, and
    end-of-text."""
    ends = np.zeros(tokenizer.vocab_size, bool)
    for i in range(tokenizer.vocab_size):
        ends[i] = tokenizer.token_bytes(i)[:1] in (b" ", b"\n")
    ends[tokenizer.eot_id] = True
    return ends
