"""Sampling rules every player shares, with no torch: flags, start context, token
choice in numpy, and streaming UTF-8.

``pick_token_np`` is the numpy twin of ``generate.pick_token`` (same order of
operations: ban, temperature, top-k, softmax, top-p), used by the ONNX players. Greedy
(``temperature == 0``) is argmax with the first index winning ties, in every player.
"""

from __future__ import annotations

import codecs

import numpy as np

from sup.errors import UsageError
from sup.formats.manifest import (  # noqa: F401 (the players' sampling rules, re-exported)
    MAX_TEMPERATURE,
    MIN_TEMPERATURE,
    TEMPERATURE_RULE,
    temperature_ok,
)


def check_sampling(
    temperature: float, top_k: int | None, top_p: float | None, seed: int = 0
) -> None:
    if not 0 <= seed < 2**63:
        raise UsageError(f"--seed must be in [0, 2**63), got {seed}")
    if not temperature_ok(temperature):
        raise UsageError(f"--temperature must be {TEMPERATURE_RULE}, got {temperature}")
    if top_k is not None and top_k < 1:
        raise UsageError(f"--top-k must be at least 1, got {top_k}")
    if top_p is not None and not 0 < top_p <= 1:  # NaN fails this too
        raise UsageError(f"--top-p must be in (0, 1], got {top_p}")


def check_prompt(prompt: str) -> str:
    """``prompt`` if it is text: bytes that are not UTF-8 reach Python from the command
    line as lone surrogates (``surrogateescape``), which no tokenizer or terminal takes."""
    bad = sorted({ch for ch in prompt if "\udc80" <= ch <= "\udcff"})
    if bad:
        shown = " ".join(f"0x{ord(ch) - 0xDC00:02x}" for ch in bad[:5])
        raise UsageError(f"the prompt is not valid UTF-8 (bytes {shown}): pass it as UTF-8 text")
    return prompt


def start_context(tok, prompt_ids: list[int], block: int, multi_document: bool) -> list[int]:
    """The tokens generation starts from.

    A prompt follows the end-of-document token (a document starts there). Without a
    prompt, a model trained on several documents starts a new one after that token;
    a model trained on one text file never saw it, so it starts after a newline, at a
    line boundary it knows, and the first line comes out whole.
    """
    if prompt_ids:
        return [tok.eot_id, *prompt_ids] if len(prompt_ids) < block else prompt_ids[-block:]
    return unprompted_start(tok, multi_document)


def unprompted_start(tok, multi_document: bool) -> list[int]:
    if not multi_document:
        newline = tok.encode("\n", allow_unk=True)
        if newline and getattr(tok, "unk_id", None) not in newline:
            return newline
    return [tok.eot_id]


def pick_token_np(
    logits: np.ndarray,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
    rng: np.random.Generator | None,
    banned: tuple[int, ...] = (),
) -> int:
    logits = np.asarray(logits, dtype=np.float64).reshape(-1).copy()
    if banned:
        logits[list(banned)] = -np.inf
    if temperature == 0:
        return int(np.argmax(logits))
    logits = logits / temperature
    if top_k is not None and top_k < logits.size:
        kth = np.partition(logits, -top_k)[-top_k]
        logits[logits < kth] = -np.inf
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    if top_p is not None and top_p < 1:
        order = np.argsort(-probs, kind="stable")
        sorted_probs = probs[order]
        outside = np.cumsum(sorted_probs) - sorted_probs > top_p
        sorted_probs[outside] = 0.0
        probs = np.zeros_like(probs)
        probs[order] = sorted_probs
        probs /= probs.sum()
    rng = rng if rng is not None else np.random.default_rng()
    return int(rng.choice(probs.size, p=probs))


class Utf8Stream:
    """Turn token bytes into text as they arrive, never splitting a character."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def push(self, data: bytes) -> str:
        return self._decoder.decode(data)

    def flush(self) -> str:
        return self._decoder.decode(b"", final=True)
