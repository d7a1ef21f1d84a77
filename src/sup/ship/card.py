"""Model cards: ``MODEL_CARD.md``, written by ``sup release`` from measured numbers only.

A card says what a model is, what it was trained on, how well it does on held-out text
and what it cannot do. Every figure comes from a file, never from someone typing it:

- the bundle's manifest: model shape, held-out metrics, export parity, int8 cost;
- the run directory: ``metrics.jsonl`` (validation losses, wall time) and the config;
- the data directory's ``meta.json``: corpus, split rule, token counts, train/val overlap.

Only the optional ``--card-notes`` Markdown is free text, and it goes under "Notes".

The headline figures are rows of the "At a glance" table, formatted by ``figures()``.
``sup check`` looks for exactly those rows (``card_problems``), so a card cannot drift
from its manifest unnoticed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from sup import __version__
from sup.fileio import sha256_file
from sup.formats.data import META, load_meta
from sup.formats.registry import split_id
from sup.formats.run import read_metrics

if TYPE_CHECKING:  # rundir imports torch; `sup check` reads cards without it
    from sup.engine.rundir import Run

ARCH_WORDS = {
    "base": "nanoGPT's block (LayerNorm, learned positions, GELU MLP, biases)",
    "modern": "RMSNorm, rotary positions (RoPE), QK-norm, no biases",
}


def run_facts(run: Run, state: dict, data_dir: Path | None = None) -> dict:
    """What the run, the released checkpoint's ``state`` (state.json) and the data
    directory measured; the manifest carries the rest."""
    records = read_metrics(run.path)
    evals = [r for r in records if r.get("val_loss") is not None]
    best = min(evals, key=lambda r: r["val_loss"]) if evals else None
    training = {
        "last_step": records[-1]["step"] if records else None,
        "wall_s": records[-1].get("elapsed_s") if records else state.get("elapsed_s"),
        "precision": state.get("precision"),
        "evals": [{"step": r["step"], "val_loss": r["val_loss"]} for r in evals],
        "final": evals[-1] if evals else None,
        "best": best,
    }
    return {"training": training, "data": data_facts(run, data_dir)}


def data_facts(run: Run, data_dir: Path | None) -> dict:
    """The data directory's meta.json, only if its files are still the ones trained on."""
    data_dir = Path(data_dir or run.info["data"]["dir"])
    if not (data_dir / META).is_file():
        return {"meta": None, "note": "the run's data directory is no longer available"}
    # meta.json lists the sha256 of every data file: its own hash stands for them all
    if sha256_file(data_dir / META) != run.info["data"]["sha256"].get(META):
        return {"meta": None, "note": f"{data_dir} has changed since the run was trained"}
    return {"meta": load_meta(data_dir), "note": None}


def figures(manifest: dict) -> list[tuple[str, str]]:
    """The "At a glance" rows: (label, formatted value), all from the manifest."""
    m, tok, parity = manifest["model"], manifest["tokenizer"], manifest["parity"]
    rows = [
        ("release", manifest["id"]),
        ("architecture", f"{m['arch']}, {_n(m['n_layer'], 'layer')}, "
                         f"{_n(m['n_head'], 'head')}, width {m['n_embd']}"),
        ("parameters", f"{m['params']:,}"),
        ("context (block size)", f"{m['block_size']} tokens"),
        ("tokenizer", f"{tok['type']}, vocab {tok['vocab_size']}"),
        ("precision", manifest["precision"]),
    ]  # fmt: skip
    metrics = manifest.get("metrics")
    if metrics:
        rows += [
            ("bits per character", f"{metrics['bits_per_char']:.4f}"),
            ("bits per byte", f"{metrics['bits_per_byte']:.4f}"),
            ("token loss (nats)", f"{metrics['token_loss']:.4f}"),
            ("held-out text", f"{metrics['text']}, {metrics['chars']:,} characters"),
        ]
    rows += [
        ("export parity (max abs logit diff)",
         f"{parity['fp32_max_abs_diff']:.2e} over {len(parity['cases'])} cases"),
        ("KV-cache greedy check", f"{parity['kv_greedy']['tokens']} tokens identical"),
    ]  # fmt: skip
    if "int8" in parity:
        q = parity["int8"]
        rows += [
            ("int8 top-1 agreement", f"{q['top1_agreement']:.2%} (KV graph), "
                                     f"{q['full']['top1_agreement']:.2%} (full graph)"),
            ("int8 cost (bits per byte)", f"{q['bpb_cost']:+.4f}"),
            ("int8 size", f"{q['size_ratio']:.0%} of fp32"),
        ]  # fmt: skip
    return rows


def card_problems(manifest: dict, text: str) -> list[str]:
    """Each headline figure the card does not state exactly as the manifest has it.

    Every table row with a headline label is compared (the Evaluation table repeats
    some), so an edit to any copy of a figure is caught.
    """
    lines = text.splitlines()
    problems = []
    for label, value in figures(manifest):
        prefix = f"| {label} |"
        rows = [line for line in lines if line.startswith(prefix)]
        if not rows:
            problems.append(f"has no '{label}' row (the manifest gives {value})")
        for row in rows:
            if row != f"{prefix} {_cell(value)} |":
                said = row[len(prefix) :].removesuffix("|").strip()
                problems.append(f"says {label} {said}, the manifest gives {value}")
    return problems


def render_card(manifest: dict, facts: dict, notes: str | None = None) -> str:
    """The whole MODEL_CARD.md."""
    m, tok = manifest["model"], manifest["tokenizer"]
    lineage, version = split_id(manifest["id"])
    source = _source_words(facts["data"]["meta"])
    out = [
        f"# {manifest['id']}",
        "",
        f"A {m['params']:,}-parameter `{m['arch']}` transformer language model with a "
        f"{tok['type']} tokenizer, trained from scratch with sup on {source}. Release "
        f"{version} of `{lineage}`; {manifest['precision']} ONNX graphs for sup's players "
        "(command line, browser, server).",
        "",
        "## At a glance",
        "",
        *_table(figures(manifest)),
        *_model_section(manifest),
        *_controls_section(manifest),
        *_data_section(manifest, facts["data"]),
        *_training_section(manifest, facts["training"]),
        *_evaluation_section(manifest),
        *_export_section(manifest),
        *_use_and_limits(manifest, facts["data"]["meta"]),
    ]
    if notes and notes.strip():
        out += ["## Notes", "", notes.strip(), ""]
    out += [
        "---",
        "",
        f"Generated by sup {__version__} from the bundle's manifest.json, the run's "
        "metrics.jsonl and the data's meta.json. manifest.json lists every file of the "
        "bundle, this card included, with its size and sha256.",
    ]
    return "\n".join(out) + "\n"


def _table(rows) -> list[str]:
    return ["| | |", "|---|---|", *(f"| {k} | {_cell(v)} |" for k, v in rows), ""]


def _cell(value: str) -> str:
    """A table cell: one line, no unescaped column bar."""
    return str(value).replace("\n", " ").replace("|", "\\|")


def _source_words(meta: dict | None) -> str:
    if meta is None:
        return "one corpus"
    src = meta["source"]
    docs = _n(src["documents"], "document")
    return f"one corpus (`{Path(src['path']).name}`, {docs}, {src['chars']:,} characters)"


def _model_section(manifest: dict) -> list[str]:
    m, tok = manifest["model"], manifest["tokenizer"]
    mlp = {"gelu": "GELU 4x", "relu2": "ReLU² 4x", "swiglu": "SwiGLU 8/3x"}[m["mlp"]]
    special = f"end of text {tok['eot_id']}" + (
        f", unknown {tok['unk_id']}" if tok["unk_id"] is not None else ""
    )
    rows = [
        ("blocks", f"`{m['arch']}`: {ARCH_WORDS[m['arch']]}"),
        ("layers × heads × width", f"{m['n_layer']} × {m['n_head']} × {m['n_embd']} "
                                   f"(head size {m['head_dim']})"),
        ("MLP", mlp + (f", logit soft-cap {m['softcap']:g}" if m["softcap"] else "")),
        ("context", f"{m['block_size']} tokens"),
        ("token ids", f"{tok['type']}, {tok['vocab_size']} ids ({special})"),
        ("embeddings", "input and output tied"),
        ("players' defaults", _defaults(manifest["generation"])),
    ]  # fmt: skip
    return ["## Model", "", *_table(rows)]


def _controls_section(manifest: dict) -> list[str]:
    """The prompt contract every player builds from (sup/formats/controls.py)."""
    controls = manifest.get("controls")
    if not controls:
        return []
    from sup.formats.controls import describe, prompt_field

    taker = prompt_field(controls)
    where = f"the prompt fills `{taker}`" if taker else "a prompt is appended after the template"
    template = json.dumps(controls["template"], ensure_ascii=False)
    return [
        "## Controls",
        "",
        f"Players build the prompt from these values and the template `{template}` "
        f'({where}): `sup NAME --flag VALUE`, the page\'s controls, or `"controls"` in a '
        "`sup serve` completion request.",
        "",
        *(f"- `{line.split(':', 1)[0]}`:{line.split(':', 1)[1]}" for line in describe(controls)),
        "",
    ]


def _defaults(gen: dict) -> str:
    d = gen["defaults"]
    words = [f"temperature {d['temperature']:g}"]
    words += [f"top-k {d['top_k']}"] if d["top_k"] else []
    words += [f"top-p {d['top_p']:g}"] if d["top_p"] else []
    words.append(f"{d['max_new_tokens']} new tokens")
    prompt = gen["demo_prompt"]
    prompt = f"; demo prompt {json.dumps(prompt, ensure_ascii=False)}" if prompt else ""
    return ", ".join(words) + prompt


def _data_section(manifest: dict, data: dict) -> list[str]:
    meta = data["meta"]
    hashes = manifest["training"].get("data_sha256", {})
    out = ["## Data", ""]
    if meta is None:
        out += [f"Not described here: {data['note']}. The files trained on, by sha256:", ""]
        return out + _table((f"{n} sha256", f"`{h}`") for n, h in sorted(hashes.items()))
    src, tr, va, ov = meta["source"], meta["train"], meta["val"], meta["overlap"]
    rows = [
        ("source", f"`{src['path']}` ({src['kind']}, {_n(src['documents'], 'document')}, "
                   f"{src['chars']:,} characters)"),
        ("source sha256", f"`{src['sha256']}`"),
        ("split", meta["split"]["rule"]),
        ("train", f"{tr['tokens']:,} tokens ({tr['chars']:,} characters)"),
        ("validation", f"{va['tokens']:,} tokens ({va['chars']:,} characters, "
                       f"{va.get('oov_chars', 0)} outside the vocabulary)"),
        ("overlap", f"{ov['val_lines_in_train']:,} of {ov['val_lines']:,} validation lines "
                    f"({ov['fraction']:.0%}) also occur verbatim in train"),
        *((f"{n} sha256", f"`{h}`") for n, h in sorted(hashes.items())),
    ]  # fmt: skip
    return out + _table(rows)


def _training_section(manifest: dict, training: dict) -> list[str]:
    t = manifest["training"]
    c = t["config"]
    per_step = c["batch_size"] * c["block_size"] * c["gradient_accumulation_steps"]
    schedule = c["lr_schedule"] if c.get("decay_lr", True) else "constant"
    rows = [
        ("steps", f"{training['last_step'] or t['step']:,} of {c['max_iters']:,}; released: "
                  f"the {t['checkpoint']} checkpoint, step {t['step']:,}"),
        ("tokens seen", f"{t['tokens_seen']:,} ({per_step:,} per step: batch "
                        f"{c['batch_size']} × {c['block_size']} tokens × "
                        f"{c['gradient_accumulation_steps']} accumulation)"),
        ("optimizer", f"AdamW, learning rate {c['learning_rate']:g} (warmup "
                      f"{c['warmup_iters']}, {schedule} to {c['min_lr']:g}), weight decay "
                      f"{c['weight_decay']:g}, grad clip {c['grad_clip']:g}"),
        ("precision, seed", f"{training['precision'] or c['precision']}, {c['seed']}"),
    ]  # fmt: skip
    at_step = next((e for e in training["evals"] if e["step"] == t["step"]), None)
    if training["final"]:
        best, final = training["best"], training["final"]
        released = f"{at_step['val_loss']:.4f} at the released step; " if at_step else ""
        rows.append(
            (
                "validation loss (nats)",
                f"{released}best {best['val_loss']:.4f} (step {best['step']:,}), final "
                f"{final['val_loss']:.4f} (step {final['step']:,})",
            )
        )
    if training["wall_s"] is not None:
        rows.append(("wall time", _duration(training["wall_s"])))
    return ["## Training", "", *_table(rows)]


def _evaluation_section(manifest: dict) -> list[str]:
    metrics = manifest.get("metrics")
    if not metrics:
        return ["## Evaluation", "", "No held-out evaluation was recorded.", ""]
    out = [
        "## Evaluation",
        "",
        f"Held-out text `{metrics['text']}` (sha256 `{metrics['text_sha256']}`): "
        f"{metrics['chars']:,} characters, {metrics['bytes']:,} bytes, "
        f"{metrics['tokens']:,} tokens, {metrics['oov_chars']:,} outside the vocabulary. "
        f"Scored with the PyTorch checkpoint in fp32, as `sup eval` does: every character "
        f"is paid for (the first token too, and unknown characters at a uniform spelling "
        f"cost), windows of {metrics['stride']} tokens.",
        "",
        *_table(
            [
                ("bits per character", f"{metrics['bits_per_char']:.4f}"),
                ("bits per byte", f"{metrics['bits_per_byte']:.4f}"),
                ("token loss (nats per token)", f"{metrics['token_loss']:.4f}"),
            ]
        ),
    ]
    if manifest["precision"] == "int8":
        out += [
            "These figures are the fp32 model's; the int8 graphs' measured cost is under Export.",
            "",
        ]
    return out


def _export_section(manifest: dict) -> list[str]:
    p = manifest["parity"]
    batches = sorted({c["batch"] for c in p["cases"]})
    lengths = sorted({c["seq"] for c in p["cases"]})
    out = [
        "## Export",
        "",
        f"ONNX Runtime against PyTorch on {len(p['cases'])} cases (full and KV-cache graphs, "
        f"batch {', '.join(map(str, batches))}, sequence lengths "
        f"{', '.join(map(str, lengths))}, the KV graph with half of each sequence cached): "
        f"largest logit difference {p['fp32_max_abs_diff']:.2e} (tolerance "
        f"{p['tolerance']:g}). {p['kv_greedy']['tokens']} greedy tokens through the KV graph "
        "equal PyTorch's exactly.",
        "",
    ]
    if "int8" in p:
        q = p["int8"]
        out += [
            f"int8 (ONNX Runtime dynamic quantization), each graph against its fp32 "
            f"original on {q['windows']} held-out windows (the floor is {q['floor']:.0%}): "
            f"the KV graph's top-1 agreement is {q['top1_agreement']:.2%} over "
            f"{q['positions']:,} positions, bits per byte {q['bpb_fp32']:.4f} -> "
            f"{q['bpb_int8']:.4f} ({q['bpb_cost']:+.4f}); the full graph's is "
            f"{q['full']['top1_agreement']:.2%} over {q['full']['positions']:,} prefixes "
            f"of {len(q['full']['lengths'])} lengths. {q['int8_bytes']:,} bytes instead of "
            f"{q['fp32_bytes']:,} ({q['size_ratio']:.0%}).",
            "",
        ]
    return out


def _use_and_limits(manifest: dict, meta: dict | None) -> list[str]:
    m, tok, gen = manifest["model"], manifest["tokenizer"], manifest["generation"]
    limits = []
    if tok["type"] == "char":
        limits.append(
            f"Its vocabulary is the {tok['vocab_size'] - 2} characters of its training "
            "split. Any other character (another script, an accent, an emoji) cannot be "
            "encoded: players map it to the unknown token and say how many there were, "
            "and the model never writes one."
        )
    else:
        limits.append(
            f"The {tok['type']} tokenizer encodes any UTF-8 text, but text unlike the "
            "training corpus is predicted and continued poorly."
        )
    limits += [
        f"It sees at most {m['block_size']} tokens. Longer generations restart from the "
        f"last {gen['cache_restart_keep']} tokens, so anything earlier is forgotten.",
        f"It was trained on {_source_words(meta)} and knows nothing else.",
        "Generated text is not factual: it imitates the surface of the corpus and "
        "asserts nothing true about the world. There is no safety filtering.",
    ]
    if meta and meta["overlap"]["fraction"] > 0:
        limits.append(
            f"{meta['overlap']['fraction']:.0%} of the validation lines also occur verbatim "
            "in the training split, so the held-out figures partly measure memorisation."
        )
    return [
        "## Intended use",
        "",
        "Playing with and studying a small language model: sampling settings, "
        "architectures, tokenizers, what a model of this size learns from one corpus. "
        "It is not meant for information, decisions or any production use.",
        "",
        "## Limitations",
        "",
        *(f"- {line}" for line in limits),
        "",
    ]


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
