"""``sup prepare --chat TEMPLATE.json``: a chat corpus -> a data directory with a loss mask.

The same directory as ``prepare`` writes (format in ``formats/data.py``), plus:

- ``train-mask-NNNNNN.bin`` / ``val-mask-NNNNNN.bin``: one uint8 per token, shard for
  shard beside the token shards, 1 where the token is a target the loss counts
  (``chat_data.MASK_RULE``);
- ``meta.json`` ``loss_mask``: the rule, and per split its shards and target count;
- ``meta.json`` ``chat``: the template, its special tokens, and the longest
  conversation in tokens (``sup train`` refuses a ``block_size`` it does not fit);
- ``val.txt``: the val side's assistant messages, one document each
  (``assistant_texts``), for ``sup eval`` and the release card.

Three passes, as for text: scan (check every line, count each side), tokenizer (BPE
with the template's markers as special tokens, trained on the train side), encode.
Each conversation is one document, followed by ``<|endoftext|>``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from sup.engine.chat_data import (
    MASK_DTYPE,
    MASK_RULE,
    chat_files,
    encode_conversation,
    read_conversations,
    rendered_text,
    training_texts,
)
from sup.engine.corpus import Corpus
from sup.engine.prepare import data_meta
from sup.engine.shards import LineSet, ShardWriter, line_overlap
from sup.engine.vocab import save_tokenizer, train_tokenizer
from sup.errors import SupError
from sup.fileio import sha256_file, write_json_atomic
from sup.formats.data import META, TOKENIZER, VAL_SEPARATOR, VAL_TEXT
from sup.formats.data import token_dtype as dtype_for
from sup.play.chat import special_markers


def prepare_chat(
    input_path: Path,
    tokenizer_spec: str,
    template: dict,
    out: Path,
    val_fraction: float,
    shard_tokens: int,
    report,
) -> tuple[dict, Path]:
    """Write the data directory into a temp directory beside ``out``; returns its meta
    and that directory (the caller renames it into place)."""
    kind, files = chat_files(input_path)
    markers = tuple(special_markers(template))
    report(f"reading {input_path}")
    sides = {s: {"documents": 0, "chars": 0} for s in ("train", "val")}
    for conv in read_conversations(input_path, val_fraction):
        side = sides[conv.side]
        side["documents"] += 1
        side["chars"] += len(rendered_text(template, conv.messages))
    if not sides["train"]["documents"] or not sides["val"]["documents"]:
        empty = "train" if not sides["train"]["documents"] else "val"
        raise SupError(
            f"the {empty} split of {input_path} has no conversations: "
            "give more conversations or change --val-fraction"
        )
    report(f"training the {tokenizer_spec} tokenizer on the train conversations")
    train_side = (c for c in read_conversations(input_path, val_fraction) if c.side == "train")
    tok = train_tokenizer(
        tokenizer_spec, ([t] for t in training_texts(train_side, template)), specials=markers
    )
    dtype = dtype_for(tok.vocab_size)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        report("encoding")
        encoded = _encode(input_path, template, tok, tmp, dtype, shard_tokens, val_fraction)
        save_tokenizer(tok, tmp / TOKENIZER)
        files_sha = {
            **{name: sha256_file(tmp / name) for name in (TOKENIZER, VAL_TEXT)},
            **encoded["sha256"],
        }
        specials = tok.special_tokens()
        source = {
            "path": str(Path(input_path)),
            "kind": f"chat-{kind}",
            # a directory's identity as engine/corpus.py gives it: names and sha256s
            "sha256": Corpus(Path(input_path), kind, tuple(f for f, _ in files)).sha256(),
            "documents": sides["train"]["documents"] + sides["val"]["documents"],
            "chars": sides["train"]["chars"] + sides["val"]["chars"],
        }
        rule = (
            "split in advance: train.jsonl and val.jsonl"
            if kind == "split"
            else f"conversation to val when int(sha256(line)[:8], 16) / 2**32 < {val_fraction:g}"
        )
        meta = data_meta(
            tok, tokenizer_spec, shard_tokens, source, rule, val_fraction, sides, encoded, files_sha
        )
        meta = {
            **meta,
            "loss_mask": {"rule": MASK_RULE, **encoded["mask"]},
            "chat": {
                "template": template,
                "special_tokens": {m: specials[m] for m in markers},
                "longest": encoded["longest"],
            },
        }
        write_json_atomic(tmp / META, meta)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return meta, tmp


def _encode(input_path, template, tok, tmp, dtype, shard_tokens, val_fraction) -> dict:
    writers = {s: ShardWriter(tmp, s, dtype, shard_tokens) for s in ("train", "val")}
    masks = {s: ShardWriter(tmp, f"{s}-mask", MASK_DTYPE, shard_tokens) for s in ("train", "val")}
    lines = {"train": LineSet(), "val": LineSet(keep_all=True)}
    n_bytes = {"train": 0, "val": 0}
    targets = {"train": 0, "val": 0}
    longest = {"tokens": 0, "where": None}
    val_docs = 0
    with open(tmp / VAL_TEXT, "w", encoding="utf-8", newline="") as val_text:
        for conv in read_conversations(input_path, val_fraction):
            text = rendered_text(template, conv.messages)
            lines[conv.side].add_chunk(text)
            lines[conv.side].end_document()
            n_bytes[conv.side] += len(text.encode("utf-8"))
            if conv.side == "val":  # the assistant's words, a reply a document
                for answer in assistant_texts(conv.messages):
                    val_text.write((VAL_SEPARATOR if val_docs else "") + answer)
                    val_docs += 1
            ids, mask = encode_conversation(tok, template, conv.messages)
            writers[conv.side].write(ids)
            masks[conv.side].write(mask)
            targets[conv.side] += int(mask.sum())
            if len(ids) > longest["tokens"]:  # the end-of-document token included
                longest = {"tokens": len(ids), "where": conv.where}
    result = {"overlap": line_overlap(lines["train"], lines["val"]), "sha256": {}, "mask": {}}
    for side in ("train", "val"):
        shards = writers[side].close()
        mask_shards = masks[side].close()
        result[side] = {
            "bytes": n_bytes[side],
            "tokens": writers[side].tokens,
            "shards": shards,
            "oov_chars": 0,
        }
        result["mask"][side] = {"targets": targets[side], "shards": mask_shards}
        result["sha256"].update(writers[side].sha256)
        result["sha256"].update(masks[side].sha256)
    del result["train"]["oov_chars"]
    result["longest"] = longest
    return result


def assistant_texts(messages: list[dict]) -> list[str]:
    """What ``val.txt`` holds for a chat corpus: each assistant message as a document of
    its own. ``sup eval`` and the release card score plain text, and the conversation
    with its turn markers spelled out as text is not what the model reads (it reads
    them as special tokens), so the card's held-out figure is the model's bits per
    character on the fish's own replies, each scored without its question."""
    return [m["content"] for m in messages if m["role"] == "assistant"]
