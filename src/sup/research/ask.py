"""Ask a chat model for one JSON object: checked, one second chance, a declared fallback.

The studio's one way to get a structured answer from an LLM (sup research's llm
proposer now; the judge and corpus-writer tools are to reuse it rather than parse
replies their own way)::

    answer = ask_json(client, model, messages, validate, fallback, temperature=0.7)

1. ``messages`` (OpenAI chat format) go to ``client.chat.completions.create`` (the
   ``openai`` client, or anything with that method, against any OpenAI-compatible API);
2. the first JSON object in the reply is taken (prose or code fences around it are fine);
3. ``validate(obj)`` returns the value to use, or raises ``ValueError`` with a message
   the model can act on;
4. any failure (the request, no JSON object, invalid) gets one re-prompt: the reply and
   the error go back as the next turn;
5. if that fails too, ``fallback()`` gives the value, and the answer says so.

Nothing here prints or raises for a bad reply: ``Answer`` says what happened.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ATTEMPTS = 2  # the first reply and one re-prompt
RETRY = "That reply could not be used: {error}. Reply again with one JSON object only."


@dataclass
class Answer:
    value: Any
    source: str  # "llm" (first reply), "llm-retry" (the re-prompt's) or "fallback"
    usage: dict[str, int] = field(
        default_factory=lambda: {"prompt_tokens": 0, "completion_tokens": 0}
    )
    errors: list[str] = field(default_factory=list)  # one per failed attempt
    replies: list[str] = field(default_factory=list)  # the model's texts, in order


def first_json_object(text: str) -> dict:
    """The first JSON object in ``text``; ValueError if there is none."""
    decoder = json.JSONDecoder()
    for i, ch in enumerate(text):
        if ch == "{":
            try:
                obj, _ = decoder.raw_decode(text, i)
            except ValueError:
                continue
            if isinstance(obj, dict):
                return obj
    raise ValueError("the reply holds no JSON object")


def ask_json(
    client,
    model: str,
    messages: list[dict],
    validate: Callable[[dict], Any],
    fallback: Callable[[], Any],
    **options,
) -> Answer:
    """One answer: the model's (validated) or the fallback's. ``options`` go to the
    request as they are (``temperature``, ``max_tokens``, ``seed``)."""
    answer = Answer(None, "fallback")
    messages = list(messages)
    for attempt in range(ATTEMPTS):
        try:
            response = client.chat.completions.create(model=model, messages=messages, **options)
        # A remote endpoint fails in many ways (connection, HTTP status, a malformed
        # body); each is one failed attempt, and the fallback is the declared recovery.
        except Exception as e:
            answer.errors.append(f"request failed: {type(e).__name__}: {e}")
            continue
        _add_usage(answer.usage, getattr(response, "usage", None))
        text = (response.choices[0].message.content or "") if response.choices else ""
        answer.replies.append(text)
        try:
            answer.value = validate(first_json_object(text))
        except ValueError as e:
            answer.errors.append(str(e))
            messages += [
                {"role": "assistant", "content": text},
                {"role": "user", "content": RETRY.format(error=e)},
            ]
            continue
        answer.source = "llm" if attempt == 0 else "llm-retry"
        return answer
    answer.value = fallback()
    return answer


def _add_usage(total: dict[str, int], usage) -> None:
    for key in total:
        total[key] += int(getattr(usage, key, 0) or 0)
