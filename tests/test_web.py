"""The browser player, end to end, in real headless Chromium.

The player site (web/index.html, app.js, style.css, src/, vendor/) is copied beside a
releases directory made by `sup export` and the registry code, served by a real
``http.server`` on 127.0.0.1, and driven through playwright-core
(web/scripts/drive.mjs): a person's clicks on the page, and the player module itself for
logits-level parity. Greedy output must equal the Python player's (sup.play.runtime)
exactly; errors a user can hit must show on the page.

One browser runs every job of this module. The tests fail, never skip, when Chromium,
node or web/node_modules is missing, unless SUP_SKIP_BROWSER=1.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from helpers import REPO, TINY, skip_unless_ci

WEB = REPO / "web"
SITE_FILES = ("index.html", "app.js", "style.css", "src", "vendor")
CHROMIUM = Path(os.environ.get("SUP_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOT = REPO / "test-artifacts" / "web-player.png"
N = 40  # generated tokens: more than the tiny models' 16-token context, so the cache restarts
CHAR_PROMPT = "you never"
BPE_PROMPT = "Naïve café 🎉 kid"  # multi-byte text through the browser's BPE


def missing_tools() -> list[str]:
    missing = []
    if not shutil.which("node"):
        missing.append("node (apt-get install -y nodejs npm)")
    if not (WEB / "node_modules" / "playwright-core").is_dir() or not (WEB / "vendor").is_dir():
        missing.append("web/node_modules and web/vendor (cd web && npm ci)")
    if not CHROMIUM.is_file():
        missing.append(f"{CHROMIUM} (apt-get install -y chromium)")
    return missing


@pytest.fixture(scope="session", autouse=True)  # session: before the bundles get built
def browser_tools():
    missing = missing_tools()
    if missing and os.environ.get("SUP_SKIP_BROWSER") == "1":
        skip_unless_ci(f"SUP_SKIP_BROWSER=1 and missing: {', '.join(missing)}")
    if missing:
        pytest.fail(f"browser tests need: {'; '.join(missing)} (or set SUP_SKIP_BROWSER=1)")


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):
        pass


@contextmanager
def serve(root: Path):
    """A static file server for ``root`` on a free port of 127.0.0.1, in a thread."""
    handler = functools.partial(QuietHandler, directory=str(root))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture(scope="module")
def site(tmp_path_factory, releases_dir) -> Path:
    """The deployable site: the player, releases/ (both bundles and registry.json), and
    tampered/, a registry whose bundle has one flipped byte in its KV graph."""
    from sup.ship.registry import write_registry

    root = tmp_path_factory.mktemp("site")
    for name in SITE_FILES:
        copy = shutil.copytree if (WEB / name).is_dir() else shutil.copy
        copy(WEB / name, root / name)
    shutil.copytree(releases_dir, root / "releases")
    shutil.copytree(releases_dir / "tiny-char-1", root / "tampered" / "tiny-char-1")
    write_registry(root / "tampered")
    graph = root / "tampered" / "tiny-char-1" / "model.kv.onnx"
    data = bytearray(graph.read_bytes())
    data[len(data) // 2] ^= 0xFF
    graph.write_bytes(bytes(data))
    return root


JOBS = {
    "char": {
        "kind": "ui", "model": "tiny-char-1", "generate": True, "prompt": CHAR_PROMPT,
        "temperature": 0, "length": N, "screenshot": str(SCREENSHOT),
    },
    "bpe": {
        "kind": "ui", "model": "tiny-bpe-1", "generate": True, "prompt": BPE_PROMPT,
        "temperature": 0, "length": N,
    },
    "unknown": {
        "kind": "ui", "model": "tiny-char-1", "generate": True, "prompt": "you never Ωλ",
        "temperature": 0, "length": N,
    },
    "sampled": {
        "kind": "ui", "model": "tiny-char-1", "generate": True, "prompt": CHAR_PROMPT,
        "temperature": 0.8, "topK": 10, "topP": 0.9, "seed": 5, "length": 60,
    },
    "stop": {
        "kind": "ui", "model": "tiny-char-1", "generate": True, "prompt": CHAR_PROMPT,
        "temperature": 0, "length": 100_000, "stopAfter": 5,
    },
    "no-registry": {"kind": "ui", "query": "?registry=nowhere/registry.json"},
    "tampered": {"kind": "ui", "query": "?registry=tampered/registry.json"},
    "trace-char": {
        "kind": "trace", "bundle": "releases/tiny-char-1/", "prompt": CHAR_PROMPT,
        "length": N, "useCache": True,
    },
    "trace-bpe": {
        "kind": "trace", "bundle": "releases/tiny-bpe-1/", "prompt": BPE_PROMPT,
        "length": N, "useCache": True,
    },
    "trace-char-no-cache": {
        "kind": "trace", "bundle": "releases/tiny-char-1/", "prompt": CHAR_PROMPT,
        "length": N, "useCache": False,
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def results(site) -> dict[str, dict]:
    """Every job's result, from one Chromium run (the sampled job runs twice)."""
    names = [*JOBS, "sampled-again"]
    jobs = [JOBS[name] for name in JOBS] + [JOBS["sampled"]]
    SCREENSHOT.parent.mkdir(exist_ok=True)
    SCREENSHOT.unlink(missing_ok=True)  # so the one checked is this run's
    with serve(site) as url:
        proc = subprocess.run(
            ["node", str(WEB / "scripts" / "drive.mjs"), url, json.dumps(jobs)],
            capture_output=True,
            text=True,
            timeout=240,
        )
    assert proc.returncode == 0, proc.stderr
    return dict(zip(names, json.loads(proc.stdout), strict=True))


class RecordingKv:
    """The Python player's KV runner, keeping the logits of every call."""

    def __init__(self, kv):
        self.kv = kv
        self.model = kv.model
        self.logits: list[np.ndarray] = []

    def empty_past(self, batch: int) -> np.ndarray:
        return self.kv.empty_past(batch)

    def __call__(self, ids, past):
        logits, present = self.kv(ids, past)
        self.logits.append(logits[0])
        return logits, present


def python_greedy(bundle: Path, prompt: str, use_cache: bool = True) -> dict:
    """What the Python player does with the same bundle: ids, text and every logits row."""
    from sup.play.runtime import OnnxLM, generate_ids
    from sup.play.sampling import Utf8Stream

    lm = OnnxLM(bundle)
    context, unknown = lm.context(prompt)
    kv = RecordingKv(lm.kv)
    full_logits = []

    def full(ids):
        logits = lm.full_logits(ids)
        full_logits.append(logits[0])
        return logits

    ids = list(
        generate_ids(
            kv, context, N, lm.generation, temperature=0.0, full=None if use_cache else full
        )
    )
    stream = Utf8Stream()
    text = "".join(stream.push(lm.tokenizer.token_bytes(i)) for i in ids) + stream.flush()
    logits = kv.logits if use_cache else full_logits
    return {"context": context, "unknown": unknown, "ids": ids, "text": text, "logits": logits}


def assert_clean(result: dict) -> None:
    assert result["console"] == [], result["console"]


def test_node_unit_tests():
    """Tokenizer vectors shared with Python, sampling and UTF-8 streaming, in node."""
    proc = subprocess.run(
        ["node", "--test", "test/"], cwd=WEB, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("job", "bundle", "prompt"),
    [("char", "tiny-char-1", CHAR_PROMPT), ("bpe", "tiny-bpe-1", BPE_PROMPT)],
)
def test_page_greedy_text_equals_python(results, releases_dir, job, bundle, prompt):
    got = results[job]
    assert_clean(got)
    assert got["state"] == "done", got["error"]
    expected = python_greedy(releases_dir / bundle, prompt)
    assert got["generated"] == expected["text"]
    assert got["tokens"] == len(expected["ids"])
    assert got["tokensPerSecond"] > 0


def test_page_shows_the_model_and_its_greedy_text(results, releases_dir):
    """What a person sees (rendered text of visible elements) after a greedy run, the
    moment the screenshot is taken: the chosen model in the menu, its shape from
    conftest's TINY and the modern run, and the prompt followed by the Python player's
    greedy continuation."""
    got = results["char"]
    assert got["state"] == "done", got["error"]
    view = got["view"]
    assert view["model"].startswith("tiny-char-1 · ") and " · char · fp32 · " in view["model"]
    layers = f"{TINY['n_layer']} layer{'' if TINY['n_layer'] == 1 else 's'}"
    assert view["modelInfo"].strip() == (
        f"modern transformer, {layers} × {TINY['n_embd']} wide, "
        f"{TINY['block_size']}-token context, char tokenizer."
    )
    expected = python_greedy(releases_dir / "tiny-char-1", CHAR_PROMPT)["text"]
    assert len(expected) >= N // 2  # the text is there to be seen, not an early stop
    assert view["output"] == CHAR_PROMPT + expected
    assert SCREENSHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # and it was saved


@pytest.mark.parametrize(
    ("job", "bundle", "prompt", "use_cache"),
    [
        ("trace-char", "tiny-char-1", CHAR_PROMPT, True),
        ("trace-bpe", "tiny-bpe-1", BPE_PROMPT, True),  # int8 bundle
        ("trace-char-no-cache", "tiny-char-1", CHAR_PROMPT, False),
    ],
)
def test_player_logits_equal_python(results, releases_dir, job, bundle, prompt, use_cache):
    """Same context, same graph calls (restarts included), same logits, same tokens."""
    got = results[job]
    assert_clean(got)
    expected = python_greedy(releases_dir / bundle, prompt, use_cache)
    assert got["context"] == expected["context"]
    assert got["ids"] == expected["ids"]
    # one graph call per token; Python's generator also runs one past the last token
    assert len(got["logits"]) == len(got["ids"])
    diff = np.abs(np.array(got["logits"]) - np.array(expected["logits"][: len(got["ids"])])).max()
    assert diff < 1e-4, f"browser logits differ from Python's by up to {diff:.2e}"


def test_unknown_characters_are_reported(results, releases_dir):
    got = results["unknown"]
    assert got["state"] == "done", got["error"]
    assert "2 character(s)" in got["notice"]
    assert got["generated"] == python_greedy(releases_dir / "tiny-char-1", "you never Ωλ")["text"]


def test_sampling_is_reproducible_from_the_seed(results):
    first, again = results["sampled"], results["sampled-again"]
    assert first["state"] == again["state"] == "done"
    assert first["generated"] and first["generated"] == again["generated"]


def test_stop_button_ends_generation(results):
    got = results["stop"]
    assert got["state"] == "done", got["error"]
    assert got["stats"].endswith("stopped")
    assert 5 <= got["tokens"] < JOBS["stop"]["length"]


def test_missing_registry_is_shown(results):
    got = results["no-registry"]
    assert got["state"] == "error"
    assert "cannot load the model registry" in got["error"]
    assert "nowhere/registry.json" in got["error"]


def test_tampered_bundle_is_refused(results):
    got = results["tampered"]
    assert got["state"] == "error"
    assert "model.kv.onnx does not match its sha256" in got["error"]
