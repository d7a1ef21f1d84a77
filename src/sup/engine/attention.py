"""Causal attention, and every kernel choice it involves, in one place.

The model calls ``causal_attention(q, k, v)`` with the queries of T new positions and
the keys and values of all S = past + T positions; this module picks how to compute it:

- training and whole-context forwards (S == T): ``scaled_dot_product_attention`` with
  ``is_causal``, PyTorch's flash kernel;
- one new token after a cache (T == 1): SDPA with no mask, it sees every key;
- several new tokens after a cache: SDPA with the causal mask shifted by the past;
- ``traced=True`` (ONNX export): always the explicit shifted mask, built from the
  shapes, so that one exported graph serves every split of S into past and new tokens
  (a graph cannot branch on the sizes it will meet at run time).

CPU quirk: PyTorch's CPU flash kernel is slow in bf16 for small heads: with head size
32 upcasting q, k, v to fp32 trains the whole tiny model ~1.8x faster, at 64 it costs
~20% (docs/LOG.md, 2026-11-21), so bf16 attention on CPU upcasts below head size 64.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

SMALL_HEAD = 64  # below this head size, bf16 attention on CPU runs in fp32


def causal_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    *,
    dropout_p: float = 0.0,
    traced: bool = False,
) -> torch.Tensor:
    """q [B, H, T, D] at positions S-T .. S-1; k, v [B, H, S, D] at 0 .. S-1.
    Returns [B, H, T, D] in v's dtype."""
    out_dtype = v.dtype
    if q.device.type == "cpu" and v.dtype == torch.bfloat16 and q.size(-1) < SMALL_HEAD:
        q, k, v = q.float(), k.float(), v.float()
    T, S = q.size(-2), k.size(-2)
    if traced:
        rows = torch.arange(T, device=q.device).unsqueeze(1) + (S - T)
        mask = torch.arange(S, device=q.device).unsqueeze(0) <= rows
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    elif S == T:
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=dropout_p)
    elif T == 1:
        y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)
    else:
        mask = torch.ones(T, S, dtype=torch.bool, device=q.device).tril(S - T)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
    return y.to(out_dtype)
