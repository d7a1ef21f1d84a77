"""``sup prepare``: corpus -> tokenizer + token shards (a data directory)."""

from __future__ import annotations

import sys
from pathlib import Path


def cmd_prepare(args) -> int:
    from sup.engine.prepare import SHARD_TOKENS, prepare

    # Stage lines only on a terminal: a pipe or CI log gets the one summary line.
    report = (lambda text: print(f"{text}...", file=sys.stderr)) if sys.stderr.isatty() else None
    chat = None
    if args.chat:
        from sup.play.chat import load_chat_template

        chat = load_chat_template(Path(args.chat))
    meta = prepare(
        Path(args.input),
        args.tokenizer,
        Path(args.out),
        args.val_fraction,
        args.force,
        shard_tokens=SHARD_TOKENS if args.shard_tokens is None else args.shard_tokens,
        report=report,
        chat=chat,
    )
    tr, va = meta["train"], meta["val"]
    shards = len(tr["shards"]) + len(va["shards"])
    print(
        f"{meta['tokenizer']['type']} tokenizer, vocab {meta['tokenizer']['vocab_size']}: "
        f"train {tr['tokens']:,} tokens ({tr['chars']:,} chars), "
        f"val {va['tokens']:,} tokens ({va['chars']:,} chars), "
        f"{shards} shard{'s' if shards != 1 else ''} -> {args.out}",
        file=sys.stderr,
    )
    if "loss_mask" in meta:
        m = meta["loss_mask"]
        print(
            f"loss mask: {m['train']['targets']:,} of {tr['tokens']:,} train tokens are "
            "assistant targets",
            file=sys.stderr,
        )
    if va["oov_chars"]:
        print(
            f"note: {va['oov_chars']} val characters are not in the train vocabulary "
            "(encoded as <unk>)",
            file=sys.stderr,
        )
    overlap = meta["overlap"]
    if overlap["fraction"] > 0.5:
        print(
            f"note: {overlap['fraction']:.0%} of val lines also appear verbatim in train; "
            "val loss partly measures memorisation",
            file=sys.stderr,
        )
    return 0


def add_commands(sub) -> None:
    pr = sub.add_parser("prepare", help="tokenize a corpus into train/val token shards")
    pr.add_argument(
        "input",
        help="text file, directory of text files, .jsonl with 'text' (or 'messages', with --chat)",
    )
    pr.add_argument(
        "--tokenizer", default="char", help="char | byte | bpe:N | bpe-words:N (default char)"
    )
    pr.add_argument("--out", required=True, help="data directory to create")
    pr.add_argument(
        "--chat",
        metavar="TEMPLATE.json",
        help="the input is chat JSONL (conversations): render with this template, train "
        "its <|markers|> as special tokens, and mask the loss to the assistant's tokens",
    )
    pr.add_argument("--val-fraction", type=float, default=0.1)
    pr.add_argument(
        "--shard-tokens",
        type=int,
        metavar="N",
        help="tokens per shard file (default 67,108,864)",
    )
    pr.add_argument("--force", action="store_true", help="replace --out if it exists")
    pr.set_defaults(func=cmd_prepare)
