"""``STUDY/progress.png``: val bits per byte by experiment, the kept ones highlighted,
the best so far as a step line, and the baseline's noise band (mean ± 2σ) shaded: a
point inside the band is indistinguishable from a change of seed."""

from __future__ import annotations

import statistics
from pathlib import Path

from sup.fileio import atomic_write
from sup.research.ledger import K_SIGMA, Row, standing

STYLE = {  # status: (marker, colour, size, label)
    "baseline": ("s", "tab:blue", 36, "baseline seeds"),
    "discard": ("o", "tab:gray", 22, "discarded"),
    "discard-holdout": ("D", "tab:orange", 30, "vetoed by the holdout"),
    "keep": ("*", "tab:green", 140, "kept"),
}


def progress_chart(rows: list[Row], seeds: int, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(figsize=(10, 4.5))
    scored = [r for r in rows if r.val_bpb is not None]
    base = [r.val_bpb for r in rows if r.status == "baseline"]
    if len(base) >= 2:
        mean, sigma = statistics.fmean(base), statistics.stdev(base)
        ax.axhspan(mean - K_SIGMA * sigma, mean + K_SIGMA * sigma, color="tab:blue", alpha=0.12,
                   label=f"baseline mean ± {K_SIGMA:g}σ")  # fmt: skip
        ax.axhline(mean, color="tab:blue", lw=0.8, alpha=0.6)
    for status, (marker, colour, size, label) in STYLE.items():
        picked = [r for r in scored if r.status == status]
        if picked:
            ax.scatter([r.id for r in picked], [r.val_bpb for r in picked], marker=marker,
                       color=colour, s=size, label=label, zorder=3)  # fmt: skip
    best_x, best_y = [], []
    for i in range(1, len(rows) + 1):
        now = standing(rows[:i], seeds)
        if now is not None:
            best_x.append(i)
            best_y.append(now.val_bpb)
    if best_x:
        ax.step(best_x, best_y, where="post", color="tab:green", lw=1.2, label="best so far")
    failed = [r.id for r in rows if r.val_bpb is None]
    if failed:
        for x in failed:
            ax.axvline(x, color="tab:red", lw=0.8, alpha=0.5, ls=":")
        ax.plot([], [], color="tab:red", ls=":", label="crash or timeout")
    ax.set(xlabel="experiment (ledger id)", ylabel="val bits per byte (lower is better)",
           title=title)  # fmt: skip
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if rows:
        ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    plt.close(fig)
