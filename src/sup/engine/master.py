"""bf16 training with fp32 master weights.

Under ``precision="bf16"`` the model's parameters are stored in bf16, so every op
(matmuls, norms, activations, the residual stream) runs in bf16 with no per-step casts,
which on CPUs with native bf16 is about a quarter faster than fp32 weights under
autocast (docs/LOG.md). AdamW steps an fp32 copy of each parameter (the master), whose
values are copied back into the bf16 model after every step; checkpoints store the
masters, so nothing is lost to rounding between steps and resume stays exact.
"""

from __future__ import annotations

import torch
from torch import nn

from sup.errors import SupError


class MasterWeights:
    def __init__(self, model: nn.Module, dtype: torch.dtype = torch.bfloat16):
        self.model = model
        self.named = list(model.named_parameters())  # tied parameters appear once
        self.master = [p.detach().float().clone().requires_grad_(True) for _, p in self.named]
        for _, p in self.named:  # parameters only: RoPE tables stay fp32 buffers
            p.data = p.data.to(dtype)

    def parameters(self) -> list[torch.Tensor]:
        return self.master

    def grads_to_master(self) -> None:
        for master, (_, p) in zip(self.master, self.named, strict=True):
            master.grad = None if p.grad is None else p.grad.float()
            p.grad = None

    @torch.no_grad()
    def master_to_model(self) -> None:
        for master, (_, p) in zip(self.master, self.named, strict=True):
            p.copy_(master)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {
            name: m.detach().contiguous()
            for m, (name, _) in zip(self.master, self.named, strict=True)
        }

    @torch.no_grad()
    def load_state_dict(self, tensors: dict[str, torch.Tensor]) -> None:
        for master, (name, _) in zip(self.master, self.named, strict=True):
            tensor = tensors.get(name)
            if tensor is None or tensor.shape != master.shape:
                got = "missing" if tensor is None else f"shape {tuple(tensor.shape)}"
                raise SupError(
                    f"checkpoint does not fit the model run.json describes ({name}: {got}, "
                    f"the model has {tuple(master.shape)})"
                )
            master.copy_(tensor)
        self.master_to_model()
