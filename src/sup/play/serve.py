"""``sup serve``: the player page, the releases and an OpenAI-compatible API on one origin.

    /v1/...          the API (protocol in sup/openai_api.py): models, completions, chat;
                     /v1/daydream/move, a chess release's next move (sup/play/daydream.py)
    /releases/...    the releases directory, read-only: registry.json and bundle files
    /...             the browser player (web/), or a one-line note where it is missing

The page fetches ``releases/registry.json`` relative to itself, so serving both from
one origin is all it needs.

Models: the registry is re-read whenever registry.json changes, so a new release is
served without a restart (the static registry.json already is). Each bundle is loaded
on first use, once, verified against its manifest and the manifest against the
registry; one ``OnnxLM`` per model serves every request, since ONNX Runtime sessions
are thread-safe.

Replies (``play/reply.py``): the shared generation rule (``OnnxLM.generate``), token
bytes decoded with ``Utf8Stream``, then cut before the first stop string;
``StopCutter`` holds back any tail a stop string could still claim, so a streamed reply
equals the whole one.

Concurrency: one event loop accepts requests; loading, tokenizing and generating run
in Starlette's threadpool, a stream one token per hop, so the loop never blocks and a
slow reader holds only its own thread. Each request samples from its own numpy
Generator, made from its ``seed`` (``OnnxLM.generate``), so requests in flight
together never share random numbers and a seeded reply is the same under load.

Stopping: a generation checks its cancel flags at every token. A client that
disconnects sets its request's flag (a stream stops anyway: Starlette stops asking it
for tokens); shutting down sets the server's, which stops every generation in flight
at its next token, a whole reply as a 503 and a stream with an error event and no
``[DONE]``, so no reply is passed off as finished and shutdown takes one token, not
max_tokens (sup/cli/serve.py bounds the rest).

Safety: static files go through Starlette's ``StaticFiles``, which resolves symlinks
and serves nothing outside its directory. Bound to a loopback address, the server
answers only requests whose Host is a loopback name, so a web page cannot reach it
through DNS rebinding. The API refuses (403) any request whose ``Origin`` is not the
server's own, and POSTs that are not ``application/json`` (415): a page elsewhere
cannot make the browser send it work, not even the "simple" cross-origin POSTs that
skip CORS preflight (the player page, same origin, and clients that send no Origin,
such as curl and the openai package, are unaffected). Bodies are size-limited before
they are parsed. Error bodies name release ids, never host paths: a registry or
bundle problem is logged in full on the server's stderr and told to the client with
paths relative to the releases directory, or without its detail.
"""

from __future__ import annotations

import asyncio
import html
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import sup
from sup.errors import SupError
from sup.fileio import sha256_file
from sup.formats.controls import ControlError, build_prompt
from sup.formats.manifest import MANIFEST
from sup.formats.printable import printable
from sup.formats.registry import REGISTRY_FILE, parse_registry, resolve
from sup.play.chat import check_chat_template
from sup.play.gate import LOOPBACK_HOSTS, ApiGate, ReleaseError, client_message
from sup.play.openai_api import (
    ApiError,
    Reply,
    invalid,
    parse_json,
    parse_request,
    sse,
)
from sup.play.reply import Cancelled, TextGeneration
from sup.play.runtime import OnnxLM

log = logging.getLogger("uvicorn.error")  # uvicorn prints it on the server's stderr


def default_web_dir() -> Path:
    """The repository's ``web/`` beside ``src/`` (absent from an installed wheel)."""
    return Path(sup.__file__).resolve().parents[2] / "web"


@dataclass(frozen=True)
class Model:
    entry: dict  # the registry entry
    lm: OnnxLM
    chat: dict | None  # the checked chat template, for chat models


class Catalogue:
    """The registry's models, each loaded on first use, once."""

    def __init__(self, releases: Path, threads: int | None = None):
        self.releases = Path(releases).resolve()
        self.threads = threads
        self.read_at = 0  # when the registry was last read (unix seconds)
        self._lock = threading.Lock()  # guards the fields below
        self._load_lock = threading.Lock()  # one bundle loads at a time
        self._stamp: tuple[int, int] | None = None
        self._registry: dict = {}
        self._models: dict[tuple[str, str], Model] = {}

    def registry(self) -> dict:
        """The registry as it is on disk now; SupError when it is missing or invalid."""
        path = self.releases / REGISTRY_FILE
        try:
            stat = path.stat()
            with self._lock:
                if (stat.st_mtime_ns, stat.st_size) != self._stamp:
                    registry = parse_registry(path.read_text(encoding="utf-8"), str(path))
                    live = {_key(e) for e in registry["models"]}
                    self._models = {k: m for k, m in self._models.items() if k in live}
                    self._registry, self._stamp = registry, (stat.st_mtime_ns, stat.st_size)
                    self.read_at = int(time.time())
                return self._registry
        except FileNotFoundError:
            raise SupError(f"{self.releases} has no {REGISTRY_FILE}") from None
        except (OSError, UnicodeDecodeError) as e:
            raise SupError(f"cannot read {path}: {e}") from None

    def find(self, name: str) -> dict | None:
        """The entry for an id, or a lineage's newest; None when there is none."""
        registry = self.registry()  # its errors are the server's, not "no such model"
        try:
            return resolve(registry, name)
        except SupError:
            return None

    def load(self, entry: dict) -> Model:
        """The loaded model; ``ReleaseError`` when its bundle cannot be served."""
        key = _key(entry)
        model = self._models.get(key)
        if model is None:
            with self._load_lock:
                try:
                    model = self._models.get(key) or self._open(entry)
                except (SupError, OSError) as e:  # OSError: a bundle file gone missing
                    raise ReleaseError(entry["id"], str(e)) from None
                with self._lock:
                    self._models[key] = model
        return model

    def _open(self, entry: dict) -> Model:
        bundle = (self.releases / entry["path"]).resolve()
        if not bundle.is_relative_to(self.releases):
            raise SupError(f"registry entry {entry['id']} points outside {self.releases}")
        if sha256_file(bundle / MANIFEST) != entry["manifest_sha256"]:
            raise SupError(
                f"{bundle / MANIFEST} differs from the registry's sha256: regenerate the registry"
            )
        lm = OnnxLM(bundle, verify=True, threads=self.threads)
        chat = lm.manifest.get("chat")
        if chat is not None:
            chat = check_chat_template(chat, str(bundle / MANIFEST))
        return Model(entry, lm, chat)


def _key(entry: dict) -> tuple[str, str]:
    """Models are cached by id and manifest: a re-exported bundle is loaded afresh."""
    return entry["id"], entry["manifest_sha256"]


def create_app(
    catalogue: Catalogue,
    web: Path,
    *,
    max_tokens_cap: int = 1024,
    max_body_bytes: int = 65536,
    allowed_hosts: list[str] | None = None,
    host: str | None = None,
    stopping: threading.Event | None = None,
) -> Starlette:
    """The whole site. Without a ``web`` directory, ``/`` says so and the rest still
    works. ``allowed_hosts=None`` answers any Host header. ``host`` is the address the
    server is bound to, as given (an Origin naming it is the server's own, as are the
    loopback names and the address a connection reached). Setting ``stopping``
    cancels every generation in flight, and any started later: shutdown."""
    if web.is_dir():
        site = Mount("/", StaticFiles(directory=web, html=True))
    else:
        note = (
            "<!doctype html><p>sup serve: the player page is missing (no directory "
            f"{html.escape(str(web))}); the API is at /v1 and the releases at /releases/.</p>"
        )
        site = Route("/", lambda request: HTMLResponse(note))
    api = create_api(catalogue, max_tokens_cap, max_body_bytes, stopping or threading.Event())
    own_hosts = {*LOOPBACK_HOSTS, *([host.lower().strip("[]")] if host else [])}
    return Starlette(
        routes=[
            Mount("/v1", ApiGate(api, frozenset(own_hosts))),
            Mount("/releases", StaticFiles(directory=catalogue.releases)),
            site,
        ],
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or ["*"])],
    )


def create_api(
    catalogue: Catalogue, max_tokens_cap: int, max_body_bytes: int, stopping: threading.Event
) -> FastAPI:
    """The OpenAI-compatible API, mounted at /v1; every error is an OpenAI error body."""
    api = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @api.get("/models")
    async def list_models() -> dict:
        registry = await run_in_threadpool(catalogue.registry)
        return {"object": "list", "data": [model_object(e, catalogue) for e in registry["models"]]}

    @api.get("/models/{name}")
    async def get_model(name: str) -> dict:
        return model_object(await find(name, "name"), catalogue)

    @api.post("/completions")
    async def completions(request: Request):
        return await complete(request, chat=False)

    @api.post("/chat/completions")
    async def chat_completions(request: Request):
        return await complete(request, chat=True)

    @api.post("/daydream/move")
    async def daydream_move(request: Request):
        """A daydream release's next move after ``moves``, with the tries the engine
        refused, the position after it and, if asked, the engine's reply
        (``play/daydream.py``); not part of OpenAI's protocol."""
        from sup.play.daydream import parse_move_request, serve_move

        name, moves, temperature, seed, level = parse_move_request(
            parse_json(await read_body(request, max_body_bytes))
        )
        entry = await find(name, "model")
        model = await run_in_threadpool(catalogue.load, entry)
        if model.lm.manifest.get("game") is None:
            raise invalid("model", f"{entry['id']} is not a game release: use /v1/completions")
        if temperature is None:
            temperature = model.lm.generation["defaults"]["temperature"]
        reply = await run_in_threadpool(serve_move, model.lm, moves, temperature, seed, level)
        return {"model": entry["id"], **reply}

    async def find(name: str, param: str) -> dict:
        entry = await run_in_threadpool(catalogue.find, name)
        if entry is None:
            message = f"no model named {name!r} (see GET /v1/models)"
            raise ApiError(404, message, param, "model_not_found")
        return entry

    async def complete(request: Request, chat: bool):
        body = parse_json(await read_body(request, max_body_bytes))
        req = parse_request(body, chat=chat, max_tokens_cap=max_tokens_cap)
        entry = await find(req.model, "model")
        if chat and not entry["chat"]:
            raise invalid("model", f"{entry['id']} is not a chat model: use /v1/completions")
        model = await run_in_threadpool(catalogue.load, entry)
        stops = tuple(model.chat["stop"]) if chat else ()
        sampling = req.sampling(model.lm.generation["defaults"], max_tokens_cap, stops)
        if chat:  # cropped at whole turns, leaving room for the reply
            context, _ = await run_in_threadpool(
                model.lm.chat_context, model.chat, req.messages, sampling.max_tokens
            )
        else:
            context, _ = await run_in_threadpool(model.lm.context, controlled(model.lm, req))
        gone = threading.Event()  # set when this request's client disconnects
        generation = TextGeneration(model.lm, context, sampling, cancel=(gone, stopping))
        reply = Reply(entry["id"], chat)
        if req.stream:
            return StreamingResponse(
                stream_events(reply, generation, req.include_usage, stopping),  # threadpool
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
            )
        try:
            content = await while_connected(request, gone, lambda: "".join(generation))
        except Cancelled:
            raise cancelled_error(stopping) from None  # unread when the client has gone
        return reply.body(content, generation.finish_reason, generation.usage())

    @api.exception_handler(ApiError)
    async def api_error(request: Request, e: ApiError) -> JSONResponse:
        return JSONResponse(e.body(), status_code=e.status)

    @api.exception_handler(HTTPException)
    async def http_error(request: Request, e: HTTPException) -> JSONResponse:
        """Unknown paths (404) and methods (405) under /v1, in OpenAI's error shape."""
        path = request.url.path
        if e.status_code == 405:
            message, code = f"{request.method} is not allowed on {path}", "method_not_allowed"
        else:
            message, code = f"{request.method} {path}: {e.detail}", None
        body = ApiError(e.status_code, message, None, code).body()
        return JSONResponse(body, e.status_code, headers=e.headers)

    @api.exception_handler(SupError)
    async def server_side(request: Request, e: SupError) -> JSONResponse:
        """A broken registry or bundle is the server's problem, not the client's: the
        log gets the whole message, the client one without host paths."""
        # the path is the client's and the message may quote a registry: both printable
        log.error("%s %s: %s", request.method, printable(request.url.path), printable(e))
        body = ApiError(500, client_message(e, catalogue.releases)).body()
        return JSONResponse(body, status_code=500)

    @api.exception_handler(Exception)
    async def unexpected(request: Request, e: Exception) -> JSONResponse:
        """No traceback to the client; uvicorn logs it on the server's stderr."""
        return JSONResponse(ApiError(500, "internal server error").body(), status_code=500)

    return api


def controlled(lm, req) -> str:
    """A completion's prompt, built from the model's controls when it has them."""
    try:
        return build_prompt(
            lm.manifest.get("controls"),
            req.controls,
            req.prompt,
            lambda text: len(lm.encode(text)[0]),
            lm.block_size,
            spell=lambda name: f"controls.{name}",
        )
    except ControlError as e:
        raise invalid(f"controls.{e.name}", str(e)) from None


async def while_connected(request: Request, gone: threading.Event, work):
    """``work()`` run in the threadpool while a task watches the connection and sets
    ``gone`` if the client disconnects, which ``work`` must heed: a thread cannot be
    interrupted, so without this a reply nobody waits for would run to max_tokens."""

    async def watch() -> None:
        # Once the body is read, uvicorn's receive() returns only at a disconnect (or
        # when the response is complete, by which time the watch is cancelled).
        while (await request.receive())["type"] != "http.disconnect":
            pass
        gone.set()

    watcher = asyncio.ensure_future(watch())
    try:
        return await run_in_threadpool(work)
    finally:
        watcher.cancel()


def stream_events(reply: Reply, generation, include_usage: bool, stopping: threading.Event):
    """``reply.events``, except that a cancelled generation ends the stream with an
    error event (as OpenAI's streams report errors) and no ``[DONE]``, so a client
    cannot take the cut-short text for the whole reply."""
    try:
        yield from reply.events(generation, include_usage)
    except Cancelled:
        yield sse(cancelled_error(stopping).body())


def cancelled_error(stopping: threading.Event) -> ApiError:
    if stopping.is_set():
        message = "the server is shutting down: the reply was cut short (try again later)"
    else:
        message = "the client disconnected: the reply was cut short"
    return ApiError(503, message, None, "generation_cancelled")


def model_object(entry: dict, catalogue: Catalogue) -> dict:
    """OpenAI's model object plus sup's ``lineage`` and ``chat``. The registry records
    no creation time, so ``created`` is when this server read the registry."""
    return {
        "id": entry["id"],
        "object": "model",
        "created": catalogue.read_at,
        "owned_by": "sup",
        "lineage": entry["lineage"],
        "chat": entry["chat"],
    }


async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit`` bytes: a declared
    length before reading anything, a chunked body as it arrives, so an oversized
    upload is never buffered whole."""
    message = f"the request body is over this server's limit of {limit} bytes"
    too_large = ApiError(413, message, None, "request_too_large")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)
