"""`sup serve`: the OpenAI-compatible API answers exactly what the Python player
generates (whole, streamed, cut at stop strings, seeded, chat), refuses every bad
input with OpenAI's error shape, refuses what a foreign web page could make a browser
send (a foreign Origin, a body not declared JSON), never serves a file outside its
directories nor names one in an error, handles many sampled requests at once (each
with its own random numbers), and starts, fails and stops like every other command.

One real server (`sup serve` in a subprocess) serves the module's API tests; the
servers that are disconnected from, stopped mid-generation or broken on purpose are
in test_serve_safety.py.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import shutil
import signal
import socket
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import pytest

from helpers import assert_cli_error, run_sup_many, sets, sup_ok
from serve_support import CHAT_TEMPLATE, Response, Server, start_server, stop_server
from sup.play.chat import render
from sup.play.reply import StopCutter
from sup.play.runtime import OnnxLM
from sup.play.sampling import MIN_TEMPERATURE, Utf8Stream
from sup.ship.registry import write_registry

pytestmark = pytest.mark.slow

CAP = 200  # the module server's --max-tokens-cap
SECRET = "the file outside the served directories"
CHAT_PAIRS = [
    ("hi", "hello"),
    ("how are you?", "fine, thanks"),
    ("what is your name?", "i am sup"),
    ("bye", "see you"),
]


# --- the server and how to talk to it ------------------------------------------------


def make_chat_bundle(work: Path) -> Path:
    """A genuinely tiny chat model made through the CLI: data, training, export --chat."""
    rng = random.Random(0)
    turns = (rng.choice(CHAT_PAIRS) for _ in range(400))
    (work / "chat.txt").write_text("".join(f"User: {u}\nBot: {b}\n" for u, b in turns))
    (work / "template.json").write_text(json.dumps(CHAT_TEMPLATE))
    sup_ok("prepare", work / "chat.txt", "--tokenizer", "char", "--out", work / "data")
    sup_ok(
        "train", "--data", work / "data", "--out", work / "run", "--quiet",
        *sets(max_iters=150, eval_interval=50),
    )  # fmt: skip
    bundle = work / "tiny-chat-1"
    sup_ok("export", work / "run", "--out", bundle, "--id", "tiny-chat-1",
           "--chat", work / "template.json")  # fmt: skip
    return bundle


@pytest.fixture(scope="session")
def chat_bundle_job(tmp_path_factory) -> Future:
    """The chat bundle, built in a background thread from the moment the module's first
    test asks for the server. Session scope makes pytest start it before `releases_dir`,
    whose bundles are built meanwhile: both are mostly subprocesses exporting models,
    the bulk of this module's time."""
    pool = ThreadPoolExecutor(1)
    job = pool.submit(make_chat_bundle, tmp_path_factory.mktemp("chat"))
    pool.shutdown(wait=False)
    return job


def clone_release(releases: Path, source: str, new_id: str) -> Path:
    """A copy of a release under another id (the manifest says which)."""
    bundle = releases / new_id
    shutil.copytree(releases / source, bundle)
    manifest = json.loads((bundle / "manifest.json").read_text())
    (bundle / "manifest.json").write_text(json.dumps({**manifest, "id": new_id}))
    return bundle


@pytest.fixture(scope="module")
def site(tmp_path_factory, chat_bundle_job, releases_dir) -> Path:
    """releases/ (both conftest bundles, a chat model and a damaged bundle), web/, and
    a secret file beside them with symlinks to it from inside both served directories."""
    root = tmp_path_factory.mktemp("site")
    releases = root / "releases"
    shutil.copytree(releases_dir, releases)
    shutil.copytree(chat_bundle_job.result(), releases / "tiny-chat-1")
    broken = clone_release(releases, "tiny-char-1", "tiny-broken-1")
    write_registry(releases)
    with open(broken / "model.kv.onnx", "ab") as f:  # after the registry: a damaged file
        f.write(b"\0")
    (root / "secret.txt").write_text(SECRET)
    (root / "web").mkdir()
    (root / "web" / "index.html").write_text("<!doctype html><p>the player page</p>\n")
    for served in (releases, root / "web"):
        (served / "leak.txt").symlink_to(root / "secret.txt")
        (served / "outside").symlink_to(root, target_is_directory=True)
    return root


@pytest.fixture(scope="module")
def server(site):
    server = start_server(
        site, "--releases", site / "releases", "--web", site / "web",
        "--threads", 1, "--max-tokens-cap", CAP,
    )  # fmt: skip
    yield server
    code, stderr = stop_server(server)
    assert code == 0, stderr
    assert "Traceback" not in stderr, stderr


@pytest.fixture(scope="module")
def players(site) -> dict[str, OnnxLM]:
    releases = site / "releases"
    names = ("tiny-char-1", "tiny-bpe-1", "tiny-chat-1")
    return {name: OnnxLM(releases / name, threads=1) for name in names}


def player_text(lm: OnnxLM, prompt: str, max_tokens: int, *, temperature=0.0, seed=0, stop=()):
    """What the API must answer: the Python player's continuation, cut before the first
    stop string; and the finish reason."""
    context, _ = lm.context(prompt)
    utf8, text, ended = Utf8Stream(), "", False
    for token in lm.generate(context, max_tokens, temperature=temperature, seed=seed):
        if token in lm.generation["stop_ids"]:
            ended = True
            break
        text += utf8.push(lm.tokenizer.token_bytes(token))
    text += utf8.flush()
    cuts = [i for s in stop if (i := text.find(s)) >= 0]
    if cuts:
        return text[: min(cuts)], "stop"
    return text, "stop" if ended else "length"


# Where an absolute path can start in a message (POSIX, a Windows drive or UNC share).
ABSOLUTE_PATH = re.compile(r"(?:^|[\s'\"(\[=,:])(?:/|[A-Za-z]:[\\/]|\\\\)[^\s/]")


def assert_no_host_paths(text: str, *dirs: Path) -> None:
    """``text`` names no file of the server's machine: neither ``dirs`` (as given or
    resolved) nor any absolute path."""
    for d in dirs:
        assert str(d) not in text and str(d.resolve()) not in text, (d, text)
    assert not ABSOLUTE_PATH.search(text), text


def assert_error(reply: Response, status: int, param: str | None = None) -> dict:
    assert reply.status == status, reply.body
    error = reply.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == ("invalid_request_error" if status < 500 else "server_error")
    assert error["message"] and "Traceback" not in error["message"]
    assert error["param"] == param
    return error


# --- models and completions ----------------------------------------------------------


def test_models_lists_every_release(server):
    listing = server.request("GET", "/v1/models").json()
    assert listing["object"] == "list"
    models = {m["id"]: m for m in listing["data"]}
    assert set(models) == {"tiny-char-1", "tiny-bpe-1", "tiny-chat-1", "tiny-broken-1"}
    assert all(m["object"] == "model" and isinstance(m["created"], int) for m in models.values())
    assert [m["chat"] for m in models.values()].count(True) == 1 and models["tiny-chat-1"]["chat"]
    assert server.request("GET", "/v1/models/tiny-bpe").json()["id"] == "tiny-bpe-1"
    assert_error(server.request("GET", "/v1/models/nope"), 404, "name")


@pytest.mark.parametrize(
    ("name", "model", "prompt"),
    [
        ("tiny-char-1", "tiny-char-1", "you never"),
        ("tiny-char", "tiny-char-1", ""),  # a lineage name; no prompt: a new document
        ("tiny-bpe-1", "tiny-bpe-1", "Naïve café 🎉, you"),
    ],
)
def test_greedy_completion_is_the_python_players_text(server, players, name, model, prompt):
    reply = server.post(
        "/v1/completions", {"model": name, "prompt": prompt, "max_tokens": 40, "temperature": 0}
    )
    assert reply.status == 200, reply.body
    body = reply.json()
    lm = players[model]
    assert body["object"] == "text_completion" and body["model"] == lm.id
    assert body["id"].startswith("cmpl-") and isinstance(body["created"], int)
    (choice,) = body["choices"]
    assert (choice["text"], choice["finish_reason"]) == player_text(lm, prompt, 40)
    usage = body["usage"]
    assert usage["prompt_tokens"] == len(lm.context(prompt)[0])
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    if choice["finish_reason"] == "length":
        assert usage["completion_tokens"] == 40


@pytest.mark.parametrize("model", ["tiny-char-1", "tiny-bpe-1"])
def test_streamed_chunks_join_to_the_whole_reply(server, players, model):
    request = {"model": model, "prompt": "you never", "max_tokens": 40, "temperature": 0}
    whole = server.post("/v1/completions", request).json()
    chunks = server.stream(
        "/v1/completions", {**request, "stream_options": {"include_usage": True}}
    )
    *pieces, last, usage = chunks
    assert len({c["id"] for c in chunks}) == 1 and chunks[0]["id"].startswith("cmpl-")
    assert all(c["object"] == "text_completion" and c["model"] == model for c in chunks)
    assert all(c["choices"][0]["finish_reason"] is None for c in pieces)
    text = "".join(c["choices"][0]["text"] for c in pieces)
    assert text == whole["choices"][0]["text"] == player_text(players[model], "you never", 40)[0]
    assert last["choices"][0]["finish_reason"] == whole["choices"][0]["finish_reason"]
    assert usage["choices"] == [] and usage["usage"] == whole["usage"]


def test_stop_strings_cut_the_text_whole_and_streamed(server, players):
    lm = players["tiny-char-1"]
    full, _ = player_text(lm, "you never", 60)
    assert len(full) >= 10, full
    stop = full[8:10]  # two characters: two tokens of the char model
    expected = full[: full.find(stop)]
    request = {"model": "tiny-char-1", "prompt": "you never", "max_tokens": 60,
               "temperature": 0, "stop": ["never appears", stop]}  # fmt: skip
    (choice,) = server.post("/v1/completions", request).json()["choices"]
    assert (choice["text"], choice["finish_reason"]) == (expected, "stop")
    chunks = server.stream("/v1/completions", {**request, "stop": stop})
    assert "".join(c["choices"][0]["text"] for c in chunks) == expected
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_seeds_reproduce_the_python_players_samples(server, players):
    def sample(seed: int) -> str:
        request = {"model": "tiny-bpe-1", "prompt": "you", "max_tokens": 60,
                   "temperature": 1.0, "seed": seed}  # fmt: skip
        return server.post("/v1/completions", request).json()["choices"][0]["text"]

    first = sample(7)
    assert sample(7) == first
    assert first == player_text(players["tiny-bpe-1"], "you", 60, temperature=1.0, seed=7)[0]
    assert sample(8) != first


def test_options_openai_clients_send_at_their_defaults_are_accepted(server):
    request = {"model": "tiny-char-1", "prompt": ["you"], "max_tokens": 5, "n": 1,
               "frequency_penalty": 0, "presence_penalty": 0.0, "logprobs": None,
               "echo": False, "best_of": 1, "logit_bias": {}, "user": "me", "suffix": None,
               "top_p": 1, "top_k": 3, "stream": False}  # fmt: skip
    reply = server.post("/v1/completions", request)
    assert reply.status == 200, reply.body
    assert reply.json()["usage"]["completion_tokens"] <= 5


def test_concurrent_sampled_requests_each_draw_from_their_own_seed(server, players):
    """20 sampled requests at once, streamed and whole, over both models, several
    prompts and distinct seeds: each answer equals the same request made alone (and the
    Python player's sample for that seed). A random generator shared between requests,
    or one seeded per server rather than per request, would interleave the draws and
    change the texts."""
    prompts = ["you", "never", "did the", "Kid", "you never did"]
    kinds = [("tiny-char-1", True), ("tiny-bpe-1", True), ("tiny-char-1", False),
             ("tiny-bpe-1", False)]  # fmt: skip
    jobs = [(*kinds[i % 4], prompts[i % 5], 1000 + i) for i in range(20)]  # all different

    def run(job, barrier=None) -> str:
        model, stream, prompt, seed = job
        request = {"model": model, "prompt": prompt, "max_tokens": 30,
                   "temperature": 1.0, "seed": seed}  # fmt: skip
        if barrier is not None:
            barrier.wait()
        if stream:
            chunks = server.stream("/v1/completions", request)
            return "".join(c["choices"][0]["text"] for c in chunks)
        reply = server.post("/v1/completions", request)
        assert reply.status == 200, reply.body
        return reply.json()["choices"][0]["text"]

    alone = [run(job) for job in jobs]
    start = threading.Barrier(len(jobs))
    with ThreadPoolExecutor(len(jobs)) as pool:
        together = list(pool.map(lambda job: run(job, start), jobs))
    assert together == alone
    for (model, _, prompt, seed), text in zip(jobs, alone, strict=True):
        sample = player_text(players[model], prompt, 30, temperature=1.0, seed=seed)[0]
        assert text == sample, (model, prompt, seed)
    # and they are samples: most differ from the greedy text of their prompt
    greedy = [player_text(players[m], p, 30)[0] for m, _, p, _ in jobs]
    assert sum(a != g for a, g in zip(alone, greedy, strict=True)) > len(jobs) // 2


# --- chat ------------------------------------------------------------------------------


def test_chat_completion_is_the_rendered_prompts_continuation(server, players):
    messages = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]
    expected = player_text(
        players["tiny-chat-1"], render(CHAT_TEMPLATE, messages), 40, stop=CHAT_TEMPLATE["stop"]
    )
    request = {"model": "tiny-chat", "messages": messages, "max_tokens": 40, "temperature": 0}
    body = server.post("/v1/chat/completions", request).json()
    assert body["object"] == "chat.completion" and body["model"] == "tiny-chat-1"
    assert body["id"].startswith("chatcmpl-")
    (choice,) = body["choices"]
    assert choice["message"]["role"] == "assistant"
    assert (choice["message"]["content"], choice["finish_reason"]) == expected

    first, *pieces, last = server.stream("/v1/chat/completions", request)
    assert all(c["object"] == "chat.completion.chunk" for c in (first, *pieces, last))
    assert first["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert "".join(c["choices"][0]["delta"]["content"] for c in pieces) == expected[0]
    assert last["choices"][0] == {
        "index": 0, "delta": {}, "logprobs": None, "finish_reason": expected[1],
    }  # fmt: skip


def test_chat_accepts_openai_message_forms(server):
    """Text parts, `developer` for `system`, null fields and max_completion_tokens."""
    plain = [{"role": "system", "content": "x"}, {"role": "user", "content": "bye"}]
    parts = [{"type": "text", "text": "b"}, {"type": "text", "text": "ye"}]
    forms = [
        {"role": "developer", "content": [{"type": "text", "text": "x"}], "name": None},
        {"role": "user", "content": parts},
    ]
    request = {"model": "tiny-chat-1", "temperature": 0}
    first = server.post("/v1/chat/completions", {**request, "messages": plain, "max_tokens": 20})
    other = {**request, "messages": forms, "max_completion_tokens": 20}
    again = server.post("/v1/chat/completions", other)
    assert first.json()["choices"] == again.json()["choices"]


# --- refusals ------------------------------------------------------------------------

OK = {"model": "tiny-char-1", "prompt": "you"}
CHAT_OK = {"model": "tiny-chat-1", "messages": [{"role": "user", "content": "hi"}]}
BAD_COMPLETIONS = [
    ({}, 400, "model"),
    ({"model": 5}, 400, "model"),
    ({"model": "nope"}, 404, "model"),
    ({**OK, "temperature": -0.1}, 400, "temperature"),
    ({**OK, "temperature": 2.5}, 400, "temperature"),
    ({**OK, "temperature": "hot"}, 400, "temperature"),
    ({**OK, "temperature": True}, 400, "temperature"),
    ({**OK, "temperature": 5e-324}, 400, "temperature"),  # subnormal: 1/t overflows
    ({**OK, "temperature": 1e-310}, 400, "temperature"),
    ({**OK, "temperature": 0.005}, 400, "temperature"),  # below MIN_TEMPERATURE
    ({**OK, "temperature": -5e-324}, 400, "temperature"),
    ({**OK, "temperature": 2.0000001}, 400, "temperature"),
    ({**OK, "temperature": 10**400}, 400, "temperature"),  # past float's range
    ({**OK, "temperature": -(10**400)}, 400, "temperature"),
    ({**OK, "top_p": 0}, 400, "top_p"),
    ({**OK, "top_p": 1.5}, 400, "top_p"),
    ({**OK, "top_k": 0}, 400, "top_k"),
    ({**OK, "top_k": 2.5}, 400, "top_k"),
    ({**OK, "max_tokens": 0}, 400, "max_tokens"),
    ({**OK, "max_tokens": CAP + 1}, 400, "max_tokens"),
    ({**OK, "max_tokens": "5"}, 400, "max_tokens"),
    ({**OK, "max_tokens": 10**30}, 400, "max_tokens"),
    ({**OK, "n": 2}, 400, "n"),
    ({**OK, "seed": -1}, 400, "seed"),
    ({**OK, "seed": 1.5}, 400, "seed"),
    ({**OK, "stop": ["a", "b", "c", "d", "e"]}, 400, "stop"),
    ({**OK, "stop": [1]}, 400, "stop"),
    ({**OK, "stop": ""}, 400, "stop"),
    ({**OK, "stream": "yes"}, 400, "stream"),
    ({**OK, "stream_options": {"include_usage": True}}, 400, "stream_options"),
    ({**OK, "prompt": ["a", "b"]}, 400, "prompt"),
    ({**OK, "prompt": 7}, 400, "prompt"),
    ({**OK, "frequency_penalty": 0.5}, 400, "frequency_penalty"),
    ({**OK, "tools": []}, 400, "tools"),
    ({**OK, "messages": []}, 400, "messages"),
]
BAD_CHATS = [
    ({**CHAT_OK, "model": "tiny-char-1"}, 400, "model"),
    ({**CHAT_OK, "messages": []}, 400, "messages"),
    ({**CHAT_OK, "messages": "hi"}, 400, "messages"),
    ({**CHAT_OK, "messages": [{"role": "tool", "content": "x"}]}, 400, "messages[0].role"),
    ({**CHAT_OK, "messages": [{"role": "user", "content": 5}]}, 400, "messages[0].content"),
    ({**CHAT_OK, "messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
     400, "messages[0].content"),
    ({**CHAT_OK, "messages": [{"role": "user", "content": "x", "tool_calls": [{}]}]},
     400, "messages[0].tool_calls"),
    ({**CHAT_OK, "prompt": "hi"}, 400, "prompt"),
    ({**CHAT_OK, "temperature": 5e-324}, 400, "temperature"),
    ({**CHAT_OK, "temperature": 1e-310}, 400, "temperature"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "status", "param"), BAD_COMPLETIONS)
def test_bad_completion_requests_are_refused(server, body, status, param):
    assert_error(server.post("/v1/completions", body), status, param)


@pytest.mark.parametrize(("body", "status", "param"), BAD_CHATS)
def test_bad_chat_requests_are_refused(server, body, status, param):
    assert_error(server.post("/v1/chat/completions", body), status, param)


@pytest.mark.parametrize("temperature", [0, 0.0, -0.0, MIN_TEMPERATURE, 1, 2, 2.0])
def test_temperatures_at_the_edges_of_the_range_are_accepted(server, temperature):
    """0 or [MIN_TEMPERATURE, 2], the ends included, as in sampling.temperature_ok."""
    reply = server.post("/v1/completions", {**OK, "max_tokens": 3, "temperature": temperature})
    assert reply.status == 200, reply.body


@pytest.mark.parametrize(
    ("raw", "param"),
    [
        (b"{not json", None),
        (b"[1, 2]", None),
        (b'{"model": "tiny-char-1", "temperature": NaN}', None),
        (b"[" * 40000, None),  # deeper than the parser's recursion limit
        (b'{"model": "tiny-char-1", "prompt": "\xff\xfe"}', None),  # not UTF-8
        (b'{"model": "tiny-char-1", "prompt": "\\ud800"}', "prompt"),  # a lone surrogate
        (b'{"model": "tiny-char-1", "temperature": 1e400}', "temperature"),  # parses as inf
        (b"", None),
    ],
)
def test_malformed_bodies_are_refused(server, raw, param):
    reply = server.request("POST", "/v1/completions", raw, {"Content-Type": "application/json"})
    assert_error(reply, 400, param)


def test_oversized_bodies_are_refused_before_parsing(server):
    big = json.dumps({**OK, "prompt": "you " * 20000}).encode()  # 80 kB > 64 KiB
    assert_error(server.request("POST", "/v1/completions", big, JSON), 413)

    # A declared length over the limit is refused before any of the body is sent.
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.putrequest("POST", "/v1/completions")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(10**9))
        conn.endheaders()
        assert_error(Response(*_read(conn)), 413)
    finally:
        conn.close()

    chunks = [big[i : i + 8192] for i in range(0, len(big), 8192)]
    assert_error(_post_chunked(server, chunks), 413)
    small = json.dumps({**OK, "max_tokens": 3}).encode()
    assert _post_chunked(server, [small[:10], small[10:]]).status == 200


def _read(conn: http.client.HTTPConnection):
    response = conn.getresponse()
    return response.status, response.headers, response.read()


def _post_chunked(server: Server, chunks: list[bytes]) -> Response:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        conn.request(
            "POST", "/v1/completions", body=iter(chunks), headers=JSON, encode_chunked=True
        )
        return Response(*_read(conn))
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/completions"), ("PUT", "/v1/chat/completions"), ("DELETE", "/v1/models")],
)
def test_wrong_methods_get_405(server, method, path):
    error = assert_error(server.request(method, path), 405)
    assert error["code"] == "method_not_allowed"


def test_unknown_api_paths_get_an_openai_404(server):
    assert_error(server.request("GET", "/v1/engines"), 404)


def test_a_damaged_bundle_is_a_server_error_not_a_crash(server, site):
    """Bundles are verified when loaded: a changed file is refused, with a 500 that
    says so by release id and file name, never by host path (the server's log has
    the path), and the server carries on."""
    reply = server.post("/v1/completions", {"model": "tiny-broken-1", "max_tokens": 3})
    message = assert_error(reply, 500)["message"]
    assert "tiny-broken-1" in message and "failed verification" in message, message
    assert "model.kv.onnx" in message, message
    assert_no_host_paths(reply.body.decode(), site, site / "releases")
    assert str((site / "releases" / "tiny-broken-1").resolve()) in server.stderr.read_text()
    assert server.post("/v1/completions", {**OK, "max_tokens": 3}).status == 200


# --- static files --------------------------------------------------------------------


def test_serves_the_page_the_registry_and_bundle_files(server, site):
    assert b"the player page" in server.request("GET", "/").body
    registry = server.request("GET", "/releases/registry.json")
    assert registry.status == 200
    assert {m["id"] for m in registry.json()["models"]} >= {"tiny-char-1", "tiny-chat-1"}
    manifest = site / "releases" / "tiny-bpe-1" / "manifest.json"
    assert server.request("GET", "/releases/tiny-bpe-1/manifest.json").body == manifest.read_bytes()
    assert server.request("POST", "/releases/registry.json").status == 405


@pytest.mark.parametrize(
    "path",
    [
        "/releases/../secret.txt",
        "/releases/%2e%2e/secret.txt",
        "/releases/..%2fsecret.txt",
        "/releases/%2e%2e%2fsecret.txt",
        "/releases/%2e%2e%5csecret.txt",
        "/releases/tiny-char-1/../../secret.txt",
        "/releases/leak.txt",  # a symlink to the secret
        "/releases/outside/secret.txt",  # a symlink to the directory above
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/leak.txt",
        "/outside/secret.txt",
        "/releases/%00",
        "/releases/{secret}",  # absolute paths, plain and with encoded slashes
        "/releases/{quoted_secret}",
        "/{quoted_secret}",
    ],
)
def test_no_path_escapes_the_served_directories(server, site, path):
    secret = site / "secret.txt"
    path = path.format(secret=secret, quoted_secret=quote(str(secret), safe=""))
    reply = server.request("GET", path)
    assert reply.status in (400, 404), (path, reply.status)
    assert SECRET.encode() not in reply.body


# --- what a web page elsewhere can make a browser send ----------------------------------

# Origins that are not the server's (PORT: its port): other sites, other ports and
# schemes on this machine, look-alike names, an opaque origin, malformed ones.
FOREIGN_ORIGINS = [
    "http://evil.example",
    "https://evil.example",
    "null",  # sandboxed frames, file:// pages, redirects
    "http://127.0.0.1:{other}",
    "http://localhost:{other}",
    "http://localhost",  # port 80
    "https://127.0.0.1:{port}",
    "http://localhost.evil.example:{port}",
    "http://127.0.0.1.nip.io:{port}",
    "http://192.168.0.1:{port}",
    "http://127.0.0.1:{port}/",  # an origin has no path
    "http://127.0.0.1:{port}.evil.example",
    "http://127.0.0.1:99999999",
    "",
]
OWN_ORIGINS = ["http://127.0.0.1:{port}", "http://localhost:{port}", "http://[::1]:{port}"]
JSON = {"Content-Type": "application/json"}


def origin(template: str, server: Server) -> str:
    return template.format(port=server.port, other=server.port + 1)


@pytest.mark.parametrize("template", FOREIGN_ORIGINS)
def test_foreign_origins_are_refused_on_the_api(server, template):
    """A page on another site (or port) can make the browser send a "simple" POST
    with no CORS preflight: text/plain, or form data. It is refused, as is every
    other API request from a foreign Origin, JSON or not, before any work is done."""
    foreign = origin(template, server)
    request = json.dumps({**OK, "max_tokens": CAP}).encode()
    sends = [
        ("POST", "/v1/completions", request, {"Content-Type": "text/plain"}),
        ("POST", "/v1/completions", request, {"Content-Type": "application/x-www-form-urlencoded"}),
        ("POST", "/v1/completions", request, JSON),
        ("POST", "/v1/chat/completions", json.dumps(CHAT_OK).encode(), JSON),
        ("GET", "/v1/models", None, {}),
        ("OPTIONS", "/v1/completions", None, {"Access-Control-Request-Method": "POST"}),
    ]
    for method, path, body, headers in sends:
        reply = server.request(method, path, body, {**headers, "Origin": foreign})
        error = assert_error(reply, 403)
        assert error["code"] == "cross_origin_refused" and "Origin" in error["message"]
        assert "access-control-allow-origin" not in reply.headers


@pytest.mark.parametrize("template", OWN_ORIGINS)
def test_the_servers_own_origin_is_served(server, template):
    """The player page's own origin (under any loopback name) may use the API and
    fetch the releases, as may clients that send no Origin at all."""
    own = {"Origin": origin(template, server)}
    body = json.dumps({**OK, "max_tokens": 3}).encode()
    assert server.request("POST", "/v1/completions", body, {**JSON, **own}).status == 200
    assert server.request("GET", "/v1/models", headers=own).status == 200
    assert server.request("GET", "/releases/registry.json", headers=own).status == 200
    assert server.request("GET", "/", headers=own).status == 200


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
     "application/jsonp", "text/json", ""],
)  # fmt: skip
def test_posts_not_declared_json_are_refused(server, content_type):
    """The content types a page may send cross-origin without a preflight, and any
    other that is not JSON, get 415, whatever the body holds."""
    body = json.dumps({**OK, "max_tokens": 3}).encode()
    headers = {} if content_type is None else {"Content-Type": content_type}
    for path in ("/v1/completions", "/v1/chat/completions"):
        error = assert_error(server.request("POST", path, body, headers), 415)
        assert error["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON"]
)
def test_json_content_types_are_accepted(server, content_type):
    body = json.dumps({**OK, "max_tokens": 3}).encode()
    reply = server.request("POST", "/v1/completions", body, {"Content-Type": content_type})
    assert reply.status == 200, reply.body


def test_other_host_names_are_refused(server):
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 gets nothing."""
    assert server.request("GET", "/v1/models", headers={"Host": "evil.example"}).status == 400
    assert server.request("GET", "/", headers={"Host": f"localhost:{server.port}"}).status == 200


# --- the command line ----------------------------------------------------------------


def test_bad_starts_are_one_line_errors(tmp_path, releases_dir):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    (tmp_path / "empty").mkdir()
    try:
        procs = run_sup_many(
            ["serve", "--releases", releases_dir, "--port", 70000],
            ["serve", "--releases", releases_dir, "--max-tokens-cap", 0],
            ["serve", "--releases", releases_dir, "--bogus"],
            ["serve", "--releases", tmp_path / "missing"],
            ["serve", "--releases", tmp_path / "empty"],
            ["serve", "--releases", releases_dir, "--port", busy.getsockname()[1]],
            timeout=60,
        )
    finally:
        busy.close()
    codes = [2, 2, 2, 1, 1, 1]
    lines = [assert_cli_error(proc, code) for proc, code in zip(procs, codes, strict=True)]
    assert "registry.json" in lines[4]
    assert "cannot listen" in lines[5]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signals_stop_the_server_cleanly(tmp_path, releases_dir, sig):
    """Ctrl-C and SIGTERM exit 0 with no traceback. Along the way: a missing page
    directory is a note at /, and binding beyond loopback prints a warning."""
    host = "0.0.0.0" if sig == signal.SIGINT else "127.0.0.1"
    server = start_server(
        tmp_path, "--releases", releases_dir, "--web", tmp_path / "no-web", "--host", host
    )
    assert f"http://{host}:{server.port}/v1 (OpenAI API" in server.ready_line
    page = server.request("GET", "/")
    assert page.status == 200 and b"player page is missing" in page.body
    assert server.request("GET", "/v1/models").status == 200
    code, stderr = stop_server(server, sig)
    assert code == 0, stderr
    assert "Traceback" not in stderr, stderr
    warned = any(line.startswith("sup: warning:") for line in stderr.splitlines())
    assert warned == (host == "0.0.0.0"), stderr


def test_new_releases_are_served_without_a_restart(tmp_path, releases_dir):
    releases = tmp_path / "releases"
    shutil.copytree(releases_dir, releases)
    server = start_server(tmp_path, "--releases", releases, "--threads", 1)
    try:
        assert len(server.request("GET", "/v1/models").json()["data"]) == 2
        clone_release(releases, "tiny-char-1", "tiny-char-2")
        write_registry(releases)
        ids = {m["id"] for m in server.request("GET", "/v1/models").json()["data"]}
        assert ids == {"tiny-char-1", "tiny-char-2", "tiny-bpe-1"}
        reply = server.post("/v1/completions", {"model": "tiny-char", "max_tokens": 3})
        assert reply.json()["model"] == "tiny-char-2"
    finally:
        code, stderr = stop_server(server)
    assert code == 0, stderr


# --- stop strings across pieces ------------------------------------------------------


def test_stop_cutter_equals_cutting_the_whole_text():
    """Random texts split at random points, stops spanning pieces: the pieces released
    always join to the whole text cut before its first stop string."""
    rng = random.Random(0)
    for _ in range(500):
        text = "".join(rng.choice("ab\n") for _ in range(rng.randint(0, 30)))
        stops = tuple(
            "".join(rng.choice("ab\n") for _ in range(rng.randint(1, 4)))
            for _ in range(rng.randint(0, 3))
        )
        cuts = sorted(rng.sample(range(len(text) + 1), min(len(text) + 1, rng.randint(0, 6))))
        pieces = [text[i:j] for i, j in zip([0, *cuts], [*cuts, len(text)], strict=True)]
        cutter = StopCutter(stops)
        out = "".join(cutter.push(p) for p in pieces) + cutter.push("", final=True)
        hits = [i for s in stops if (i := text.find(s)) >= 0]
        assert out == text[: min(hits, default=len(text))], (text, stops, pieces)
        assert cutter.stopped == bool(hits)


def test_sup_chat_replies_as_the_server_does_stop_strings_included(server, site):
    """A template without markers ends a reply at its stop strings in `sup chat` too."""
    body = {"model": "tiny-chat-1", "messages": [{"role": "user", "content": "how are you?"}],
            "temperature": 0, "max_tokens": 40}  # fmt: skip
    reply = server.post("/v1/chat/completions", body).json()["choices"][0]
    local = sup_ok("chat", site / "releases" / "tiny-chat-1", "--prompt", "how are you?",
                   "--temperature", "0", "--max-new-tokens", "40").stdout  # fmt: skip
    assert local == reply["message"]["content"] + "\n"
    assert reply["finish_reason"] == "stop"  # cut at "\n" (the model learned the turns)
