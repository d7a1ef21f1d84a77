"""Support for the player tests (test_pull.py, test_player.py).

``RegistryServer`` is a real HTTP server: it serves a releases directory on 127.0.0.1
with Range support, records every request, and misbehaves when told to.

    with RegistryServer(root) as server:
        server.tamper.add("tiny-char-1/model.onnx")     # flip one byte of that file
        server.drop["tiny-char-1/model.onnx"] = 1       # next response: cut off halfway
        ... server.registry_url ... server.requests ...
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse

from helpers import sup_cmd


class RegistryServer:
    def __init__(self, root: Path):
        self.root = Path(root).resolve()
        self.lock = threading.Lock()
        self.reset()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.thread: threading.Thread | None = None

    def reset(self) -> None:
        """Behave again, and forget the requests seen so far."""
        self.requests: list[tuple[str, str | None]] = []  # (path, Range header)
        self.tamper: set[str] = set()  # serve with one byte flipped
        self.truncate: set[str] = set()  # serve the first half, with an honest length
        self.drop: dict[str, int] = {}  # path -> how many more responses to cut halfway
        self.overrides: dict[str, bytes] = {}  # path -> content served instead
        self.ignore_range = False  # answer Range requests with 200 and the whole file
        self.delay = 0.0  # seconds to wait before each response

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    @property
    def registry_url(self) -> str:
        return self.url + "registry.json"

    def paths(self) -> list[str]:
        with self.lock:
            return [path for path, _ in self.requests]

    def start(self) -> RegistryServer:
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> RegistryServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def body(self, path: str) -> bytes | None:
        if path in self.overrides:
            return self.overrides[path]
        file = (self.root / path).resolve()
        if not file.is_relative_to(self.root) or not file.is_file():
            return None
        data = file.read_bytes()
        if path in self.tamper:
            middle = len(data) // 2
            data = data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]
        if path in self.truncate:
            data = data[: len(data) // 2]
        return data


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # the name http.server calls
        owner: RegistryServer = self.server.owner
        path = unquote(urlparse(self.path).path).lstrip("/")
        header = self.headers.get("Range")
        with owner.lock:
            owner.requests.append((path, header))
            drop = owner.drop.get(path, 0) > 0
            if drop:
                owner.drop[path] -= 1
        if owner.delay:
            time.sleep(owner.delay)
        data = owner.body(path)
        if data is None:
            self.send_error(404)
            return
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", header or "")
        if match and not owner.ignore_range:
            start = int(match[1])
            if start >= len(data):
                self.send_error(416)
                return
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(data) - start))
        self.send_header("Accept-Ranges", "bytes")
        if start:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        body = data[start:]
        if drop:  # announce everything, send half, hang up
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def log_message(self, format, *args):  # keep test output clean
        pass


def served_copy(releases_dir: Path, dest: Path) -> Path:
    """A copy of the session's releases with a second version of the char lineage
    (``tiny-char-2``, same weights) and a regenerated registry.json."""
    import json
    import shutil

    from sup.ship.registry import write_registry

    shutil.copytree(releases_dir, dest)
    shutil.copytree(dest / "tiny-char-1", dest / "tiny-char-2")
    manifest_file = dest / "tiny-char-2" / "manifest.json"
    manifest = json.loads(manifest_file.read_text())
    manifest_file.write_text(json.dumps({**manifest, "id": "tiny-char-2"}, indent=2))
    write_registry(dest)
    return dest


def player_env(registry: str, cache: Path, **extra: str) -> dict[str, str]:
    """The environment of a player subprocess: this registry, this cache, no proxy."""
    from helpers import SUB_ENV

    return {
        **SUB_ENV,
        "SUP_REGISTRY": registry,
        "XDG_CACHE_HOME": str(cache),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        **extra,
    }


def main_error(monkeypatch, capsys, env: dict, args: list[str], code: int) -> str:
    """Run ``sup.cli.main`` here with ``env``; check the one-line error; return it."""
    from sup.cli.main import main

    for key in ("SUP_REGISTRY", "XDG_CACHE_HOME", "NO_PROXY", "no_proxy"):
        monkeypatch.setenv(key, env[key])
    got = main(args)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert got == code and len(lines) == 1 and lines[0].startswith("sup: error:"), (args, err)
    return lines[0]


def sup(env: dict, *args, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(sup_cmd(*args), capture_output=True, text=True, env=env, timeout=timeout)


def ok(env: dict, *args) -> subprocess.CompletedProcess:
    proc = sup(env, *args)
    assert proc.returncode == 0, f"sup {' '.join(args)} exited {proc.returncode}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc
