"""``sup eval``: held-out loss, bits per character and per byte of a text file."""

from __future__ import annotations

import json
from pathlib import Path

from sup.errors import SupError


def cmd_eval(args) -> int:
    from sup.engine.device import pick_device, resolve_precision
    from sup.engine.evaluate import evaluate_text
    from sup.engine.rundir import load_model, open_run

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


def add_commands(sub) -> None:
    e = sub.add_parser("eval", help="held-out loss, bits per char and per byte on a text file")
    e.add_argument("run", help="run directory")
    e.add_argument("--text", required=True, help="UTF-8 text file to score")
    e.add_argument("--stride", type=int, default=None, help="sliding-window stride (tokens)")
    e.add_argument("--checkpoint", default="best", help="best | last | a kept step-N")
    e.add_argument("--json", action="store_true", help="print one JSON object")
    e.add_argument("--device", default="cpu", help="cpu | cuda | mps | auto")
    e.add_argument("--precision", default="fp32", help="fp32 | bf16 | auto")
    e.set_defaults(func=cmd_eval)
