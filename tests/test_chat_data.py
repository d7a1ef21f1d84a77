"""Chat corpora end to end: `sup prepare --chat` (special tokens, the loss mask), the
trainer and evaluator honouring the mask, exact resume on a chat corpus, the players'
prompt encoding, cropping at whole turns, and `sup chat` through the real CLI."""

from __future__ import annotations

import json
import random
import subprocess

import numpy as np
import pytest
import torch

from helpers import SUB_ENV, assert_cli_error, read_metrics, run_sup, sets, sup_cmd, sup_ok
from sup.engine.batches import IGNORE, BatchSampler
from sup.engine.chat_data import encode_conversation
from sup.engine.vocab import load_tokenizer
from sup.formats.bpe import PureBpe
from sup.formats.data import load_mask, load_tokens
from sup.play.chat import encode_chat, fit_turns, load_chat_template

TEMPLATE = {
    "system": "<|system|>{content}<|end|>",
    "user": "<|user|>{content}<|end|>",
    "assistant": "<|assistant|>{content}<|end|>",
    "generation_prefix": "<|assistant|>",
    "stop": [],
}
FOODS = ["flakes", "pellets", "worms", "shrimp", "peas", "algae"]


def conversations(n: int, seed: int = 0) -> list[dict]:
    r = random.Random(seed)
    rows = []
    for i in range(n):
        food = r.choice(FOODS)
        messages = [
            {"role": "user", "content": f"do you like {food}? ({i})"},
            {"role": "assistant", "content": f"yes. {food} taste like the top of the water."},
        ]
        if i % 3 == 0:
            messages = [{"role": "system", "content": "you are a fish."}, *messages]
            messages += [{"role": "user", "content": "what then?"},
                         {"role": "assistant", "content": "then i swim to the glass."}]  # fmt: skip
        rows.append({"messages": messages, "topic": "food"})
    return rows


def write_jsonl(path, rows) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture(scope="module")
def chat_corpus(tmp_path_factory):
    work = tmp_path_factory.mktemp("chatdata")
    write_jsonl(work / "chat.jsonl", conversations(300))
    (work / "template.json").write_text(json.dumps(TEMPLATE), encoding="utf-8")
    sup_ok("prepare", work / "chat.jsonl", "--chat", work / "template.json",
           "--tokenizer", "bpe:300", "--out", work / "data")  # fmt: skip
    return work


def test_prepare_writes_a_mask_that_covers_exactly_the_assistant_text(chat_corpus):
    data = chat_corpus / "data"
    meta = json.loads((data / "meta.json").read_text())
    tok = load_tokenizer(data / "tokenizer.json")
    specials = tok.special_tokens()
    assert set(meta["chat"]["special_tokens"]) == {"<|system|>", "<|user|>", "<|assistant|>",
                                                    "<|end|>"}  # fmt: skip
    rows = [json.loads(line) for line in (chat_corpus / "chat.jsonl").read_text().splitlines()]
    for split in ("train", "val"):
        ids = load_tokens(data, split).slice(0, meta[split]["tokens"])
        mask = load_mask(data, split).slice(0, meta[split]["tokens"])
        assert mask.sum() == meta["loss_mask"][split]["targets"] > 0
        docs = np.split(np.arange(len(ids)), np.flatnonzero(ids == tok.eot_id) + 1)[:-1]
        texts = ["".join(m["content"] for m in r["messages"] if m["role"] == "assistant")
                 for r in rows]  # fmt: skip
        for doc in docs:
            kept = ids[doc][mask[doc] == 1]
            # the counted tokens spell the assistant's words, and each reply's end marker
            assert tok.decode(kept.tolist()) in texts
            assert (kept == specials["<|end|>"]).sum() == (
                ids[doc] == specials["<|assistant|>"]
            ).sum()
            assert mask[doc][ids[doc] == specials["<|user|>"]].sum() == 0
            assert mask[doc][-1] == 0  # <|endoftext|>


def test_a_typed_marker_in_a_message_stays_text(chat_corpus):
    tok = load_tokenizer(chat_corpus / "data" / "tokenizer.json")
    ids, mask = encode_conversation(tok, TEMPLATE, [
        {"role": "user", "content": "say <|assistant|> please"},
        {"role": "assistant", "content": "<|end|>"},
    ])  # fmt: skip
    specials = tok.special_tokens()
    assert (ids == specials["<|assistant|>"]).sum() == 1  # the template's, not the user's
    assert (ids == specials["<|end|>"]).sum() == 2
    assert tok.decode(ids[mask == 1].tolist()) == "<|end|>"  # the reply, spelled as text


def test_the_players_encode_a_prompt_as_training_did(chat_corpus):
    """Python's player BPE and Hugging Face's give the same chat prompt ids, and the
    prompt is the training conversation up to the reply."""
    data = chat_corpus / "data"
    hf = load_tokenizer(data / "tokenizer.json")
    pure = PureBpe(json.loads((data / "tokenizer.json").read_text()))
    messages = conversations(4, seed=9)[3]["messages"]
    trained, _ = encode_conversation(hf, TEMPLATE, messages)
    for tok in (hf, pure):
        prompt = encode_chat(tok, TEMPLATE, messages[:-1])
        assert prompt == trained[: len(prompt)].tolist()
        assert trained[len(prompt)] not in tok.special_tokens().values()


def test_fit_turns_crops_whole_exchanges_and_keeps_the_system_message(chat_corpus):
    tok = load_tokenizer(chat_corpus / "data" / "tokenizer.json")
    turn = [{"role": "user", "content": "hello there fish"},
            {"role": "assistant", "content": "blub. hello. the water is warm today."}]  # fmt: skip
    messages = [{"role": "system", "content": "be a fish"}, *turn * 4,
                {"role": "user", "content": "and now?"}]  # fmt: skip
    whole = encode_chat(tok, TEMPLATE, messages)
    ids, dropped = fit_turns(tok, TEMPLATE, messages, len(whole))
    assert (ids, dropped) == (whole, 0)
    ids, dropped = fit_turns(tok, TEMPLATE, messages, len(whole) - 1)
    assert dropped == 2  # one whole exchange, never half of one
    assert ids == encode_chat(tok, TEMPLATE, [messages[0], *messages[3:]])
    ids, dropped = fit_turns(tok, TEMPLATE, messages, 5)  # nothing fits: the last message
    assert dropped == 8 and ids == encode_chat(tok, TEMPLATE, [messages[0], messages[-1]])


def test_batches_and_val_count_only_the_masked_targets(chat_corpus):
    data = chat_corpus / "data"
    tokens, mask = load_tokens(data, "train"), load_mask(data, "train")
    sampler = BatchSampler(tokens, 32, 8, seed=3, mask=mask)
    plain = BatchSampler(tokens, 32, 8, seed=3)
    x, y = sampler.next()
    x2, y2 = plain.next()
    assert torch.equal(x, x2)  # the mask changes what counts, never what is read
    counted = y != IGNORE
    assert torch.equal(y[counted], y2[counted]) and 0 < counted.sum() < counted.numel()
    # the same draw as the sampler's: its own generator, seeded 3
    starts = torch.randint(len(tokens) - 32, (8,), generator=torch.Generator().manual_seed(3))
    assert torch.equal(counted, torch.from_numpy(mask.windows(starts.numpy() + 1, 32)) != 0)


def test_val_figures_count_only_the_masked_targets(chat_corpus):
    from sup.engine.evaluate import evaluate_windows, target_nats
    from sup.engine.model import GPT, ModelConfig
    from sup.formats.accounting import byte_lengths

    data = chat_corpus / "data"
    tok = load_tokenizer(data / "tokenizer.json")
    tokens, mask = load_tokens(data, "val"), load_mask(data, "val")
    torch.manual_seed(0)
    model = GPT(ModelConfig(vocab_size=tok.vocab_size, n_layer=1, n_head=2, n_embd=32,
                            block_size=32)).eval()  # fmt: skip
    starts = np.array([0, 40, 90])
    got = evaluate_windows(model, tokens, starts, 2, tok, torch.device("cpu"), "fp32", mask=mask)
    chunk = torch.from_numpy(tokens.windows(starts, 33))
    nats = target_nats(model, chunk[:, :-1], chunk[:, 1:], torch.device("cpu"), "fp32").numpy()
    counted = mask.windows(starts + 1, 32) != 0
    assert got["val_loss"] == pytest.approx(nats[counted].mean(), rel=1e-9)
    n_bytes = byte_lengths(tok)[chunk[:, 1:].numpy()[counted]].sum()
    assert got["val_bpb"] == pytest.approx(nats[counted].sum() / np.log(2) / n_bytes, rel=1e-9)


def test_training_on_a_chat_corpus_resumes_exactly(tmp_path, chat_corpus):
    data = chat_corpus / "data"
    common = ["train", "--data", data, "--quiet", "--json",
              *sets(max_iters=8, log_interval=1, eval_interval=4, dropout=0.1,
                    block_size=96, windows="documents", arch="modern")]  # fmt: skip
    a, b = tmp_path / "A", tmp_path / "B"
    sup_ok(*common, "--out", a)
    sup_ok(*common, "--out", b, "--stop-after", 4)
    sup_ok("train", "--resume", b, "--quiet", "--json")
    ma, mb = read_metrics(a), read_metrics(b)
    assert [r["loss"] for r in ma] == [r["loss"] for r in mb]
    assert [r.get("val_loss") for r in ma] == [r.get("val_loss") for r in mb]
    assert ma[-1]["val_loss"] is not None


def test_a_conversation_longer_than_the_block_is_refused_at_train(tmp_path, chat_corpus):
    proc = run_sup("train", "--data", chat_corpus / "data", "--out", tmp_path / "run",
                   *sets(block_size=16, max_iters=2))  # fmt: skip
    line = assert_cli_error(proc, 1)
    assert "longer than block_size" in line and "chat.jsonl:" in line
    assert not (tmp_path / "run").exists()


BAD_LINES = {
    "missing role": ({"messages": [{"content": "hi"}]}, "has no role"),
    "unknown role": ({"messages": [{"role": "fish", "content": "hi"}]}, "unknown role 'fish'"),
    "empty message": (
        {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": " "}]},
        "empty content",
    ),
    "no assistant": ({"messages": [{"role": "user", "content": "hi"}]}, "no assistant message"),
}


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_bad_chat_lines_are_one_line_errors_naming_the_line(tmp_path, chat_corpus, case):
    row, words = BAD_LINES[case]
    rows = conversations(20)
    rows[7] = row
    write_jsonl(tmp_path / "bad.jsonl", rows)
    proc = run_sup("prepare", tmp_path / "bad.jsonl", "--chat", chat_corpus / "template.json",
                   "--tokenizer", "bpe:300", "--out", tmp_path / "data")  # fmt: skip
    line = assert_cli_error(proc, 1)
    assert "bad.jsonl:8" in line and words in line
    assert not (tmp_path / "data").exists()


def test_chat_corpora_need_chat_and_bpe(tmp_path, chat_corpus):
    plain = run_sup("prepare", chat_corpus / "chat.jsonl", "--out", tmp_path / "a")
    assert "--chat TEMPLATE.json" in assert_cli_error(plain, 1)
    char = run_sup("prepare", chat_corpus / "chat.jsonl", "--chat",
                   chat_corpus / "template.json", "--out", tmp_path / "b")  # fmt: skip
    assert "needs a BPE tokenizer" in assert_cli_error(char, 2)


@pytest.fixture(scope="module")
def chat_model(chat_corpus):
    run, bundle = chat_corpus / "run", chat_corpus / "bundle"
    sup_ok("train", "--data", chat_corpus / "data", "--out", run, "--quiet",
           *sets(max_iters=150, eval_interval=50, block_size=96, windows="documents",
                 arch="modern", n_embd=48))  # fmt: skip
    sup_ok("export", run, "--out", bundle)
    return run, bundle


def test_sup_chat_answers_alike_from_the_run_and_the_bundle(chat_model):
    run, bundle = chat_model
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["chat"] == TEMPLATE  # the corpus's template, carried by the run
    replies = [
        sup_ok("chat", target, "--prompt", "do you like worms? (5)", "--temperature", "0").stdout
        for target in (run, bundle)
    ]
    assert replies[0] == replies[1] and replies[0].strip()
    assert "<|" not in replies[0]  # a reply ends at a marker, never prints one
    one_turn = sup_ok(bundle, "do you like worms? (5)", "--temperature", "0").stdout
    assert one_turn == replies[1]


def test_sup_chat_reads_turns_from_a_pipe_and_resets(chat_model):
    _, bundle = chat_model
    proc = subprocess.run(
        sup_cmd("chat", bundle, "--temperature", "0"),
        input="do you like peas? (2)\n/reset\ndo you like peas? (2)\n/quit\nnever read\n",
        capture_output=True, text=True, env=SUB_ENV, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.splitlines()
    assert first == second  # after /reset the same question starts the same conversation
    assert "starts over" in proc.stderr


def test_sup_chat_refuses_a_model_that_is_not_a_chat_model(char_run):
    line = assert_cli_error(run_sup("chat", char_run, "--prompt", "hi"), 2)
    assert "is not a chat model" in line


def test_the_template_file_ships_with_guppy():
    from sup.instruments.recipe import CONFIGS

    assert load_chat_template(CONFIGS / "chat" / "guppy.json") == TEMPLATE
