"""CLI commands that turn runs into things people can play: export, release and check.
Registered by sup/cli/main.py; printing happens here only."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from sup.errors import UsageError


def cmd_export(args) -> int:
    from sup.play.sampling import check_sampling
    from sup.ship.export import export_bundle

    if args.max_new_tokens < 1:
        raise UsageError("--max-new-tokens must be at least 1")
    check_sampling(args.temperature, args.top_k, args.top_p)
    chat = None
    if args.chat:
        from sup.play.chat import load_chat_template

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
        controls=read_controls(args.controls),
        force=args.force,
    )
    if args.json:
        print(json.dumps(manifest))
        return 0
    print(describe_bundle(manifest, args.out), file=sys.stderr)
    return 0


def read_controls(path: str | None) -> dict | None:
    from sup.formats.controls import load_controls

    return load_controls(Path(path)) if path else None


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
        full = q["full"]
        lines.append(
            f"  int8 full graph: top-1 agreement {full['top1_agreement']:.2%} over "
            f"{full['positions']:,} held-out prefixes"
        )
    return "\n".join(lines)


def cmd_release(args) -> int:
    from sup.ship.release import release

    result = release(
        Path(args.run),
        args.id,
        Path(args.releases),
        checkpoint=args.checkpoint,
        int8=args.int8,
        text=Path(args.text) if args.text else None,
        data_dir=Path(args.data) if args.data else None,
        demo_prompt=args.demo_prompt,
        card_notes=Path(args.card_notes) if args.card_notes else None,
        controls=read_controls(args.controls),
        force=args.force,
    )
    if args.json:
        print(json.dumps(result))
        return 0
    manifest = result["manifest"]
    m, t = manifest["metrics"], manifest["training"]
    lineage = result["id"].rsplit("-", 1)[0]
    print(describe_bundle(manifest, result["path"]), file=sys.stderr)
    print(
        f"  held-out {m['text']}: {m['bits_per_char']:.4f} bits/char, "
        f"{m['bits_per_byte']:.4f} bits/byte, token loss {m['token_loss']:.4f} over "
        f"{m['chars']:,} chars ({m['oov_chars']} out of vocabulary), checkpoint "
        f"{t['checkpoint']} @ step {t['step']}\n"
        f"  card {result['card']}; registry {result['registry']}: "
        f"{len(result['models'])} model{'s' if len(result['models']) != 1 else ''}, "
        f"{lineage} -> {result['lineage_resolves_to']}",
        file=sys.stderr,
    )
    return 0


def cmd_check(args) -> int:
    from dataclasses import asdict

    from sup.ship.check import check

    releases = Path(args.releases)
    if args.write_registry:
        from sup.ship.registry import REGISTRY_FILE, write_registry

        if not releases.is_dir():
            raise UsageError(f"{releases} is not a directory: nothing to write a registry for")
        registry = write_registry(releases)
        print(
            f"wrote {releases / REGISTRY_FILE} ({len(registry['models'])} models)",
            file=sys.stderr,
        )
    report = check(releases, args.docs)
    if args.json:
        print(json.dumps({**asdict(report), "ok": report.ok}))
        return 0 if report.ok else 1
    if not report.ok:
        for problem in report.problems:
            print(problem, file=sys.stderr)
        for hint in report.hints:
            print(f"hint: {hint}", file=sys.stderr)
        n = len(report.problems)
        print(f"sup: error: {n} problem{'s' if n != 1 else ''} found", file=sys.stderr)
        return 1
    print(describe_check(report))
    return 0


def describe_check(report) -> str:
    if report.bundles:
        n = len(report.bundles)
        what = (
            f"{n} release{'s' if n != 1 else ''} in {report.releases} "
            f"({', '.join(report.bundles)}): {report.files} files verified "
            f"({report.bytes / 1e6:.2f} MB), graphs run at their block size, cards agree, "
            f"registry {report.registry}"
        )
    else:
        what = f"no releases in {report.releases} " + (
            "(no registry.json)" if report.registry == "absent" else "(registry up to date)"
        )
    links, docs = report.links, report.documents
    return (
        f"ok: {what}; {links} relative link{'s' if links != 1 else ''} in {docs} Markdown "
        f"file{'s' if docs != 1 else ''} {'resolves' if links == 1 else 'resolve'}"
    )


CONTROLS_HELP = "instrument controls: named values and a prompt template (sup/formats/controls.py)"


def add_commands(sub) -> None:
    x = sub.add_parser("export", help="export a run as a parity-checked ONNX bundle")
    x.add_argument("run", help="run directory")
    x.add_argument("--out", required=True, help="bundle directory to create")
    x.add_argument("--checkpoint", default="best", help="best | last | a kept step-N")
    x.add_argument("--int8", action="store_true", help="dynamic int8 quantization (checked)")
    x.add_argument("--id", help="bundle id (default: the --out directory name)")
    x.add_argument("--data", help="prepared data directory (default: the run's)")
    x.add_argument("--demo-prompt", default="", help="prompt players suggest")
    x.add_argument("--temperature", type=float, default=0.8, help="players' default")
    x.add_argument("--top-k", type=int, default=None, help="players' default")
    x.add_argument("--top-p", type=float, default=None, help="players' default")
    x.add_argument("--max-new-tokens", type=int, default=300, help="players' default")
    x.add_argument("--chat", metavar="TEMPLATE.json", help="chat template (chat models)")
    x.add_argument("--controls", metavar="CONTROLS.json", help=CONTROLS_HELP)
    x.add_argument("--force", action="store_true", help="replace --out if it is a bundle")
    x.add_argument("--json", action="store_true", help="print the manifest as JSON")
    x.set_defaults(func=cmd_export)

    r = sub.add_parser("release", help="evaluate, export and card a run into releases/NAME-N")
    r.add_argument("run", help="run directory")
    r.add_argument("--id", required=True, help="release id NAME-N, e.g. kenosha-1")
    r.add_argument("--releases", default="releases", help="releases directory (default releases)")
    r.add_argument("--checkpoint", default="best", help="best | last | a kept step-N")
    r.add_argument("--int8", action="store_true", help="dynamic int8 quantization (checked)")
    r.add_argument("--text", help="held-out UTF-8 text to score (default: the data's val.txt)")
    r.add_argument("--data", help="prepared data directory (default: the run's)")
    r.add_argument("--demo-prompt", default="", help="prompt players suggest")
    r.add_argument("--card-notes", metavar="FILE.md", help="Markdown for the card's Notes")
    r.add_argument("--controls", metavar="CONTROLS.json", help=CONTROLS_HELP)
    r.add_argument("--force", action="store_true", help="replace an existing release of this id")
    r.add_argument("--json", action="store_true", help="print the result as JSON")
    r.set_defaults(func=cmd_release)

    c = sub.add_parser("check", help="verify releases, registry, cards and Markdown links")
    c.add_argument("--releases", default="releases", help="releases directory (default releases)")
    c.add_argument(
        "--docs",
        nargs="*",
        metavar="FILE.md",
        help="Markdown files to link-check (default: README.md and docs/*.md here); "
        "model cards are always checked",
    )
    c.add_argument(
        "--write-registry",
        action="store_true",
        help="first regenerate registry.json from the manifests",
    )
    c.add_argument("--json", action="store_true", help="print the report as JSON")
    c.set_defaults(func=cmd_check)
