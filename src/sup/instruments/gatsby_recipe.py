"""The gatsby instrument as a recipe (``recipe.Instrument``): stories with control lines
(``gatsby.py``), optionally mixed with template stories (``gatsby_templates.py``) and
noun-swapped copies (``gatsby_augment.py``), and the dial harness (``dial.py``)."""

from __future__ import annotations

from pathlib import Path

from sup.errors import UsageError
from sup.instruments import dial, gatsby
from sup.instruments.recipe import CONFIGS, TINY, HarnessRequest, Instrument, Preset


def gatsby_corpus(out: Path, source: Path | None, options: dict, seed: int) -> dict:
    """``--from FILE`` (stories with control lines), ``--generator template`` (the
    offline generator), or both: the file's stories with template stories mixed in for
    training, the harness still prompting with the file's held-out topics only."""
    from sup.instruments import gatsby_templates

    generator = options.get("generator")
    if generator not in (None, "template"):
        raise UsageError(f"--generator must be template, got {generator!r}")
    if source is None and generator is None:
        raise UsageError(
            "sup data gatsby needs --from FILE (stories with control lines, e.g. "
            "../shared/data/gatsby-mixture-2k.txt) or --generator template"
        )
    stories, described = gatsby.read_source(Path(source)) if source is not None else ([], {})
    prompted = {s.topic for s in stories} or None  # None: every topic (template alone)
    if generator == "template":
        count = options.get("stories", gatsby_templates.STORIES)
        made = gatsby_templates.generate_stories(seed, count)
        template = {"name": "sup.instruments.gatsby_templates", "seed": seed,
                    "stories": len(made), "cost_usd": 0}  # fmt: skip
        if stories:
            described["mixed_with"] = template
        else:
            described = template
        stories = stories + made
    levels = options.get("levels", "requested")
    if levels == "measured":  # the control line says what the text does (gatsby.py)
        stories, described["levels"] = gatsby.measured_levels(stories)
    elif levels != "requested":
        raise UsageError(f"--levels must be requested or measured, got {levels!r}")
    copies = options.get("augment", 0)
    augment = None
    if copies:
        from sup.instruments.gatsby_augment import augment as swap_nouns

        if not 1 <= copies <= 10:
            raise UsageError(f"--augment must be from 0 to 10 copies, got {copies}")

        def augment(train, held_out):  # the --from stories only: templates vary already
            mine = [s for s in train if prompted is None or s.topic in prompted]
            return swap_nouns(mine, copies, seed, held_out)

    return gatsby.build_corpus(stories, out, described, prompted=prompted, augment=augment)


def gatsby_harness(req: HarnessRequest) -> dict:
    from sup.instruments.voices import open_voice

    if req.corpus is None:
        raise UsageError("the gatsby harness needs --corpus DIR (its held-out topics)")
    topics = gatsby.held_out_topics(Path(req.corpus))
    return dial.dial_report(
        open_voice(req.target), topics, req.samples or dial.SAMPLES, req.tokens or dial.CHARS
    )


def gatsby_lines(report: dict) -> list[str]:
    h = report["headline"]
    per = ", ".join(
        f"{x['level']}: {x['green_mean']:.2f} [{x['green_ci95'][0]:.2f}, {x['green_ci95'][1]:.2f}]"
        for x in report["levels"]
    )
    n = report["levels"][0]["samples"]
    return [
        f'whole-word "green" in the first {report["chars_scored"]} characters, by level '
        f"({n} held-out topics a level, temperature {report['temperature']:g}; mean, 95% "
        f"bootstrap interval): {per}",
        f"Spearman {h['spearman']:.3f}; strictly increasing: {h['strictly_increasing']}; "
        f"levels 1, 3, 5 apart: {h['levels_1_3_5_apart']}",
        f"topic honoured {h['topic_rate']:.3f} [{h['topic_ci95'][0]:.3f}, "
        f"{h['topic_ci95'][1]:.3f}] (the key noun named); stories in the template's voice "
        f"{h.get('template_voiced_rate', 0):.3f}",
        "studio substring count per level: "
        + ", ".join(f"{x['green_substring_mean']:.2f}" for x in report["levels"]),
    ]


GATSBY_TINY = dict(TINY, arch="modern", block_size=160, max_iters=30, windows="documents")
GATSBY = Instrument(
    name="gatsby",
    summary="short stories with an obsession on a dial: sup gatsby --level 5 TOPIC",
    headline='whole-word "green" per level on held-out topics; Spearman; topic honoured',
    presets={
        "tiny": Preset(
            "tiny",
            GATSBY_TINY,
            "char",
            "20 s",
            {"generator": "template", "levels": "measured"},
            {"samples": 2, "tokens": 40},
        ),
        # The presets mix --from's LLM stories with the template generator's and label
        # each story with the level its text measures (gatsby.measured_levels).
        "cpu": Preset(
            "cpu",
            {"config": str(CONFIGS / "gatsby-cpu.toml")},
            "bpe:1024",
            "10 min",
            {"generator": "template", "levels": "measured"},
        ),
        "full": Preset(
            "full",
            {"config": str(CONFIGS / "gatsby-full.toml")},
            "bpe:1024",
            "85 min",
            {"generator": "template", "levels": "measured", "augment": 2},
        ),
    },
    make_corpus=gatsby_corpus,
    corpus_path=lambda written: written,
    harness=gatsby_harness,
    headline_value=lambda r: (
        "green by level "
        + "/".join(f"{m:.2f}" for m in r["headline"]["green_means"])
        + f", topic {r['headline']['topic_rate']:.2f}"
    ),
    summary_lines=gatsby_lines,
    chart=dial.dial_chart,
    card_notes=CONFIGS / "notes" / "gatsby.md",
    corpus_name="stories",
    controls=gatsby.CONTROLS,
)
