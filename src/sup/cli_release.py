"""CLI commands that turn runs into things people can play: export (and, below it,
release and check). Registered by sup/cli.py; printing happens here only."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sup.errors import UsageError


def cmd_export(args) -> int:
    from sup.export import export_bundle

    if args.max_new_tokens < 1:
        raise UsageError("--max-new-tokens must be at least 1")
    chat = None
    if args.chat:
        from sup.chat import load_chat_template

        chat = load_chat_template(Path(args.chat))
    manifest = export_bundle(
        Path(args.run),
        Path(args.out),
        checkpoint=args.checkpoint,
        int8=args.int8,
        bundle_id=args.id,
        demo_prompt=args.demo_prompt,
        defaults={
            "temperature": args.temperature,
            "top_k": args.top_k,
            "top_p": args.top_p,
            "max_new_tokens": args.max_new_tokens,
        },
        data_dir=Path(args.data) if args.data else None,
        chat=chat,
        force=args.force,
    )
    if args.json:
        print(json.dumps(manifest))
        return 0
    print(describe_bundle(manifest, args.out), file=sys.stderr)
    return 0


def describe_bundle(manifest: dict, where) -> str:
    parity = manifest["parity"]
    size = sum(f["size"] for f in manifest["files"])
    lines = [
        f"{where}: {manifest['id']} ({manifest['precision']}, {manifest['model']['params']:,} "
        f"params, {size / 1e6:.2f} MB)",
        f"  parity: max |diff| {parity['fp32_max_abs_diff']:.2e} over "
        f"{len(parity['cases'])} cases (tolerance {parity['tolerance']:g}); KV greedy "
        f"{parity['kv_greedy']['tokens']} tokens identical",
    ]
    if "int8" in parity:
        q = parity["int8"]
        lines.append(
            f"  int8: top-1 agreement {q['top1_agreement']:.2%} over {q['positions']:,} "
            f"held-out positions, bpb {q['bpb_fp32']:.4f} -> {q['bpb_int8']:.4f} "
            f"({q['bpb_cost']:+.4f}), size {q['size_ratio']:.0%} of fp32"
        )
    return "\n".join(lines)


def add_commands(sub) -> None:
    x = sub.add_parser("export", help="export a run as a parity-checked ONNX bundle")
    x.add_argument("run", help="run directory")
    x.add_argument("--out", required=True, help="bundle directory to create")
    x.add_argument("--checkpoint", default="best", help="best | last")
    x.add_argument("--int8", action="store_true", help="dynamic int8 quantization (checked)")
    x.add_argument("--id", help="bundle id (default: the --out directory name)")
    x.add_argument("--data", help="prepared data directory (default: the run's)")
    x.add_argument("--demo-prompt", default="", help="prompt players suggest")
    x.add_argument("--temperature", type=float, default=0.8, help="players' default")
    x.add_argument("--top-k", type=int, default=None, help="players' default")
    x.add_argument("--top-p", type=float, default=None, help="players' default")
    x.add_argument("--max-new-tokens", type=int, default=300, help="players' default")
    x.add_argument("--chat", metavar="TEMPLATE.json", help="chat template (chat models)")
    x.add_argument("--force", action="store_true", help="replace --out if it is a bundle")
    x.add_argument("--json", action="store_true", help="print the manifest as JSON")
    x.set_defaults(func=cmd_export)
