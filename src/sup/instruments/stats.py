"""Intervals for harness figures: every sampled number is reported with its n and a 95%
interval, computed here.

- ``wilson``: a proportion of independent trials (Wilson score interval).
- ``cluster_bootstrap``: a ratio over units that are not independent (lines within one
  sample share its context), resampled by cluster (the samples), percentile interval.
- ``bootstrap_mean``: the mean of independent values, percentile interval.

Bootstraps use their own seeded numpy Generator, so a report is reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Z95 = 1.959963984540054
RESAMPLES = 2000


def wilson(successes: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval of ``successes / n`` ((0, 1) when n is 0)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def cluster_bootstrap(
    hits: Sequence[int], totals: Sequence[int], seed: int = 0
) -> tuple[float, float]:
    """95% interval of sum(hits) / sum(totals), resampling the clusters (one entry each
    in ``hits`` and ``totals``) with replacement."""
    hits, totals = np.asarray(hits, float), np.asarray(totals, float)
    if len(hits) == 0 or totals.sum() == 0:
        return 0.0, 1.0
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(hits), size=(RESAMPLES, len(hits)))
    num, den = hits[picks].sum(axis=1), totals[picks].sum(axis=1)
    ratios = num[den > 0] / den[den > 0]
    low, high = np.percentile(ratios, [2.5, 97.5])
    return float(low), float(high)


def bootstrap_mean(values: Sequence[float], seed: int = 0) -> tuple[float, float]:
    """95% percentile-bootstrap interval of the mean of ``values``."""
    values = np.asarray(values, float)
    if len(values) == 0:
        return 0.0, 0.0
    rng = np.random.default_rng(seed)
    means = values[rng.integers(0, len(values), size=(RESAMPLES, len(values)))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return float(low), float(high)


def overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] and b[0] <= a[1]
