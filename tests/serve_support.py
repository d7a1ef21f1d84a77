"""A real `sup serve` subprocess for the tests, and a minimal HTTP client for it."""

from __future__ import annotations

import http.client
import json
import signal
import subprocess
import time
from pathlib import Path

from helpers import SUB_ENV, sup_cmd

# A plain-text chat template (no markers): a char model trained on "User: ...\nBot: ...".
CHAT_TEMPLATE = {
    "system": "{content}\n",
    "user": "User: {content}\n",
    "assistant": "Bot: {content}\n",
    "generation_prefix": "Bot: ",
    "stop": ["\n"],
}


class Response:
    def __init__(self, status: int, headers, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


class Server:
    """A running `sup serve` subprocess and a minimal HTTP client for it."""

    def __init__(self, proc: subprocess.Popen, port: int, ready_line: str, stderr: Path):
        self.proc, self.port, self.ready_line, self.stderr = proc, port, ready_line, stderr

    def request(self, method: str, path: str, body=None, headers=None) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return Response(response.status, response.headers, response.read())
        finally:
            conn.close()

    def post(self, path: str, obj) -> Response:
        body = json.dumps(obj).encode()
        return self.request("POST", path, body, {"Content-Type": "application/json"})

    def stream(self, path: str, obj: dict) -> list[dict]:
        """The chunks of a streamed reply, checking the SSE framing and the final [DONE]."""
        reply = self.post(path, {**obj, "stream": True})
        assert reply.status == 200, reply.body
        assert reply.headers["content-type"].startswith("text/event-stream")
        events = reply.body.decode("utf-8").split("\n\n")
        assert events[-2:] == ["data: [DONE]", ""], events[-3:]
        assert all(e.startswith("data: ") for e in events[:-1])
        return [json.loads(e.removeprefix("data: ")) for e in events[:-2]]


def start_server(cwd: Path, *args) -> Server:
    """`sup serve --port 0 ARGS` run in ``cwd``, once it has printed its ready line."""
    log = cwd / f"serve-{time.monotonic_ns()}.log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            sup_cmd("serve", "--port", 0, *args),
            stdout=subprocess.DEVNULL,
            stderr=err,
            env=SUB_ENV,
            cwd=cwd,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        for line in log.read_text().splitlines():
            if line.startswith("sup serve: http://"):
                port = int(line.split("http://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])
                return Server(proc, port, line, log)
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"sup serve did not start:\n{log.read_text()}")


def stop_server(server: Server, sig=signal.SIGTERM) -> tuple[int, str]:
    server.proc.send_signal(sig)
    try:
        code = server.proc.wait(timeout=30)
    finally:
        if server.proc.poll() is None:
            server.proc.kill()
    return code, server.stderr.read_text()
