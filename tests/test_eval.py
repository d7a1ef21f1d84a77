"""`sup eval`: one JSON object, consistent bits, honest out-of-vocabulary accounting."""

from __future__ import annotations

import json
import math

import pytest
import torch

from helpers import BLOCK, ODD_TEXT, assert_cli_error, run_sup_many, sup_ok
from sup.engine.evaluate import evaluate_text
from sup.engine.rundir import load_model, open_run
from sup.engine.vocab import load_tokenizer
from sup.formats.accounting import windows_for

pytestmark = pytest.mark.slow

# Unicode's count of scalar values (code points that are not surrogates), from the
# standard rather than from sup's constant: each unseen character is charged a uniform
# code over all of them but the model's own characters.
SCALAR_VALUES = 1_112_064
KEYS = ("token_loss", "bits_per_char", "bits_per_byte", "tokens", "chars", "bytes", "oov_chars")


def parse_eval(proc) -> dict:
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 1, proc.stdout  # exactly one JSON object
    result = json.loads(lines[0])
    assert isinstance(result, dict)
    return result


def sup_eval(run, text_path, *extra) -> dict:
    return parse_eval(sup_ok("eval", run, "--text", text_path, "--json", *extra))


def sup_eval_many(run, *calls) -> list[dict]:
    """Several evaluations side by side; each call is [text_path, *extra flags]."""
    procs = run_sup_many(*(["eval", run, "--text", *call, "--json"] for call in calls))
    return [parse_eval(proc) for proc in procs]


def total_bits(result: dict) -> float:
    return result["bits_per_char"] * result["chars"]


def test_eval_json_fields_and_consistent_bits(char_run, char_data):
    val = char_data / "val.txt"
    text = val.read_text(encoding="utf-8")
    as_json, as_text = run_sup_many(
        ["eval", char_run, "--text", val, "--json"],
        ["eval", char_run, "--text", val, "--checkpoint", "last"],
    )
    assert as_text.returncode == 0, as_text.stderr
    assert "bits/char" in as_text.stdout and "checkpoint last @ step 60" in as_text.stdout
    result = parse_eval(as_json)
    for key in KEYS:
        assert key in result
    tok = load_tokenizer(char_run / "tokenizer.json")
    assert result["chars"] == len(text)
    assert result["bytes"] == len(text.encode("utf-8"))
    assert result["tokens"] == len(tok.encode(text, allow_unk=True))
    assert result["oov_chars"] == 0
    assert result["step"] == json.loads((char_run / "checkpoints/best.json").read_text())["step"]
    assert math.isclose(
        result["bits_per_char"] * result["chars"],
        result["bits_per_byte"] * result["bytes"],
        rel_tol=1e-12,
    )
    # char model, no OOV: bits = nats / ln 2 for every character
    assert math.isclose(result["bits_per_char"], result["token_loss"] / math.log(2), rel_tol=1e-9)
    # trained: better than a uniform guess over the vocabulary, worse than perfect
    assert 0 < result["token_loss"] < math.log(tok.vocab_size)


def test_oov_chars_cost_at_least_the_spelling_charge(tmp_path, char_run):
    tok = load_tokenizer(char_run / "tokenizer.json")
    clean = "You never did the Kenosha Kid. Kid, the never did you Kenosha?\n"
    oov = "☃Ω€"
    dirty = clean[:10] + oov[0] + clean[10:30] + oov[1:] + clean[30:] + "Ω"
    assert not set(oov) & set(tok.chars) and set(clean) <= set(tok.chars)
    n_oov = 4
    (tmp_path / "clean.txt").write_text(clean, encoding="utf-8")
    (tmp_path / "dirty.txt").write_text(dirty, encoding="utf-8")
    r_clean, r_dirty = sup_eval_many(char_run, [tmp_path / "clean.txt"], [tmp_path / "dirty.txt"])

    assert r_clean["oov_chars"] == 0
    assert r_dirty["oov_chars"] == n_oov
    assert r_dirty["oov_distinct"] == 3
    per_char = math.log2(SCALAR_VALUES - len(tok.chars))
    assert math.isclose(r_dirty["oov_charge_bits"], n_oov * per_char, rel_tol=1e-12)
    assert total_bits(r_dirty) - total_bits(r_clean) >= n_oov * per_char
    assert r_dirty["bits_per_char"] > r_clean["bits_per_char"]
    assert r_dirty["bytes"] == len(dirty.encode("utf-8"))  # OOV bytes are counted too
    assert math.isclose(total_bits(r_dirty), r_dirty["bits_per_byte"] * r_dirty["bytes"],
                        rel_tol=1e-12)  # fmt: skip


def test_bits_per_char_by_hand_from_the_logits(tmp_path, char_run):
    """`sup eval` on a text of one window, against the definition worked by hand: the
    char ids straight from tokenizer.json, the model's logits, the first character
    predicted from end-of-text, and the unseen character charged its <unk> plus a
    uniform spelling over every scalar value the model has never seen."""
    text = "Did you☃ never"  # 14 characters, one of them unseen: one 16-token window
    chars = json.loads((char_run / "tokenizer.json").read_text())["chars"]
    eot, unk = len(chars), len(chars) + 1  # the char tokenizer's id layout
    ids = [chars.index(c) if c in chars else unk for c in text]
    assert ids.count(unk) == 1 and len(ids) < BLOCK
    model, _ = load_model(open_run(char_run), "best")
    with torch.no_grad():
        logits = model.float()(torch.tensor([[eot, *ids[:-1]]]))[0][0].double()
    logp = torch.log_softmax(logits, dim=-1)
    nats = -sum(logp[t, target].item() for t, target in enumerate(ids))
    bits = nats / math.log(2) + math.log2(SCALAR_VALUES - len(chars))
    path = tmp_path / "one-window.txt"
    path.write_text(text, encoding="utf-8")
    result = sup_eval(char_run, path)
    assert math.isclose(result["bits_per_char"], bits / len(text), rel_tol=1e-6)
    assert math.isclose(result["bits_per_byte"], bits / len(text.encode("utf-8")), rel_tol=1e-6)
    assert math.isclose(result["token_loss"], nats / len(ids), rel_tol=1e-6)


def test_stride_scores_every_token_once(tmp_path, char_run, char_data):
    text = (char_data / "val.txt").read_text(encoding="utf-8")[:500]
    path = tmp_path / "t.txt"
    path.write_text(text, encoding="utf-8")
    n = len(load_tokenizer(char_run / "tokenizer.json").encode(text, allow_unk=True))
    plain, strided = sup_eval_many(char_run, [path], [path, "--stride", 4])
    for r in (plain, strided):
        assert r["tokens"] == n == len(text)
    assert plain["stride"] == BLOCK and strided["stride"] == 4
    assert strided["windows"] > plain["windows"]
    assert strided["token_loss"] != plain["token_loss"]  # more context, another figure
    assert abs(strided["token_loss"] - plain["token_loss"]) < 0.5


def test_stride_in_process_matches_brute_force(char_run, char_data):
    """Strided scoring equals scoring each target with its full sliding context."""
    run = open_run(char_run)
    model, _ = load_model(run, "best")
    tok = run.tokenizer
    text = (char_data / "val.txt").read_text(encoding="utf-8")[:60]
    ids = [tok.eot_id, *tok.encode(text)]
    stride = 5
    result = evaluate_text(model, tok, text, torch.device("cpu"), "fp32", stride=stride)
    nats = 0.0
    with torch.no_grad():
        for start, end, first in windows_for(len(ids) - 1, BLOCK, stride):
            logits = model(torch.tensor([ids[start:end]]))[0][0]
            logp = torch.log_softmax(logits.double(), dim=-1)
            for t in range(first, end):
                nats -= logp[t - start, ids[t + 1]].item()
    assert math.isclose(result["token_loss"], nats / len(text), rel_tol=1e-5)
    assert result["tokens"] == len(text)
    # every target exactly once
    covered = [t for s, e, f in windows_for(len(text), BLOCK, stride) for t in range(f, e)]
    assert covered == list(range(len(text)))


def test_bad_stride_is_a_usage_error(char_run, char_data):
    val = str(char_data / "val.txt")
    procs = run_sup_many(
        *(["eval", char_run, "--text", val, "--stride", n] for n in (0, BLOCK + 1))
    )
    for proc in procs:
        line = assert_cli_error(proc, 2)
        assert "--stride must be between 1 and block_size (16)" in line


def test_bpe_bits_per_byte_uses_exact_bytes(tmp_path, bpe_run):
    text = "You never did the Kenosha Kid. 世界你好 🎉 naïve café — <|endoftext|> ∑\n"
    path = tmp_path / "bpe.txt"
    path.write_text(text, encoding="utf-8")
    tok = load_tokenizer(bpe_run / "tokenizer.json")
    assert json.loads((bpe_run / "tokenizer.json").read_text())["type"] == "bpe"
    result = sup_eval(bpe_run, path)
    assert result["bytes"] == len(text.encode("utf-8"))
    assert result["chars"] == len(text)
    assert result["bytes"] > result["chars"]
    assert result["tokens"] == len(tok.encode(text))
    assert result["oov_chars"] == 0 and result["oov_charge_bits"] == 0
    assert math.isclose(total_bits(result), result["bits_per_byte"] * result["bytes"],
                        rel_tol=1e-12)  # fmt: skip
    assert math.isclose(
        result["bits_per_byte"] * result["bytes"],
        result["token_loss"] * result["tokens"] / math.log(2),
        rel_tol=1e-9,
    )


def test_a_model_with_nan_weights_is_reported_broken(tmp_path, char_run, char_data):
    """Weights holding NaN (a model made elsewhere, its checkpoint hashes intact): eval
    and sample say the model is broken in one line, never "nan bits/char" or a trace."""
    import shutil

    from safetensors.torch import load_file, save_file

    from helpers import checkpoint_path
    from sup.fileio import sha256_file

    run = tmp_path / "run"
    shutil.copytree(char_run, run)
    for which in ("best", "last"):
        ckpt = checkpoint_path(run, which)
        tensors = load_file(str(ckpt / "model.safetensors"))
        tensors["blocks.0.mlp.fc.weight"][0, :] = float("nan")
        save_file(tensors, str(ckpt / "model.safetensors"))
        state = json.loads((ckpt / "state.json").read_text())
        state["files"]["model.safetensors"] = sha256_file(ckpt / "model.safetensors")
        (ckpt / "state.json").write_text(json.dumps(state))
    evaluated, sampled = run_sup_many(
        ["eval", run, "--text", char_data / "val.txt"],
        ["sample", run, "--max-new-tokens", 5, "--seed", 1],
    )
    for proc in (evaluated, sampled):
        line = assert_cli_error(proc, 1)
        assert "non-finite" in line and "broken" in line
    assert "nan" not in evaluated.stdout


def test_a_bundle_scores_a_text_as_its_run_does(modern_char_run, char_bundle, bpe_run, bpe_bundle):
    """play/score.py (ONNX Runtime, no torch) and sup eval (PyTorch) share one scoring
    rule: the fp32 bundle gives its run's bits within float error, unknown characters
    charged alike; the int8 bundle is close, not equal (what a release really costs)."""
    from sup.engine.device import pick_device
    from sup.play.runtime import OnnxLM
    from sup.play.score import score_text

    text = ODD_TEXT * 3  # characters the char model never saw, and windows past the block
    cpu = pick_device("cpu")
    for run, bundle, tolerance in (
        (modern_char_run, char_bundle, 1e-5),
        (bpe_run, bpe_bundle, 0.05),
    ):
        opened = open_run(run)
        model, _ = load_model(opened, "best")
        want = evaluate_text(model, opened.tokenizer, text, cpu, "fp32")
        got = score_text(OnnxLM(bundle), text)
        for key in ("tokens", "chars", "bytes", "oov_chars", "windows", "text_sha256"):
            assert got[key] == want[key], key
        assert got["bits_per_char"] == pytest.approx(want["bits_per_char"], abs=tolerance)
    assert want["oov_chars"] == 0 and got["bits_per_char"] != want["bits_per_char"]  # int8
