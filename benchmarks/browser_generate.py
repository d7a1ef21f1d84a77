"""Browser generation speed: KV cache vs re-running the full context, in Chromium.

The player module (web/src/player.js: ONNX Runtime Web, wasm, one thread) generates
greedy tokens from the bundle's 1-token unprompted start, with the KV graph (one
single-token step per token) and with the full graph re-run on the last block_size
tokens for every token (nanoGPT's loop). Both are timed after --warmup tokens each,
because V8 first runs the wasm in its baseline tier; the first run after loading is
reported too. Stop tokens are ignored, so every run makes exactly --new-tokens.

By default the model has the `make demo` instrument's shape (configs/kenosha.toml:
modern, 4 x 128, block 64), trained for a few steps on a small kenosha corpus: speed does
not depend on what the weights say. --set changes the shape (e.g. --set n_layer=6
--set n_head=6 --set n_embd=384 --set block_size=256); --bundle times a bundle instead.

    python benchmarks/browser_generate.py [--new-tokens 256] [--bundle DIR] [--set k=v ...]

Needs node, web/node_modules and web/vendor (cd web && npm ci) and Chromium
(/usr/bin/chromium, or SUP_CHROMIUM).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from _common import REPO, machine

WEB = REPO / "web"
SITE_FILES = ("index.html", "app.js", "style.css", "src", "vendor")
QUICK_TRAINING = ("max_iters=10", "eval_interval=10", "eval_iters=1", "warmup_iters=2")


def sup(*args) -> None:
    cmd = [sys.executable, "-m", "sup.cli", *(str(a) for a in args)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"benchmark: sup {' '.join(cmd[3:])} failed:\n{proc.stderr}")


def build_bundle(work: Path, sets: list[str]) -> Path:
    """A kenosha char model of the chosen shape, briefly trained, exported as a bundle."""
    sup("data", "kenosha", "--out", work / "kenosha.txt", "--lines", 3000, "--seed", 0)
    sup("prepare", work / "kenosha.txt", "--tokenizer", "char", "--out", work / "data")
    overrides = [flag for kv in (*QUICK_TRAINING, *sets) for flag in ("--set", kv)]
    config = REPO / "configs" / "kenosha.toml"
    sup("train", config, "--data", work / "data", "--out", work / "run", "--quiet", *overrides)
    sup("export", work / "run", "--out", work / "bench-1", "--id", "bench-1")
    return work / "bench-1"


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


def time_in_browser(bundle: Path, work: Path, new_tokens: int, warmup: int) -> dict:
    """The player site (linked from web/) plus the bundle, served and timed in Chromium."""
    site = work / "site"
    site.mkdir()
    for name in SITE_FILES:
        (site / name).symlink_to(WEB / name)
    (site / "bundle").symlink_to(bundle.resolve())
    job = {"kind": "bench", "bundle": "bundle/", "prompt": "", "length": new_tokens,
           "warmup": warmup}  # fmt: skip
    with serve(site) as url:
        proc = subprocess.run(
            ["node", str(WEB / "scripts" / "drive.mjs"), url, json.dumps([job])],
            capture_output=True,
            text=True,
        )
    if proc.returncode != 0:
        sys.exit(f"benchmark: the browser run failed:\n{proc.stderr}")
    (result,) = json.loads(proc.stdout)
    return result


def browser() -> str:
    chromium = os.environ.get("SUP_CHROMIUM", "/usr/bin/chromium")
    version = subprocess.run([chromium, "--version"], capture_output=True, text=True)
    ort = json.loads((WEB / "node_modules" / "onnxruntime-web" / "package.json").read_text())
    return f"{version.stdout.strip()}, onnxruntime-web {ort['version']} (wasm, 1 thread)"


def first_difference(a: list[int], b: list[int]) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y), len(a))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--new-tokens", type=int, default=256)
    ap.add_argument("--warmup", type=int, default=256, help="tokens per mode before timing")
    ap.add_argument("--bundle", type=Path, help="an exported bundle (default: build one)")
    ap.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE", help="shape of the built model"
    )
    args = ap.parse_args()
    if not (WEB / "node_modules" / "playwright-core").is_dir():
        sys.exit("benchmark: web/node_modules is missing; run: cd web && npm ci")
    work = Path(tempfile.mkdtemp(prefix="sup-bench-browser-"))
    try:
        bundle = args.bundle or build_bundle(work, args.set)
        model = json.loads((bundle / "manifest.json").read_text())["model"]
        result = time_in_browser(bundle, work, args.new_tokens, args.warmup)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    cold, cached, uncached = result["cold"], result["cache"], result["noCache"]
    ratio = cached["tokensPerSecond"] / uncached["tokensPerSecond"]
    same = first_difference(cached["ids"], uncached["ids"])
    print(f"machine: {machine()}")
    print(f"browser: {browser()}")
    print(
        f"model: {model['params'] / 1e6:.2f}M params, {model['arch']}, "
        f"{model['n_layer']}x{model['n_embd']}, block {model['block_size']}, "
        f"{args.new_tokens} greedy tokens"
    )
    print(f"KV cache, first run after loading : {cold['tokensPerSecond']:8.1f} tokens/s")
    print(f"no cache (full forward per token) : {uncached['tokensPerSecond']:8.1f} tokens/s")
    print(f"KV cache                          : {cached['tokensPerSecond']:8.1f} tokens/s")
    print(f"ratio (KV / no cache)             : {ratio:8.1f}x")
    print(
        f"greedy tokens with and without cache: first {same} of {args.new_tokens} identical "
        f"(they may part once the cache restarts at {model['block_size']} positions)"
    )


if __name__ == "__main__":
    main()
