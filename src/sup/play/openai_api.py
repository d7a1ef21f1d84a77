"""The OpenAI-compatible protocol of ``sup serve``, free of any web framework: request
bodies in as validated ``Request`` objects; response objects, stream chunks and errors
out, in the shapes OpenAI clients parse.

Request rules (``/v1/completions`` and ``/v1/chat/completions``):

- ``null`` means "not set" for every field, as in OpenAI's API.
- Unset sampling options take the model's own defaults (manifest
  ``generation.defaults``); ``max_tokens`` is also capped by the server.
- Unset ``seed`` samples from fresh entropy; a seed reproduces a reply exactly.
- OpenAI options sup does not implement (``NO_OPS``) are accepted only at the value
  that changes nothing, so a client that spells out its defaults works and one that
  relies on them gets a clear 400 instead of silently different output. Any other
  unknown field is a 400 too.
- ``temperature`` is 0 (greedy) or a number from ``sampling.MIN_TEMPERATURE`` to 2
  (OpenAI's range); a tiny positive one, even a subnormal, would overflow sampling.
- ``top_k`` is an extension (as in vLLM and llama.cpp).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sup.play.chat import MAX_STOP  # as OpenAI: up to 4 stop strings
from sup.play.sampling import MIN_TEMPERATURE, temperature_ok

# OpenAI's documented range, within sup's own (``sampling.TEMPERATURE_RULE``, up to 100):
# a client tuned against OpenAI gets the same refusals here.
MAX_API_TEMPERATURE = 2
API_TEMPERATURE_RULE = f"0 (greedy) or a number from {MIN_TEMPERATURE:g} to {MAX_API_TEMPERATURE}"

SAMPLING_FIELDS = {"max_tokens", "temperature", "top_p", "top_k", "stop", "seed"}
# "user" (an end-user id for abuse tracking) is accepted and unused.
COMMON_FIELDS = {"model", "n", "stream", "stream_options", "user", *SAMPLING_FIELDS}
NO_OPS = {
    "frequency_penalty": 0,
    "presence_penalty": 0,
    "logprobs": False,
    "echo": False,
    "best_of": 1,
    "logit_bias": {},
}
# OpenAI message role -> sup.chat role; "developer" is OpenAI's newer name for "system".
MESSAGE_ROLES = {
    "system": "system",
    "developer": "system",
    "user": "user",
    "assistant": "assistant",
}


class ApiError(Exception):
    """A request the API refuses, with its HTTP status and OpenAI error fields."""

    def __init__(self, status: int, message: str, param: str | None = None, code=None):
        super().__init__(message)
        self.status, self.message, self.param, self.code = status, message, param, code

    def body(self) -> dict:
        kind = "invalid_request_error" if self.status < 500 else "server_error"
        error = {"message": self.message, "type": kind, "param": self.param, "code": self.code}
        return {"error": error}


def invalid(param: str, message: str) -> ApiError:
    return ApiError(400, message, param, "invalid_value")


def parse_json(body: bytes) -> dict:
    """The request body as a JSON object; strict JSON (no NaN or Infinity)."""

    def refuse_constant(name: str):
        raise ValueError(f"{name} is not JSON")

    try:
        value = json.loads(body, parse_constant=refuse_constant)
    except (ValueError, RecursionError) as e:  # bad UTF-8 and absurd nesting included
        raise ApiError(
            400, f"the request body is not valid JSON ({e})", None, "invalid_json"
        ) from None
    if not isinstance(value, dict):
        raise ApiError(400, "the request body must be a JSON object", None, "invalid_json")
    return value


@dataclass(frozen=True)
class Sampling:
    """Everything one generation needs besides the model and its context."""

    max_tokens: int
    temperature: float
    top_k: int | None
    top_p: float | None
    seed: int | None
    stop: tuple[str, ...]


@dataclass(frozen=True)
class Request:
    """A validated request. Sampling fields are ``None`` where the client left them unset."""

    model: str
    prompt: str | None  # completions ("" starts a new document); None for chat
    messages: list[dict] | None  # chat: [{"role", "content"}], roles as in sup.chat.ROLES
    stream: bool
    include_usage: bool
    max_tokens: int | None
    temperature: float | None
    top_k: int | None
    top_p: float | None
    seed: int | None
    stop: tuple[str, ...]
    controls: dict = field(default_factory=dict)  # an extension: the model's named controls

    def sampling(self, defaults: dict, cap: int, extra_stop: tuple[str, ...] = ()) -> Sampling:
        """Fill unset fields from the model's ``generation.defaults``."""

        def pick(value, key):
            return defaults[key] if value is None else value

        return Sampling(
            max_tokens=self.max_tokens or min(defaults["max_new_tokens"], cap),
            temperature=pick(self.temperature, "temperature"),
            top_k=pick(self.top_k, "top_k"),
            top_p=pick(self.top_p, "top_p"),
            seed=self.seed,
            stop=(*extra_stop, *self.stop),
        )


def parse_request(body: dict, *, chat: bool, max_tokens_cap: int) -> Request:
    """Validate a completions (``chat=False``) or chat completions body."""
    check_fields(
        body,
        COMMON_FIELDS | ({"messages", "max_completion_tokens"} if chat else {"prompt", "controls"}),
    )
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise invalid("model", "'model' must be a model id or name (see GET /v1/models)")
    if not isinstance(body.get("user", ""), str | None):
        raise invalid("user", "'user' must be a string")
    number(body, "n", lambda v: v == 1, "1 (sup returns one choice per request)", integer=True)
    stream = body.get("stream") or False
    if not isinstance(stream, bool):
        raise invalid("stream", "'stream' must be true or false")
    chat_tokens = chat and body.get("max_completion_tokens") is not None
    return Request(
        model=model,
        prompt=None if chat else prompt_text(body.get("prompt")),
        messages=chat_messages(body.get("messages")) if chat else None,
        stream=stream,
        include_usage=include_usage(body.get("stream_options"), stream),
        max_tokens=number(
            body,
            "max_completion_tokens" if chat_tokens else "max_tokens",
            lambda v: 1 <= v <= max_tokens_cap,
            f"an integer from 1 to {max_tokens_cap} (this server's --max-tokens-cap)",
            integer=True,
        ),
        temperature=number(body, "temperature", api_temperature_ok, API_TEMPERATURE_RULE),
        top_k=number(body, "top_k", lambda v: v >= 1, "an integer of at least 1", integer=True),
        top_p=number(body, "top_p", lambda v: 0 < v <= 1, "a number above 0 and at most 1"),
        seed=number(
            body, "seed", lambda v: 0 <= v < 2**63, "an integer from 0 to 2**63 - 1", integer=True
        ),
        stop=stop_strings(body.get("stop")),
        controls=control_values(body.get("controls")),
    )


def api_temperature_ok(value) -> bool:
    """sup's rule (finite; 0 or at least ``MIN_TEMPERATURE``, below which the scaled
    logits overflow) capped at OpenAI's 2. The range is checked first: JSON integers
    have no bound, and one past float's range would overflow ``temperature_ok``."""
    return 0 <= value <= MAX_API_TEMPERATURE and temperature_ok(value)


def check_fields(body: dict, known: set[str]) -> None:
    for key, value in body.items():
        if value is None or key in known or (key in NO_OPS and value == NO_OPS[key]):
            continue
        if key in NO_OPS:
            only = json.dumps(NO_OPS[key])
            raise invalid(key, f"'{key}' is not supported by sup (only {only} is accepted)")
        raise invalid(key, f"unrecognized request argument '{key}'")


def number(body: dict, name: str, ok: Callable, expected: str, integer: bool = False):
    """``body[name]`` if it is an integer (or with ``integer=False``, any number) that
    passes ``ok``; ``None`` when unset. Booleans are not numbers here, unlike Python."""
    value = body.get(name)
    if value is None:
        return None
    types = int if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, types) or not ok(value):
        raise invalid(name, f"'{name}' must be {expected}, got {json.dumps(value)[:40]}")
    return value


def text(value: str, param: str) -> str:
    """``value`` if it can be encoded: JSON may carry lone surrogates, UTF-8 cannot."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid(param, f"'{param}' is not valid Unicode (it has a lone surrogate)") from None
    return value


def prompt_text(value) -> str:
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid("prompt", "'prompt' must be a string (or a list of one string)")
    return text(value, "prompt")


def control_values(value) -> dict:
    """``controls``: an object of control name -> integer or string; whether the model
    has those controls, and their ranges, are checked against its manifest
    (``sup.formats.controls``)."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
        isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool))
        for v in value.values()
    ):
        raise invalid("controls", "'controls' must be an object of names to integers or strings")
    return {k: text(v, f"controls.{k}") if isinstance(v, str) else v for k, v in value.items()}


def stop_strings(value) -> tuple[str, ...]:
    stops = [value] if isinstance(value, str) else value
    if stops is None:
        return ()
    if (
        not isinstance(stops, list)
        or len(stops) > MAX_STOP
        or not all(isinstance(s, str) and s for s in stops)
    ):
        raise invalid("stop", f"'stop' must be a non-empty string or a list of up to {MAX_STOP}")
    return tuple(text(s, "stop") for s in stops)


def include_usage(options, stream: bool) -> bool:
    if options is None:
        return False
    if not stream:
        raise invalid("stream_options", "'stream_options' is only allowed when 'stream' is true")
    if not isinstance(options, dict) or not isinstance(options.get("include_usage", False), bool):
        raise invalid("stream_options", "'stream_options' must be {\"include_usage\": true|false}")
    return options.get("include_usage", False)


def chat_messages(value) -> list[dict]:
    if not isinstance(value, list) or not value:
        raise invalid("messages", "'messages' must be a non-empty list of {role, content}")
    return [chat_message(m, f"messages[{i}]") for i, m in enumerate(value)]


def chat_message(message, where: str) -> dict:
    """One message as ``{"role", "content"}``; ``developer`` is OpenAI's new ``system``."""
    if not isinstance(message, dict):
        raise invalid(where, f"{where} must be an object with 'role' and 'content'")
    for key, value in message.items():
        if value is not None and key not in ("role", "content", "name"):
            raise invalid(f"{where}.{key}", f"{where}.{key} is not supported by sup")
    role = message.get("role")
    if not isinstance(role, str) or role not in MESSAGE_ROLES:
        raise invalid(f"{where}.role", f"{where}.role must be one of {', '.join(MESSAGE_ROLES)}")
    content = message.get("content")
    if isinstance(content, list) and all(
        isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str)
        for p in content
    ):
        content = "".join(p["text"] for p in content)
    if not isinstance(content, str):
        raise invalid(f"{where}.content", f"{where}.content must be a string or text parts")
    return {"role": MESSAGE_ROLES[role], "content": text(content, f"{where}.content")}


@dataclass(frozen=True)
class Reply:
    """The identity and shape of one response: a text completion or a chat completion."""

    model: str
    chat: bool
    id: str = field(default_factory=lambda: secrets.token_hex(12))
    created: int = field(default_factory=lambda: int(time.time()))

    def _envelope(self, kind: str, choices: list[dict]) -> dict:
        prefix = "chatcmpl" if self.chat else "cmpl"
        return {
            "id": f"{prefix}-{self.id}",
            "object": kind,
            "created": self.created,
            "model": self.model,
            "choices": choices,
        }

    def body(self, content: str, finish_reason: str, usage: dict) -> dict:
        """The whole, non-streamed response."""
        if self.chat:
            choice = {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
            return {**self._envelope("chat.completion", [choice]), "usage": usage}
        choice = {"index": 0, "text": content, "logprobs": None, "finish_reason": finish_reason}
        return {**self._envelope("text_completion", [choice]), "usage": usage}

    def chunk(self, content: str | None, finish_reason: str | None = None) -> dict:
        """A stream chunk: a piece of text, or (``content=None``) the finish reason."""
        if self.chat:
            delta = {} if content is None else {"content": content}
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
            return self._envelope("chat.completion.chunk", [choice])
        choice = {
            "index": 0,
            "text": content or "",
            "logprobs": None,
            "finish_reason": finish_reason,
        }
        return self._envelope("text_completion", [choice])

    def events(self, generation, include_usage: bool) -> Iterator[str]:
        """Server-sent events for a streamed reply, ending with ``data: [DONE]``.

        ``generation`` yields text pieces, then has ``finish_reason`` and ``usage()``
        (``sup.play.reply.TextGeneration``)."""
        if self.chat:
            first = self.chunk("")
            first["choices"][0]["delta"]["role"] = "assistant"
            yield sse(first)
        for piece in generation:
            yield sse(self.chunk(piece))
        yield sse(self.chunk(None, generation.finish_reason))
        if include_usage:
            kind = "chat.completion.chunk" if self.chat else "text_completion"
            yield sse({**self._envelope(kind, []), "usage": generation.usage()})
        yield "data: [DONE]\n\n"


def sse(obj: dict) -> str:
    return f"data: {json.dumps(obj, ensure_ascii=False)}\n\n"
