"""Chat corpora for ``sup prepare --chat TEMPLATE.json``: conversations -> token ids and a
per-token loss mask, so a chat model learns to answer and is never taught to write the
user's half of the conversation.

Input: JSONL, one conversation per line, ``{"messages": [{"role": "system" | "user" |
"assistant", "content": "..."}, ...], ...}`` (other fields are kept out of the text).
Either one ``.jsonl`` file (each conversation goes to val by the sha256 of its line, as
documents do in ``prepare``) or a directory split in advance: ``train.jsonl`` and
``val.jsonl`` (what ``sup data guppy`` writes; its ``test.jsonl`` is never read here).
Every line is checked: a message with a missing or unknown role, content that is not a
non-empty string, or a conversation with no assistant message is a one-line error naming
the file and line.

Rendering: the chat template (``play/chat.py``). A template's ``<|name|>`` markers are
special tokens (``chat.special_markers``): they are trained into the BPE tokenizer as one
id each and written as that id, while message content is encoded as text, so a user who
types ``<|assistant|>`` gets text, never a turn. Template text and content are encoded
as separate pieces, in the players by the same rule (``play/chat.py`` ``encode_chat``).

The loss mask: one byte per token, 1 where the token is a target the loss counts. The
assistant's content and the template text after it (the turn's end marker, so the model
learns to stop) are 1; the template's text before it (``<|assistant|>``), every other
role's turn and the end-of-document token are 0. Token ``t`` of the mask says whether
token ``t`` is predicted from the tokens before it; the trainer and the evaluator
(``batches.BatchSampler``, ``evaluate.evaluate_windows``) use it as the targets' mask.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sup.errors import SupError, UsageError
from sup.play.chat import ROLES, encode_template_text, split_role, template_pieces

MASK_DTYPE = np.dtype(np.uint8)
MASK_RULE = (
    "1 on each assistant message's content and the template text after it (its end "
    "marker), 0 on the text before it, other roles and <|endoftext|>"
)


@dataclass(frozen=True)
class Conversation:
    where: str  # path:line, for messages
    side: str  # "train" or "val"
    messages: list[dict]
    line: str  # the raw line, for the split hash and the overlap figure


def chat_files(path: Path) -> tuple[str, list[tuple[Path, str | None]]]:
    """("jsonl" | "split", [(file, side or None)]) for a chat corpus path: one ``.jsonl``
    file, or a directory holding ``train.jsonl`` and ``val.jsonl`` (anything else in it,
    such as ``test.jsonl``, is never read)."""
    path = Path(path)
    if not path.exists():
        raise SupError(f"input not found: {path}")
    if path.is_file():
        if path.suffix != ".jsonl":
            raise UsageError(f"--chat needs conversations as JSONL (a .jsonl file), not {path}")
        return "jsonl", [(path, None)]
    files = [(path / f"{side}.jsonl", side) for side in ("train", "val")]
    missing = [f.name for f, _ in files if not f.is_file()]
    if missing:
        raise UsageError(
            f"{path}: a chat corpus directory needs train.jsonl and val.jsonl ({missing[0]} "
            "is missing)"
        )
    return "split", files


def read_conversations(path: Path, val_fraction: float) -> Iterator[Conversation]:
    """Every conversation of the corpus, checked, with its side (see the module doc)."""
    _, files = chat_files(path)
    for file, side in files:
        with open(file, "rb") as f:
            for lineno, raw in enumerate(f, start=1):
                where = f"{file}:{lineno}"
                try:
                    line = raw.decode("utf-8-sig" if lineno == 1 else "utf-8").rstrip("\r\n")
                except UnicodeDecodeError as e:
                    raise SupError(f"{where}: not UTF-8 text (byte {e.start})") from None
                if not line.strip():
                    continue
                messages = check_conversation(line, where)
                if side is None:
                    fraction = int(hashlib.sha256(line.encode()).hexdigest()[:8], 16) / 2**32
                    line_side = "val" if fraction < val_fraction else "train"
                else:
                    line_side = side
                yield Conversation(where, line_side, messages, line)


def check_conversation(line: str, where: str) -> list[dict]:
    """The messages of one JSONL line, or a one-line error saying what is wrong."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as e:
        raise SupError(f"{where}: not valid JSON ({e.msg})") from None
    messages = obj.get("messages") if isinstance(obj, dict) else None
    if not isinstance(messages, list) or not messages:
        raise SupError(f'{where}: each line needs a non-empty "messages" list')
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or "role" not in m:
            raise SupError(f"{where}: messages[{i}] has no role (one of {', '.join(ROLES)})")
        if m["role"] not in ROLES:
            raise SupError(
                f"{where}: messages[{i}] has an unknown role {str(m['role'])[:40]!r} "
                f"(roles are {', '.join(ROLES)})"
            )
        content = m.get("content")
        if not isinstance(content, str) or not content.strip():
            raise SupError(f"{where}: messages[{i}] ({m['role']}) has empty content")
    if not any(m["role"] == "assistant" for m in messages):
        raise SupError(f"{where}: the conversation has no assistant message to learn from")
    return [{"role": m["role"], "content": m["content"]} for m in messages]


def training_texts(conversations: Iterator[Conversation], template: dict) -> Iterator[str]:
    """The text a tokenizer trains on: each message's content and the template's plain
    text around it (its special markers are added as special tokens, not learned)."""
    for conv in conversations:
        for m in conv.messages:
            before, after = split_role(template, m["role"])
            yield from (p for p, _ in template_pieces(before + after) if p)
            yield m["content"]


def encode_conversation(tok, template: dict, messages: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """(ids, mask) of one conversation, ``<|endoftext|>`` last (mask 0)."""
    ids: list[int] = []
    mask: list[int] = []
    specials = tok.special_tokens()

    def add(new: list[int], target: int) -> None:
        ids.extend(new)
        mask.extend([target] * len(new))

    for m in messages:
        before, after = split_role(template, m["role"])
        answer = m["role"] == "assistant"
        add(encode_template_text(tok, before, specials), 0)
        add(tok.encode(m["content"]), int(answer))
        add(encode_template_text(tok, after, specials), int(answer))
    add([tok.eot_id], 0)
    return np.asarray(ids, dtype=np.int64), np.asarray(mask, dtype=MASK_DTYPE)


def rendered_text(template: dict, messages: list[dict]) -> str:
    """The conversation as text, markers spelled out: val.txt and the overlap figure."""
    return "".join(template[m["role"]].replace("{content}", m["content"]) for m in messages)
