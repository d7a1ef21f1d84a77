"""`sup serve` under the conditions a client cannot be trusted with: a client that
disconnects mid-reply stops its generation, SIGTERM with long generations in flight
exits within seconds, and a broken release is reported by id, never by host path.

Whether a generation stopped is read from the server process's CPU time in /proc,
which the server cannot misreport; the models are the conftest bundles, asked for
far more tokens (LONG) than any test waits for.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import time
from pathlib import Path

import pytest

from helpers import skip_unless_ci
from sup.ship.registry import write_registry
from test_serve import (
    Response,
    Server,
    assert_error,
    assert_no_host_paths,
    clone_release,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.slow

LONG = 10**7  # tokens: many minutes of generating, were it not stopped
# Greedy: the tiny char model's greedy text from "you" never reaches end-of-document
# (sampled, it does within tens of tokens), so the reply runs to max_tokens.
WHOLE = {"model": "tiny-char-1", "prompt": "you", "max_tokens": LONG, "temperature": 0}
BUSY_S = 0.5  # CPU seconds that show a generation is running
IDLE_S = 0.25  # at most this much CPU in QUIET_S of wall time: nothing is generating
QUIET_S = 2.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far (Linux /proc)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        skip_unless_ci("needs Linux /proc to read the server's CPU time")
    fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": field 3 onwards
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_busy(server: Server, *socks: socket.socket, timeout: float = 60) -> None:
    """Until the server has burnt BUSY_S of CPU since now: it is generating. Failing,
    it shows what the server has answered on ``socks`` instead."""
    start, deadline = cpu_seconds(server.proc.pid), time.monotonic() + timeout
    while cpu_seconds(server.proc.pid) - start < BUSY_S:
        assert server.proc.poll() is None, server.stderr.read_text()
        if time.monotonic() > deadline:
            answers = []
            for sock in socks:
                sock.settimeout(0.5)
                try:
                    answers.append(sock.recv(2000))
                except TimeoutError:
                    answers.append(b"(nothing)")
            raise AssertionError(f"the server is not generating; it answered {answers}")
        time.sleep(0.05)


def assert_goes_idle(server: Server) -> None:
    """Within a second the server stops using CPU: nothing generates any more."""
    time.sleep(1.0)  # the token in progress, the disconnect reaching the server
    before = cpu_seconds(server.proc.pid)
    time.sleep(QUIET_S)
    used = cpu_seconds(server.proc.pid) - before
    assert used < IDLE_S, f"the server used {used:.2f} s of CPU in {QUIET_S} s: still generating"


def send_post(server: Server, path: str, obj: dict) -> socket.socket:
    """A raw connection with a JSON POST sent on it and nothing read yet."""
    body = json.dumps(obj).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    sock.sendall(head.encode() + body)
    return sock


def hang_up(sock: socket.socket, response: http.client.HTTPResponse | None = None) -> None:
    if response is not None:
        response.close()
    sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def start_long_server(cwd: Path, releases: Path) -> Server:
    """A server allowed LONG tokens, its char model loaded (loading burns CPU too)."""
    server = start_server(cwd, "--releases", releases, "--threads", 1, "--max-tokens-cap", LONG)
    assert server.post("/v1/completions", {**WHOLE, "max_tokens": 1}).status == 200
    return server


def assert_clean_exit(code: int, stderr: str) -> None:
    assert code == 0, stderr
    assert "Traceback" not in stderr, stderr
    assert "timeout graceful shutdown exceeded" not in stderr, stderr


@pytest.fixture(scope="module")
def long_server(tmp_path_factory, releases_dir):
    server = start_long_server(tmp_path_factory.mktemp("long"), releases_dir)
    yield server
    assert_clean_exit(*stop_server(server))


# --- a client that leaves --------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_a_client_that_disconnects_stops_its_generation(long_server, stream):
    """A reply of LONG tokens, abandoned once it is being generated: the server's CPU
    goes quiet within a second or two, and it goes on serving."""
    sock = send_post(long_server, "/v1/completions", {**WHOLE, "stream": stream})
    response = None
    if stream:  # the stream has begun: its headers and a first event are here
        response = http.client.HTTPResponse(sock)
        response.begin()
        assert response.status == 200 and response.read(6) == b"data: "
    wait_until_busy(long_server, sock)
    hang_up(sock, response)
    assert_goes_idle(long_server)
    assert long_server.post("/v1/completions", {**WHOLE, "max_tokens": 3}).status == 200


def test_disconnecting_from_many_requests_stops_them_all(long_server):
    """Four whole replies in flight at once, all abandoned: none keeps generating."""
    socks = [send_post(long_server, "/v1/completions", WHOLE) for _ in range(4)]
    wait_until_busy(long_server, *socks)
    for sock in socks:
        hang_up(sock)
    assert_goes_idle(long_server)


# --- stopping mid-generation -----------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stopping_with_generations_in_flight_is_prompt_and_clean(tmp_path, releases_dir, sig):
    """SIGTERM (or Ctrl-C) while a whole reply and a stream of LONG tokens are being
    generated: the server exits 0 within 5 s, with no traceback, and neither client
    is told its cut-short reply is finished: the whole one gets a 503, the stream an
    error event and no [DONE]."""
    server = start_long_server(tmp_path, releases_dir)
    whole = send_post(server, "/v1/completions", WHOLE)
    streamed = send_post(server, "/v1/completions", {**WHOLE, "stream": True})
    stream = http.client.HTTPResponse(streamed)
    stream.begin()
    assert stream.status == 200 and stream.read(6) == b"data: "
    wait_until_busy(server, whole)

    stopped_at = time.monotonic()
    code, stderr = stop_server(server, sig)
    took = time.monotonic() - stopped_at
    assert took < 5, f"the server took {took:.1f} s to stop"
    assert_clean_exit(code, stderr)

    reply = http.client.HTTPResponse(whole)
    reply.begin()
    error = assert_error(Response(reply.status, reply.headers, reply.read()), 503)
    assert error["code"] == "generation_cancelled" and "shutting down" in error["message"]
    events = stream.read().decode().split("\n\n")
    assert events[-1] == "" and "data: [DONE]" not in events, events[-3:]
    last = json.loads(events[-2].removeprefix("data: "))
    assert last["error"]["code"] == "generation_cancelled", last
    for sock in (whole, streamed):
        sock.close()


# --- broken releases -------------------------------------------------------------------


def test_broken_releases_are_named_by_id_never_by_path(tmp_path, releases_dir):
    """A bundle directory deleted, a manifest edited after the registry was written,
    then the registry itself made invalid: each is a 500 naming the release (or the
    registry) and no file of the server's machine, through a releases path that is a
    symlink too; the server's log has the paths."""
    releases = tmp_path / "real-releases"
    shutil.copytree(releases_dir, releases)
    gone = clone_release(releases, "tiny-char-1", "tiny-gone-1")
    edited = clone_release(releases, "tiny-char-1", "tiny-edited-1")
    write_registry(releases)
    shutil.rmtree(gone)
    with open(edited / "manifest.json", "a") as f:
        f.write(" ")
    (tmp_path / "releases").symlink_to(releases, target_is_directory=True)
    server = start_server(tmp_path, "--releases", tmp_path / "releases", "--threads", 1)
    try:

        def assert_hides_paths(reply: Response, *names: str) -> str:
            message = assert_error(reply, 500)["message"]
            assert all(name in message for name in names), message
            assert_no_host_paths(reply.body.decode(), tmp_path, releases)
            return message

        for name in ("tiny-gone-1", "tiny-edited-1"):
            request = {"model": name, "max_tokens": 3}
            assert_hides_paths(server.post("/v1/completions", request), name)
        assert (
            server.post("/v1/completions", {"model": "tiny-char-1", "max_tokens": 3}).status == 200
        )

        (releases / "registry.json").write_text("{not json")
        assert_hides_paths(server.request("GET", "/v1/models"), "registry")
        request = {"model": "tiny-char-1", "max_tokens": 3}
        assert_hides_paths(server.post("/v1/completions", request), "registry")
    finally:
        code, stderr = stop_server(server)
    assert_clean_exit(code, stderr)
    assert str((edited / "manifest.json").resolve()) in stderr, stderr
    assert str((releases / "registry.json").resolve()) in stderr, stderr
