"""One GPT module, two architectures, one forward pass.

``arch="base"`` is nanoGPT's model: LayerNorm, learned positions, biases, GELU MLP.
``arch="modern"``: rotary positions (RoPE), parameter-free RMSNorm, no biases, QK-norm,
ReLU² or SwiGLU MLP and an optional logit soft-cap. Both tie the token embedding to the
output head. Every architecture choice is made once, at construction (which norm, which
activation, which position scheme); the forward pass reads as the maths. Attention
kernels live in ``attention.py``, the modern block's elementwise kernels in ``ops.py``.

``GPT.forward(idx, past=None)`` is the only forward pass. ``past`` holds the keys and
values of earlier positions and the new tokens go after them:

- ``KVCache``: preallocated and written in place, for PyTorch generation;
- ``TensorPast``: a tensor ``[n_layer, 2, batch, n_head, past, head_dim]`` in, the same
  with the new positions appended out, for the exported ONNX graphs (ship/graphs.py),
  which wrap this same forward.

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

from sup.engine import ops
from sup.engine.attention import causal_attention
from sup.engine.moe import MoE
from sup.formats.manifest import ARCHS, MLPS


@dataclass
class ModelConfig:
    vocab_size: int
    block_size: int = 256
    n_layer: int = 6
    n_head: int = 6
    n_embd: int = 384
    dropout: float = 0.0
    attention_dropout: bool = True  # also drop attention weights (slow on CPU: no flash)
    arch: str = "base"
    mlp: str = "gelu"
    softcap: float = 0.0  # 0 disables the logit soft-cap
    rope_theta: float = 10000.0
    moe_experts: int = 4  # mlp = "moe" (engine/moe.py)
    moe_top_k: int = 2
    moe_shared: bool = False

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
    """Preallocated keys and values for every layer; ``pos`` positions are filled."""

    traced = False

    def __init__(self, cfg: ModelConfig, batch: int, device: torch.device | str = "cpu"):
        self.cfg = cfg
        self.batch = batch
        self.device = device
        self.pos = 0
        self.k: torch.Tensor | None = None
        self.v: torch.Tensor | None = None

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor):
        """Store the new positions' keys and values; return those of every position."""
        if self.k is None:  # allocate on first use, in the dtype the model runs in
            c = self.cfg
            shape = (c.n_layer, self.batch, c.n_head, c.block_size, c.head_dim)
            self.k = torch.zeros(shape, dtype=k.dtype, device=self.device)
            self.v = torch.zeros(shape, dtype=v.dtype, device=self.device)
        end = self.pos + k.size(2)
        self.k[layer, :, :, self.pos : end] = k
        self.v[layer, :, :, self.pos : end] = v
        return self.k[layer, :, :, :end], self.v[layer, :, :, :end]

    def advance(self, n: int) -> None:
        self.pos += n

    def present(self) -> KVCache:
        return self

    def reset(self) -> None:
        self.pos = 0


class TensorPast:
    """The cache as a tensor, for graphs: nothing is mutated, the present is returned."""

    traced = True

    def __init__(self, past: torch.Tensor):
        self.past = past  # [n_layer, 2, batch, n_head, past, head_dim]
        self.pos = past.size(4)
        self.layers: list[torch.Tensor] = []

    def update(self, layer: int, k: torch.Tensor, v: torch.Tensor):
        k = torch.cat((self.past[layer, 0], k), dim=2)
        v = torch.cat((self.past[layer, 1], v), dim=2)
        self.layers.append(torch.stack((k, v)))
        return k, v

    def advance(self, n: int) -> None:
        pass

    def present(self) -> torch.Tensor:
        return torch.stack(self.layers)


class RMSNorm(nn.Module):
    """Parameter-free RMSNorm (ops.rms_norm) as a module, so blocks pick a norm once."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ops.rms_norm(x)


class ReLU2(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ops.relu2(x)


class SwiGLU(nn.Module):
    """silu(gate) * up, from a projection twice as wide as the hidden layer."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate, up = x.chunk(2, dim=-1)
        return F.silu(gate) * up


def make_norm(cfg: ModelConfig) -> nn.Module:
    return nn.LayerNorm(cfg.n_embd) if cfg.arch == "base" else RMSNorm()


class Attention(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.n_head, self.head_dim = cfg.n_head, cfg.head_dim
        self.qk_norm = cfg.arch == "modern"
        self.dropout = cfg.dropout if cfg.attention_dropout else 0.0
        self.qkv = nn.Linear(cfg.n_embd, 3 * cfg.n_embd, bias=cfg.bias)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=cfg.bias)
        self.resid_dropout = nn.Dropout(cfg.dropout)

    def forward(self, x, rope, past, layer: int):
        B, T, C = x.shape
        qkv = self.qkv(x).view(B, T, 3, self.n_head, self.head_dim)
        if self.qk_norm:  # queries and keys together: half the kernel launches
            qk = ops.rms_norm(qkv[:, :, :2])
            if rope is not None:
                qk = ops.rope(qk, *rope)
            q, k = qk.unbind(2)
        else:
            q, k = qkv[:, :, 0], qkv[:, :, 1]
        v = qkv[:, :, 2]
        q, k, v = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # [B, H, T, D]
        if past is not None:
            k, v = past.update(layer, k, v)
        y = causal_attention(
            q,
            k,
            v,
            dropout_p=self.dropout if self.training else 0.0,
            traced=past is not None and past.traced,
        )
        return self.resid_dropout(self.proj(y.transpose(1, 2).reshape(B, T, C)))


class MLP(nn.Module):
    def __init__(self, cfg: ModelConfig, kind: str | None = None, hidden: int | None = None):
        super().__init__()
        kind = kind or cfg.mlp
        if kind == "swiglu":
            hidden = hidden or int(8 * cfg.n_embd / 3 + 7) // 8 * 8
            self.fc = nn.Linear(cfg.n_embd, 2 * hidden, bias=cfg.bias)
            self.act = SwiGLU()
        else:
            hidden = hidden or 4 * cfg.n_embd
            self.fc = nn.Linear(cfg.n_embd, hidden, bias=cfg.bias)
            self.act = nn.GELU() if kind == "gelu" else ReLU2()
        self.proj = nn.Linear(hidden, cfg.n_embd, bias=cfg.bias)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, x):
        return self.dropout(self.proj(self.act(self.fc(x))))


class Block(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.ln1 = make_norm(cfg)
        self.attn = Attention(cfg)
        self.ln2 = make_norm(cfg)
        if cfg.mlp == "moe":  # experts with the architecture's own activation
            kind = "gelu" if cfg.arch == "base" else "relu2"
            self.mlp = MoE(cfg, lambda hidden: MLP(cfg, kind, hidden))
        else:
            self.mlp = MLP(cfg)

    def forward(self, x, rope, past, layer: int):
        x = x + self.attn(self.ln1(x), rope, past, layer)
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        if cfg.arch not in ARCHS:
            raise ValueError(f"arch must be one of {ARCHS}")
        if cfg.mlp not in MLPS:
            raise ValueError(f"mlp must be one of {MLPS}")
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.block_size, cfg.n_embd) if cfg.arch == "base" else None
        if cfg.arch == "modern":
            d = cfg.head_dim
            inv_freq = 1.0 / cfg.rope_theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d)
            angles = torch.outer(torch.arange(cfg.block_size, dtype=torch.float32), inv_freq)
            # [position, 1, 1, head_dim / 2]: broadcasts over (q|k, head) in Attention
            self.register_buffer("rope_cos", angles.cos()[:, None, None], persistent=False)
            self.register_buffer("rope_sin", angles.sin()[:, None, None], persistent=False)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.ln_f = make_norm(cfg)
        self.lm_head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=False)
        self.lm_head.weight = self.wte.weight  # tied
        self.apply(self._init_weights)
        resid_std = 0.02 / math.sqrt(2 * cfg.n_layer)
        for block in self.blocks:
            nn.init.normal_(block.attn.proj.weight, mean=0.0, std=resid_std)
            for mlp in block.modules():
                if isinstance(mlp, MLP):  # the MLP, or each expert of a MoE
                    nn.init.normal_(mlp.proj.weight, mean=0.0, std=resid_std)

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
        pos = self.wpe.weight.numel() if self.wpe is not None else 0
        non_embedding = params - pos - self.wte.weight.numel()
        flops = 6 * (params - pos) + 12 * cfg.n_layer * cfg.n_embd * cfg.block_size
        return Stats(params, non_embedding, flops)

    def forward(
        self, idx: torch.Tensor, past: KVCache | TensorPast | None = None, *, last_only=False
    ) -> tuple[torch.Tensor, KVCache | torch.Tensor | None]:
        """Logits for every position of ``idx`` (or the last with ``last_only``), and the
        present keys and values (None without a ``past``)."""
        h = self.hidden_states(idx, past)
        if last_only:
            h = h[:, -1:]
        return self.logits(h), (past.present() if past is not None else None)

    def hidden_states(
        self, idx: torch.Tensor, past: KVCache | TensorPast | None = None
    ) -> torch.Tensor:
        """The final-norm hidden state of every new position; the new tokens sit at
        positions ``past.pos ..`` (0 without a past)."""
        T = idx.size(1)
        start = past.pos if past is not None else 0
        if (past is None or not past.traced) and start + T > self.cfg.block_size:
            raise ValueError(f"sequence of {start + T} tokens exceeds block_size")
        x = self.wte(idx)
        rope = None
        if self.wpe is not None:
            x = x + self.wpe(torch.arange(start, start + T, device=idx.device))
        else:
            rope = (self.rope_cos[start : start + T], self.rope_sin[start : start + T])
        x = self.drop(x)
        for layer, block in enumerate(self.blocks):
            x = block(x, rope, past, layer)
        if past is not None:
            past.advance(T)
        return self.ln_f(x)

    def logits(self, h: torch.Tensor, head: torch.Tensor | None = None) -> torch.Tensor:
        """The output head on hidden states: the tied embedding, or ``head`` [n_embd,
        vocab] (exported graphs carry it as a constant of its own), then the soft-cap."""
        logits = self.lm_head(h) if head is None else h @ head
        if self.cfg.softcap > 0:
            logits = self.cfg.softcap * torch.tanh(logits.float() / self.cfg.softcap)
        return logits
