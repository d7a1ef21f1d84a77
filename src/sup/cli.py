"""The `sup` command line. Parses flags, calls the library, prints results.

Errors the user can fix (``SupError``) print as one line on stderr and exit 1 (2 for
usage errors); nothing is printed as a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from sup import __version__
from sup.errors import Interrupted, SupError, UsageError

# Optional dependencies and the pyproject extra that brings each (the player needs none).
EXTRAS = {
    **dict.fromkeys(
        ("torch", "safetensors", "tokenizers", "tqdm", "onnx", "onnxscript", "jsonschema"),
        "train",
    ),
    **dict.fromkeys(("fastapi", "uvicorn", "starlette"), "serve"),
}


class Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit 2, like every other usage error
        raise UsageError(f"{message} (see: {self.prog} --help)")


def cmd_data(args) -> int:
    from sup.fileio import write_text_atomic
    from sup.kenosha import generate_corpus

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


def cmd_prepare(args) -> int:
    from sup.prepare import prepare

    meta = prepare(Path(args.input), args.tokenizer, Path(args.out), args.val_fraction, args.force)
    tr, va = meta["train"], meta["val"]
    print(
        f"{meta['tokenizer']['type']} tokenizer, vocab {meta['tokenizer']['vocab_size']}: "
        f"train {tr['tokens']:,} tokens ({tr['chars']:,} chars), "
        f"val {va['tokens']:,} tokens ({va['chars']:,} chars) -> {args.out}",
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


def cmd_train(args) -> int:
    from sup.config import load_config
    from sup.progress import ConsoleReporter
    from sup.train import train

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
        cfg = load_config(args.config, args.set)
        result = train(
            Path(args.out),
            cfg,
            Path(args.data),
            force=args.force,
            stop_after=args.stop_after,
            reporter=reporter,
        )
    if args.json:
        print(json.dumps(result))
    else:
        val = (
            f"val_loss {result['val_loss']:.4f}, val_bpb {result['val_bpb']:.4f}, "
            if (result["val_loss"] is not None)
            else ""
        )
        print(
            f"{result['run_dir']}: step {result['step']}/{result['max_iters']}, {val}"
            f"{result['tokens_per_s'] or 0:,.0f} tok/s, {result['elapsed_s']:.1f}s",
            file=sys.stderr,
        )
    return 0


def cmd_sample(args) -> int:
    import torch

    from sup.device import pick_device, resolve_precision
    from sup.generate import generate
    from sup.rundir import load_model, open_run
    from sup.sampling import Utf8Stream, check_sampling, start_context
    from sup.tokenizer import CharTokenizer

    check_sampling(args.temperature, args.top_k, args.top_p, args.seed)
    if args.max_new_tokens < 0 or args.num_samples < 1:
        raise UsageError("--max-new-tokens must be >= 0 and --num-samples >= 1")
    run = open_run(Path(args.run))
    device = pick_device(args.device)
    precision = resolve_precision(args.precision, device)
    model, _ = load_model(run, args.checkpoint, device)
    tok = run.tokenizer
    prompt_ids = tok.encode(args.prompt) if args.prompt else []
    block = model.cfg.block_size
    if len(prompt_ids) > block:
        print(
            f"note: prompt is {len(prompt_ids)} tokens; using its last {block} "
            "(the model's context)",
            file=sys.stderr,
        )
    multi_document = run.info["data"].get("documents", 1) > 1
    context = start_context(tok, prompt_ids, block, multi_document)
    banned = (tok.unk_id,) if isinstance(tok, CharTokenizer) else ()
    generator = torch.Generator().manual_seed(args.seed)
    out = sys.stdout
    for n in range(args.num_samples):
        if n:
            out.write("\n---\n")
        out.write(args.prompt or "")
        stream = Utf8Stream()
        for token in generate(
            model,
            context,
            args.max_new_tokens,
            temperature=args.temperature,
            top_k=args.top_k,
            top_p=args.top_p,
            generator=generator,
            device=device,
            precision=precision,
            use_cache=not args.no_cache,
            stop_ids=(tok.eot_id,),
            banned_ids=banned,
        ):
            out.write(stream.push(tok.token_bytes(token)))
            out.flush()
        out.write(stream.flush())
    out.write("\n")
    out.flush()
    return 0


def cmd_eval(args) -> int:
    from sup.device import pick_device, resolve_precision
    from sup.evaluate import evaluate_text
    from sup.rundir import load_model, open_run

    path = Path(args.text)
    if not path.is_file():
        raise SupError(f"text file not found: {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SupError(f"{path} is not UTF-8 text") from None
    run = open_run(Path(args.run))
    device = pick_device(args.device)
    precision = resolve_precision(args.precision, device)
    model, state = load_model(run, args.checkpoint, device)
    result = evaluate_text(model, run.tokenizer, text, device, precision, args.stride)
    result.update(checkpoint=args.checkpoint, step=state["step"], text=str(path))
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"{path}: {result['bits_per_char']:.4f} bits/char, {result['bits_per_byte']:.4f} "
            f"bits/byte, token loss {result['token_loss']:.4f} nats over {result['tokens']:,} "
            f"tokens ({result['chars']:,} chars, {result['oov_chars']} out of vocabulary), "
            f"checkpoint {args.checkpoint} @ step {result['step']}"
        )
    return 0


def build_parser() -> Parser:
    p = Parser(prog="sup", description="Train small language models from scratch and play them.")
    p.add_argument("--version", action="version", version=f"sup {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    d = sub.add_parser("data", help="generate a corpus")
    d_sub = d.add_subparsers(dest="corpus", required=True, parser_class=Parser)
    k = d_sub.add_parser(
        "kenosha", help='punctuated permutations of "you never did the kenosha kid"'
    )
    k.add_argument("--out", required=True, help="text file to write")
    k.add_argument("--lines", type=int, default=20000)
    k.add_argument("--drift", type=float, default=0.0, help="per-letter drift rate, e.g. 0.06")
    k.add_argument("--seed", type=int, default=0)
    k.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    k.set_defaults(func=cmd_data)

    pr = sub.add_parser("prepare", help="tokenize a corpus into train/val token files")
    pr.add_argument("input", help="text file, directory of text files, or .jsonl with 'text'")
    pr.add_argument("--tokenizer", default="char", help="char | byte | bpe:N (default char)")
    pr.add_argument("--out", required=True, help="data directory to create")
    pr.add_argument("--val-fraction", type=float, default=0.1)
    pr.add_argument("--force", action="store_true", help="replace --out if it exists")
    pr.set_defaults(func=cmd_prepare)

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

    s = sub.add_parser("sample", help="stream text from a trained run")
    s.add_argument("run", help="run directory")
    s.add_argument("--prompt", default="")
    s.add_argument("--max-new-tokens", type=int, default=500)
    s.add_argument("--temperature", type=float, default=0.8)
    s.add_argument("--top-k", type=int, default=None)
    s.add_argument("--top-p", type=float, default=None)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--num-samples", type=int, default=1)
    s.add_argument("--checkpoint", default="best", help="best | last")
    s.add_argument("--no-cache", action="store_true", help="re-run the full context per token")
    s.add_argument("--device", default="cpu", help="cpu | cuda | mps | auto")
    s.add_argument("--precision", default="fp32", help="fp32 | bf16 | auto")
    s.set_defaults(func=cmd_sample)

    e = sub.add_parser("eval", help="held-out loss, bits per char and per byte on a text file")
    e.add_argument("run", help="run directory")
    e.add_argument("--text", required=True, help="UTF-8 text file to score")
    e.add_argument("--stride", type=int, default=None, help="sliding-window stride (tokens)")
    e.add_argument("--checkpoint", default="best", help="best | last")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.add_argument("--device", default="cpu", help="cpu | cuda | mps | auto")
    e.add_argument("--precision", default="fp32", help="fp32 | bf16 | auto")
    e.set_defaults(func=cmd_eval)

    from sup import cli_play, cli_release, cli_serve

    cli_release.add_commands(sub)
    cli_play.add_commands(sub)
    cli_serve.add_commands(sub)
    p.commands = frozenset(sub.choices)  # for `sup NAME`: which first words are commands
    return p


def with_play(argv: list[str], parser: Parser) -> list[str]:
    """``sup NAME [PROMPT]`` is ``sup play NAME [PROMPT]``: any first word that is not a
    command or a flag names a model."""
    if argv and not argv[0].startswith("-") and argv[0] not in parser.commands:
        return ["play", *argv]
    return argv


def main(argv: list[str] | None = None) -> int:
    try:
        parser = build_parser()
        argv = sys.argv[1:] if argv is None else argv
        args = parser.parse_args(with_play(argv, parser))
        return args.func(args)
    except SupError as e:
        print(f"sup: error: {e}", file=sys.stderr)
        return e.exit_code
    except ModuleNotFoundError as e:
        extra = EXTRAS.get((e.name or "").split(".")[0])
        if extra is None:
            raise
        print(
            f"sup: error: this command needs {e.name}, which the player-only install "
            f"leaves out: pip install 'sup[{extra}]'",
            file=sys.stderr,
        )
        return 1
    except BrokenPipeError:
        # The reader went away (`sup sample ... | head`): stop quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except OSError as e:  # an unusable output path: a directory, a file in the way, no access
        where = f": {e.filename}" if e.filename else ""
        print(f"sup: error: {e.strerror or e}{where}", file=sys.stderr)
        return 1
    except Interrupted as e:
        print(f"sup: {e}", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("sup: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
