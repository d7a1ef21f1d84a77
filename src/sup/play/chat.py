"""Chat templates: how a chat model's messages become the text it was trained on.

A chat model is a completion model plus a template. ``sup export RUN --chat FILE``
stores the template as the bundle manifest's ``chat`` object; ``sup serve`` renders
``/v1/chat/completions`` messages with it. A template is a JSON object::

    {
      "system": "{content}\\n",
      "user": "User: {content}\\n",
      "assistant": "Bot: {content}\\n",
      "generation_prefix": "Bot: ",
      "stop": ["\\n"]
    }

- ``system``, ``user``, ``assistant``: how one message of that role is written.
  ``{content}`` appears exactly once and stands for the message text, inserted
  verbatim; no other braces are special, so templates and messages may contain ``{``.
- ``generation_prefix``: written after the last message. The model continues from
  it, and that continuation (cut as below) is the assistant's reply.
- ``stop`` (optional, default ``[]``): up to 4 non-empty strings that end the reply,
  which is cut before the first of them, typically the start of the next turn. The
  end-of-document token ends a reply too, as in every generation.

The prompt is the rendered messages in order followed by ``generation_prefix``; from
there it is an ordinary prompt (``prompt_prefix`` first, cropped to the last
``block_size`` tokens when longer), so every player generates chat replies by the
same rule as plain text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from sup.errors import SupError

ROLES = ("system", "user", "assistant")
PLACEHOLDER = "{content}"
MAX_STOP = 4
_KEYS = (*ROLES, "generation_prefix", "stop")


def load_chat_template(path: Path) -> dict:
    """Read and check a template file; the returned dict has every key (``stop`` filled)."""
    path = Path(path)
    try:
        template = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SupError(f"chat template not found: {path}") from None
    except (OSError, ValueError) as e:  # UnicodeDecodeError and JSONDecodeError included
        raise SupError(f"cannot read the chat template {path}: {e}") from None
    return check_chat_template(template, str(path))


def check_chat_template(template, where: str) -> dict:
    """Validate a template (from a file or a manifest); one-line SupError naming ``where``."""

    def bad(problem: str) -> SupError:
        return SupError(f"{where}: bad chat template: {problem} (see sup/chat.py)")

    if not isinstance(template, dict):
        raise bad("expected a JSON object")
    unknown = sorted(set(template) - set(_KEYS))
    if unknown:
        raise bad(f"unknown key {unknown[0]!r}; keys are {', '.join(_KEYS)}")
    for key in (*ROLES, "generation_prefix"):
        if not isinstance(template.get(key), str):
            raise bad(f"{key!r} must be a string")
    for role in ROLES:
        if template[role].count(PLACEHOLDER) != 1:
            raise bad(f"{role!r} must contain {PLACEHOLDER} exactly once")
    stop = template.get("stop", [])
    if (
        not isinstance(stop, list)
        or len(stop) > MAX_STOP
        or not all(isinstance(s, str) and s for s in stop)
    ):
        raise bad(f"'stop' must be a list of at most {MAX_STOP} non-empty strings")
    return {**template, "stop": stop}


def render(template: dict, messages: list[dict]) -> str:
    """The prompt for ``messages`` (each ``{"role": one of ROLES, "content": str}``).

    ``str.replace`` rather than ``str.format``: message text is data, never a format
    string, so braces in it cannot break rendering or reach attributes.
    """
    turns = (template[m["role"]].replace(PLACEHOLDER, m["content"]) for m in messages)
    return "".join(turns) + template["generation_prefix"]


# A template's special-token markers: ``<|name|>``, letters, digits and underscores.
MARKER = re.compile(r"<\|[A-Za-z0-9_]+\|>")


def special_markers(template: dict) -> list[str]:
    """The ``<|name|>`` markers a template's role strings and generation prefix use, in
    first-use order: a chat model's tokenizer holds each as one special token."""
    found: dict[str, None] = {}
    for key in (*ROLES, "generation_prefix"):
        for marker in MARKER.findall(template[key]):
            found[marker] = None
    return list(found)


def template_pieces(text: str) -> list[tuple[str, bool]]:
    """Template text cut at its markers: [(piece, is_marker)], in order."""
    pieces, at = [], 0
    for m in MARKER.finditer(text):
        pieces.append((text[at : m.start()], False))
        pieces.append((m.group(), True))
        at = m.end()
    pieces.append((text[at:], False))
    return [(p, special) for p, special in pieces if p]


def split_role(template: dict, role: str) -> tuple[str, str]:
    """A role's template text before and after its ``{content}``."""
    before, _, after = template[role].partition(PLACEHOLDER)
    return before, after


def encode_template_text(tok, text: str, specials: dict[str, int]) -> list[int]:
    """Template text as ids: a marker the tokenizer holds as a special token is that id;
    everything else (a marker it lacks included) is encoded as text."""
    out: list[int] = []
    for piece, marker in template_pieces(text):
        if marker and piece in specials:
            out.append(specials[piece])
        else:
            out.extend(tok.encode(piece, allow_unk=True))
    return out


def encode_chat(tok, template: dict, messages: list[dict]) -> list[int]:
    """The prompt ids for ``messages``: each message's template text and content encoded
    as separate pieces (content always as text, so a typed marker stays text), then the
    generation prefix. The same pieces as ``engine/chat_data.encode_conversation``, so a
    prompt matches what the model was trained on. A template with no markers is plain
    text, encoded whole as ``render`` writes it (how such a model saw its corpus)."""
    if not special_markers(template):
        return tok.encode(render(template, messages), allow_unk=True)
    specials = tok.special_tokens()
    ids: list[int] = []
    for m in messages:
        before, after = split_role(template, m["role"])
        ids += encode_template_text(tok, before, specials)
        ids += tok.encode(m["content"], allow_unk=True)
        ids += encode_template_text(tok, after, specials)
    return ids + encode_template_text(tok, template["generation_prefix"], specials)


def fit_turns(tok, template: dict, messages: list[dict], budget: int) -> tuple[list[int], int]:
    """The prompt ids for the longest tail of ``messages`` that fits in ``budget`` tokens,
    cropped at whole turns: leading system messages stay, then the oldest exchanges go,
    so what is left starts at a user message (or is the last message alone). Returns
    (ids, messages dropped). When even the last message does not fit, its ids come back
    whole and the caller decides (crop or refuse)."""
    system = 0
    while system < len(messages) and messages[system]["role"] == "system":
        system += 1
    head, rest = messages[:system], messages[system:]
    cuts = [i for i, m in enumerate(rest) if i == 0 or m["role"] == "user"]
    if rest and cuts[-1] != len(rest) - 1:
        cuts.append(len(rest) - 1)
    for dropped in cuts:
        ids = encode_chat(tok, template, head + rest[dropped:])
        if len(ids) <= budget:
            return ids, dropped
    return (ids, dropped) if rest else (encode_chat(tok, template, head), 0)


def chat_context(
    tok, template: dict, messages: list[dict], room: int, block: int, prefix: list[int]
) -> tuple[list[int], int]:
    """(context, messages dropped): ``prefix`` then the prompt cropped at whole turns so
    that ``room`` tokens (at most half the block) stay for the reply; a last message too
    long for that is cropped to the block's last tokens. Every player's rule."""
    budget = block - len(prefix) - min(room, block // 2)
    ids, dropped = fit_turns(tok, template, messages, max(budget, 1))
    if len(prefix) + len(ids) <= block:
        return [*prefix, *ids], dropped
    return ids[-block:], dropped


def chat_stop_ids(tok, template: dict | None) -> list[int]:
    """The tokens that end a reply: end-of-text and every marker of ``template`` (a reply
    ends where the model would open a turn, or close its own). A marker the tokenizer
    does not hold as a special token is a one-line error."""
    markers = special_markers(template) if template is not None else []
    specials = tok.special_tokens()
    missing = [m for m in markers if m not in specials]
    if missing:
        raise SupError(
            f"the chat template uses {missing[0]}, which this model's tokenizer does not "
            "hold as a special token: use the template it was trained with "
            "(sup prepare --chat), or one without <|markers|>"
        )
    return [tok.eot_id, *(specials[m] for m in markers if specials[m] != tok.eot_id)]
