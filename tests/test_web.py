"""The browser player, end to end, in real headless Chromium.

The player site (web/index.html, app.js, style.css, src/, vendor/) is copied beside a
releases directory made by `sup export` and the registry code, served by a real
``http.server`` on 127.0.0.1, and driven through playwright-core
(web/scripts/drive.mjs): a person's clicks on the page, and the player module itself for
logits-level parity. Greedy output must equal the Python player's (sup.play.runtime)
exactly; errors a user can hit must show on the page.

A registry is untrusted input, so the site also serves hostile/, a registry a stranger
could host: escape sequences and markup in the fields the page shows, a javascript:
model card, and bundles whose manifests name files outside the bundle or carry values
absurd for their graph. The page must show them as inert, visibly escaped text, run no
script, fetch nothing outside the bundle, and refuse the bad bundles by name.

One browser runs every job of this module. The tests fail, never skip, when Chromium,
node or web/node_modules is missing, unless SUP_SKIP_BROWSER=1.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import shutil
import subprocess
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote, urlsplit

import numpy as np
import pytest

from helpers import REPO, TINY, skip_unless_ci

WEB = REPO / "web"
SITE_FILES = ("index.html", "app.js", "style.css", "src", "vendor")
CHROMIUM = Path(os.environ.get("SUP_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOT = REPO / "test-artifacts" / "web-player.png"
CONTROLS_SHOT = REPO / "test-artifacts" / "web-player-controls.png"
GATSBY_TOPIC = "a red kite"
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


def require_browser() -> None:
    """Fail (or, with SUP_SKIP_BROWSER=1 outside CI, skip) when a browser tool is missing."""
    missing = missing_tools()
    if missing and os.environ.get("SUP_SKIP_BROWSER") == "1":
        skip_unless_ci(f"SUP_SKIP_BROWSER=1 and missing: {', '.join(missing)}")
    if missing:
        pytest.fail(f"browser tests need: {'; '.join(missing)} (or set SUP_SKIP_BROWSER=1)")


@pytest.fixture(scope="session", autouse=True)  # session: before the bundles get built
def browser_tools():
    require_browser()


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


# What a hostile registry puts where the page shows text: terminal escape sequences
# (clear the screen, set the window title, write the clipboard with OSC 52), a one-byte
# C1 CSI, DEL, a bidi override, and markup that would run script if parsed as HTML.
ESC_CLEAR = "\x1b[2J"
OSC_TITLE = "\x1b]0;pwned\x07"
OSC_CLIPBOARD = "\x1b]52;c;ZWNobyBwd25lZA==\x07"
C1_CSI = "\x9b2J"
BIDI_OVERRIDE = "\u202e"
MARKUP = "<img src=x onerror=alert(1)>"
HOSTILE_TOKENIZER = f"char{ESC_CLEAR}{C1_CSI}{MARKUP}"
HOSTILE_DEMO = f"you never{OSC_TITLE}{OSC_CLIPBOARD}{BIDI_OVERRIDE}{MARKUP}\x7f\tok\n"
HOSTILE_ID = f"evil{OSC_TITLE}-1"
OUTSIDE_KV = "../../releases/tiny-char-1/model.kv.onnx"  # a real file, outside the bundle

# The characters the page must spell out (web/src/untrusted.js): none may reach the DOM.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """``text`` as the page must show it: as the Python players print it (\\x1b,
    \\u202e), tab and newline kept."""
    from sup.formats.printable import printable

    return printable(text, keep_newlines=True)


def hostile_manifest(base: dict, name: str) -> dict:
    """The hostile bundle ``name``'s manifest: tiny-char-1's, with one thing wrong."""
    m = json.loads(json.dumps(base))
    m["id"] = name
    if name == "escapes-1":
        m["generation"]["demo_prompt"] = HOSTILE_DEMO  # any string is a valid demo prompt
    elif name == "dotdot-1":
        kv = next(f for f in m["files"] if f["name"] == "model.kv.onnx")
        m["files"].append({**kv, "name": OUTSIDE_KV})  # listed, with the right sha256
        m["graphs"]["kv"] = OUTSIDE_KV
    elif name == "absolute-1":
        kv = next(f for f in m["files"] if f["name"] == "model.kv.onnx")
        m["files"].append({**kv, "name": "/releases/tiny-char-1/model.kv.onnx"})
        m["graphs"]["kv"] = "/releases/tiny-char-1/model.kv.onnx"
    elif name == "swapped-1":
        m["graphs"]["kv"] = "model.onnx"  # a plain name in files, but not the KV graph's
    elif name == "badfile-1":
        full = next(f for f in m["files"] if f["name"] == "model.onnx")
        m["files"].append({**full, "name": "../tiny-char-1/model.onnx"})
    elif name == "stopvocab-1":
        m["generation"]["stop_ids"] = [*m["generation"]["stop_ids"], m["model"]["vocab_size"]]
    elif name == "blocksize-1":
        m["model"]["block_size"] = 4 * m["model"]["block_size"]  # past the position tables
    elif name == "heads-1":  # the same width, split into twice the heads the graph has
        m["model"]["n_head"] *= 2
        m["model"]["head_dim"] //= 2
    elif name == "vocab-1":  # the manifest agrees with itself, tokenizer.json does not
        m["model"]["vocab_size"] += 1
        m["tokenizer"]["vocab_size"] += 1
    return m


HOSTILE_BUNDLES = (
    "escapes-1", "card-1", "dotdot-1", "absolute-1", "swapped-1", "badfile-1",
    "stopvocab-1", "blocksize-1", "heads-1", "vocab-1",
)  # fmt: skip


def write_hostile(root: Path, releases: Path) -> None:
    """hostile/: a registry whose entries and manifests are hostile, written by hand (the
    registry writer would refuse them). Each manifest's sha256 is in its entry and every
    other file is tiny-char-1's, so only the property under test is wrong. Its first
    entry has an id with an escape sequence in it (the Python reader refuses such ids)."""
    registry = json.loads((releases / "registry.json").read_text(encoding="utf-8"))
    template = next(e for e in registry["models"] if e["id"] == "tiny-char-1")
    base = json.loads((releases / "tiny-char-1" / "manifest.json").read_text(encoding="utf-8"))
    entries = [{**template, "id": HOSTILE_ID, "path": "escapes-1/"}]
    for name in HOSTILE_BUNDLES:
        bundle = root / "hostile" / name
        shutil.copytree(releases / "tiny-char-1", bundle)
        manifest = hostile_manifest(base, name)
        data = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode()
        (bundle / "manifest.json").write_bytes(data)
        entries.append({
            **template, "id": name, "lineage": name[:-2], "path": f"{name}/",
            "manifest_sha256": hashlib.sha256(data).hexdigest(), "files": manifest["files"],
        })  # fmt: skip
    entries[0]["manifest_sha256"] = entries[1]["manifest_sha256"]
    by_id = {e["id"]: e for e in entries}
    by_id["escapes-1"]["card"] = "javascript:alert(1)"
    by_id["escapes-1"]["tokenizer"] = {**template["tokenizer"], "type": HOSTILE_TOKENIZER}
    by_id["card-1"]["card"] = "card-1/MODEL_CARD.md"  # a good one: it must become a link
    registry["models"] = entries
    text = json.dumps(registry, indent=2, ensure_ascii=False) + "\n"
    (root / "hostile" / "registry.json").write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def site(tmp_path_factory, releases_dir, gatsby_release) -> Path:
    """The deployable site: the player, releases/ (both bundles and registry.json),
    tampered/, a registry whose bundle has one flipped byte in its KV graph, and
    hostile/ (``write_hostile``)."""
    from sup.ship.registry import write_registry

    root = tmp_path_factory.mktemp("site")
    for name in SITE_FILES:
        copy = shutil.copytree if (WEB / name).is_dir() else shutil.copy
        copy(WEB / name, root / name)
    shutil.copytree(releases_dir, root / "releases")
    shutil.copytree(gatsby_release, root / "releases" / "gatsby-1")  # instrument controls
    write_registry(root / "releases")
    shutil.copytree(releases_dir / "tiny-char-1", root / "tampered" / "tiny-char-1")
    write_registry(root / "tampered")
    graph = root / "tampered" / "tiny-char-1" / "model.kv.onnx"
    data = bytearray(graph.read_bytes())
    data[len(data) // 2] ^= 0xFF
    graph.write_bytes(bytes(data))
    write_hostile(root, releases_dir)
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
    "controls": {
        "kind": "ui", "model": "gatsby-1", "generate": True, "temperature": 0, "length": N,
        "controls": {"level": 5, "topic": GATSBY_TOPIC}, "screenshot": str(CONTROLS_SHOT),
    },
    "controls-too-long": {
        "kind": "ui", "model": "gatsby-1", "generate": True, "temperature": 0, "length": N,
        "controls": {"level": 1, "topic": "x" * 119},
    },
    "no-registry": {"kind": "ui", "query": "?registry=nowhere/registry.json"},
    "tampered": {"kind": "ui", "query": "?registry=tampered/registry.json"},
    "temperature": {
        "kind": "ui", "model": "tiny-char-1", "generate": True, "prompt": CHAR_PROMPT,
        "temperature": 0.005, "length": N,
    },
    "hostile-menu": {"kind": "ui", "query": "?registry=hostile/registry.json"},
    **{
        f"hostile-{name}": {"kind": "ui", "query": f"?registry=hostile/registry.json&model={name}"}
        for name in HOSTILE_BUNDLES
    },
    "registry-javascript": {"kind": "ui", "query": "?registry=javascript:alert(1)"},
    "registry-data": {
        "kind": "ui",
        "query": "?registry=" + quote('data:application/json,{"format":"sup-registry"}', safe=""),
    },
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


PLAYER_FILES = ("/style.css", "/app.js", "/src/", "/vendor/")


def fetched(result: dict) -> list[str]:
    """The site paths a job fetched beyond the page and the player's own files; every
    http(s) request must be to the test server (127.0.0.1)."""
    urls = [urlsplit(u) for u in result["requests"] if u.startswith(("http:", "https:"))]
    assert {u.hostname for u in urls} <= {"127.0.0.1"}, result["requests"]
    return [u.path for u in urls if u.path != "/" and not u.path.startswith(PLAYER_FILES)]


def origin(result: dict) -> str:
    """The test server's origin, from the first request (the page)."""
    return "{0.scheme}://{0.netloc}".format(urlsplit(result["requests"][0]))


def assert_inert(result: dict) -> None:
    """No hostile string ran script or became a link the registry chose: no dialog, no
    element from markup, no href or src with a scheme other than http(s) (the page's own
    data: favicon aside), no raw unsafe character anywhere the job read."""
    assert result["dialogs"] == [], result["dialogs"]
    dom = result["dom"]
    assert "img" not in dom["tags"]  # MARKUP stayed text
    for link in dom["links"]:
        scheme = urlsplit(link["resolved"]).scheme
        assert scheme in ("http", "https") or (link["tag"], link["raw"]) == ("link", "data:,"), link
        assert not link["raw"].strip().lower().startswith("javascript:"), link
    shown = [*dom["options"], dom["modelInfo"], result["error"] or "", result["prompt"]]
    assert not any(UNSAFE.search(text) for text in shown), shown
    assert dom["title"] == "sup player"


def test_temperature_outside_the_rule_is_refused_on_the_page(results):
    """0 or 0.01..100 (sup.play.sampling.TEMPERATURE_RULE), said on the page."""
    got = results["temperature"]
    assert got["state"] == "error"
    assert got["error"] == "temperature must be 0 (greedy) or a number from 0.01 to 100, got 0.005"
    assert got["generated"] == ""


def test_hostile_registry_strings_show_escaped(results):
    """The menu lists every entry, its strings visibly escaped; the first entry's id
    (with an OSC title sequence) is refused by name, and nothing of it is fetched."""
    got = results["hostile-menu"]
    assert_inert(got)
    options = got["dom"]["options"]
    assert options[0].startswith(visible(HOSTILE_ID) + " · ")
    assert f" · {visible(HOSTILE_TOKENIZER)} · " in options[1]  # escapes-1
    assert "\\x1b[2J" in options[1] and "\\x9b2J" in options[1] and MARKUP in options[1]
    assert got["state"] == "error"
    assert got["error"] == (
        f"{origin(got)}/hostile/registry.json: "
        f'a model entry has a bad id "{visible(HOSTILE_ID)}"; refusing it'
    )
    assert "\\x1b]0;pwned\\x07" in got["error"]
    assert fetched(got) == ["/hostile/registry.json"]


def test_hostile_manifest_strings_show_escaped_and_the_card_is_no_link(results):
    """A bundle that loads, with escape sequences and markup in its demo prompt and a
    javascript: model card: the prompt shows them as text, and there is no card link."""
    got = results["hostile-escapes-1"]
    assert got["state"] == "ready", got["error"]
    assert_inert(got)
    assert got["prompt"] == visible(HOSTILE_DEMO)
    assert "\\x1b]52;c;" in got["prompt"] and "\\u202e" in got["prompt"]
    assert got["prompt"].endswith("\\x7f\tok\n")  # tab and newline are kept
    assert not [link for link in got["dom"]["links"] if link["tag"] == "a"]
    assert got["dom"]["modelInfo"].endswith("char tokenizer. ")


def test_http_model_card_is_a_link(results):
    got = results["hostile-card-1"]
    assert got["state"] == "ready", got["error"]
    assert_inert(got)
    anchors = [link for link in got["dom"]["links"] if link["tag"] == "a"]
    assert [a["raw"] for a in anchors] == [f"{origin(got)}/hostile/card-1/MODEL_CARD.md"]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("dotdot-1", f"bad file name {json.dumps(OUTSIDE_KV)} in the manifest"),
        ("absolute-1", 'bad file name "/releases/tiny-char-1/model.kv.onnx" in the manifest'),
        ("swapped-1", 'graphs.kv is "model.onnx", but it must be "model.kv.onnx"'),
        ("badfile-1", 'bad file name "../tiny-char-1/model.onnx" in the manifest'),
        ("stopvocab-1", "generation.stop_ids holds 27, which is not a token id of this model"),
    ],
)
def test_bundle_refused_when_opened_before_any_file_is_fetched(results, name, message):
    """A manifest naming a file outside its bundle (though listed with the right sha256),
    or a stop id outside the vocabulary: refused on the page in one line that names it,
    with nothing but the registry and that manifest fetched."""
    got = results[f"hostile-{name}"]
    assert got["state"] == "error"
    assert_inert(got)
    assert message in got["error"], got["error"]
    assert got["error"].endswith("; refusing the bundle") and "\n" not in got["error"]
    assert f"/hostile/{name}/manifest.json: " in got["error"]
    assert fetched(got) == ["/hostile/registry.json", f"/hostile/{name}/manifest.json"]
    assert got["console"] == []


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("blocksize-1", "the manifest's block_size 64 is larger than the graph supports"),
        (
            "heads-1",
            "its past is declared [1, 2, batch, 2, past, 16], but the manifest's "
            "model needs [1, 2, batch, 4, positions, 8]",
        ),
        ("vocab-1", "the tokenizer has 27 tokens but model.vocab_size is 28"),
    ],
)
def test_bundle_that_does_not_fit_its_graph_is_refused(results, name, message):
    """Values only the tokenizer or the graph can contradict: refused at load, by name,
    having fetched nothing outside the bundle."""
    got = results[f"hostile-{name}"]
    assert got["state"] == "error"
    assert_inert(got)
    assert message in got["error"], got["error"]
    assert got["error"].endswith("; refusing the bundle") and "\n" not in got["error"]
    assert all(
        path == "/hostile/registry.json" or path.startswith(f"/hostile/{name}/")
        for path in fetched(got)
    ), fetched(got)


@pytest.mark.parametrize("job", ["registry-javascript", "registry-data"])
def test_registry_must_be_http(results, job):
    got = results[job]
    assert got["state"] == "error"
    assert_inert(got)
    assert "is not an http(s) URL" in got["error"]
    assert fetched(got) == []
    assert not [u for u in got["requests"] if u.startswith(("data:application", "javascript:"))]


def test_instrument_controls_build_the_python_players_prompt(results, site):
    """A release with controls gets a slider and a topic box instead of the prompt box;
    the page builds the prompt the terminal player builds from the same values, and
    greedy text equals the Python player's."""
    from sup.formats.controls import render_prompt

    got = results["controls"]
    assert_clean(got)
    assert got["state"] == "done", got["error"]
    assert not got["promptVisible"]
    level = next(c for c in got["controls"] if c["name"] == "level")
    assert level["type"] == "range" and level["value"] == "5" and level["shown"] == "5 (total)"
    bundle = site / "releases" / "gatsby-1"
    manifest = json.loads((bundle / "manifest.json").read_text())
    prompt = render_prompt(manifest["controls"], {"level": 5, "topic": GATSBY_TOPIC})
    assert got["shownPrompt"] == prompt
    assert got["generated"] == python_greedy(bundle, prompt)["text"]
    assert CONTROLS_SHOT.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_control_the_context_cannot_hold_is_an_error_on_the_page(results):
    got = results["controls-too-long"]
    assert got["state"] == "error"
    assert "shorten --topic" in got["error"]
    assert got["generated"] == ""
