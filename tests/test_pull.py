"""``sup list``, ``sup pull`` and ``sup rm`` against a real HTTP server on 127.0.0.1:
sha256 verification, resumed downloads, concurrent pulls, hostile registries, and the
one-line error contract."""

from __future__ import annotations

import io
import json
import socket
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from helpers import assert_cli_error, sup_cmd
from player_support import RegistryServer, main_error, ok, player_env, served_copy, sup
from sup.fileio import sha256_bytes


@pytest.fixture(scope="module")
def server(releases_dir, tmp_path_factory):
    root = served_copy(releases_dir, tmp_path_factory.mktemp("served") / "releases")
    with RegistryServer(root) as running:
        yield running


@pytest.fixture
def env(server, tmp_path) -> dict:
    server.reset()
    return player_env(server.registry_url, tmp_path / "cache")


def cache_of(env: dict) -> Path:
    return Path(env["XDG_CACHE_HOME"]) / "sup"


def assert_same_bundle(pulled: Path, served: Path) -> None:
    """The cached bundle holds exactly the served bytes, file for file."""
    files = {p.name: p.read_bytes() for p in served.iterdir()}
    assert {p.name: p.read_bytes() for p in pulled.iterdir()} == files


def test_list_shows_registry_models_and_what_is_cached(env, server):
    table = ok(env, "list").stdout.splitlines()
    assert table[0].split() == [
        "ID", "PARAMS", "TOKENIZER", "PRECISION", "SIZE", "HELD-OUT", "BITS", "CACHED"
    ]  # fmt: skip
    assert sorted(line.split()[0] for line in table[1:]) == [
        "tiny-bpe-1",
        "tiny-char-1",
        "tiny-char-2",
    ]
    assert all(line.split()[-1] == "-" for line in table[1:])

    ok(env, "pull", "tiny-bpe-1")
    listed = json.loads(ok(env, "list", "--json").stdout)
    assert listed["registry"] == server.registry_url and listed["offline"] is None
    cached = {m["id"]: m["cached"] for m in listed["models"]}
    assert Path(cached.pop("tiny-bpe-1")).is_dir()
    assert cached == {"tiny-char-1": None, "tiny-char-2": None}
    bpe = next(m for m in listed["models"] if m["id"] == "tiny-bpe-1")
    assert bpe["tokenizer"]["type"] == "bpe" and bpe["precision"] == "int8"

    flagged = ok({**env, "SUP_REGISTRY": "/nowhere"}, "list", "--registry", server.url)
    assert "tiny-char-2" in flagged.stdout  # --registry wins (and a directory URL works)


def test_pull_verifies_prints_where_and_then_needs_no_network(env, server):
    proc = ok(env, "pull", "tiny-bpe-1")
    path = Path(proc.stdout.strip())
    assert path.is_relative_to(cache_of(env))
    assert_same_bundle(path, server.root / "tiny-bpe-1")
    assert "pulled tiny-bpe-1" in proc.stderr
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".partial")]

    server.reset()
    again = ok(env, "pull", "tiny-bpe-1")
    assert Path(again.stdout.strip()) == path and "tiny-bpe-1 is cached" in again.stderr
    assert server.requests == []  # an exact id in the cache needs no registry


def test_damaged_cached_bundle_is_pulled_again(env, server):
    path = Path(ok(env, "pull", "tiny-char-1").stdout.strip())
    (path / "tokenizer.json").write_text("{}")
    proc = ok(env, "tiny-char-1", "you", "--max-new-tokens", "5")
    assert "note: the cached tiny-char-1 was damaged" in proc.stderr
    assert "tokenizer.json" in proc.stderr and "pulled tiny-char-1" in proc.stderr
    assert_same_bundle(path, server.root / "tiny-char-1")


def test_lineage_resolves_to_its_newest_version(env):
    path = Path(ok(env, "pull", "tiny-char").stdout.strip())
    assert json.loads((path / "manifest.json").read_text())["id"] == "tiny-char-2"
    assert path.parent.name == "tiny-char-2"


def test_rm_removes_an_id_or_a_whole_lineage(env):
    for name in ("tiny-char-1", "tiny-char-2", "tiny-bpe-1"):
        ok(env, "pull", name)
    proc = ok(env, "rm", "tiny-char")
    assert "removed tiny-char-1" in proc.stderr and "removed tiny-char-2" in proc.stderr
    assert sorted(p.name for p in (cache_of(env) / "bundles").iterdir()) == ["tiny-bpe-1"]
    line = assert_cli_error(sup(env, "rm", "tiny-char"), 1)
    assert "nothing cached for 'tiny-char'" in line and "tiny-bpe-1" in line
    ok(env, "rm", "tiny-bpe-1")


def test_tampered_file_is_refused_removed_and_repulled(env, server):
    server.tamper.add("tiny-bpe-1/tokenizer.json")
    line = assert_cli_error(sup(env, "pull", "tiny-bpe-1"), 1)
    assert "tokenizer.json of tiny-bpe-1" in line and "sha256" in line and "removed" in line
    assert not list(cache_of(env).rglob("tokenizer.json*"))
    bundle_dirs = (cache_of(env) / "bundles" / "tiny-bpe-1").iterdir()
    assert [p.name for p in bundle_dirs if not p.name.startswith(".")] == []  # none complete

    server.reset()
    path = Path(ok(env, "pull", "tiny-bpe-1").stdout.strip())
    assert_same_bundle(path, server.root / "tiny-bpe-1")
    # the files verified before the bad one were kept: only the refused one is fetched again
    assert server.paths() == ["registry.json", "tiny-bpe-1/tokenizer.json"]


def test_tampered_manifest_is_refused(env, server):
    server.tamper.add("tiny-char-1/manifest.json")
    line = assert_cli_error(sup(env, "pull", "tiny-char-1"), 1)
    assert "manifest of tiny-char-1" in line and "manifest_sha256" in line
    assert not list(cache_of(env).rglob("manifest.json"))


def test_truncated_file_is_refused_and_removed(env, server):
    server.truncate.add("tiny-char-1/model.onnx")
    line = assert_cli_error(sup(env, "pull", "tiny-char-1"), 1)
    assert "model.onnx" in line and "release says" in line and "removed" in line
    assert not list(cache_of(env).rglob("model.onnx*"))


def test_dropped_connection_resumes_with_a_range_request(env, server):
    server.drop["tiny-char-1/model.onnx"] = 1
    path = Path(ok(env, "pull", "tiny-char-1").stdout.strip())
    assert_same_bundle(path, server.root / "tiny-char-1")
    size = (server.root / "tiny-char-1" / "model.onnx").stat().st_size
    ranges = [r for p, r in server.requests if p == "tiny-char-1/model.onnx"]
    assert ranges == [None, f"bytes={size // 2}-"]


def test_interrupted_pull_resumes_in_the_next_run(env, server):
    server.drop["tiny-char-1/model.onnx"] = 99
    line = assert_cli_error(sup(env, "pull", "tiny-char-1"), 1)
    assert "run the same command again to resume" in line
    (part,) = cache_of(env).rglob("model.onnx.part")
    have = part.stat().st_size
    assert have > 0

    server.reset()
    path = Path(ok(env, "pull", "tiny-char-1").stdout.strip())
    assert_same_bundle(path, server.root / "tiny-char-1")
    assert [r for p, r in server.requests if p == "tiny-char-1/model.onnx"] == [f"bytes={have}-"]


def test_server_that_ignores_ranges_restarts_the_file(env, server):
    server.drop["tiny-char-1/model.onnx"] = 1
    server.ignore_range = True
    path = Path(ok(env, "pull", "tiny-char-1").stdout.strip())
    assert_same_bundle(path, server.root / "tiny-char-1")


def test_concurrent_pulls_both_succeed_and_download_once(env, server):
    server.delay = 0.3  # slow enough that the two pulls overlap
    procs = [
        subprocess.Popen(
            sup_cmd("pull", "tiny-char-1"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=60), *p.communicate()) for p in procs]
    for code, _, err in results:
        assert code == 0 and "Traceback" not in err, err
    paths = {Path(out.strip()) for _, out, _ in results}
    assert len(paths) == 1
    assert_same_bundle(paths.pop(), server.root / "tiny-char-1")
    fetched = Counter(p for p in server.paths() if p.startswith("tiny-char-1/"))
    assert set(fetched.values()) == {1}, fetched


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/registry.json"


def test_hostile_registry_cannot_write_outside_the_cache(env, server, tmp_path):
    registry = json.loads((server.root / "registry.json").read_text())
    entry = next(e for e in registry["models"] if e["id"] == "tiny-char-1")

    def serve(**changes) -> None:
        models = [{**entry, **changes, "version": 9}]
        server.overrides["registry.json"] = json.dumps({**registry, "models": models}).encode()

    serve(id="../../escape-1")
    assert "bad id" in assert_cli_error(sup(env, "pull", "tiny-char"), 1)
    serve(path="../../")
    assert "bad path" in assert_cli_error(sup(env, "pull", "tiny-char-1"), 1)

    manifest = json.loads((server.root / "tiny-char-1" / "manifest.json").read_text())
    manifest["files"][0]["name"] = "../../escape.onnx"
    data = json.dumps(manifest).encode()
    server.overrides["tiny-char-1/manifest.json"] = data
    serve(manifest_sha256=sha256_bytes(data))
    assert "bad file name" in assert_cli_error(sup(env, "pull", "tiny-char-1"), 1)
    assert not list(tmp_path.rglob("escape*"))


def test_bad_registries_and_names_fail_with_one_line(env, server, tmp_path, monkeypatch, capsys):
    server.overrides["bad.json"] = b"{not json"
    server.overrides["other.json"] = b'{"format": "something else"}'
    cases = [
        ({}, ["pull", "nosuch"], 1, "no model named 'nosuch'"),
        ({}, ["play", "nosuch"], 1, "no model named 'nosuch'"),
        ({"SUP_REGISTRY": server.url + "missing.json"}, ["list"], 1, "HTTP 404"),
        ({"SUP_REGISTRY": server.url + "bad.json"}, ["pull", "x"], 1, "not valid JSON"),
        ({"SUP_REGISTRY": server.url + "other.json"}, ["list"], 1, "not a sup registry"),
        ({"SUP_REGISTRY": _closed_port_url()}, ["pull", "tiny-char"], 1, "cannot reach"),
        ({"SUP_REGISTRY": _closed_port_url()}, ["list"], 1, "cannot reach"),
        ({"SUP_REGISTRY": "ftp://example.com/r.json"}, ["list"], 2, "only http(s)"),
        ({"SUP_REGISTRY": "http://127.0.0.1:port/r.json"}, ["list"], 1, "bad registry URL"),
        ({"SUP_REGISTRY": str(tmp_path / "none.json")}, ["list"], 1, "registry not found"),
        ({}, ["pull", str(server.root / "tiny-char-1")], 2, "is a bundle directory"),
        ({}, ["rm", "nosuch"], 1, "nothing cached"),
        ({}, ["list", "--registry", _closed_port_url()], 1, "cannot reach"),
    ]

    for extra, args, code, text in cases:  # in-process: the same main(), no start-up cost
        line = main_error(monkeypatch, capsys, {**env, **extra}, args, code)
        assert text in line, (args, line)
    assert not cache_of(env).exists() or not list(cache_of(env).rglob("manifest.json"))


def test_progress_bar_draws_only_on_a_terminal():
    from sup.cli.play import Bar

    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty, log = Tty(), io.StringIO()
    for stream in (tty, log):
        bar = Bar(stream)
        bar.start("tiny-1", total=2000, done=500)
        bar.advance(1500)
        bar.finish()
    assert log.getvalue() == ""
    final = tty.getvalue().split("\r")[-1]
    assert final.startswith("pulling tiny-1 [" + "=" * Bar.WIDTH + "] 100%")
    assert final.endswith("\n")
