"""Token generation with a KV cache, temperature, top-k and top-p.

With the cache each new token costs one single-token forward pass. When the cache is
full (``block_size`` tokens) it is rebuilt from the last ``block_size // 2`` tokens, so
long generations keep at least half a window of context; within the first window the
cached logits equal the full forward pass (tested). ``use_cache=False`` is the
reference loop nanoGPT uses: re-run the last ``block_size`` tokens for every new token.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from sup.engine.device import autocast
from sup.engine.model import GPT, KVCache
from sup.errors import SupError


def pick_token(
    logits: torch.Tensor,
    temperature: float,
    top_k: int | None,
    top_p: float | None,
    generator: torch.Generator | None,
    banned: tuple[int, ...] = (),
) -> int:
    logits = logits.float().reshape(-1).clone()
    if not torch.isfinite(logits).all():
        raise SupError(
            "the model gives non-finite logits (its weights hold NaN or inf): it is broken; "
            "sample an earlier checkpoint or retrain it"
        )
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
            logits, _ = model(x, cache, last_only=True)
            return logits

    logits = forward(context)
    for n in range(max_new_tokens):
        token = pick_token(logits, temperature, top_k, top_p, generator, banned_ids)
        yield token
        if token in stop_ids or n == max_new_tokens - 1:
            return
        context.append(token)
        if cache is None:
            logits = forward(context[-block:])
        elif cache.pos >= block:
            cache.reset()
            logits = forward(context[-(block // 2) :])
        else:
            logits = forward([token])
