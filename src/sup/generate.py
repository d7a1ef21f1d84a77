"""Token generation with a KV cache, temperature, top-k and top-p.

With the cache each new token costs one single-token forward pass. When the cache is
full (``block_size`` tokens) it is rebuilt from the last ``block_size // 2`` tokens, so
long generations keep at least half a window of context; within the first window the
cached logits equal the full forward pass (tested). ``use_cache=False`` is the
reference loop nanoGPT uses: re-run the last ``block_size`` tokens for every new token.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator

import torch

from sup.device import autocast
from sup.errors import UsageError
from sup.model import GPT, KVCache


def check_sampling(
    temperature: float, top_k: int | None, top_p: float | None, seed: int = 0
) -> None:
    if not 0 <= seed < 2**63:
        raise UsageError(f"--seed must be in [0, 2**63), got {seed}")
    if not temperature >= 0:
        raise UsageError(f"--temperature must be >= 0 (0 = greedy), got {temperature}")
    if top_k is not None and top_k < 1:
        raise UsageError(f"--top-k must be at least 1, got {top_k}")
    if top_p is not None and not 0 < top_p <= 1:
        raise UsageError(f"--top-p must be in (0, 1], got {top_p}")


def pick_token(
    logits: torch.Tensor,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
    generator: torch.Generator | None,
    banned: tuple[int, ...] = (),
) -> int:
    logits = logits.float().reshape(-1).clone()
    if banned:
        logits[list(banned)] = -float("inf")
    if temperature == 0:
        return int(torch.argmax(logits))
    logits = logits / temperature
    if top_k is not None and top_k < logits.numel():
        kth = torch.topk(logits, top_k).values[-1]
        logits[logits < kth] = -float("inf")
    probs = torch.softmax(logits, dim=-1)
    if top_p is not None and top_p < 1:
        sorted_probs, order = torch.sort(probs, descending=True)
        outside = torch.cumsum(sorted_probs, dim=-1) - sorted_probs > top_p
        sorted_probs[outside] = 0.0
        probs = torch.zeros_like(probs).scatter(0, order, sorted_probs)
    return int(torch.multinomial(probs, 1, generator=generator))


@torch.inference_mode()  # lighter than no_grad: no version counters on the cache
def generate(
    model: GPT,
    prompt_ids: list[int],
    max_new_tokens: int,
    *,
    temperature: float = 0.8,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
    device: torch.device | str = "cpu",
    precision: str = "fp32",
    use_cache: bool = True,
    stop_ids: tuple[int, ...] = (),
    banned_ids: tuple[int, ...] = (),
) -> Iterator[int]:
    """Yield new token ids one at a time; stops early after a token in ``stop_ids``."""
    if not prompt_ids:
        raise ValueError("generation needs at least one context token")
    device = torch.device(device)
    block = model.cfg.block_size
    context = list(prompt_ids[-block:])
    cache = KVCache(model.cfg, 1, device) if use_cache else None

    def forward(ids: list[int]) -> torch.Tensor:
        x = torch.tensor([ids], dtype=torch.long, device=device)
        with autocast(device, precision):
            return model(x, cache=cache, last_only=True)

    logits = forward(context)
    for _ in range(max_new_tokens):
        token = pick_token(logits, temperature, top_k, top_p, generator, banned_ids)
        yield token
        if token in stop_ids:
            return
        context.append(token)
        if cache is None:
            logits = forward(context[-block:])
        elif cache.pos >= block:
            cache.reset()
            logits = forward(context[-(block // 2) :])
        else:
            logits = forward([token])


def start_context(tok, prompt_ids: list[int], block: int, multi_document: bool) -> list[int]:
    """The tokens generation starts from.

    A prompt follows the end-of-document token (a document starts there). Without a
    prompt, a model trained on several documents starts a new one after that token;
    a model trained on one text file never saw it, so it starts after a newline, at a
    line boundary it knows, and the first line comes out whole.
    """
    if prompt_ids:
        return [tok.eot_id, *prompt_ids] if len(prompt_ids) < block else prompt_ids[-block:]
    if not multi_document:
        newline = tok.encode("\n", allow_unk=True)
        if newline and getattr(tok, "unk_id", None) not in newline:
            return newline
    return [tok.eot_id]


class Utf8Stream:
    """Turn token bytes into text as they arrive, never splitting a character."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def push(self, data: bytes) -> str:
        return self._decoder.decode(data)

    def flush(self) -> str:
        return self._decoder.decode(b"", final=True)
