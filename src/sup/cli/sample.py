"""``sup sample``: stream text from a trained run (PyTorch, KV cache)."""

from __future__ import annotations

import sys
from pathlib import Path

from sup.errors import UsageError


def cmd_sample(args) -> int:
    import torch

    from sup.engine.device import pick_device, resolve_precision
    from sup.engine.generate import generate
    from sup.engine.rundir import load_model, open_run
    from sup.formats.tokenizer import CharTokenizer
    from sup.play.sampling import Utf8Stream, check_prompt, check_sampling, start_context

    check_sampling(args.temperature, args.top_k, args.top_p, args.seed)
    check_prompt(args.prompt or "")
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


def add_commands(sub) -> None:
    s = sub.add_parser("sample", help="stream text from a trained run")
    s.add_argument("run", help="run directory")
    s.add_argument("--prompt", default="")
    s.add_argument("--max-new-tokens", type=int, default=500)
    s.add_argument("--temperature", type=float, default=0.8)
    s.add_argument("--top-k", type=int, default=None)
    s.add_argument("--top-p", type=float, default=None)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--num-samples", type=int, default=1)
    s.add_argument("--checkpoint", default="best", help="best | last | a kept step-N")
    s.add_argument("--no-cache", action="store_true", help="re-run the full context per token")
    s.add_argument("--device", default="cpu", help="cpu | cuda | mps | auto")
    s.add_argument("--precision", default="fp32", help="fp32 | bf16 | auto")
    s.set_defaults(func=cmd_sample)
