"""``mlp = "moe"``: a mixture-of-experts MLP with auxiliary-loss-free load balancing.

Each token is routed to ``moe_top_k`` of ``moe_experts`` small MLPs (hidden size
``4 * n_embd / top_k``, so the active width per token is the dense MLP's), plus an
optional shared expert every token uses (``moe_shared``). The router scores experts
with a sigmoid of a linear map; the top-k are chosen on score + a per-expert ``bias``,
and their scores, normalised to sum to 1, weight the outputs (DeepSeek-V3's scheme).

The bias is the load balancer, with no auxiliary loss: after every optimizer step each
expert's bias moves by ``moe_bias_rate`` towards balance (up when the expert took fewer
than its share of the step's tokens, down when more; ``update_bias``). It changes only
which experts are chosen, never the weights of the chosen, so it needs no gradient. It
is a parameter that no gradient reaches (so checkpoints, the fp32 masters and export
carry it like any weight), and the trainer steps it by hand.

Every expert is computed for every token and the unchosen ones weighted by zero: at
this studio's sizes (a few experts, CPU) that is simpler than dispatching tokens,
exports to ONNX as plain tensor maths, and gives exactly the routed result; it costs
``experts / top_k`` times the MLP FLOPs, which ``GPT.stats`` counts.
"""

from __future__ import annotations

import torch
from torch import nn


class MoE(nn.Module):
    def __init__(self, cfg, expert_factory):
        super().__init__()
        self.experts_n, self.top_k = cfg.moe_experts, cfg.moe_top_k
        hidden = max(1, 4 * cfg.n_embd // cfg.moe_top_k)
        self.router = nn.Linear(cfg.n_embd, cfg.moe_experts, bias=False)
        self.experts = nn.ModuleList(expert_factory(hidden) for _ in range(cfg.moe_experts))
        self.shared = expert_factory(hidden) if cfg.moe_shared else None
        self.bias = nn.Parameter(torch.zeros(cfg.moe_experts), requires_grad=False)
        # tokens routed to each expert since the last bias update (training only)
        self.register_buffer("load", torch.zeros(cfg.moe_experts), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = torch.sigmoid(self.router(x).float())
        chosen = torch.topk(scores + self.bias, self.top_k, dim=-1).indices
        picked = scores.gather(-1, chosen)
        gates = picked / picked.sum(-1, keepdim=True)
        weights = torch.zeros_like(scores).scatter(-1, chosen, gates).to(x.dtype)
        if self.training:
            with torch.no_grad():
                counts = torch.zeros_like(scores).scatter(-1, chosen, 1.0)
                self.load += counts.reshape(-1, self.experts_n).sum(0)
        out = sum(weights[..., e : e + 1] * expert(x) for e, expert in enumerate(self.experts))
        if self.shared is not None:
            out = out + self.shared(x)
        return out

    def take_load(self) -> torch.Tensor:
        """The tokens routed to each expert since the last call, and reset."""
        load = self.load.clone()
        self.load.zero_()
        return load


def moe_layers(model: nn.Module) -> list[tuple[str, MoE]]:
    return [(name, m) for name, m in model.named_modules() if isinstance(m, MoE)]


@torch.no_grad()
def update_bias(model: nn.Module, owned: dict[str, torch.Tensor], rate: float,
                world=None) -> list[list[float]]:  # fmt: skip
    """After an optimizer step: move each expert's bias towards balance (see the module
    doc) in the tensor the optimizer owns (``owned``: parameter name -> the fp32 master
    under bf16, else the parameter itself) and the model's copy. Loads are summed over
    ranks first, so every rank moves alike. Returns each layer's load shares (what
    ``metrics.jsonl`` logs as ``moe_load``)."""
    from sup.engine.distributed import SINGLE

    world = world or SINGLE
    shares = []
    for name, layer in moe_layers(model):
        load = layer.take_load()
        if world.distributed:
            import torch.distributed as dist

            dist.all_reduce(load)
        total = load.sum().clamp(min=1)
        share = load / total
        step = rate * torch.sign(1.0 / layer.experts_n - share)
        master = owned[f"{name}.bias"]
        master.add_(step.to(master.dtype))
        if master is not layer.bias:  # bf16: the model's copy is the master, rounded, as
            layer.bias.copy_(master)  # a resumed run loads it (never its own sum)
        shares.append([round(float(s), 4) for s in share])
    return shares
