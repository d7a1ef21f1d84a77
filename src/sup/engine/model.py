"""One GPT module, two architectures, and a KV cache for generation.

``arch="base"`` is nanoGPT's model: LayerNorm, learned positions, biases, GELU MLP.
``arch="modern"``: rotary positions (RoPE), parameter-free RMSNorm, no biases, QK-norm,
ReLU² or SwiGLU MLP and an optional logit soft-cap. Both tie the token embedding to the
output head and run attention through ``scaled_dot_product_attention``.

Cost figures (see ``Stats``):
- ``params``: every trainable parameter, the tied embedding counted once.
- ``flops_per_token``: training FLOPs (forward + backward) per token at full context,
  ``6 * N + 12 * n_layer * n_embd * block_size`` where N is ``params`` minus the position
  embedding (PaLM appendix B; nanoGPT's ``estimate_mfu``). Forward alone is a third.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

ARCHS = ("base", "modern")
MLPS = ("gelu", "relu2", "swiglu")


@dataclass
class ModelConfig:
    vocab_size: int
    block_size: int = 256
    n_layer: int = 6
    n_head: int = 6
    n_embd: int = 384
    dropout: float = 0.0
    arch: str = "base"
    mlp: str = "gelu"
    softcap: float = 0.0  # 0 disables the logit soft-cap
    rope_theta: float = 10000.0

    @property
    def bias(self) -> bool:
        return self.arch == "base"

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head


@dataclass
class Stats:
    params: int
    non_embedding_params: int
    flops_per_token: int


class KVCache:
    """Preallocated keys and values for every layer; ``pos`` tokens are filled."""

    def __init__(self, cfg: ModelConfig, batch: int, device: torch.device | str = "cpu"):
        self.cfg = cfg
        self.batch = batch
        self.device = device
        self.pos = 0
        self.k: torch.Tensor | None = None
        self.v: torch.Tensor | None = None

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor):
        if self.k is None:  # allocate on first use, in the dtype the model runs in
            c = self.cfg
            shape = (c.n_layer, self.batch, c.n_head, c.block_size, c.head_dim)
            self.k = torch.zeros(shape, dtype=k.dtype, device=self.device)
            self.v = torch.zeros(shape, dtype=v.dtype, device=self.device)
        end = self.pos + k.size(2)
        self.k[layer, :, :, self.pos : end] = k
        self.v[layer, :, :, self.pos : end] = v
        return self.k[layer, :, :, :end], self.v[layer, :, :, :end]

    def reset(self) -> None:
        self.pos = 0


def rms_norm(x: torch.Tensor) -> torch.Tensor:
    return F.rms_norm(x, (x.size(-1),))


def apply_rope(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    half = x.size(-1) // 2
    x1, x2 = x[..., :half], x[..., half:]
    cos, sin = cos.to(x.dtype), sin.to(x.dtype)
    return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.cfg = cfg
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.resid_dropout = nn.Dropout(cfg.dropout)

    def forward(self, x, rope, cache: KVCache | None, layer: int):
        cfg = self.cfg
        B, T, C = x.shape
        q, k, v = self.qkv(x).split(C, dim=2)
        q = q.view(B, T, cfg.n_head, cfg.head_dim).transpose(1, 2)
        k = k.view(B, T, cfg.n_head, cfg.head_dim).transpose(1, 2)
        v = v.view(B, T, cfg.n_head, cfg.head_dim).transpose(1, 2)
        if cfg.arch == "modern":
            cos, sin = rope
            q = apply_rope(rms_norm(q), cos, sin).to(v.dtype)
            k = apply_rope(rms_norm(k), cos, sin).to(v.dtype)
        if cache is not None:
            k, v = cache.update(layer, k, v)
        t_keys = k.size(2)
        dropout = cfg.dropout if self.training else 0.0
        out_dtype = v.dtype
        if x.device.type == "cpu" and v.dtype == torch.bfloat16 and cfg.head_dim < 64:
            # PyTorch's CPU flash-attention kernel is slow in bf16 for small heads: with
            # head size 32 the fp32 upcast trains the whole model ~1.8x faster; at 64 it
            # costs ~20% (docs/LOG.md, 2026-11-21).
            q, k, v = q.float(), k.float(), v.float()
        if t_keys == T:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True, dropout_p=dropout)
        elif T == 1:  # one new token attends to everything cached
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout)
        else:  # new tokens after a cached prefix: causal mask shifted by the prefix
            mask = torch.ones(T, t_keys, dtype=torch.bool, device=x.device).tril(t_keys - T)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout)
        y = y.to(out_dtype).transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.proj(y))


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.kind = cfg.mlp
        if cfg.mlp == "swiglu":
            hidden = int(8 * cfg.n_embd / 3 + 7) // 8 * 8
            self.fc = nn.Linear(cfg.n_embd, 2 * hidden, bias=cfg.bias)
        else:
            hidden = 4 * cfg.n_embd
            self.fc = nn.Linear(cfg.n_embd, hidden, bias=cfg.bias)
        self.proj = nn.Linear(hidden, cfg.n_embd, bias=cfg.bias)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x):
        h = self.fc(x)
        if self.kind == "gelu":
            h = F.gelu(h)
        elif self.kind == "relu2":
            h = F.relu(h).square()
        else:
            gate, up = h.chunk(2, dim=-1)
            h = F.silu(gate) * up
        return self.dropout(self.proj(h))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.modern = cfg.arch == "modern"
        if not self.modern:
            self.ln1 = nn.LayerNorm(cfg.n_embd)
            self.ln2 = nn.LayerNorm(cfg.n_embd)
        self.attn = Attention(cfg)
        self.mlp = MLP(cfg)

    def forward(self, x, rope, cache, layer):
        norm1 = rms_norm if self.modern else self.ln1
        norm2 = rms_norm if self.modern else self.ln2
        x = x + self.attn(norm1(x), rope, cache, layer)
        return x + self.mlp(norm2(x))


class GPT(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        if cfg.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}")
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        if cfg.arch == "base":
            self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd)
            self.ln_f = nn.LayerNorm(cfg.n_embd)
        else:
            inv_freq = 1.0 / cfg.rope_theta ** (
                torch.arange(0, cfg.head_dim, 2, dtype=torch.float32) / cfg.head_dim
            )
            freqs = torch.outer(torch.arange(cfg.block_size, dtype=torch.float32), inv_freq)
            self.register_buffer("rope_cos", freqs.cos(), persistent=False)
            self.register_buffer("rope_sin", freqs.sin(), persistent=False)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied
        self.apply(self._init_weights)
        resid_std = 0.02 / math.sqrt(2 * cfg.n_layer)
        for block in self.blocks:
            nn.init.normal_(block.attn.proj.weight, mean=0.0, std=resid_std)
            nn.init.normal_(block.mlp.proj.weight, mean=0.0, std=resid_std)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def stats(self) -> Stats:
        cfg = self.cfg
        params = sum(p.numel() for p in self.parameters())
        pos = self.wpe.weight.numel() if cfg.arch == "base" else 0
        non_embedding = params - pos - self.wte.weight.numel()
        flops = 6 * (params - pos) + 12 * cfg.n_layer * cfg.n_embd * cfg.block_size
        return Stats(params, non_embedding, flops)

    def forward(
        self, idx: torch.Tensor, cache: KVCache | None = None, last_only: bool = False
    ) -> torch.Tensor:
        """Logits for every position of ``idx`` (or the last one with ``last_only``).

        With a cache, ``idx`` holds only the new tokens; they are placed after the
        ``cache.pos`` tokens already there.
        """
        T = idx.size(1)
        start = cache.pos if cache is not None else 0
        if start + T > self.cfg.block_size:
            raise ValueError(f"sequence of {start + T} tokens exceeds block_size")
        x = self.wte(idx)
        rope = None
        if self.cfg.arch == "base":
            x = x + self.wpe(torch.arange(start, start + T, device=idx.device))
        else:
            rope = (self.rope_cos[start : start + T], self.rope_sin[start : start + T])
        x = self.drop(x)
        for layer, block in enumerate(self.blocks):
            x = block(x, rope, cache, layer)
        if cache is not None:
            cache.pos += T
        x = self.ln_f(x) if self.cfg.arch == "base" else rms_norm(x)
        if last_only:
            x = x[:, -1:, :]
        logits = self.lm_head(x)
        if self.cfg.softcap > 0:
            logits = self.cfg.softcap * torch.tanh(logits.float() / self.cfg.softcap)
        return logits
