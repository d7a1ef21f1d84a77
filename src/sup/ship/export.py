"""``sup export``: a run's checkpoint -> a parity-checked ONNX bundle, or nothing.

1. Export ``FullGraph`` and ``KvGraph`` (sup/onnx_graph.py) with the dynamo exporter.
2. Parity: ONNX Runtime against ``GPT.forward`` at batch sizes 1 and 3 and sequence
   lengths 1, a short prompt, half and the full block, the KV graph also with a cached
   prefix. Every case must stay within ``TOLERANCE`` (max |diff| of fp32 logits).
3. KV greedy: 64 greedy tokens through the KV graph (restarts included) must equal the
   PyTorch greedy tokens exactly.
4. ``--int8``: quantize both graphs (ONNX Runtime dynamic int8), then score fp32 and
   int8 side by side on held-out windows (quantize.py). Below the floor: refuse.

The bundle is assembled in a temporary directory beside ``--out`` and renamed into
place only when every check passed, so a failed export leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
import tempfile
import warnings
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from sup import __version__
from sup.engine.generate import generate
from sup.engine.rundir import Run, load_model, open_run
from sup.engine.vocab import save_tokenizer
from sup.errors import SupError, UsageError
from sup.fileio import current_umask
from sup.formats.manifest import GRAPH_FULL, GRAPH_KV, MANIFEST, TOKENIZER, read_manifest
from sup.formats.tokenizer import CharTokenizer
from sup.play.chat import chat_stop_ids, encode_chat
from sup.play.runtime import KvRunner, generate_ids, ort_session
from sup.play.sampling import unprompted_start
from sup.ship.bundle import write_manifest
from sup.ship.graphs import FullGraph, KvGraph

TOLERANCE = 1e-4  # fp32 max |logit diff|, ONNX Runtime vs PyTorch
KV_GREEDY_TOKENS = 64
OPSET = 18


def _quiet_export(module, args, path: Path, input_names, output_names, dynamic_shapes):
    """torch.onnx.export without its progress chatter (it prints to stdout), saved
    without the exporter's per-node metadata (Python stack traces with this machine's
    file paths, FX node text): it says nothing to a player and, on a small model, is
    a third of the file."""
    import onnx

    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            module,
            args,
            input_names=input_names,
            output_names=output_names,
            dynamic_shapes=dynamic_shapes,
            opset_version=OPSET,
            dynamo=True,
            verbose=False,
        )
    proto = program.model_proto
    for item in (*proto.graph.node, *proto.graph.value_info, *proto.graph.initializer):
        del item.metadata_props[:]
    for item in (*proto.graph.input, *proto.graph.output):
        del item.metadata_props[:]
    onnx.save(proto, str(path))


def export_graphs(model, out_dir: Path) -> None:
    cfg = model.cfg
    batch = torch.export.Dim("batch", min=1, max=1024)
    seq = torch.export.Dim("seq", min=1, max=cfg.block_size)
    past = torch.export.Dim("past", min=0, max=cfg.block_size)
    ids = torch.zeros((2, min(3, cfg.block_size)), dtype=torch.long)
    with torch.no_grad():
        _quiet_export(
            FullGraph(model).eval(),
            (ids,),
            out_dir / GRAPH_FULL,
            ["input_ids"],
            ["logits"],
            {"input_ids": {0: batch, 1: seq}},
        )
        p = torch.zeros((cfg.n_layer, 2, 2, cfg.n_head, 1, cfg.head_dim))
        _quiet_export(
            KvGraph(model).eval(),
            (ids, p),
            out_dir / GRAPH_KV,
            ["input_ids", "past"],
            ["logits", "present"],
            {"input_ids": {0: batch, 1: seq}, "past": {2: batch, 4: past}},
        )


def parity_cases(model, full_sess, kv: KvRunner, seed: int = 0) -> list[dict]:
    """max |diff| of last-position logits, ONNX Runtime vs PyTorch, case by case."""
    cfg = model.cfg
    block = cfg.block_size
    lengths = sorted({1, min(8, block), max(1, block // 2), block})
    gen = torch.Generator().manual_seed(seed)
    cases = []
    for batch in (1, 3):
        for seq in lengths:
            ids = torch.randint(0, cfg.vocab_size, (batch, seq), generator=gen)
            with torch.no_grad():
                ref = model(ids, last_only=True)[0][:, -1].float().numpy()
            (full,) = full_sess.run(None, {"input_ids": ids.numpy()})
            cases.append(_case("full", batch, seq, 0, full, ref))
            cached = seq // 2  # the KV graph, half of the sequence already cached
            past = kv.empty_past(batch)
            if cached:
                _, past = kv(ids[:, :cached].numpy(), past)
            logits, present = kv(ids[:, cached:].numpy(), past)
            cases.append(_case("kv", batch, seq, cached, logits, ref))
            if present.shape[4] != seq:
                raise SupError(f"KV graph returned {present.shape[4]} cached positions, not {seq}")
    return cases


def _case(graph, batch, seq, cached, got, ref) -> dict:
    finite = bool(np.isfinite(got).all())
    diff = float(np.abs(got - ref).max()) if finite else float("inf")
    return {"graph": graph, "batch": batch, "seq": seq, "cached": cached, "max_abs_diff": diff}


def kv_greedy_check(model, kv: KvRunner, context: list[int], generation: dict) -> dict:
    """KV_GREEDY_TOKENS greedy tokens through the KV graph, equal to PyTorch's. Both
    decode through stop tokens (end-of-text), so the check always covers the promised
    length and the cache restart, wherever greedy text would end."""
    through = {**generation, "stop_ids": []}
    want = list(
        generate(
            model,
            context,
            KV_GREEDY_TOKENS,
            temperature=0.0,
            stop_ids=(),
            banned_ids=tuple(generation["banned_ids"]),
        )
    )
    got = list(generate_ids(kv, context, KV_GREEDY_TOKENS, through, temperature=0.0))
    first = next((i for i, (a, b) in enumerate(zip(want, got, strict=False)) if a != b), None)
    if first is None and len(want) != len(got):
        first = min(len(want), len(got))
    return {"tokens": len(want), "match": first is None, "first_mismatch": first}


def generation_info(run: Run, demo_prompt: str, defaults: dict, chat: dict | None = None) -> dict:
    """The manifest's generation rule. A chat template's markers are stop tokens too: a
    reply ends where the model starts a turn (or ends its own), never inside one."""
    tok = run.tokenizer
    multi_document = run.info["data"].get("documents", 1) > 1
    return {
        "prompt_prefix": [tok.eot_id],
        "unprompted_start": unprompted_start(tok, multi_document),
        "stop_ids": chat_stop_ids(tok, chat),
        "banned_ids": [tok.unk_id] if isinstance(tok, CharTokenizer) else [],
        "cache_restart_keep": max(1, run.config.block_size // 2),
        "defaults": defaults,
        "demo_prompt": demo_prompt,
    }


def prepare_out(out: Path, force: bool) -> None:
    if out.exists():
        if not force:
            raise UsageError(f"{out} already exists: choose another --out or pass --force")
        if not out.is_dir() or (any(out.iterdir()) and not (out / MANIFEST).exists()):
            raise UsageError(f"{out} is not a sup bundle; refusing to replace it")
        read_manifest(out)  # refuse to replace a directory that only looks like one


def export_bundle(
    run_dir: Path,
    out: Path,
    *,
    checkpoint: str = "best",
    int8: bool = False,
    bundle_id: str | None = None,
    demo_prompt: str = "",
    defaults: dict | None = None,
    metrics: dict | None = None,
    chat: dict | None = None,
    controls: dict | None = None,
    game: dict | None = None,
    data_dir: Path | None = None,
    force: bool = False,
) -> dict:
    """Write a bundle to ``out`` and return its manifest (raises SupError on refusal)."""
    out = Path(out)
    prepare_out(out, force)
    run = open_run(Path(run_dir))
    model, state = load_model(run, checkpoint, "cpu")
    model = model.float().eval()
    cfg = model.cfg
    defaults = defaults or {
        "temperature": 0.8,
        "top_k": None,
        "top_p": None,
        "max_new_tokens": 300,
    }
    if controls is not None and not demo_prompt:  # what the players' defaults build
        from sup.formats.controls import render_prompt

        demo_prompt = render_prompt(controls, {f["name"]: f["default"] for f in controls["fields"]})
    chat = chat if chat is not None else run.info["data"].get("chat")
    generation = generation_info(run, demo_prompt, defaults, chat)
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    os.chmod(work, 0o777 & ~current_umask())  # mkdtemp makes 0700; bundles are shared
    try:
        export_graphs(model, work)
        model_info = {
            "arch": cfg.arch,
            "params": model.stats().params,
            "n_layer": cfg.n_layer,
            "n_head": cfg.n_head,
            "n_embd": cfg.n_embd,
            "head_dim": cfg.head_dim,
            "block_size": cfg.block_size,
            "vocab_size": cfg.vocab_size,
            "mlp": cfg.mlp,
            "softcap": cfg.softcap,
        }
        kv = KvRunner(ort_session(work / GRAPH_KV), model_info)
        cases = parity_cases(model, ort_session(work / GRAPH_FULL), kv)
        worst = max(c["max_abs_diff"] for c in cases)
        if not worst < TOLERANCE:
            bad = max(cases, key=lambda c: c["max_abs_diff"])
            raise SupError(
                f"export refused: ONNX Runtime differs from PyTorch by {worst:.3g} "
                f"(tolerance {TOLERANCE:g}) on the {bad['graph']} graph at batch "
                f"{bad['batch']}, {bad['seq']} tokens; nothing was written"
            )
        if chat is not None:  # what a chat player sends: the demo prompt as a user turn
            turn = [{"role": "user", "content": demo_prompt or "hi"}]
            prompt_ids = encode_chat(run.tokenizer, chat, turn)
        else:
            prompt_ids = run.tokenizer.encode(demo_prompt, True)
        context = [*generation["prompt_prefix"], *prompt_ids]
        greedy = kv_greedy_check(model, kv, context[-cfg.block_size :], generation)
        if not greedy["match"]:
            raise SupError(
                "export refused: greedy generation through the KV graph diverges from "
                f"PyTorch at token {greedy['first_mismatch']}; nothing was written"
            )
        parity = {
            "tolerance": TOLERANCE,
            "fp32_max_abs_diff": worst,
            "cases": cases,
            "kv_greedy": greedy,
        }
        save_tokenizer(run.tokenizer, work / TOKENIZER)
        if int8:
            from sup.ship.quantize import quantize_bundle_graphs

            parity["int8"] = quantize_bundle_graphs(work, run, model_info, data_dir)
        manifest = {
            "format": "sup-bundle",
            "version": 1,
            "id": bundle_id or _default_id(out),
            "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "sup_version": __version__,
            "model": model_info,
            "precision": "int8" if int8 else "fp32",
            "graphs": {"full": GRAPH_FULL, "kv": GRAPH_KV},
            "tokenizer": {
                "file": TOKENIZER,
                "type": run.tokenizer.kind,
                "vocab_size": run.tokenizer.vocab_size,
                "eot_id": run.tokenizer.eot_id,
                "unk_id": getattr(run.tokenizer, "unk_id", None),
            },
            "generation": generation,
            "chat": chat,
            **({"controls": controls} if controls is not None else {}),
            **({"game": game} if game is not None else {}),
            "metrics": metrics,
            "training": {
                "run": run.path.name,
                "checkpoint": checkpoint,
                "step": state["step"],
                "tokens_seen": state["step"] * run.config.tokens_per_step,
                "config": run.info["config"],
                "data_sha256": run.info["data"]["sha256"],
                "documents": run.info["data"].get("documents", 1),
            },
            "parity": parity,
        }
        write_manifest(work, manifest)
        _replace_dir(work, out)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return read_manifest(out)


def _default_id(out: Path) -> str:
    import re

    slug = re.sub(r"[^a-z0-9_.]+", "-", out.resolve().name.lower()).strip("-._")
    return slug or "bundle"


def _replace_dir(new: Path, out: Path) -> None:
    """Move ``new`` to ``out``; an old ``out`` is set aside first and removed after."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{new.name.rsplit('.', 1)[-1]}")
        out.rename(old)
    new.rename(out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
