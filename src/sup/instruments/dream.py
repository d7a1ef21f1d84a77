"""The kenosha kid harness: the dream score of a model's lines, against its corpus.

Definitions (``line_marks``): a line is a complete generated line (the text between two
newlines; the unfinished last line of a sample is dropped, and so is an empty line).
Its words are its runs of letters, lowercased. Each word's distance is its Levenshtein
distance to the nearest of the six canonical words. Per line:

- ``anchor``: the line equals one of the nine anchor phrasings exactly;
- ``near_miss``: some word is at distance 1 or 2 (a misspelt dream of a real word);
- ``garbled``: some word is at distance 3 or more (no longer one of the six).

Rates are over lines; ``anchors_covered`` counts distinct anchors seen (of 9). Lines of
one sample share its context, so intervals resample whole samples (a cluster bootstrap,
``stats.py``). Each (temperature, sample) pair has its own seed, recorded. The corpus's
own lines get the same statistics, so dreaming (near-misses the corpus does not have) is
told apart from copying.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sup.instruments.kenosha import ANCHORS, WORDS, _edit_distance, _words
from sup.instruments.stats import cluster_bootstrap, overlaps

TEMPERATURES = (0.5, 0.9, 1.3)
HEADLINE_TEMPERATURE = 0.9
SAMPLES = 12
TOKENS = 1200
SEED = 1000  # seed of sample i at temperature j: SEED + 100 * j + i
SWEEP_SAMPLES, SWEEP_TOKENS, SWEEP_SEED = 4, 600, 50000  # per kept checkpoint x temperature


@dataclass(frozen=True)
class LineMarks:
    anchor: bool
    near_miss: bool
    garbled: bool
    line: str


def word_distance(word: str) -> int:
    return min(_edit_distance(word, w) for w in WORDS)


def line_marks(line: str) -> LineMarks:
    distances = [word_distance(w) for w in _words(line)]
    return LineMarks(
        anchor=line in ANCHORS,
        near_miss=any(1 <= d <= 2 for d in distances),
        garbled=any(d >= 3 for d in distances),
        line=line,
    )


def complete_lines(text: str) -> list[str]:
    """The sample's complete lines: up to its last newline, empty ones dropped."""
    whole = text[: text.rfind("\n") + 1] if "\n" in text else ""
    return [line for line in whole.split("\n") if line.strip()]


def score(samples: list[list[str]], seed: int = 0) -> dict:
    """Dream statistics of ``samples`` (each a list of complete lines)."""
    marks = [[line_marks(line) for line in sample] for sample in samples]
    totals = [len(m) for m in marks]
    n = sum(totals)
    out = {"samples": len(samples), "lines": n}
    for key in ("anchor", "near_miss", "garbled"):
        hits = [sum(getattr(x, key) for x in m) for m in marks]
        out[key] = {
            "rate": sum(hits) / n if n else 0.0,
            "ci95": list(cluster_bootstrap(hits, totals, seed)),
        }
    out["anchors_covered"] = len({x.line for m in marks for x in m if x.anchor})
    return out


def corpus_score(text: str, chunk_lines: int = 50) -> dict:
    """The corpus's own statistics, its lines grouped in chunks as a model's samples
    are (so the interval means the same thing)."""
    lines = [line for line in text.split("\n") if line.strip()]
    chunks = [lines[i : i + chunk_lines] for i in range(0, len(lines), chunk_lines)]
    return score(chunks)


def dream_report(voice, corpus_text: str, samples: int = SAMPLES, tokens: int = TOKENS,
                 temperatures=TEMPERATURES) -> dict:  # fmt: skip
    """Sample ``samples`` x ``tokens`` from a newline at each temperature and score it."""
    conditions = []
    for j, temperature in enumerate(temperatures):
        seeds = [SEED + 100 * j + i for i in range(samples)]
        texts = [voice.sample("\n", tokens, temperature, s) for s in seeds]
        result = score([complete_lines(t) for t in texts], seed=j)
        conditions.append({"temperature": temperature, "seeds": seeds, **result})
    low, high = conditions[0]["near_miss"], conditions[-1]["near_miss"]
    rates = [c["near_miss"]["rate"] for c in conditions]
    headline = min(conditions, key=lambda c: abs(c["temperature"] - HEADLINE_TEMPERATURE))
    return {
        "instrument": "kenosha",
        "prompt": "\n",
        "tokens_per_sample": tokens,
        "conditions": conditions,
        "headline": {
            "temperature": headline["temperature"],
            "anchors_covered": headline["anchors_covered"],
            "anchor_rate": headline["anchor"]["rate"],
            "near_miss_rate": headline["near_miss"]["rate"],
            "garbled_rate": headline["garbled"]["rate"],
        },
        "dial": {
            "near_miss_monotonic": all(a < b for a, b in itertools.pairwise(rates)),
            "extremes_separated": not overlaps(tuple(low["ci95"]), tuple(high["ci95"])),
        },
        "corpus": corpus_score(corpus_text),
    }


def dream_sweep(checkpoints, samples: int = SWEEP_SAMPLES, tokens: int = SWEEP_TOKENS,
                temperatures=TEMPERATURES) -> list[dict]:  # fmt: skip
    """The dream score over training progress x temperature: ``checkpoints`` is a list
    of (step, voice), one per kept checkpoint. Sample i at temperature j of checkpoint k
    has seed ``SWEEP_SEED + 10000 * k + 100 * j + i``."""
    points = []
    for k, (step, voice) in enumerate(checkpoints):
        for j, temperature in enumerate(temperatures):
            seeds = [SWEEP_SEED + 10000 * k + 100 * j + i for i in range(samples)]
            texts = [voice.sample("\n", tokens, temperature, s) for s in seeds]
            result = score([complete_lines(t) for t in texts], seed=j)
            points.append({"step": step, "temperature": temperature, "seeds": seeds, **result})
    return points


def dream_chart(report: dict, path) -> None:
    """Near-miss and garbled rates against temperature, 95% intervals, the corpus's own
    rates as dashed lines; beside it, when the run kept checkpoints, the near-miss rate
    and anchors covered over training, one line per temperature."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sup.fileio import atomic_write

    temps = [c["temperature"] for c in report["conditions"]]
    sweep = report.get("sweep") or []
    if sweep:
        fig, (ax, ax_steps) = plt.subplots(1, 2, figsize=(12, 4))
        _sweep_panel(ax_steps, sweep)
    else:
        fig, ax = plt.subplots(figsize=(6, 4))
    for key, colour in (("near_miss", "tab:green"), ("garbled", "tab:red"), ("anchor", "tab:blue")):
        rates = [c[key]["rate"] for c in report["conditions"]]
        low = [r - c[key]["ci95"][0] for r, c in zip(rates, report["conditions"], strict=True)]
        high = [c[key]["ci95"][1] - r for r, c in zip(rates, report["conditions"], strict=True)]
        ax.errorbar(temps, rates, yerr=[low, high], marker="o", capsize=4, color=colour,
                    label=key.replace("_", "-"))  # fmt: skip
        ax.axhline(report["corpus"][key]["rate"], color=colour, linestyle="--", linewidth=0.8)
    n = report["conditions"][0]["samples"]
    title = f"kenosha kid: the dream dial ({n} samples a point; dashed: corpus)"
    ax.set(xlabel="temperature", ylabel="share of lines", title=title)
    ax.legend()
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    plt.close(fig)


def _sweep_panel(ax, sweep: list[dict]) -> None:
    """Near-miss rate (solid) and anchors covered / 9 (dotted) against the training step."""
    colours = dict(zip(TEMPERATURES, ("tab:blue", "tab:green", "tab:red"), strict=True))
    for temperature in sorted({p["temperature"] for p in sweep}):
        mine = [p for p in sweep if p["temperature"] == temperature]
        steps = [p["step"] for p in mine]
        colour = colours.get(temperature, "tab:gray")
        rates = [p["near_miss"]["rate"] for p in mine]
        low = [r - p["near_miss"]["ci95"][0] for r, p in zip(rates, mine, strict=True)]
        high = [p["near_miss"]["ci95"][1] - r for r, p in zip(rates, mine, strict=True)]
        ax.errorbar(steps, rates, yerr=[low, high], marker="o", capsize=3, color=colour,
                    label=f"near-miss, T={temperature:g}")  # fmt: skip
        ax.plot(steps, [p["anchors_covered"] / 9 for p in mine], linestyle=":", marker=".",
                color=colour, label=f"anchors covered / 9, T={temperature:g}")  # fmt: skip
    n = sweep[0]["samples"]
    ax.set(xlabel="training step (kept checkpoints)", ylabel="share",
           title=f"over training ({n} samples a point)", ylim=(0, 1.05))  # fmt: skip
    ax.legend(fontsize=7)
