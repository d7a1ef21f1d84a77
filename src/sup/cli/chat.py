"""``sup chat NAME|RUN_DIR``: talk with a chat model in the terminal.

Interactive on a terminal: readline editing and history (kept in the user cache,
``chat_history``), the reply streamed as it is
sampled, ``/reset`` to start over, ``/quit`` or Ctrl-D to leave; Ctrl-C stops a reply
(the conversation goes on without it) or, at the prompt, leaves. ``--prompt TEXT`` asks
once and prints the reply alone, for pipes. The prompt is built from the model's chat
template and cropped at whole turns when the conversation outgrows the context
(``play/chat.py`` ``fit_turns``), with a note saying how many messages were left out.

Each reply is sampled with seed ``--seed + n`` for the n-th reply of the session (0
first; ``/reset`` does not restart the count), so a session replays exactly and no two
replies share a seed. A reply ends at a stop token (the template's markers, end of
text) or before the first of the template's ``stop`` strings, as in ``sup serve``.
"""

from __future__ import annotations

import atexit
import contextlib
import sys
from pathlib import Path

from sup.errors import UsageError

COMMANDS = {"/reset": "forget the conversation", "/quit": "leave (Ctrl-D too)"}


class ChatSession:
    """A conversation with one chat model (an ``instruments.voices.Voice``)."""

    def __init__(self, voice, settings: dict, seed: int):
        self.stops = voice.chat_template()["stop"]  # refuses a model that is not a chat model
        self.voice, self.settings, self.seed = voice, settings, seed
        self.messages: list[dict] = []
        self.replies = 0

    def reset(self) -> None:
        self.messages = []

    def ask(self, text: str, on_dropped=lambda n: None):
        """Yield the reply to ``text`` as text pieces; the exchange is kept once the
        reply is complete (a reply stopped by Ctrl-C is dropped with its question)."""
        from sup.play.reply import StopCutter
        from sup.play.sampling import Utf8Stream

        s = self.settings
        messages = [*self.messages, {"role": "user", "content": text}]
        ids, dropped = self.voice.reply_ids(
            messages, s["max_new_tokens"], s["temperature"], self.seed + self.replies,
            s["top_k"], s["top_p"],
        )  # fmt: skip
        if dropped:
            on_dropped(dropped)
        self.replies += 1
        stream, cutter, reply = Utf8Stream(), StopCutter(tuple(self.stops)), ""
        for token in ids:
            if piece := cutter.push(stream.push(self.voice.tokenizer.token_bytes(token))):
                reply += piece
                yield piece
            if cutter.stopped:
                break
        if tail := cutter.push(stream.flush(), final=True):
            reply += tail
            yield tail
        self.messages = [*messages, {"role": "assistant", "content": reply}]


def open_chat_voice(target: str, registry, threads: int | None):
    """A run directory (PyTorch) or a release name or bundle path (ONNX Runtime)."""
    from sup.formats.run import RUN_FILE
    from sup.instruments.voices import Voice, open_voice

    if (Path(target) / RUN_FILE).is_file():
        return open_voice(Path(target)), None
    from sup.cli.play import Bar, _report
    from sup.play.catalog import locate
    from sup.play.runtime import OnnxLM

    located = locate(target, registry, progress=Bar())
    _report(located)
    lm = OnnxLM(located.path, verify=False, threads=threads)
    return Voice("bundle", located.path, _lm=lm), lm.generation.get("defaults")


def cmd_chat(args) -> int:
    from sup.cli.play import _check_flags, _interruptible, generation_settings, terminal_safe
    from sup.play.sampling import check_prompt, check_sampling

    _interruptible()
    _check_flags(args)
    voice, defaults = open_chat_voice(args.target, args.registry, args.threads)
    defaults = defaults or {"temperature": 0.8, "top_k": None, "top_p": None,
                            "max_new_tokens": 200}  # fmt: skip
    settings = generation_settings(defaults, args)
    check_sampling(settings["temperature"], settings["top_k"], settings["top_p"], args.seed)
    session = ChatSession(voice, settings, args.seed)
    out = sys.stdout
    shown = terminal_safe(out)
    if args.prompt is not None:
        text = check_prompt(args.prompt)
        if not text.strip():
            raise UsageError("--prompt is empty: say something to the model")
        for piece in session.ask(text, dropped_note):
            out.write(shown(piece))
            out.flush()
        out.write("\n")
        return 0
    return interactive(session, out, shown)


def dropped_note(n: int) -> None:
    print(
        f"note: the conversation outgrew the model's context; the oldest {n} "
        f"message{'s were' if n != 1 else ' was'} left out",
        file=sys.stderr,
    )


HISTORY_LINES = 1000


def keep_history() -> None:
    """Line editing for ``input()`` (readline), with the history of earlier chats kept
    in the user cache (``chat_history``); without readline, plain input."""
    try:
        import readline
    except ImportError:
        return
    from sup.play.cache import cache_root

    path = cache_root() / "chat_history"
    with contextlib.suppress(OSError):
        readline.read_history_file(path)
    readline.set_history_length(HISTORY_LINES)

    def save() -> None:
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            readline.write_history_file(path)

    atexit.register(save)


def interactive(session: ChatSession, out, shown) -> int:
    tty = sys.stdin.isatty()
    if tty:
        keep_history()
        print("type a message; /reset starts over, /quit or Ctrl-D leaves", file=sys.stderr)
    while True:
        try:
            text = input("you> " if tty else "")
        except EOFError:
            if tty:
                out.write("\n")
            return 0
        except KeyboardInterrupt:
            out.write("\n")
            return 0
        text = text.strip()
        if not text:
            continue
        if text in ("/quit", "/exit"):
            return 0
        if text == "/reset":
            session.reset()
            print("(the conversation starts over)", file=sys.stderr)
            continue
        if text.startswith("/") and " " not in text:
            known = ", ".join(COMMANDS)
            print(f"unknown command {text[:40]}: commands are {known}", file=sys.stderr)
            continue
        if tty:
            out.write("bot> ")
        try:
            for piece in session.ask(text, dropped_note):
                out.write(shown(piece))
                out.flush()
        except KeyboardInterrupt:
            out.write(" [stopped]")
        out.write("\n")
        out.flush()


def add_commands(sub) -> None:
    c = sub.add_parser("chat", help="talk with a chat model (a release name or a run directory)")
    c.add_argument("target", metavar="NAME|RUN_DIR", help="a chat release, bundle or run")
    c.add_argument("--prompt", help="ask once, print the reply and exit (for pipes)")
    c.add_argument("--temperature", type=float)
    c.add_argument("--top-k", type=int)
    c.add_argument("--top-p", type=float)
    c.add_argument("--max-new-tokens", type=int)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--threads", type=int, default=1, help="ONNX Runtime threads (default 1)")
    c.add_argument(
        "--registry", metavar="URL|PATH", help="registry.json to use (default: $SUP_REGISTRY)"
    )
    c.set_defaults(func=cmd_chat)
