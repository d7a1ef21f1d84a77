"""Text from files anyone can write, made safe to print on a terminal.

Registries, manifests, tokenizers and model cards are untrusted input (anyone can host
a registry), and a terminal obeys control characters: ESC starts sequences that clear
the screen, retitle the window or write the clipboard (OSC 52), and bidirectional
overrides reorder what a line appears to say. Everything sup prints that came from
such a file goes through ``printable``, which shows each of those characters as a
visible escape (``\\x1b``, ``\\u202e``) instead of sending it. The browser player
follows the same rule (web/app.js).
"""

from __future__ import annotations

import re

# C0 controls but tab (newline only where a caller keeps it), DEL, the C1 controls,
# and the bidirectional embeddings, overrides and isolates.
_CONTROL = "\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069"
_UNSAFE = re.compile(f"[{_CONTROL}\n]")
_UNSAFE_KEEP_NEWLINES = re.compile(f"[{_CONTROL}]")


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: object, keep_newlines: bool = False) -> str:
    """``text`` with every control character shown as an escape; newlines too unless
    ``keep_newlines`` (a one-line message stays one line)."""
    pattern = _UNSAFE_KEEP_NEWLINES if keep_newlines else _UNSAFE
    return pattern.sub(_escape, str(text))
