"""``TrainState``: everything training carries from step to step, saved and restored whole.

A state is the model (bf16 or fp32 weights), the fp32 master weights (``precision =
bf16``), the optimizer, the grad scaler (``fp16``), the batch sampler (its generator
state is the data position), the step, the best val loss so far, and the wall time
spent. The global torch RNG (dropout) is saved and restored with it. The learning rate
is a pure function of the step and validation draws no random numbers, so a run
resumed from a checkpoint continues bit-identically on the same machine.

Checkpoint contents (files in sup/engine/checkpoint.py):

- ``model.safetensors``: the fp32 masters under bf16, else the weights;
- ``state.safetensors``: optimizer moments (``optim.<i>.<name>``), ``rng.torch``,
  ``rng.sampler`` and, on CUDA, ``rng.cuda``;
- ``state.json``: step, best val loss, elapsed and step seconds, precision, the
  optimizer's hyper-parameters and scalar state, the grad scaler.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import torch

from sup.engine.batches import BatchSampler
from sup.engine.checkpoint import (
    load_checkpoint,
    load_model_tensors,
    model_tensors,
    optimizer_from_tensors,
    optimizer_to_tensors,
    save_checkpoint,
)
from sup.engine.config import TrainConfig
from sup.engine.distributed import SINGLE, World
from sup.engine.master import MasterWeights
from sup.engine.memory import check_fits
from sup.engine.model import GPT
from sup.formats.data import TokenShards


@dataclass
class TrainState:
    cfg: TrainConfig
    device: torch.device
    precision: str  # resolved: fp32 | bf16 | fp16
    model: GPT
    master: MasterWeights | None  # bf16: fp32 copies that the optimizer steps
    optimizer: torch.optim.Optimizer
    scaler: torch.amp.GradScaler
    sampler: BatchSampler
    step: int = 0
    best_val: float = math.inf
    elapsed: float = 0.0  # wall seconds of training so far, evaluations and resumes included
    step_time: float = 0.0  # seconds inside optimizer steps (tokens/s divides by this)
    world: World = SINGLE  # the torchrun process group this state trains in, if any

    @property
    def trained(self) -> list[torch.Tensor]:
        return trained_tensors(self.model, self.master)

    @cached_property
    def trained_by_name(self) -> dict[str, torch.Tensor]:
        """Parameter name -> the tensor the optimizer steps (built once: the MoE bias
        update looks its tensors up after every step)."""
        names = [n for n, _ in self.model.named_parameters()]
        return dict(zip(names, self.trained, strict=True))

    @property
    def forward_precision(self) -> str:
        """bf16 weights already run in bf16; fp16 runs under autocast."""
        return "fp32" if self.master else self.precision

    def save(self, run_dir: Path, pointers: list[str], extra: dict | None = None) -> str:
        """Write checkpoint ``step-N`` and point ``pointers`` ("last", "best") at it."""
        opt_tensors, opt_info = optimizer_to_tensors(self.optimizer)
        tensors = {
            **opt_tensors,
            "rng.torch": torch.get_rng_state(),
            "rng.sampler": self.sampler.state(),
        }
        if self.device.type == "cuda":
            tensors["rng.cuda"] = torch.cuda.get_rng_state(self.device)
        info = {
            "best_val_loss": self.best_val,
            "elapsed_s": self.elapsed,
            "step_time_s": self.step_time,
            "precision": self.precision,
            "optimizer": opt_info,
            "scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None,
            **(extra or {}),
        }
        weights = self.master.state_dict() if self.master else model_tensors(self.model)
        return save_checkpoint(run_dir, self.step, weights, tensors, info, pointers)

    def restore(self, run_dir: Path, which: str = "last") -> dict:
        """Load checkpoint ``which`` into this state; returns its state.json."""
        weights, tensors, info = load_checkpoint(run_dir, which)
        weights = {k: v.to(self.device) for k, v in weights.items()}
        if self.master:
            self.master.load_state_dict(weights)
        else:
            load_model_tensors(self.model, weights)
        optimizer_from_tensors(self.optimizer, tensors, info["optimizer"])
        if info.get("scaler"):
            self.scaler.load_state_dict(info["scaler"])
        torch.set_rng_state(tensors["rng.torch"])
        self.sampler.restore(tensors["rng.sampler"])
        if self.device.type == "cuda" and "rng.cuda" in tensors:
            torch.cuda.set_rng_state(tensors["rng.cuda"], self.device)
        self.step, self.best_val = info["step"], info["best_val_loss"]
        self.elapsed, self.step_time = info["elapsed_s"], info["step_time_s"]
        return info


def trained_tensors(model: GPT, master: MasterWeights | None) -> list[torch.Tensor]:
    """The tensors the optimizer updates (the fp32 masters under bf16)."""
    return master.parameters() if master else list(model.parameters())


def make_optimizer(
    params: list[torch.Tensor],
    cfg: TrainConfig,
    device: torch.device,
    names: list[str] = (),
    precision: str = "fp32",
) -> torch.optim.Optimizer:
    """AdamW with weight decay on matrices (dim >= 2) only, as nanoGPT does; or, with
    ``optimizer = "muon"``, Muon for the blocks' matrices and AdamW for the rest
    (``engine/muon.py``; ``names`` are the parameters' names, in order)."""
    if cfg.optimizer == "muon":
        from sup.engine.muon import MuonAdamW, muon_groups, ns_dtype

        named = [(n, p) for n, p in zip(names, params, strict=True) if p.requires_grad]
        return MuonAdamW(muon_groups(named, cfg), ns_dtype(device, precision))
    params = [p for p in params if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    fused = device.type in ("cpu", "cuda")
    return torch.optim.AdamW(
        groups, lr=cfg.learning_rate, betas=(cfg.beta1, cfg.beta2), fused=fused
    )


def build_state(
    cfg: TrainConfig,
    vocab_size: int,
    train_tokens: TokenShards,
    device: torch.device,
    precision: str,
    eot_id: int | None = None,
    mask: TokenShards | None = None,
    rank: int = 0,
    world: int = 1,
) -> TrainState:
    """A fresh state at step 0: weights initialised from ``cfg.seed``."""
    check_fits(cfg, vocab_size, device, training=True, precision=precision)
    torch.manual_seed(cfg.seed)
    model = GPT(cfg.model_config(vocab_size)).to(device)
    master = MasterWeights(model) if precision == "bf16" else None
    return TrainState(
        cfg=cfg,
        device=device,
        precision=precision,
        model=model,
        master=master,
        optimizer=make_optimizer(
            trained_tensors(model, master),
            cfg,
            device,
            [n for n, _ in model.named_parameters()],
            precision,
        ),
        scaler=torch.amp.GradScaler(device.type, enabled=precision == "fp16"),
        sampler=BatchSampler(
            train_tokens,
            cfg.block_size,
            cfg.batch_size,
            cfg.seed,
            cfg.windows,
            eot_id,
            mask,
            rank,
            world,
        ),
    )
