"""Run a bundle with ONNX Runtime: numpy and onnxruntime only, never torch.

``OnnxLM`` is what ``sup NAME``, ``sup serve`` and the benchmarks play. Generation
follows the rule written in the manifest (docs/ARCHITECTURE.md, "Bundles"), the same
rule as ``generate.generate`` in PyTorch and ``web/src/player.js`` in the browser:
the context goes through the KV graph once, then each new token is one single-token
call that appends to the cache; a full cache restarts from the last
``cache_restart_keep`` tokens.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from sup.errors import SupError
from sup.formats.manifest import Bundle, file_problems, read_manifest
from sup.formats.tokenizer import player_tokenizer
from sup.play.chat import chat_context
from sup.play.sampling import pick_token_np


def ort_session(path: Path, threads: int | None = None):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.log_severity_level = 3  # warnings about unused initializers are noise here
    if threads:
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as e:  # onnxruntime raises its own exception types
        raise SupError(f"cannot load {path}: {str(e).splitlines()[0]}") from None


def check_graph(session, model: dict, where: Path) -> None:
    """The KV graph against the manifest: the logits' width is the vocabulary, the past
    has the manifest's layers, heads and head size, and one step at the last position
    of the block runs (a block size beyond the graph's position tables fails there)."""
    shapes = {
        "logits": session.get_outputs()[0].shape,
        "past": next(i.shape for i in session.get_inputs() if i.name == "past"),
    }
    want = {
        "logits": [None, model["vocab_size"]],
        "past": [model["n_layer"], 2, None, model["n_head"], None, model["head_dim"]],
    }
    for name, shape in shapes.items():
        fixed = [d if isinstance(d, int) else None for d in shape]
        if len(fixed) != len(want[name]) or any(
            d is not None and w is not None and d != w
            for d, w in zip(fixed, want[name], strict=True)
        ):
            raise SupError(
                f"{where}: the KV graph's {name} has shape {shape}, which the manifest's "
                "model does not describe; refusing the bundle"
            )
    import onnxruntime as ort

    shape = (model["n_layer"], 2, 1, model["n_head"], model["block_size"] - 1, model["head_dim"])
    quiet = ort.RunOptions()
    quiet.log_severity_level = 4  # the failure is reported below, in one line
    try:
        feeds = {"input_ids": np.zeros((1, 1), np.int64), "past": np.zeros(shape, np.float32)}
        logits, _ = session.run(None, feeds, quiet)
    except Exception:  # onnxruntime raises its own exception types
        raise SupError(
            f"{where}: the manifest's block_size {model['block_size']} is larger than "
            "the graph supports; refusing the bundle"
        ) from None
    if logits.shape != (1, model["vocab_size"]):
        raise SupError(f"{where}: the KV graph's logits do not match the manifest's vocabulary")


class KvRunner:
    """The KV graph as a stateless function: (new ids, past) -> (logits, present)."""

    def __init__(self, session, model: dict):
        self.session = session
        self.model = model

    def empty_past(self, batch: int) -> np.ndarray:
        m = self.model
        return np.zeros((m["n_layer"], 2, batch, m["n_head"], 0, m["head_dim"]), np.float32)

    def __call__(self, ids: np.ndarray, past: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits, present = self.session.run(
            None, {"input_ids": np.asarray(ids, dtype=np.int64), "past": past}
        )
        return logits, present


def generate_ids(
    kv: KvRunner,
    context: list[int],
    max_new_tokens: int,
    generation: dict,
    *,
    temperature: float,
    top_k: int | None = None,
    top_p: float | None = None,
    rng: np.random.Generator | None = None,
    full=None,
) -> Iterator[int]:
    """Yield new token ids one at a time (the generation rule; see the module doc).

    With ``full`` (a callable ids -> logits over the full-context graph) every token
    re-runs the last ``block_size`` tokens instead: the no-cache reference loop.
    """
    block = kv.model["block_size"]
    keep = generation["cache_restart_keep"]
    banned = tuple(generation["banned_ids"])
    stop = set(generation["stop_ids"])
    history = list(context[-block:])
    if not history:
        raise ValueError("generation needs at least one context token")
    if full is not None:
        logits = full(history)
    else:
        logits, past = kv(np.array([history]), kv.empty_past(1))
    for n in range(max_new_tokens):
        token = pick_token_np(logits[0], temperature, top_k, top_p, rng, banned)
        yield token
        if token in stop or n == max_new_tokens - 1:
            return
        history.append(token)
        if full is not None:
            logits = full(history[-block:])
        elif past.shape[4] >= block:
            logits, past = kv(np.array([history[-keep:]]), kv.empty_past(1))
        else:
            logits, past = kv(np.array([[token]]), past)


class OnnxLM:
    """A bundle loaded for generation."""

    def __init__(self, bundle_dir: Path, verify: bool = True, threads: int | None = None):
        bundle_dir = Path(bundle_dir)
        # The manifest's player fields are checked as it is read (formats/manifest.py);
        # files are checked against its sha256s here unless the caller just did.
        self.bundle = Bundle(bundle_dir, read_manifest(bundle_dir))
        m = self.manifest = self.bundle.manifest
        if verify and (problems := file_problems(bundle_dir, m["files"])):
            raise SupError(f"bundle {bundle_dir} failed verification: {problems[0]}")
        self.model = m["model"]
        self.block_size = m["model"]["block_size"]
        self.generation = m["generation"]
        tok_file = self.bundle.file(m["tokenizer"]["file"])
        try:
            tok_json = json.loads(tok_file.read_bytes())
        except (OSError, ValueError, RecursionError) as e:
            raise SupError(f"cannot read the bundle's tokenizer {tok_file} ({e})") from None
        self.tokenizer = player_tokenizer(tok_json)
        if self.tokenizer.vocab_size != self.model["vocab_size"]:
            raise SupError(
                f"{bundle_dir}: the tokenizer has {self.tokenizer.vocab_size} tokens, the "
                f"manifest says {self.model['vocab_size']}; refusing the bundle"
            )
        session = ort_session(self.bundle.file(m["graphs"]["kv"]), threads)
        check_graph(session, self.model, bundle_dir)
        self.kv = KvRunner(session, self.model)
        self._full_file = self.bundle.file(m["graphs"]["full"])
        self._threads = threads
        self._full = None

    @property
    def id(self) -> str:
        return self.manifest["id"]

    def encode(self, text: str) -> tuple[list[int], int]:
        """Token ids for ``text`` and how many characters fell outside the vocabulary."""
        ids = self.tokenizer.encode(text, allow_unk=True)
        unk = getattr(self.tokenizer, "unk_id", None)
        return ids, (sum(1 for i in ids if i == unk) if unk is not None else 0)

    def context(self, prompt: str) -> tuple[list[int], int]:
        """The tokens generation starts from, and the count of unknown characters."""
        if not prompt:
            return list(self.generation["unprompted_start"]), 0
        ids, unknown = self.encode(prompt)
        if not ids:
            return list(self.generation["unprompted_start"]), unknown
        if len(ids) < self.block_size:
            return [*self.generation["prompt_prefix"], *ids], unknown
        return ids[-self.block_size :], unknown

    def chat_context(
        self, template: dict, messages: list[dict], room: int
    ) -> tuple[list[int], int]:
        """(context, messages dropped) for a chat (``play/chat.py`` ``chat_context``)."""
        prefix = self.generation["prompt_prefix"]
        return chat_context(self.tokenizer, template, messages, room, self.block_size, prefix)

    def full_logits(self, ids: list[int]) -> np.ndarray:
        """Last-position logits from the full-context graph (the no-cache path)."""
        if self._full is None:
            self._full = ort_session(self._full_file, self._threads)
        (logits,) = self._full.run(None, {"input_ids": np.array([ids], dtype=np.int64)})
        return logits

    def generate(
        self,
        context: list[int],
        max_new_tokens: int,
        *,
        temperature: float = 0.8,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int | None = 0,
        use_cache: bool = True,
    ) -> Iterator[int]:
        rng = np.random.default_rng(seed)
        return generate_ids(
            self.kv,
            context,
            max_new_tokens,
            self.generation,
            temperature=temperature,
            top_k=top_k,
            top_p=top_p,
            rng=rng,
            full=None if use_cache else self.full_logits,
        )
