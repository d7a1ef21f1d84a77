"""Training batches and validation windows, read from memory-mapped token shards.

Training: each batch is ``batch`` random windows of ``block + 1`` tokens from the train
split (a window may cross a shard boundary), drawn by the sampler's own seeded
``torch.Generator``. That generator's state is the data position: the checkpoint saves
it, and a resumed run draws exactly the batches it would have drawn. Where a window may
start is the ``windows`` config key:

- ``anywhere`` (nanoGPT's rule): any position;
- ``documents``: only at a document's start, the ``<|endoftext|>`` before it (or the
  split's first token), so the window opens as generation does and everything a
  document's head says (a control line, a topic, a chat turn) is in the context of all
  that follows it in the window. A corpus of short, conditioned documents learns its
  conditions from every window instead of from the windows that happen to hold a head.

A chat corpus carries a loss mask (``engine/prepare_chat.py``): its targets outside the
assistant's tokens come back as ``IGNORE``, which the loss skips; windows are drawn
exactly as without one, so the mask changes what counts, never which batches are read.

Validation: ``val_starts`` spaces windows evenly over the val split (over its document
starts, for ``documents``). They are the same for every run on that data and draw no
random numbers, so val figures compare across runs and resuming does not disturb the
training stream.
"""

from __future__ import annotations

import numpy as np
import torch

from sup.errors import SupError
from sup.formats.data import TokenShards

WINDOWS = ("anywhere", "documents")
IGNORE = -100  # a target the loss skips (F.cross_entropy's default ignore_index)


class BatchSampler:
    def __init__(self, tokens: TokenShards, block: int, batch: int, seed: int,
                 windows: str = "anywhere", eot_id: int | None = None,
                 mask: TokenShards | None = None, rank: int = 0, world: int = 1):  # fmt: skip
        self.tokens, self.block, self.batch = tokens, block, batch
        self.mask = mask
        # Under DDP every rank draws the global batch (batch * world windows, the same
        # generator everywhere) and keeps its own rows: N ranks of batch B read what one
        # process of batch N*B reads (engine/distributed.py).
        self.rank, self.world = rank, world
        self.generator = torch.Generator().manual_seed(seed)
        self.starts = None  # None: anywhere
        if windows == "documents":
            self.starts = document_starts(tokens, eot_id, block)

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs, targets), each ``[batch, block]`` int64."""
        drawn = self.batch * self.world
        if self.starts is None:
            high = len(self.tokens) - self.block
            starts = torch.randint(high, (drawn,), generator=self.generator).numpy()
        else:
            pick = torch.randint(len(self.starts), (drawn,), generator=self.generator)
            starts = self.starts[pick.numpy()]
        starts = starts[self.rank * self.batch : (self.rank + 1) * self.batch]
        chunk = torch.from_numpy(self.tokens.windows(starts, self.block + 1))
        return chunk[:, :-1], masked_targets(chunk[:, 1:], self.mask, starts + 1)

    def state(self) -> torch.Tensor:
        return self.generator.get_state()

    def restore(self, state: torch.Tensor) -> None:
        self.generator.set_state(state)


def masked_targets(
    targets: torch.Tensor, mask: TokenShards | None, starts: np.ndarray
) -> torch.Tensor:
    """``targets`` (windows from ``starts``) with ``IGNORE`` where the mask is 0."""
    if mask is None:
        return targets
    keep = torch.from_numpy(mask.windows(starts, targets.size(1))) != 0
    return targets.masked_fill(~keep, IGNORE)


def document_starts(
    tokens: TokenShards, eot_id: int, block: int, split: str = "train"
) -> np.ndarray:
    """Where a document starts: position 0 and each ``<|endoftext|>``, as long as a whole
    window of ``block + 1`` tokens fits from there."""
    starts = np.concatenate([[0], tokens.positions_of(eot_id)])
    starts = np.unique(starts[starts <= len(tokens) - block - 1])
    if len(starts) < 2:
        raise SupError(
            f"windows = documents needs several documents, but the {split} split holds one "
            f"that fits (or none): use windows = anywhere or a smaller block_size ({block})"
        )
    return starts


def val_starts(tokens: TokenShards, block: int, n_windows: int, windows: str = "anywhere",
               eot_id: int | None = None) -> np.ndarray:  # fmt: skip
    """Evenly spaced window starts over the val split: the same windows for every run,
    starting where training windows may (at document starts for ``documents``)."""
    if windows == "documents":
        starts = document_starts(tokens, eot_id, block, "val")
        picks = np.linspace(0, len(starts) - 1, min(n_windows, len(starts))).round()
        return np.unique(starts[picks.astype(np.int64)])
    last = len(tokens) - block - 1
    return np.unique(np.linspace(0, last, min(n_windows, last + 1)).astype(np.int64))


def check_length(tokens: TokenShards, block: int, split: str) -> None:
    if len(tokens) < block + 2:
        raise SupError(
            f"the {split} split has {len(tokens)} tokens, fewer than block_size + 2 "
            f"({block + 2}): use a longer corpus or a smaller block_size"
        )
