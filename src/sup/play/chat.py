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
