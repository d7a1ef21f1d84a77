"""``sup train``: train a model from a TOML config, or resume a run exactly."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from sup.errors import UsageError


def cmd_train(args) -> int:
    from sup.cli.progress import ConsoleReporter
    from sup.engine import distributed
    from sup.engine.config import load_config
    from sup.engine.train import train

    reporter = ConsoleReporter(quiet=args.quiet)
    if args.resume:
        if args.config or args.out:
            raise UsageError("--resume takes the run directory alone (no CONFIG or --out)")
        result = train(
            Path(args.resume),
            data_dir=args.data,
            resume=True,
            overrides=args.set,
            stop_after=args.stop_after,
            reporter=reporter,
        )
    else:
        if not args.data or not args.out:
            raise UsageError("sup train needs --data DATA_DIR and --out RUN_DIR (or --resume)")
        # under torchrun every process reads its own batch: depth's budget counts them all
        cfg = load_config(args.config, args.set, distributed.env_size())
        result = train(
            Path(args.out),
            cfg,
            Path(args.data),
            force=args.force,
            stop_after=args.stop_after,
            reporter=reporter,
        )
    if os.environ.get("RANK", "0") != "0":  # under torchrun, rank 0 speaks for the run
        return 0
    if args.json:
        print(json.dumps(result))
    else:
        val = (
            f"val_loss {result['val_loss']:.4f}, val_bpb {result['val_bpb']:.4f}, "
            if (result["val_loss"] is not None)
            else ""
        )
        mfu = f" (MFU {result['mfu']:.1%})" if result["mfu"] is not None else ""
        print(
            f"{result['run_dir']}: step {result['step']}/{result['max_iters']}, {val}"
            f"{result['tokens_per_s'] or 0:,.0f} tok/s{mfu}, {result['elapsed_s']:.1f}s",
            file=sys.stderr,
        )
    return 0


def add_commands(sub) -> None:
    t = sub.add_parser("train", help="train a model (or resume a run)")
    t.add_argument("config", nargs="?", help="TOML config file")
    t.add_argument("--data", help="data directory from sup prepare")
    t.add_argument("--out", help="run directory to create")
    t.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key (repeatable)",
    )
    t.add_argument("--resume", metavar="RUN_DIR", help="continue an interrupted run exactly")
    t.add_argument(
        "--stop-after",
        type=int,
        metavar="STEP",
        help="save a checkpoint and stop after this step (resume later)",
    )
    t.add_argument("--force", action="store_true", help="replace --out if it exists")
    t.add_argument("--quiet", action="store_true", help="no progress output")
    t.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
    t.set_defaults(func=cmd_train)
