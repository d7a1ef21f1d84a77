"""Training across processes with PyTorch's DistributedDataParallel, under ``torchrun``.

``torchrun --nproc-per-node N -m sup train ...`` starts N copies of ``sup train`` with
``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and a rendezvous in the environment (several
machines: the same command on each with ``--nnodes``, ``--node-rank`` and
``--rdzv-endpoint``). ``from_env`` joins the process group: NCCL with one GPU per local
rank on CUDA, gloo on CPU. How a run behaves under it:

- Data: every rank draws the same global batch of ``batch_size * world`` windows from
  the shared sampler generator and trains on its own slice of rows, so N ranks of batch
  B see exactly the windows one process of batch N*B sees, and gradients averaged by
  DDP equal that process's (tests/test_distributed.py checks the losses).
- Only rank 0 writes: the run directory, ``metrics.jsonl``, checkpoints, progress. The
  others build the same state (same seed), read the same checkpoint on resume, and
  report nothing.
- Every decision is shared: the logged loss is the mean over ranks, the gradient norm is
  taken after DDP's all-reduce, and a stop signal on any rank is all-reduced each step,
  so all ranks save and leave at the same step (a rank that left alone would leave the
  others waiting in an all-reduce).
- A rank that dies ends the others' next collective with an error after
  ``TIMEOUT`` at most (torchrun also stops them); rank 0's last checkpoint is whole,
  since checkpoints are written to a temp directory and renamed, so ``--resume`` (with
  the same or another number of processes) continues from it.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

TIMEOUT = timedelta(seconds=60)


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """The one rank that writes files and prints."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1


SINGLE = World()


def env_size() -> int:
    """How many processes torchrun started for this run (1 outside torchrun)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def from_env() -> World:
    """The process group torchrun described in the environment, joined; ``SINGLE`` when
    this process was not started by torchrun (or with one process)."""
    size = env_size()
    if size <= 1:
        return SINGLE
    world = World(int(os.environ["RANK"]), size, int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        cuda = torch.cuda.is_available()
        if cuda:
            torch.cuda.set_device(world.local_rank)
        dist.init_process_group("nccl" if cuda else "gloo", timeout=TIMEOUT)
    return world


def device_for(world: World, device: torch.device) -> torch.device:
    """Each local rank on its own GPU; CPU ranks share the CPU."""
    if world.distributed and device.type == "cuda":
        return torch.device("cuda", world.local_rank)
    return device


def mean(value: torch.Tensor, world: World) -> torch.Tensor:
    """``value`` averaged over the ranks (itself alone without a group)."""
    if not world.distributed:
        return value
    value = value.detach().clone()
    dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value / world.size


def any_rank(flag: bool, world: World, device: torch.device) -> bool:
    """True on every rank when ``flag`` is true on any (a shared stop decision)."""
    if not world.distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()


def leave(world: World, peer_lost: bool = False) -> None:
    """Leave the group together: a rank that tore its connections down while a peer was
    still finishing its last collective could abort the peer (gloo). After a peer was
    lost there is nobody to wait for: the barrier is skipped, not left to time out."""
    if world.distributed and dist.is_initialized():
        if not peer_lost:
            with contextlib.suppress(RuntimeError):
                dist.barrier()
        dist.destroy_process_group()
