"""The two exportable forward passes: full context and KV cache.

``GPT.forward`` keeps its cache in a Python object that it mutates, which a graph
cannot hold. These wrappers reuse the trained modules (embeddings, projections, MLPs,
norms) and pass the cache as tensors instead:

- ``FullGraph``: ``input_ids [batch, seq] int64 -> logits [batch, vocab]`` (last position).
- ``KvGraph``: ``input_ids [batch, new]`` and ``past [n_layer, 2, batch, n_head, past,
  head_dim]`` -> ``logits [batch, vocab]`` (last new position) and ``present`` (past
  with the new keys and values appended). The new tokens sit at positions
  ``past .. past + new - 1``, so ``past + new`` must not exceed ``block_size``.

Attention is written out (matmul, mask, softmax) rather than through
``scaled_dot_product_attention`` so that one graph serves every split between cached
and new tokens. The exporter checks both graphs against ``GPT.forward`` (export.py).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from sup.engine.model import GPT, apply_rope, rms_norm


class KvGraph(nn.Module):
    def __init__(self, model: GPT):
        super().__init__()
        self.model = model
        self.cfg = model.cfg
        # The output head as its own [n_embd, vocab] constant. Sharing the embedding
        # table between Gather and MatMul (as the tied model does) makes ONNX Runtime's
        # int8 quantizer rewrite the Gather's input too, which breaks the graph.
        self.register_buffer("head", model.lm_head.weight.detach().t().contiguous())

    def attend(self, block, x, past_kv, start):
        cfg = self.cfg
        B, T, C = x.shape
        q, k, v = block.attn.qkv(x).split(C, dim=2)
        q = q.view(B, T, cfg.n_head, cfg.head_dim).transpose(1, 2)
        k = k.view(B, T, cfg.n_head, cfg.head_dim).transpose(1, 2)
        v = v.view(B, T, cfg.n_head, cfg.head_dim).transpose(1, 2)
        if cfg.arch == "modern":
            cos = self.model.rope_cos[start : start + T]
            sin = self.model.rope_sin[start : start + T]
            q = apply_rope(rms_norm(q), cos, sin)
            k = apply_rope(rms_norm(k), cos, sin)
        k = torch.cat((past_kv[0], k), dim=2)
        v = torch.cat((past_kv[1], v), dim=2)
        scores = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(cfg.head_dim))
        # new token i (absolute position start + i) sees keys 0 .. start + i
        rows = torch.arange(T, device=x.device).unsqueeze(1) + start
        cols = torch.arange(k.size(2), device=x.device).unsqueeze(0)
        scores = scores.masked_fill(cols > rows, float("-inf"))
        y = F.softmax(scores, dim=-1) @ v
        y = y.transpose(1, 2).reshape(B, T, C)
        return block.attn.proj(y), torch.stack((k, v))

    def forward(self, input_ids: torch.Tensor, past: torch.Tensor):
        model, cfg = self.model, self.cfg
        start = past.size(4)
        T = input_ids.size(1)
        x = model.wte(input_ids)
        if cfg.arch == "base":
            x = x + model.wpe(torch.arange(T, device=input_ids.device) + start)
        presents = []
        for layer, block in enumerate(model.blocks):
            h = rms_norm(x) if cfg.arch == "modern" else block.ln1(x)
            a, kv = self.attend(block, h, past[layer], start)
            presents.append(kv)
            x = x + a
            x = x + block.mlp(rms_norm(x) if cfg.arch == "modern" else block.ln2(x))
        x = model.ln_f(x) if cfg.arch == "base" else rms_norm(x)
        logits = x[:, -1, :] @ self.head
        if cfg.softcap > 0:
            logits = cfg.softcap * torch.tanh(logits / cfg.softcap)
        return logits, torch.stack(presents)


class FullGraph(nn.Module):
    """The whole context at once: the KV graph with an empty past."""

    def __init__(self, model: GPT):
        super().__init__()
        self.kv = KvGraph(model)

    def forward(self, input_ids: torch.Tensor):
        cfg = self.kv.cfg
        B = input_ids.size(0)
        past = input_ids.new_zeros((cfg.n_layer, 2, B, cfg.n_head, 0, cfg.head_dim)).float()
        logits, _ = self.kv(input_ids, past)
        return logits
