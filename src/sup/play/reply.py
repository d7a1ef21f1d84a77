"""One reply of ``sup serve``: the shared generation rule turned into text pieces that
are safe to send, cut before the first stop string, and stoppable from another thread.

``TextGeneration`` decodes token bytes with ``Utf8Stream``; ``StopCutter`` holds back any
tail a stop string could still claim, so a streamed reply equals the whole one; a set
cancel flag (the client left, the server is stopping) raises ``Cancelled`` at the next
token.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterator

from sup.play.openai_api import Sampling
from sup.play.runtime import OnnxLM
from sup.play.sampling import Utf8Stream


class StopCutter:
    """Cuts streamed text before the first stop string.

    Text is released only when no stop string can still begin inside it: the longest
    unsent tail that is a prefix of some stop string waits for the next piece. So a
    stop string is found even when it spans tokens, and a stop string can only start
    at or after the first unsent character, which is where searching starts.
    """

    def __init__(self, stops: tuple[str, ...]):
        self.stops = stops
        self.text = ""
        self.sent = 0
        self.stopped = False

    def push(self, piece: str, final: bool = False) -> str:
        """Add ``piece``; return the text now safe to send (all of it when ``final``)."""
        if self.stopped:
            return ""
        self.text += piece
        hits = [i for s in self.stops if (i := self.text.find(s, self.sent)) >= 0]
        if hits:
            self.stopped = True
            end = min(hits)
        else:
            end = len(self.text) if final else len(self.text) - self.held_back()
        out, self.sent = self.text[self.sent : end], end
        return out

    def held_back(self) -> int:
        tail = self.text[self.sent :]
        return max(
            (
                k
                for s in self.stops
                for k in range(1, min(len(s), len(tail) + 1))
                if tail.endswith(s[:k])
            ),
            default=0,
        )


class Cancelled(Exception):
    """A generation stopped before its end: its client left or the server is stopping."""


class TextGeneration:
    """One reply: iterate it for text pieces as they become safe to send; afterwards
    ``finish_reason`` and ``usage()`` say how it ended. Iterating raises ``Cancelled``
    once any of the ``cancel`` flags is set (checked as each token arrives), so another
    thread can stop it within one token."""

    def __init__(
        self,
        lm: OnnxLM,
        context: list[int],
        sampling: Sampling,
        cancel: Collection[threading.Event] = (),
    ):
        self.lm, self.context, self.sampling, self.cancel = lm, context, sampling, cancel
        self.finish_reason = "length"
        self.completion_tokens = 0

    def cancelled(self) -> bool:
        return any(flag.is_set() for flag in self.cancel)

    def usage(self) -> dict:
        """Prompt tokens are the context the model read (``prompt_prefix`` included,
        cropped to ``block_size``); completion tokens are every token sampled, the
        end-of-document token and one that completed a stop string included."""
        prompt, completion = len(self.context), self.completion_tokens
        total = prompt + completion
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}

    def __iter__(self) -> Iterator[str]:
        s = self.sampling
        utf8, cutter = Utf8Stream(), StopCutter(s.stop)
        stop_ids = set(self.lm.generation["stop_ids"])
        tokens = self.lm.generate(
            self.context,
            s.max_tokens,
            temperature=s.temperature,
            top_k=s.top_k,
            top_p=s.top_p,
            seed=s.seed,
        )
        for token in tokens:
            if self.cancelled():
                raise Cancelled
            self.completion_tokens += 1
            if token in stop_ids:
                self.finish_reason = "stop"
                break
            piece = cutter.push(utf8.push(self.lm.tokenizer.token_bytes(token)))
            if piece:
                yield piece
            if cutter.stopped:
                self.finish_reason = "stop"
                return
        tail = cutter.push(utf8.flush(), final=True)
        if cutter.stopped:
            self.finish_reason = "stop"
        if tail:
            yield tail
