"""What a harness samples from and scores with: a run directory (its checkpoint, in
PyTorch) or a bundle or release directory (its graphs, in ONNX Runtime, as every player
runs it). Both follow the same generation rule, start context and scoring rule, so a
harness measures a run before it is released and the release itself with one code
path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sup.errors import UsageError
from sup.formats.manifest import MANIFEST
from sup.formats.run import RUN_FILE


@dataclass
class Voice:
    """``sample(prompt, tokens, temperature, seed)`` -> the generated text only."""

    kind: str  # "run" | "bundle"
    path: Path
    _lm: object = None
    _run: object = None
    _model: object = None
    _kv: tuple | None = None  # the run's model as a KV step function (legality.kv_of_model)
    _ends: object = None  # the tokens that end a move (legality.ending_tokens)

    def sample(self, prompt: str, tokens: int, temperature: float, seed: int,
               max_chars: int | None = None) -> str:  # fmt: skip
        """Up to ``tokens`` new tokens; with ``max_chars``, generation also stops once the
        text holds that many characters (the same tokens as a longer run, cut short)."""
        from sup.play.sampling import Utf8Stream

        if self.kind == "bundle":
            ids, tok = self._ids_bundle(prompt, tokens, temperature, seed), self._lm.tokenizer
        else:
            ids, tok = self._ids_run(prompt, tokens, temperature, seed), self._run.tokenizer
        stream, text = Utf8Stream(), ""
        for i in ids:
            text += stream.push(tok.token_bytes(i))
            if max_chars is not None and len(text) >= max_chars:
                return text
        return text + stream.flush()

    def score(self, text: str) -> dict:
        """``text`` scored by ``sup eval``'s rule (formats/accounting.py): the run's
        checkpoint in PyTorch (fp32), or the bundle's own graphs in ONNX Runtime."""
        if self.kind == "bundle":
            from sup.play.score import score_text

            return score_text(self._lm, text)
        from sup.engine.device import pick_device, resolve_precision
        from sup.engine.evaluate import evaluate_text

        device = pick_device("cpu")
        precision = resolve_precision("fp32", device)
        return evaluate_text(self._model, self._run.tokenizer, text, device, precision)

    def continuation_probs(self, prompt: str, candidates: dict[str, str]) -> dict[str, float]:
        """Exactly, without sampling: P(each candidate's text, then a token that ends a
        word) after ``prompt``, from the same start context as ``sample``
        (``legality.py``)."""
        from sup.instruments.legality import continuation_probs, ending_tokens, kv_of_model

        tok = self.tokenizer
        encoded = {name: tok.encode(text, allow_unk=True) for name, text in candidates.items()}
        if self.kind == "bundle":
            context, _ = self._lm.context(prompt)
            kv, empty_past, block = self._lm.kv, self._lm.kv.empty_past, self._lm.block_size
        else:
            context = self._run_context(prompt)
            if self._kv is None:  # once per voice: the harness asks at every position
                self._kv = kv_of_model(self._model)
            kv, empty_past = self._kv
            block = self._model.cfg.block_size
        room = block - max((len(t) for t in encoded.values()), default=0)
        if self._ends is None:
            self._ends = ending_tokens(tok)
        return continuation_probs(kv, empty_past, context[-room:], encoded, self._ends)

    def chat_template(self) -> dict:
        """The chat template of a chat model (a bundle's manifest, or the run's corpus);
        a one-line error for any other model."""
        if self.kind == "bundle":
            template = self._lm.manifest.get("chat")
        else:
            template = self._run.info["data"].get("chat")
        if template is None:
            raise UsageError(
                f"{self.path} is not a chat model (no chat template): play it with "
                "sup NAME or sup sample"
            )
        from sup.play.chat import check_chat_template

        return check_chat_template(template, str(self.path))

    def reply_ids(self, messages: list[dict], tokens: int, temperature: float, seed: int,
                  top_k: int | None = None, top_p: float | None = None):  # fmt: skip
        """(the reply's token ids as they are sampled, messages dropped to fit): the
        chat prompt cropped at whole turns (``play/chat.py``), stop tokens left out."""
        template = self.chat_template()
        if self.kind == "bundle":
            lm = self._lm
            context, dropped = lm.chat_context(template, messages, tokens)
            stops = set(lm.generation["stop_ids"])
            ids = lm.generate(context, tokens, temperature=temperature, top_k=top_k,
                              top_p=top_p, seed=seed)  # fmt: skip
        else:
            context, dropped, stops = self._run_chat_context(template, messages, tokens)
            ids = self._generate_run(context, tokens, temperature, seed, stops, top_k, top_p)
        return (i for i in ids if i not in stops), dropped

    def reply(self, messages: list[dict], tokens: int, temperature: float, seed: int) -> str:
        """The assistant's next message as text."""
        from sup.play.sampling import Utf8Stream

        ids, _ = self.reply_ids(messages, tokens, temperature, seed)
        stream = Utf8Stream()
        return "".join(stream.push(self.tokenizer.token_bytes(i)) for i in ids) + stream.flush()

    def _run_chat_context(self, template, messages, tokens):
        from sup.play.chat import chat_context, chat_stop_ids

        tok = self._run.tokenizer
        context, dropped = chat_context(
            tok, template, messages, tokens, self._model.cfg.block_size, [tok.eot_id]
        )
        return context, dropped, set(chat_stop_ids(tok, template))

    def _generate_run(self, context, tokens, temperature, seed, stops, top_k=None, top_p=None):
        import torch

        from sup.engine.generate import generate

        return generate(
            self._model, context, tokens, temperature=temperature, top_k=top_k, top_p=top_p,
            generator=torch.Generator().manual_seed(seed), stop_ids=tuple(stops),
        )  # fmt: skip

    @property
    def tokenizer(self):
        return self._lm.tokenizer if self.kind == "bundle" else self._run.tokenizer

    def _run_context(self, prompt: str) -> list[int]:
        from sup.play.sampling import start_context

        tok = self._run.tokenizer
        prompt_ids = tok.encode(prompt, allow_unk=True) if prompt else []
        multi = self._run.info["data"].get("documents", 1) > 1
        return start_context(tok, prompt_ids, self._model.cfg.block_size, multi)

    def _ids_bundle(self, prompt, tokens, temperature, seed):
        context, _ = self._lm.context(prompt)
        return self._lm.generate(context, tokens, temperature=temperature, seed=seed)

    def _ids_run(self, prompt, tokens, temperature, seed):
        import torch

        from sup.engine.generate import generate
        from sup.formats.tokenizer import CharTokenizer

        tok, model = self._run.tokenizer, self._model
        context = self._run_context(prompt)
        banned = (tok.unk_id,) if isinstance(tok, CharTokenizer) else ()
        return generate(
            model, context, tokens, temperature=temperature,
            generator=torch.Generator().manual_seed(seed),
            stop_ids=(tok.eot_id,), banned_ids=banned,
        )  # fmt: skip


def open_voice(path: Path, checkpoint: str = "best") -> Voice:
    """A run directory or a bundle directory, ready to sample."""
    path = Path(path)
    if (path / RUN_FILE).is_file():
        from sup.engine.rundir import load_model, open_run

        run = open_run(path)
        model, _ = load_model(run, checkpoint)
        return Voice("run", path, _run=run, _model=model)
    if (path / MANIFEST).is_file():
        from sup.play.runtime import OnnxLM

        return Voice("bundle", path, _lm=OnnxLM(path))
    raise UsageError(f"{path} is neither a run directory nor a bundle: give one of them")
