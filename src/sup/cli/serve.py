"""CLI command ``sup serve``: the player page, the releases and an OpenAI-compatible API
(the site is sup/play/serve.py). This module owns the process: flags, the listening
socket, uvicorn, signals and the lines printed. Registered by sup/cli/main.py."""

from __future__ import annotations

import ipaddress
import signal
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from sup.errors import SupError, UsageError

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
# How long shutdown waits for requests in flight once their generations are cancelled
# (a slow reader's stream, a bundle still loading), before uvicorn cancels them.
GRACEFUL_SHUTDOWN_S = 3


def cmd_serve(args) -> int:
    check_flags(args)
    releases = Path(args.releases)
    if not releases.is_dir():
        raise SupError(f"releases directory not found: {releases} (choose one with --releases)")
    from sup.play.serve import Catalogue, create_app, default_web_dir  # after the cheap checks

    catalogue = Catalogue(releases, args.threads)
    n_models = len(catalogue.registry()["models"])  # a missing or bad registry stops here
    web = Path(args.web) if args.web else default_web_dir()
    local = is_loopback(args.host)
    stopping = threading.Event()
    app = create_app(
        catalogue,
        web,
        max_tokens_cap=args.max_tokens_cap,
        max_body_bytes=args.max_body_bytes,
        allowed_hosts=sorted({*LOOPBACK_NAMES, url_host(args.host)}) if local else None,
        host=args.host,
        stopping=stopping,
    )
    sock = listen_socket(args.host, args.port)
    if not local:
        print(
            f"sup: warning: listening on {args.host}: anyone who can reach this machine can "
            "use the API and read the releases (there is no authentication)",
            file=sys.stderr,
        )
    base = f"http://{url_host(args.host)}:{sock.getsockname()[1]}"
    page = "player" if web.is_dir() else f"no player page: {web} is missing"

    def ready() -> None:
        print(
            f"sup serve: {base}/ ({page}), {base}/v1 (OpenAI API, {n_models} models "
            f"from {releases}); Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )

    run_server(app, sock, ready, on_stop=stopping.set)
    return 0


def check_flags(args) -> None:
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port must be in [0, 65535] (0 picks a free port), got {args.port}")
    if args.max_tokens_cap < 1:
        raise UsageError(f"--max-tokens-cap must be at least 1, got {args.max_tokens_cap}")
    if args.max_body_bytes < 1024:
        raise UsageError(f"--max-body-bytes must be at least 1024, got {args.max_body_bytes}")
    if args.threads is not None and args.threads < 1:
        raise UsageError(f"--threads must be at least 1, got {args.threads}")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_host(host: str) -> str:
    """``host`` as written in a URL or a Host header: IPv6 literals in brackets."""
    return f"[{host}]" if ":" in host else host


def listen_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (port 0: any free port), or a one-line SupError.

    Binding here rather than in uvicorn turns "address in use" into that error
    instead of a log line and ``sys.exit``, and tells us the port we got.
    """
    sock = None
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as e:  # socket.gaierror included
        if sock is not None:
            sock.close()
        raise SupError(f"cannot listen on {url_host(host)}:{port}: {e.strerror or e}") from None
    return sock


def run_server(
    app, sock: socket.socket, on_ready: Callable[[], None], on_stop: Callable[[], None]
) -> None:
    """Serve on ``sock`` until SIGINT or SIGTERM, then return within a few seconds.

    Shutting down first calls ``on_stop``, which cancels every generation in flight
    (each stops at its next token): uvicorn's graceful shutdown waits for requests to
    finish, and a thread generating max_tokens cannot be interrupted, only asked to
    stop. What is left (a slow reader, a bundle loading) gets ``GRACEFUL_SHUTDOWN_S``,
    then uvicorn cancels it.

    uvicorn re-raises the signal it caught once it has shut down, so that the handler
    installed before it runs; ours does nothing, so stopping is a normal return (exit
    0) instead of a KeyboardInterrupt or death by SIGTERM.
    """
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if self.started:  # listening now
                on_ready()

        async def shutdown(self, sockets=None) -> None:
            on_stop()
            await super().shutdown(sockets)

    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    stopping = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, lambda *_: None) for sig in stopping}
    try:
        Server(config).run(sockets=[sock])
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def add_commands(sub) -> None:
    s = sub.add_parser(
        "serve", help="serve the player page, the releases and an OpenAI-compatible API"
    )
    s.add_argument(
        "--releases",
        metavar="DIR",
        default="releases",
        help="with registry.json (default releases)",
    )
    s.add_argument("--web", metavar="DIR", help="player page (default: the repository's web/)")
    s.add_argument(
        "--host", metavar="ADDR", default="127.0.0.1", help="(default 127.0.0.1; any other warns)"
    )
    s.add_argument("--port", metavar="N", type=int, default=8000, help="(default 8000; 0: any)")
    s.add_argument(
        "--max-tokens-cap",
        metavar="N",
        type=int,
        default=1024,
        help="largest max_tokens a request may ask (default 1024)",
    )
    s.add_argument(
        "--max-body-bytes",
        metavar="N",
        type=int,
        default=65536,
        help="largest request body accepted (default 65536)",
    )
    s.add_argument(
        "--threads",
        metavar="N",
        type=int,
        default=None,
        help="ONNX Runtime threads per model (default: its own choice)",
    )
    s.set_defaults(func=cmd_serve)
