"""Training batches and validation windows, read from memory-mapped token shards.

Training: each batch is ``batch`` random windows of ``block + 1`` tokens from anywhere in
the train split (a window may cross a shard boundary), drawn by the sampler's own
seeded ``torch.Generator``. That generator's state is the data position: the
checkpoint saves it, and a resumed run draws exactly the batches it would have drawn.

Validation: ``val_starts`` spaces windows evenly over the val split. They are the same
for every run on that data and draw no random numbers, so val figures compare across
runs and resuming does not disturb the training stream.
"""

from __future__ import annotations

import numpy as np
import torch

from sup.errors import SupError
from sup.formats.data import TokenShards


class BatchSampler:
    def __init__(self, tokens: TokenShards, block: int, batch: int, seed: int):
        self.tokens, self.block, self.batch = tokens, block, batch
        self.generator = torch.Generator().manual_seed(seed)

    def next(self) -> tuple[torch.Tensor, torch.Tensor]:
        """(inputs, targets), each ``[batch, block]`` int64."""
        starts = torch.randint(
            len(self.tokens) - self.block, (self.batch,), generator=self.generator
        )
        chunk = torch.from_numpy(self.tokens.windows(starts.numpy(), self.block + 1))
        return chunk[:, :-1], chunk[:, 1:]

    def state(self) -> torch.Tensor:
        return self.generator.get_state()

    def restore(self, state: torch.Tensor) -> None:
        self.generator.set_state(state)


def val_starts(n_tokens: int, block: int, n_windows: int) -> np.ndarray:
    """Evenly spaced window starts over the val split: same windows for every run."""
    last = n_tokens - block - 1
    return np.unique(np.linspace(0, last, min(n_windows, last + 1)).astype(np.int64))


def check_length(tokens: TokenShards, block: int, split: str) -> None:
    if len(tokens) < block + 2:
        raise SupError(
            f"the {split} split has {len(tokens)} tokens, fewer than block_size + 2 "
            f"({block + 2}): use a longer corpus or a smaller block_size"
        )
