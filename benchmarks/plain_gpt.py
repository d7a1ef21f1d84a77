"""The baseline the throughput benchmark divides by: a plain nanoGPT-style fp32 loop.

Written from scratch for the benchmark and importing nothing from ``sup``, so a ratio
against it compares two codebases, not sup with itself. It is what a from-scratch
PyTorch script does on a CPU: fp32 weights and maths, nn.LayerNorm, GELU, PyTorch's
``scaled_dot_product_attention``, stock (unfused) AdamW, random windows from a token
array.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class Block(nn.Module):
    def __init__(self, n_embd: int, n_head: int):
        super().__init__()
        self.n_head = n_head
        self.ln_1 = nn.LayerNorm(n_embd)
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.ln_2 = nn.LayerNorm(n_embd)
        self.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.mlp_proj = nn.Linear(4 * n_embd, n_embd)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.c_proj(y.transpose(1, 2).reshape(B, T, C))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x))))


class PlainGPT(nn.Module):
    def __init__(self, vocab: int, block: int, n_layer: int, n_head: int, n_embd: int):
        super().__init__()
        self.wte = nn.Embedding(vocab, n_embd)
        self.wpe = nn.Embedding(block, n_embd)
        self.blocks = nn.ModuleList(Block(n_embd, n_head) for _ in range(n_layer))
        self.ln_f = nn.LayerNorm(n_embd)
        self.head = nn.Linear(n_embd, vocab, bias=False)
        self.head.weight = self.wte.weight
        for p in self.parameters():
            if p.dim() >= 2:
                nn.init.normal_(p, std=0.02)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.wte(idx) + self.wpe(torch.arange(idx.size(1)))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def train_tokens_per_s(
    tokens: np.ndarray, vocab: int, shape: dict, steps: int, warmup: int = 2
) -> tuple[float, int]:
    """Tokens per second of ``steps`` timed optimizer steps (after ``warmup``), and the
    model's parameter count."""
    torch.manual_seed(0)
    T, B = shape["block_size"], shape["batch_size"]
    model = PlainGPT(vocab, T, shape["n_layer"], shape["n_head"], shape["n_embd"])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    elapsed = 0.0
    for i in range(warmup + steps):
        starts = rng.integers(0, len(tokens) - T - 1, B)
        chunk = torch.from_numpy(tokens[starts[:, None] + np.arange(T + 1)].astype(np.int64))
        t0 = time.perf_counter()
        logits = model(chunk[:, :-1])
        loss = F.cross_entropy(logits.view(-1, vocab), chunk[:, 1:].reshape(-1))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if i >= warmup:
            elapsed += time.perf_counter() - t0
        if not math.isfinite(loss.item()):
            raise RuntimeError("baseline diverged")
    return steps * B * T / elapsed, sum(p.numel() for p in model.parameters())
