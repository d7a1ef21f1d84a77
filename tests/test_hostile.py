"""A hostile registry, served by a real HTTP server on 127.0.0.1, played through the CLI.

Each manifest below is valid JSON that the registry vouches for (its sha256 is the one
the registry lists), so only the property under test is wrong: a graph or tokenizer
named by a path outside the bundle or an absolute one, a listed file that is a symbolic
link, values absurd for the graph or the vocabulary, escape sequences in what gets
printed. The player must refuse in one line, open nothing outside the bundle (watched
with inotify, so even ONNX Runtime's own file reads would show), and never let a raw
control character reach stdout or stderr.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import struct
from pathlib import Path

import pytest

from helpers import assert_cli_error
from player_support import RegistryServer, ok, player_env, served_copy, sup
from sup.fileio import sha256_bytes

ESC = "\x1b"
HOSTILE_TEXT = f"{ESC}]0;pwned{ESC}\\{ESC}[2J{ESC}]52;c;cm0gLXJmIH4={ESC}\\\u202e"
IN_OPEN, IN_ACCESS = 0x20, 0x01


class FileOpens:
    """Every open or read of a file in ``directory`` by any process, from the kernel
    (inotify), so the check covers ONNX Runtime's C++ file reads too."""

    def __init__(self, directory: Path):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK)
        assert self.fd >= 0, "inotify_init1 failed"
        wd = self.libc.inotify_add_watch(self.fd, str(directory).encode(), IN_OPEN | IN_ACCESS)
        assert wd >= 0, "inotify_add_watch failed"

    def events(self) -> list[str]:
        names = []
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return names
            at = 0
            while at < len(data):
                _, mask, _, length = struct.unpack_from("iIII", data, at)
                name = data[at + 16 : at + 16 + length].rstrip(b"\0").decode()
                names.append(f"{name or '.'}:{mask:#x}")
                at += 16 + length

    def close(self) -> None:
        os.close(self.fd)


@pytest.fixture(scope="module")
def server(releases_dir, tmp_path_factory):
    root = served_copy(releases_dir, tmp_path_factory.mktemp("hostile") / "releases")
    with RegistryServer(root) as running:
        yield running


@pytest.fixture
def outside(tmp_path, releases_dir):
    """A directory outside every bundle holding real graph and tokenizer files (so a
    player that followed a path there would find something it could play), watched."""
    directory = tmp_path / "outside"
    directory.mkdir()
    for name in ("model.onnx", "model.kv.onnx", "tokenizer.json"):
        shutil.copy(releases_dir / "tiny-char-1" / name, directory / name)
    watch = FileOpens(directory)
    (directory / "tokenizer.json").read_bytes()  # the watch sees reads: prove it, then start
    assert any(e.startswith("tokenizer.json") for e in watch.events())
    yield directory, watch
    watch.close()


@pytest.fixture
def env(server, tmp_path) -> dict:
    server.reset()
    return player_env(server.registry_url, tmp_path / "cache")


def serve_manifest(server, change) -> None:
    """Serve tiny-char-1 with its manifest changed by ``change``, and a registry that
    lists the changed manifest's sha256."""
    manifest = json.loads((server.root / "tiny-char-1" / "manifest.json").read_text())
    change(manifest)
    data = json.dumps(manifest).encode()
    server.overrides["tiny-char-1/manifest.json"] = data
    registry = json.loads((server.root / "registry.json").read_text())
    for entry in registry["models"]:
        if entry["id"] == "tiny-char-1":
            entry["manifest_sha256"] = sha256_bytes(data)
    server.overrides["registry.json"] = json.dumps(registry).encode()


def assert_printable(proc) -> None:
    for stream in (proc.stdout, proc.stderr):
        assert ESC not in stream and "\u202e" not in stream and "\x07" not in stream, stream


def set_in(path: list, value):
    def change(manifest):
        node = manifest
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return change


def test_a_played_release_is_still_fine(env):
    assert ok(env, "tiny-char-1", "you", "--max-new-tokens", "5", "--temperature", "0").stdout


@pytest.mark.parametrize(
    "where, value, message",
    [
        (["graphs", "kv"], "../../outside/model.kv.onnx", "must name its files"),
        (["graphs", "full"], "OUTSIDE/model.onnx", "must name its files"),
        (["tokenizer", "file"], "OUTSIDE/tokenizer.json", "must name its files"),
        (["tokenizer", "file"], "/etc/hostname", "must name its files"),
        (["model", "block_size"], 10_000, "larger than the graph supports"),
        (["model", "vocab_size"], 10_000, "tokenizer"),
        (["model", "n_head"], 7, "KV graph's past"),
        (["generation", "stop_ids"], [10**9], "stop_ids should be token ids"),
        (["generation", "banned_ids"], [-1], "banned_ids should be"),
        (["generation", "unprompted_start"], [], "unprompted_start should be"),
        (["generation", "cache_restart_keep"], 10**6, "cache_restart_keep should be"),
        (["generation", "defaults", "temperature"], 1e-320, "temperature should be"),
        (["id"], f"tiny-char-1{ESC}[2J", "bundle's id"),
    ],
)
def test_hostile_manifests_are_refused_and_open_nothing_outside(
    env, server, outside, where, value, message
):
    directory, watch = outside
    if isinstance(value, str):
        value = value.replace("OUTSIDE", str(directory))
    serve_manifest(server, set_in(where, value))
    if where == ["model", "vocab_size"]:  # the manifest's two sizes agree; the file does not

        def both(manifest):
            set_in(where, value)(manifest)
            manifest["tokenizer"]["vocab_size"] = value

        serve_manifest(server, both)
    proc = sup(env, "tiny-char-1", "you", "--max-new-tokens", "3")
    # Values the graph contradicts pass the download's checks (hashes, fields) and are
    # refused when the bundle is opened, after the "pulled" line.
    lines = proc.stderr.strip().splitlines()
    if lines and lines[0].startswith("pulled tiny-char-1"):
        proc.stderr = "\n".join(lines[1:])
    assert message in assert_cli_error(proc, 1)
    assert proc.stdout == ""
    assert_printable(proc)
    assert watch.events() == []


def test_a_symbolic_link_in_a_bundle_directory_is_refused(releases_dir, tmp_path, outside, env):
    directory, watch = outside
    bundle = tmp_path / "bundle"
    shutil.copytree(releases_dir / "tiny-char-1", bundle)
    (bundle / "model.kv.onnx").unlink()
    (bundle / "model.kv.onnx").symlink_to(directory / "model.kv.onnx")  # the same bytes
    proc = sup(env, str(bundle), "you", "--max-new-tokens", "3")
    assert "symbolic link" in assert_cli_error(proc, 1)
    # verification refuses the link by what it is, without reading through it
    assert [e for e in watch.events() if e.startswith("model.kv.onnx")] == []


def test_escape_sequences_in_a_registry_are_printed_inert(env, server):
    registry = json.loads((server.root / "registry.json").read_text())
    for entry in registry["models"]:
        entry["precision"] = HOSTILE_TEXT
        entry["tokenizer"] = {"type": HOSTILE_TEXT, "vocab_size": HOSTILE_TEXT}
    server.overrides["registry.json"] = json.dumps(registry).encode()
    proc = ok(env, "list")
    assert_printable(proc)
    assert "\\x1b]0;pwned" in proc.stdout and "\\u202e" in proc.stdout

    registry["models"][0]["id"] = f"evil{ESC}]52;c;aGk={ESC}\\-1"  # refused, and quoted
    server.overrides["registry.json"] = json.dumps(registry).encode()
    proc = sup(env, "pull", "evil")
    assert_cli_error(proc, 1)
    assert_printable(proc)


def test_generated_control_characters_are_escaped_on_a_terminal(env, releases_dir, tmp_path):
    """A tokenizer is an untrusted file: one whose characters are escape codes makes
    the model 'say' them. A terminal gets them escaped; a pipe gets the exact text."""
    import pty
    import subprocess

    from helpers import sup_cmd
    from sup.ship.bundle import write_manifest

    bundle = tmp_path / "bundle"
    shutil.copytree(releases_dir / "tiny-char-1", bundle)
    tok = json.loads((bundle / "tokenizer.json").read_text())
    tok["chars"] = [chr(0x1B + i) if i < 5 else chr(0x80 + i) for i in range(len(tok["chars"]))]
    (bundle / "tokenizer.json").write_text(json.dumps(tok))
    write_manifest(bundle, json.loads((bundle / "manifest.json").read_text()))
    args = [str(bundle), "you", "--max-new-tokens", "40", "--temperature", "0"]

    piped = ok(env, *args).stdout
    assert any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in piped)

    leader, follower = pty.openpty()
    proc = subprocess.run(
        sup_cmd(*args), stdout=follower, stderr=subprocess.PIPE, env=env, timeout=60
    )
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    assert proc.returncode == 0, proc.stderr
    text = shown.decode("utf-8", errors="replace")
    assert ESC not in text and not any(0x80 <= ord(c) <= 0x9F for c in text), text
    assert "\\x" in text
