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
