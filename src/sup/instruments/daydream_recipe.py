"""The daydream chess instruments as recipes (``recipe.Instrument``), one per board tier
(``sup.chess.tiers``): games as documents (``daydream.py``), a word-level model (a move
a token, ``bpe-words``) that never sees a board or a rule,
and a match against the engine (``match.py``) as the harness."""

from __future__ import annotations

from pathlib import Path

from sup.chess.tiers import tier as board_tier
from sup.errors import UsageError
from sup.instruments import match
from sup.instruments.recipe import CONFIGS, TINY, HarnessRequest, Instrument, Preset

# Games are at most 150 plies, a token each: block 64 is the tests' size only.
DAYDREAM_TINY = dict(TINY, arch="modern", block_size=64, max_iters=30, windows="documents")
HARNESS_KEYS = {f.name for f in match.MatchSettings.__dataclass_fields__.values()}
# The bar: a release plays legal first tries this often (target 0.80, all phases).
RELEASE_FLOOR = 0.60


def below_floor(report: dict) -> str | None:
    """Why a match report is no release (None: it meets ``RELEASE_FLOOR``)."""
    rate = report["first_try_legal"]["rate"]
    if rate >= RELEASE_FLOOR:
        return None
    return f"first-try legal {rate:.3f} is under the {RELEASE_FLOOR:.2f} release floor"


def daydream_corpus(tier_name: str):
    def make(out: Path, source: Path | None, options: dict, seed: int) -> dict:
        from sup.instruments.daydream import build_corpus

        return build_corpus(board_tier(tier_name), out, source, options, seed)

    return make


def daydream_harness(tier_name: str):
    def harness(req: HarnessRequest) -> dict:
        from sup.instruments.voices import open_voice

        unknown = set(req.options) - HARNESS_KEYS
        if unknown:
            raise UsageError(f"the daydream harness has no option {', '.join(sorted(unknown))}")
        settings = match.MatchSettings(**req.options)
        return match.play_match(open_voice(req.target), board_tier(tier_name), settings)

    return harness


def daydream_lines(report: dict) -> list[str]:
    s, ft, mass = report["settings"], report["first_try_legal"], report["illegal_mass"]

    def ci(r):
        return f"[{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]"

    def cluster(p):  # reports written before phases carried one have none
        low_high = p.get("cluster_ci95")
        return f", games [{low_high[0]:.3f}, {low_high[1]:.3f}]" if low_high else ""

    phases = ", ".join(f"plies {p['plies']}: {p['rate']:.3f} {ci(p)}{cluster(p)} (n={p['n']})"
                       for p in report["by_phase"])  # fmt: skip
    res = report["results"]
    return [
        f"{report['games']} games against the {match.opponent(s)} (colours alternate; "
        f"{report['aborted']} aborted), temperature {s['temperature']}, "
        f"up to {s['attempts']} samples a move; 95% intervals",
        f"first-try legal: {ft['rate']:.3f} {ci(ft)} of {ft['n']} model moves "
        f"(cluster bootstrap over games [{ft['cluster_ci95'][0]:.3f}, "
        f"{ft['cluster_ci95'][1]:.3f}])",
        f"by phase: {phases}",
        f"illegal probability mass: {mass['mean']:.3f} [{mass['ci95'][0]:.3f}, "
        f"{mass['ci95'][1]:.3f}]",
        f"forced after {s['attempts']} samples: {report['forced']['rate']:.3f} "
        f"{ci(report['forced'])}; games with no forced move: "
        f"{report['games_without_forced_move']['k']} of {report['games_without_forced_move']['n']}",
        "results for the model: "
        + ", ".join(f"{k} {r['k']} ({r['rate']:.2f} {ci(r)})" for k, r in res.items()),
        f"release floor (first-try legal >= {RELEASE_FLOOR:.2f}): "
        + ("NOT met: a study, not a release" if below_floor(report) else "met"),
    ]


def daydream(tier_name: str, board: str, vocab: str) -> Instrument:
    """``vocab``: the cpu and full presets' tokenizer, sized to hold the board's moves
    (docs/LOG.md 2026-12-07 compares it with characters)."""

    def sized(preset: str, wall: str) -> Preset:
        config = CONFIGS / f"daydream-{tier_name}-{preset}.toml"
        return Preset(preset, {"config": str(config)}, vocab, wall, {}, {})

    return Instrument(
        name=f"daydream-{tier_name}",
        summary=f"{board} chess moves learned from games, never the rules",
        headline="first-try legal rate and illegal probability mass against the engine",
        presets={
            "tiny": Preset("tiny", DAYDREAM_TINY, vocab, "20 s", {}, {"games": 2, "max_plies": 12}),
            "cpu": sized("cpu", "10 min"),
            "full": sized("full", "60 min"),
        },
        make_corpus=daydream_corpus(tier_name),
        corpus_path=lambda written: written,
        harness=daydream_harness(tier_name),
        headline_value=lambda r: (
            f"first-try legal {r['first_try_legal']['rate']:.3f}, "
            f"illegal mass {r['illegal_mass']['mean']:.3f}"
        ),
        summary_lines=daydream_lines,
        chart=match.match_chart,
        card_notes=CONFIGS / "notes" / "daydream.md",
        corpus_name="games",
        game={"kind": "chess", "tier": tier_name},
        # fp32: the harness measured the run's own weights, and a legal first try turns on
        # the top choices, which int8 changed in 6% of held-out windows (daydream-micro-1)
        int8=False,
        release_floor=below_floor,
    )


# Gardner self-play uses about 500 distinct moves, 8x8 about 2,000; 12x10 has more
# than 4,096 and its rarer moves take two tokens.
DAYDREAM_MICRO = daydream("micro", "Gardner 5x5", "bpe-words:1024")
DAYDREAM_REGULAR = daydream("regular", "8x8", "bpe-words:4096")
DAYDREAM_GRAND = daydream("grand", "12x10 grand", "bpe-words:4096")
