"""CLI commands of the instrument player: ``sup list``, ``pull``, ``rm`` and ``play``
(``sup NAME [PROMPT]`` is ``sup play NAME [PROMPT]``).

The player needs numpy and onnxruntime only: nothing here or below imports torch,
jsonschema or Hugging Face tokenizers (tests/test_player.py runs it with them blocked).
Where models come from is ``catalog.py``; the cache is ``cache.py``. This module parses
flags and prints: the voice and ``--json`` to stdout, progress, notes and status to
stderr.
"""

from __future__ import annotations

import contextlib
import functools
import json
import signal
import sys
import threading
import time
from collections.abc import Iterator

from sup.errors import SupError, UsageError


def cmd_play(args) -> int:
    from sup.formats.controls import build_prompt
    from sup.play.catalog import locate
    from sup.play.runtime import OnnxLM
    from sup.play.sampling import check_prompt, check_sampling

    _interruptible()
    _check_flags(args)
    located = locate(args.name, args.registry, progress=Bar())
    _report(located)
    lm = OnnxLM(located.path, verify=False, threads=args.threads)  # locate verified it
    settings = generation_settings(lm.generation.get("defaults"), args)
    check_sampling(settings["temperature"], settings["top_k"], settings["top_p"], args.seed)
    if lm.manifest.get("game") is not None:  # a chess release: a game, not a text
        return play_game(lm, located.path, settings, args)
    if args.json:
        raise UsageError("--json is for game releases (daydream); this one writes text")
    if trained_chat(lm.manifest):  # `sup guppy "hi guppy"`: one turn of a chat
        return one_turn(lm, located.path, settings, args)
    prompt = build_prompt(
        lm.manifest.get("controls"),
        getattr(args, "control_flags", {}),
        check_prompt(" ".join(args.prompt)),
        lambda text: len(lm.encode(text)[0]),
        lm.block_size,
    )
    context, unknown = lm.context(prompt)
    _prompt_notes(lm, prompt, unknown)
    out = sys.stdout
    shown = terminal_safe(out)
    out.write(shown(prompt))
    out.flush()
    try:
        for text in voice(lm, context, settings, args.seed):
            out.write(shown(text))
            out.flush()
    except KeyboardInterrupt:
        with contextlib.suppress(OSError):  # end the line; main() says why we stopped
            out.write("\n")
            out.flush()
        raise
    out.write("\n")
    out.flush()
    return 0


def play_game(lm, path, settings: dict, args) -> int:
    """A game release (``play/daydream.py``): the model against the engine or itself."""
    from sup.chess.tiers import tier
    from sup.instruments.voices import Voice
    from sup.play.daydream import parse_options, play, printer

    options = parse_options(getattr(args, "control_flags", {}))
    if args.prompt:
        raise UsageError("a chess release takes no prompt: the game starts from the start")
    out = sys.stdout
    show = (
        (lambda kind, text: None) if args.json else printer(out, terminal_safe(out), out.isatty())
    )
    board = tier(lm.manifest["game"]["tier"])
    game = play(Voice("bundle", path, _lm=lm), board, options, settings["temperature"], args.seed,
                show)  # fmt: skip
    if args.json:
        print(json.dumps(game))
    return 0


def trained_chat(manifest: dict) -> bool:
    """A model trained on conversations (its template has <|markers|>): its prompt is a
    message, never text to continue. A plain-text template keeps playing as text."""
    from sup.play.chat import special_markers

    chat = manifest.get("chat")
    return isinstance(chat, dict) and bool(special_markers(chat))


def one_turn(lm, path, settings: dict, args) -> int:
    from sup.cli.chat import ChatSession, dropped_note
    from sup.instruments.voices import Voice
    from sup.play.sampling import check_prompt

    text = check_prompt(" ".join(args.prompt))
    if not text.strip():
        raise UsageError(f'{lm.id} is a chat model: say something (sup {args.name} "hi")')
    out = sys.stdout
    shown = terminal_safe(out)
    for piece in ChatSession(Voice("bundle", path, _lm=lm), settings, args.seed).ask(
        text, dropped_note
    ):
        out.write(shown(piece))
        out.flush()
    out.write("\n")
    out.flush()
    return 0


# The play parser's own long options (add_commands; tests/test_controls.py keeps them equal).
PLAY_FLAGS = frozenset(
    {"--help", "--temperature", "--top-k", "--top-p", "--seed", "--max-new-tokens",
     "--threads", "--registry", "--json"}
)  # fmt: skip


def take_control_flags(argv: list[str]) -> tuple[list[str], dict[str, str]]:
    """Split ``sup play NAME ...`` into what argparse parses and instrument controls.

    A release's controls are flags only its manifest knows (``sup gatsby --level 5``),
    so they cannot be declared before the model is found: any ``--name VALUE`` or
    ``--name=VALUE`` that is not one of play's options (or an abbreviation of one) is
    taken here, and ``cmd_play`` checks it against the manifest. ``--`` ends options.
    """
    rest, controls, i = [], {}, 0
    while i < len(argv):
        word = argv[i]
        if word == "--":
            rest += argv[i:]
            break
        name, eq, value = word.partition("=")
        ours = name in PLAY_FLAGS or any(f.startswith(name) for f in PLAY_FLAGS)
        if not word.startswith("--") or len(name) < 3 or ours:
            rest.append(word)
            i += 1
            continue
        if not eq:
            if i + 1 >= len(argv):
                raise UsageError(f"{name} needs a value")
            value, i = argv[i + 1], i + 1
        controls[name[2:].replace("-", "_")] = value
        i += 1
    return rest, controls


def _interruptible() -> None:
    """Make SIGINT stop the player even when it started with SIGINT ignored.

    A shell without job control (a script's ``&``, ``nohup``) starts background jobs
    with SIGINT ignored, and Python keeps an inherited "ignore", so ``kill -INT`` would
    never stop the voice. Terminal Ctrl-C reaches only the foreground process group, so
    restoring Python's handler cannot stop a background job by surprise.
    """
    if threading.current_thread() is threading.main_thread():  # signal.signal's rule
        signal.signal(signal.SIGINT, signal.default_int_handler)


SETTINGS = {  # generation default -> the types the manifest may give it
    "temperature": (int, float),
    "top_k": (int, type(None)),
    "top_p": (int, float, type(None)),
    "max_new_tokens": (int,),
}


def generation_settings(defaults: dict | None, args) -> dict:
    """The manifest's defaults, overridden by whichever flags were given."""
    settings = {}
    for key, types in SETTINGS.items():
        value = getattr(args, key)
        if value is None:
            value = defaults.get(key) if isinstance(defaults, dict) else None
            if not isinstance(value, types) or isinstance(value, bool):
                raise SupError(f"the bundle's manifest has no valid generation default {key}")
        settings[key] = value
    return settings


def terminal_safe(stream):
    """How generated text is written to ``stream``: a tokenizer is an untrusted file and
    can make a model emit control characters, so on a terminal they are shown escaped
    (formats/printable.py); a pipe or file gets the exact text."""
    from sup.formats.printable import printable

    if stream.isatty():
        return lambda text: printable(text, keep_newlines=True)
    return lambda text: text


def voice(lm, context: list[int], settings: dict, seed: int) -> Iterator[str]:
    """The continuation as text, piece by piece, never splitting a UTF-8 character."""
    from sup.play.sampling import Utf8Stream

    stream = Utf8Stream()
    for token in lm.generate(
        context,
        settings["max_new_tokens"],
        temperature=settings["temperature"],
        top_k=settings["top_k"],
        top_p=settings["top_p"],
        seed=seed,
    ):
        if text := stream.push(lm.tokenizer.token_bytes(token)):
            yield text
    if tail := stream.flush():
        yield tail


def cmd_pull(args) -> int:
    from sup.play.catalog import is_bundle_path, locate

    if is_bundle_path(args.name):
        raise UsageError(f"{args.name} is a bundle directory: play it directly, no pull needed")
    located = locate(args.name, args.registry, progress=Bar())
    if located.origin != "registry" or not located.pulled.downloaded:
        print(f"{located.id} is cached", file=sys.stderr)
    _report(located)
    print(located.path)
    return 0


def cmd_rm(args) -> int:
    from sup.play.cache import cache_root, cached_bundles, remove

    removed = remove(args.name)
    if not removed:
        ids = sorted({b.id for b in cached_bundles()})
        have = f"cached: {', '.join(ids)}" if ids else f"the cache {cache_root()} is empty"
        raise SupError(f"nothing cached for {args.name!r} ({have})")
    for item in removed:
        print(f"removed {item['id']} ({human_size(item['size'])})", file=sys.stderr)
    return 0


def cmd_list(args) -> int:
    from sup.formats.printable import printable
    from sup.play.catalog import listing

    result = listing(args.registry)
    if result["offline"]:
        note(f"{result['offline']}; listing cached models only")
    if args.json:
        print(json.dumps(result))
        return 0
    if not result["models"]:
        print(printable(f"no models in {result['registry']}"), file=sys.stderr)
        return 0
    rows = [("ID", "PARAMS", "TOKENIZER", "PRECISION", "SIZE", "HELD-OUT BITS", "CACHED")]
    for m in result["models"]:
        tokenizer = m["tokenizer"] if isinstance(m.get("tokenizer"), dict) else {}
        cells = (
            m["id"],
            human_count(m["params"]),
            f"{tokenizer.get('type')}/{tokenizer.get('vocab_size')}",
            str(m["precision"]),
            human_size(m["size"]),
            held_out_bits(m),
            "yes" if m["cached"] else "-",
        )
        rows.append(tuple(printable(c) for c in cells))  # registry fields are untrusted
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


def held_out_bits(entry: dict) -> str:
    """The held-out figure of the graphs a player runs, with its unit and source.

    fp32: ``sup eval``'s bits per character (the checkpoint's, which the graphs match
    within export parity). int8: the int8 gate's bits per byte of the int8 graphs
    themselves; a registry without that figure gets the fp32 one, labelled so.
    """
    metrics = entry["metrics"] if isinstance(entry.get("metrics"), dict) else {}
    bpc, int8_bpb = metrics.get("bits_per_char"), entry.get("int8_bits_per_byte")
    if entry.get("precision") == "int8" and _is_number(int8_bpb):
        return f"{int8_bpb:.3f} bpb (int8)"
    if not _is_number(bpc):
        return "-"
    return f"{bpc:.3f} bpc" + (" (fp32)" if entry.get("precision") != "fp32" else "")


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


class Bar:
    """``cache.PullProgress`` as a one-line download bar on stderr, drawn only when
    stderr is a terminal (logs and pipes get the single "pulled ..." line instead).
    Not a subclass, so that ``sup --help`` need not import the network stack."""

    WIDTH = 24

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.drawn = False

    def waiting(self, bundle_id: str) -> None:
        print(f"waiting for another sup pulling {bundle_id}...", file=self.stream)

    def start(self, bundle_id: str, total: int, done: int) -> None:
        self.id, self.total, self.done, self.first = bundle_id, total, done, done
        self.t0 = self.last = time.monotonic()
        self._draw(force=True)

    def advance(self, nbytes: int) -> None:
        self.done += nbytes
        self._draw()

    def finish(self) -> None:
        if self.drawn:
            self._draw(force=True)
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if not self.tty or (not force and now - self.last < 0.1):
            return
        self.last, self.drawn = now, True
        frac = min(max(self.done / self.total, 0.0), 1.0) if self.total else 1.0
        filled = int(frac * self.WIDTH)
        rate = (self.done - self.first) / max(now - self.t0, 1e-6)
        self.stream.write(
            f"\rpulling {self.id} [{'=' * filled}{' ' * (self.WIDTH - filled)}] {frac:4.0%} "
            f"{human_size(self.done)} / {human_size(self.total)}  {human_size(rate)}/s\x1b[K"
        )
        self.stream.flush()


def human_size(n) -> str:
    if not isinstance(n, int | float):
        return "-"
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def human_count(n) -> str:
    if not isinstance(n, int):
        return "-"
    return f"{n / 1e6:.1f}M" if n >= 1e6 else f"{n / 1e3:.0f}k" if n >= 1e3 else str(n)


def _check_flags(args) -> None:
    """Refuse bad flag values before any download (the manifest fills in the rest)."""
    from sup.play.sampling import check_sampling

    temperature = 0.0 if args.temperature is None else args.temperature
    check_sampling(temperature, args.top_k, args.top_p, args.seed)
    if args.max_new_tokens is not None and args.max_new_tokens < 0:
        raise UsageError(f"--max-new-tokens must be >= 0, got {args.max_new_tokens}")
    if args.threads < 1:
        raise UsageError(f"--threads must be at least 1, got {args.threads}")


def note(message: str, prefix: str = "note: ") -> None:
    """A status line on stderr; it may quote a registry or a server, so it is shown
    printable (formats/printable.py)."""
    from sup.formats.printable import printable

    print(printable(prefix + message), file=sys.stderr)


def _report(located) -> None:
    if located.note:
        note(located.note)
    pulled = located.pulled
    if pulled and pulled.repaired:
        note(f"the cached {pulled.id} was damaged ({pulled.repaired})")
    if pulled and pulled.downloaded:
        note(f"pulled {pulled.id} ({human_size(pulled.downloaded)}) into {pulled.path}", "")


def _prompt_notes(lm, prompt: str, unknown: int) -> None:
    if unknown:
        print(
            f"note: {unknown} prompt character(s) are not in {lm.id}'s vocabulary; "
            "they play as <unk>",
            file=sys.stderr,
        )
    n = len(lm.encode(prompt)[0]) if prompt else 0
    if n > lm.block_size:
        print(
            f"note: the prompt is {n} tokens; the model hears its last {lm.block_size} "
            "(its context)",
            file=sys.stderr,
        )


@functools.cache
def _intermixed(base: type) -> type:
    """``base`` parsing flags and prompt words in any order: argparse alone stops
    ``sup kenosha --seed 3 you never`` at "you" (its positionals are taken in one go)."""

    class Intermixed(base):
        _inner = False

        def parse_known_args(self, args=None, namespace=None):
            if self._inner:  # parse_known_intermixed_args calls back in here
                return super().parse_known_args(args, namespace)
            self._inner = True
            try:
                return self.parse_known_intermixed_args(args, namespace)
            finally:
                self._inner = False

    return Intermixed


def add_commands(sub) -> None:
    registry = {"metavar": "URL|PATH", "help": "registry.json to use (default: $SUP_REGISTRY)"}

    p = sub.add_parser("play", help="stream a model's voice (also: sup NAME [PROMPT])")
    p.add_argument("name", help="id (kenosha-2), lineage (kenosha: newest) or bundle directory")
    p.add_argument(
        "prompt", nargs="*", default=[], help="text to continue (words joined by spaces)"
    )
    p.add_argument("--temperature", type=float, help="0 = greedy (default: the model's)")
    p.add_argument("--top-k", type=int, help="keep the k likeliest tokens")
    p.add_argument("--top-p", type=float, help="keep the smallest set with this much mass")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-new-tokens", type=int, help="default: the model's")
    p.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads (default 1)")
    p.add_argument("--json", action="store_true", help="a game release: print the game record")
    p.add_argument("--registry", **registry)
    p.set_defaults(func=cmd_play)
    p.__class__ = _intermixed(type(p))
    p.long_options = frozenset(o for o in p._option_string_actions if o.startswith("--"))

    pl = sub.add_parser("pull", help="download and verify a model into the cache")
    pl.add_argument("name", help="id (kenosha-2) or lineage (kenosha: newest)")
    pl.add_argument("--registry", **registry)
    pl.set_defaults(func=cmd_pull)

    ls = sub.add_parser("list", help="models in the registry, and which are cached")
    ls.add_argument("--registry", **registry)
    ls.add_argument("--json", action="store_true", help="print one JSON object")
    ls.set_defaults(func=cmd_list)

    rm = sub.add_parser("rm", help="remove an id (or every version of a lineage) from the cache")
    rm.add_argument("name", help="id or lineage")
    rm.set_defaults(func=cmd_rm)
