"""Muon for the hidden matrices, AdamW for everything else, as one optimizer.

``optimizer = "muon"`` (config): the 2-D weights inside the transformer blocks
(attention and MLP projections) are stepped by Muon; the embedding (tied to the output
head), positions, norms and any vector by AdamW. One ``torch.optim.Optimizer`` holds
both kinds of group, so checkpoints, exact resume and the LR schedule treat it like
AdamW: its state is plain tensors (``momentum_buffer``; ``exp_avg``, ``exp_avg_sq``)
and a step count, and each group's ``lr`` is the schedule's value times the group's
``lr_scale`` (``muon_lr / learning_rate`` for Muon groups, 1 for AdamW ones).

Muon (Keller Jordan, 2024; the modded-nanogpt speedrun's optimizer): momentum (Nesterov)
on the gradient, then the update is replaced by the nearest semi-orthogonal matrix,
approximated by five Newton–Schulz iterations of a quintic tuned to push every singular
value towards 1 quickly (coefficients 3.4445, −4.7750, 2.0315). The update is scaled
by ``sqrt(max(1, rows / cols))`` so that tall and wide matrices move alike, and weight
decay is decoupled (``p *= 1 - lr * wd``). The iteration runs in the training's matmul
precision: bf16 when the run trains in bf16 (on CUDA, as the speedrun does, and on a CPU
with native bf16), fp32 otherwise. In fp32 on this project's 2-core CPU the iteration
cost 236 ms a step for a 6 x 256 model, 45% on top of an AdamW step; in bf16 60 ms,
with singular values in the same band (docs/LOG.md, 2026-12-07).
"""

from __future__ import annotations

import torch

NS_COEFFS = (3.4445, -4.7750, 2.0315)
NS_STEPS = 5


def orthogonalize(
    g: torch.Tensor, steps: int = NS_STEPS, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """An approximately semi-orthogonal matrix with ``g``'s singular vectors, computed
    in ``dtype``."""
    a, b, c = NS_COEFFS
    x = g.to(dtype)
    tall = x.size(0) > x.size(1)
    if tall:
        x = x.T
    x = x / (x.norm() + 1e-7)  # spectral norm <= Frobenius norm <= 1
    for _ in range(steps):
        m = x @ x.T
        # a x + (b m + c m^2) x, each product fused with its sum (fewer passes)
        x = torch.addmm(x, torch.addmm(m, m, m, beta=b, alpha=c), x, beta=a)
    return (x.T if tall else x).to(g.dtype)


def ns_dtype(device: torch.device, precision: str) -> torch.dtype:
    """Newton–Schulz's precision: bf16 on CUDA or when the run trains in bf16."""
    return torch.bfloat16 if device.type == "cuda" or precision == "bf16" else torch.float32


class MuonAdamW(torch.optim.Optimizer):
    """Groups with ``use_muon`` are stepped by Muon, the others by AdamW (see the module
    docstring). Hyper-parameters per group: ``lr``, ``weight_decay``, and ``momentum``
    (Muon) or ``betas`` and ``eps`` (AdamW)."""

    def __init__(self, groups: list[dict], ns_dtype: torch.dtype = torch.float32):
        self.ns_dtype = ns_dtype  # not state: derived from the run's device and precision
        defaults = {"lr": 1e-3, "weight_decay": 0.0, "use_muon": False, "lr_scale": 1.0,
                    "momentum": 0.95, "betas": (0.9, 0.99), "eps": 1e-8}  # fmt: skip
        super().__init__(groups, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if group["use_muon"]:
                    self._muon(p, group)
                else:
                    self._adamw(p, group)
        return None

    def _muon(self, p: torch.Tensor, group: dict) -> None:
        state = self.state[p]
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = torch.zeros_like(p)
        buf, beta = state["momentum_buffer"], group["momentum"]
        buf.lerp_(p.grad, 1 - beta)
        update = orthogonalize(p.grad.lerp(buf, beta), dtype=self.ns_dtype)  # Nesterov
        scale = max(1.0, p.size(0) / p.size(1)) ** 0.5
        p.mul_(1 - group["lr"] * group["weight_decay"])
        p.add_(update, alpha=-group["lr"] * scale)

    def _adamw(self, p: torch.Tensor, group: dict) -> None:
        state = self.state[p]
        if "exp_avg" not in state:
            state["step"] = torch.zeros((), dtype=torch.float32)
            state["exp_avg"] = torch.zeros_like(p)
            state["exp_avg_sq"] = torch.zeros_like(p)
        beta1, beta2 = group["betas"]
        state["step"] += 1
        step = state["step"].item()
        m, v = state["exp_avg"], state["exp_avg_sq"]
        m.lerp_(p.grad, 1 - beta1)
        v.mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
        denom = (v.sqrt() / (1 - beta2**step) ** 0.5).add_(group["eps"])
        p.mul_(1 - group["lr"] * group["weight_decay"])
        p.addcdiv_(m, denom, value=-group["lr"] / (1 - beta1**step))


def muon_groups(named: list[tuple[str, torch.Tensor]], cfg) -> list[dict]:
    """The parameter groups for ``optimizer = "muon"``: block matrices (Muon, decayed),
    other matrices (AdamW, decayed: the embedding), vectors (AdamW, not decayed)."""
    hidden = [p for n, p in named if n.startswith("blocks.") and p.dim() == 2]
    other = [p for n, p in named if not (n.startswith("blocks.") and p.dim() == 2)]
    betas = (cfg.beta1, cfg.beta2)
    return [
        {"params": hidden, "use_muon": True, "lr": cfg.muon_lr, "momentum": cfg.muon_momentum,
         "weight_decay": cfg.weight_decay, "lr_scale": cfg.muon_lr / cfg.learning_rate},
        {"params": [p for p in other if p.dim() >= 2], "lr": cfg.learning_rate, "betas": betas,
         "weight_decay": cfg.weight_decay},
        {"params": [p for p in other if p.dim() < 2], "lr": cfg.learning_rate, "betas": betas,
         "weight_decay": 0.0},
    ]  # fmt: skip
