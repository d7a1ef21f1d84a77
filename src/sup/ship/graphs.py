"""The two exportable graphs, both wrapping the one ``GPT`` forward pass.

- ``FullGraph``: ``input_ids [batch, seq] int64 -> logits [batch, vocab]`` (last position).
- ``KvGraph``: ``input_ids [batch, new]`` and ``past [n_layer, 2, batch, n_head, past,
  head_dim]`` -> ``logits [batch, vocab]`` (last new position) and ``present`` (past
  with the new keys and values appended). The new tokens sit at positions
  ``past .. past + new - 1``, so ``past + new`` must not exceed ``block_size``.

Both run ``GPT.hidden_states`` (the KV graph with a ``TensorPast``, whose attention
uses the explicit shifted causal mask so one graph serves every split between cached
and new tokens). What is particular to export stays here: the last-position slice, and
the output head as its own constant. Sharing the embedding table between Gather and
MatMul, as the tied model does, makes ONNX Runtime's int8 quantizer rewrite the
Gather's input too, which breaks the graph. The exporter checks both graphs against
``GPT.forward`` (export.py).
"""

from __future__ import annotations

import torch
from torch import nn

from sup.engine.model import GPT, TensorPast


class _Graph(nn.Module):
    def __init__(self, model: GPT):
        super().__init__()
        self.model = model
        self.register_buffer("head", model.lm_head.weight.detach().t().contiguous())


class KvGraph(_Graph):
    def forward(self, input_ids: torch.Tensor, past: torch.Tensor):
        cache = TensorPast(past)
        h = self.model.hidden_states(input_ids, cache)
        return self.model.logits(h[:, -1], self.head), cache.present()


class FullGraph(_Graph):
    def forward(self, input_ids: torch.Tensor):
        h = self.model.hidden_states(input_ids)
        return self.model.logits(h[:, -1], self.head)
