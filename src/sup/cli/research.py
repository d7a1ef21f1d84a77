"""``sup research init|run|status``: experiments under one frozen harness, kept only when
they beat the seed noise and the hidden holdout (sup/research/)."""

from __future__ import annotations

import json
from pathlib import Path

from sup.errors import UsageError


def cmd_init(args) -> int:
    from sup.research.study import init_study

    result = init_study(
        Path(args.study), Path(args.data), args.budget, Path(args.space),
        Path(args.base) if args.base else None, args.set, args.seeds, args.windows,
        args.timeout,
    )  # fmt: skip
    harness = result["info"]["harness"]
    if args.json:
        print(json.dumps({k: v for k, v in result.items() if k != "knobs"}))
        return 0
    verb = "created" if result["created"] else "updated (space and timeout)"
    windows = harness["windows"]
    print(f"{result['study']}: study {verb}")
    print(f"  data: {harness['data']['path']} (meta.json {harness['data']['meta_sha256'][:12]})")
    print(f"  budget: {harness['budget_s']:g}s a run, timeout {result['info']['timeout_s']:g}s; "
          f"baseline seeds: {harness['seeds']}")  # fmt: skip
    print(f"  windows: {len(windows['val'])} val + {len(windows['holdout'])} holdout, "
          f"{windows['length']} tokens each")  # fmt: skip
    for knob in result["knobs"].values():
        print(f"  knob {knob.describe()}")
    return 0


def row_line(row: dict) -> str:
    def num(v, fmt: str) -> str:
        return "-" if v is None else format(v, fmt)

    return (f"{row['id']:>4}  {row['status']:<15} {num(row['val_bpb'], '.4f'):>7} "
            f"{num(row['holdout_bpb'], '.4f'):>7} {num(row['wall_s'], '.1f'):>6}s "
            f"{num(row['peak_mem_mb'], '.0f'):>5}MB  {row['description']}")  # fmt: skip


HEADER = f"{'id':>4}  {'status':<15} {'val':>7} {'holdout':>7} {'wall':>7} {'mem':>7}  description"


def cmd_run(args) -> int:
    from dataclasses import asdict

    from sup.research.loop import run_study
    from sup.research.propose import LlmSettings

    llm = None
    if args.proposer == "llm":
        if not args.llm_url or not args.llm_model:
            raise UsageError("--proposer llm needs --llm-url URL and --llm-model NAME")
        llm = LlmSettings(args.llm_url, args.llm_model, args.llm_temperature)
    elif args.llm_url or args.llm_model:
        raise UsageError("--llm-url and --llm-model are for --proposer llm")

    def on_row(row, now) -> None:
        if not args.json:
            print(row_line(asdict(row)), flush=True)

    if not args.json:
        print(HEADER, flush=True)
    result = run_study(Path(args.study), args.experiments, args.proposer, llm, args.keep_all,
                       on_row)  # fmt: skip
    if args.json:
        print(json.dumps(result))
        return 0
    print_stats(result["stats"])
    if result["llm_usage"]["prompt_tokens"] or result["llm_usage"]["completion_tokens"]:
        u = result["llm_usage"]
        print(f"llm tokens: {u['prompt_tokens']:,} prompt, {u['completion_tokens']:,} completion")
    if result["note"]:
        print(f"stopped: {result['note']}")
    return 0


def print_stats(stats: dict) -> None:
    status = stats["status"]
    counts = ", ".join(f"{n} {s}" for s, n in status.items() if n and s != "baseline")
    print(f"{status['baseline']} baseline runs, {stats['experiments']} experiments"
          + (f": {counts}" if counts else ""))  # fmt: skip
    if stats["llm_fallbacks"]:
        print(f"llm fallbacks to local: {stats['llm_fallbacks']}")
    if stats["best"] is not None:
        base, best = stats["baseline"], stats["best"]
        print(
            f"baseline {base['val_bpb']:.4f} ± {base['sigma']:.4f} (σ over seeds); best: "
            f"{best['best']} at {best['val_bpb']:.4f}, to beat: below {best['bar']:.4f}"
        )


def cmd_status(args) -> int:
    from sup.research.loop import study_status

    report = study_status(Path(args.study), chart=not args.no_chart)
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"{report['study']}: {report['budget_s']:g}s a run, {report['seeds']} baseline seeds")
    for knob in report["knobs"]:
        print(f"  knob {knob}")
    print(HEADER)
    for row in report["rows"]:
        print(row_line(row))
    print_stats(report["stats"])
    if report["chart"]:
        print(f"chart: {report['chart']}")
    return 0


def add_commands(sub) -> None:
    r = sub.add_parser("research", help="experiments under a frozen harness, kept only if real")
    rs = r.add_subparsers(dest="research_command", required=True, parser_class=type(r))

    i = rs.add_parser("init", help="freeze a study's harness: data, budget, space, windows")
    i.add_argument("study", help="study directory to create (or whose space to change)")
    i.add_argument("--data", required=True, help="data directory from sup prepare")
    i.add_argument("--budget", required=True, help="wall-clock training budget a run: 60s, 2m")
    i.add_argument("--space", required=True, help="TOML file: the knobs proposers may change")
    i.add_argument("--base", help="base config TOML (default: sup train's defaults)")
    i.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="override a base config key (repeatable)")  # fmt: skip
    i.add_argument("--seeds", type=int, default=3, help="baseline runs for the noise floor (3)")
    i.add_argument("--windows", type=int, default=128, help="val and holdout windows each (128)")
    i.add_argument("--timeout", type=float, help="seconds before a run counts as hung "
                   "(default: 3 x budget + 60)")  # fmt: skip
    i.add_argument("--json", action="store_true", help="print the study as JSON")
    i.set_defaults(func=cmd_init)

    u = rs.add_parser("run", help="complete the baseline, then run experiments")
    u.add_argument("study", help="study directory (sup research init)")
    u.add_argument("--experiments", type=int, default=10, help="experiments to run (10)")
    u.add_argument("--proposer", choices=("random", "local", "llm"), default="local",
                   help="who proposes: random, local (around the best) or llm")  # fmt: skip
    u.add_argument("--llm-url", help="OpenAI-compatible API base URL (…/v1)")
    u.add_argument("--llm-model", help="the model name that API serves")
    u.add_argument("--llm-temperature", type=float, default=0.7, help="(0.7)")
    u.add_argument(
        "--keep-all",
        action="store_true",
        help="keep every run's checkpoint (default: baselines and kept wins only)",
    )
    u.add_argument("--json", action="store_true", help="print the result as JSON")
    u.set_defaults(func=cmd_run)

    s = rs.add_parser("status", help="the ledger as a table, and STUDY/progress.png")
    s.add_argument("study", help="study directory")
    s.add_argument("--no-chart", action="store_true", help="do not redraw progress.png")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.set_defaults(func=cmd_status)
