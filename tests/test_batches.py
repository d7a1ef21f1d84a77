"""Training windows: where they may start (``windows = anywhere | documents``) and that
the sampler's generator is the whole data position (a restored sampler draws the same)."""

from __future__ import annotations

import numpy as np
import pytest

from sup.engine.batches import BatchSampler
from sup.errors import SupError
from sup.formats.data import TokenShards

EOT = 9


def shards() -> TokenShards:
    """Documents of varied length, each followed by EOT, split over two shards."""
    rng = np.random.default_rng(0)
    docs = [rng.integers(0, 9, size=n) for n in (5, 30, 12, 3, 50, 7, 20, 40)]
    seq = np.concatenate([np.append(d, EOT) for d in docs]).astype(np.uint16)
    return TokenShards([seq[:70], seq[70:]])


def test_document_windows_open_at_a_document_start():
    tokens = shards()
    eots = set(tokens.positions_of(EOT).tolist())
    sampler = BatchSampler(tokens, block=16, batch=64, seed=1, windows="documents", eot_id=EOT)
    seen = set()
    for _ in range(20):
        x, y = sampler.next()
        assert (x[:, 1:] == y[:, :-1]).all()
        for row in x.numpy():
            start = next(s for s in sorted(eots | {0}) if (tokens.slice(s, s + 16) == row).all())
            assert start == 0 or row[0] == EOT
            seen.add(start)
    fits = {s for s in eots | {0} if s <= len(tokens) - 17}
    assert seen == fits  # every document start that fits is drawn, and nothing else


def test_a_restored_sampler_draws_the_same_windows_in_either_mode():
    for mode in ("anywhere", "documents"):
        a = BatchSampler(shards(), 16, 8, seed=3, windows=mode, eot_id=EOT)
        a.next()
        b = BatchSampler(shards(), 16, 8, seed=99, windows=mode, eot_id=EOT)
        b.restore(a.state())
        for _ in range(3):
            assert all((p == q).all() for p, q in zip(a.next(), b.next(), strict=True))


def test_one_document_is_refused_for_document_windows():
    one = TokenShards([np.arange(100, dtype=np.uint16) % 8])
    with pytest.raises(SupError, match="windows = anywhere"):
        BatchSampler(one, 16, 4, seed=0, windows="documents", eot_id=EOT)


def test_validation_windows_start_where_training_windows_may():
    from sup.engine.batches import document_starts, val_starts

    tokens = shards()
    anywhere = val_starts(tokens, 16, 10)
    assert len(anywhere) == 10 and anywhere[0] == 0 and anywhere[-1] == len(tokens) - 17
    documents = val_starts(tokens, 16, 4, "documents", EOT)
    assert set(documents) <= set(document_starts(tokens, EOT, 16)) and len(documents) == 4
    assert (val_starts(tokens, 16, 4, "documents", EOT) == documents).all()  # no randomness
