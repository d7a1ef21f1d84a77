"""Who may call ``sup serve``'s API, and what its error bodies may tell them.

``ApiGate`` wraps the API (mounted at /v1) and refuses, before any work is done, what
a web page elsewhere could make a browser send: a foreign ``Origin`` (403) and a POST
not declared JSON (415). ``client_message`` is what a client learns of a server-side
failure: release ids and paths inside the releases directory, never a host path (the
full message goes to the server's log). Policy and reasons: sup/play/serve.py,
"Safety".
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from sup.errors import SupError
from sup.play.openai_api import ApiError

# The names a browser may give this machine's loopback interface in an Origin (as
# urlsplit reports them: lowercase, IPv6 without brackets).
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
DEFAULT_PORTS = {"http": 80, "https": 443}  # an Origin leaves its scheme's port out
# An absolute path (POSIX, a Windows drive or a UNC share) where a path can start.
ABSOLUTE_PATH = re.compile(r"(?:^|(?<=[\s'\"(\[=,:]))(?:/|[A-Za-z]:[\\/]|\\\\)[^\s]")


class ReleaseError(SupError):
    """A release that cannot be served: its id for the client, the detail for the log."""

    def __init__(self, release: str, detail: str):
        super().__init__(f"release {release} cannot be served: {detail}")
        self.release, self.detail = release, detail


def client_message(e: SupError, releases: Path) -> str:
    """What a client is told of a server-side error. The detail names files by their
    path inside the releases directory; if any other absolute path is left in it (a
    symlink's target, a path in a library's message), it is left out altogether, so
    no response body tells a client where the server's files are."""
    if isinstance(e, ReleaseError):
        head, detail = f"release {e.release} cannot be served", e.detail
    else:  # the API's only other SupErrors are Catalogue.registry's
        head, detail = "the registry cannot be read", str(e)
    detail = detail.replace(f"{releases}{os.sep}", "")
    detail = detail.replace(str(releases), "the releases directory")
    if ABSOLUTE_PATH.search(detail):
        return f"{head} (the server's log says why)"
    return f"{head}: {detail}"


class ApiGate:
    """Refuses, before the API sees them, requests a web page elsewhere could make a
    browser send: any with a foreign ``Origin`` (403) and POSTs whose body is not
    declared JSON (415). Browsers send ``Origin`` on every cross-origin request but
    let "simple" POSTs (text/plain, form bodies) through without a CORS preflight, so
    CORS alone would let any page make this server generate; the content-type rule
    refuses those even from a client that sends no Origin."""

    def __init__(self, app: ASGIApp, own_hosts: frozenset[str]):
        self.app, self.own_hosts = app, own_hosts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        refusal = self.refusal(scope) if scope["type"] == "http" else None
        if refusal is None:
            await self.app(scope, receive, send)
        else:
            await JSONResponse(refusal.body(), refusal.status)(scope, receive, send)

    def refusal(self, scope: Scope) -> ApiError | None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        origin = headers.get("origin")
        if origin is not None and not self.own_origin(origin, scope):
            message = (
                f"cross-origin requests are refused: Origin {origin[:100]!r} is not this "
                "server's (call the API from its own page or from a program)"
            )
            return ApiError(403, message, None, "cross_origin_refused")
        media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if scope["method"] == "POST" and media != "application/json":
            message = "request bodies must be JSON: send Content-Type: application/json"
            return ApiError(415, message, None, "unsupported_media_type")
        return None

    def own_origin(self, origin: str, scope: Scope) -> bool:
        """Whether ``origin`` is this server: its scheme and port, and one of its own
        host names or the address this connection reached (a wildcard bind's)."""
        server_host, server_port = scope.get("server") or (None, None)
        try:
            url = urlsplit(origin)
            port = url.port or DEFAULT_PORTS.get(url.scheme)
        except ValueError:  # a malformed port
            return False
        return (
            url.scheme == scope.get("scheme", "http")
            and port == server_port
            and url.hostname in {*self.own_hosts, server_host}
            and origin == f"{url.scheme}://{url.netloc}"  # an origin has no path
        )
