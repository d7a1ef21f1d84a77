"""``sup data``: make a corpus (the kenosha kid generator; instruments add theirs)."""

from __future__ import annotations

import sys
from pathlib import Path

from sup.errors import UsageError


def cmd_data(args) -> int:
    from sup.fileio import write_text_atomic
    from sup.instruments.kenosha import generate_corpus

    out = Path(args.out)
    if out.exists() and not args.force:
        raise UsageError(f"{out} already exists: choose another --out or pass --force")
    if args.lines < 1:
        raise UsageError("--lines must be at least 1")
    if not 0 <= args.drift < 1:
        raise UsageError("--drift must be in [0, 1)")
    text = generate_corpus(args.lines, args.drift, args.seed)
    write_text_atomic(out, text)
    print(f"wrote {args.lines} lines ({len(text):,} chars) to {out}", file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    d = sub.add_parser("data", help="generate a corpus")
    d_sub = d.add_subparsers(dest="corpus", required=True, parser_class=type(d))
    k = d_sub.add_parser(
        "kenosha", help='punctuated permutations of "you never did the kenosha kid"'
    )
    k.add_argument("--out", required=True, help="text file to write")
    k.add_argument("--lines", type=int, default=20000)
    k.add_argument("--drift", type=float, default=0.0, help="per-letter drift rate, e.g. 0.06")
    k.add_argument("--seed", type=int, default=0)
    k.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    k.set_defaults(func=cmd_data)
