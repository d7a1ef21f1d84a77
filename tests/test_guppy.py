"""guppy end to end through the real CLI: `sup data guppy`, a tiny build into a release,
the harness report (checked against the replies it holds, never its own rates alone),
`sup chat`, `sup guppy PROMPT`, and `sup serve`'s `/v1/chat/completions` through the
official `openai` client, streaming and not, with its 400s."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from helpers import assert_cli_error, run_sup, sup_ok
from serve_support import start_server, stop_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def guppy_build(tmp_path_factory):
    work = tmp_path_factory.mktemp("guppy")
    releases = work / "releases"
    proc = sup_ok("build", "guppy", "--preset", "tiny", "--out", work / "build", "--quiet",
                  "--release", "tinyguppy-1", "--releases", releases, timeout=600)  # fmt: skip
    assert "release: tinyguppy-1" in proc.stderr
    return work


def test_sup_data_guppy_writes_the_splits_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "corpus"
    proc = sup_ok("data", "guppy", "--out", out, "--samples", "300", "--seed", "4")
    assert "conversations" in proc.stderr and "topics" in proc.stderr
    rows = {s: (out / f"{s}.jsonl").read_text().splitlines() for s in ("train", "val", "test")}
    assert all(rows.values())
    again = run_sup("data", "guppy", "--out", out, "--samples", "300")
    assert "already exists" in assert_cli_error(again, 2)
    bad = run_sup("data", "guppy", "--out", tmp_path / "x", "--samples", "5")
    assert "--samples" in assert_cli_error(bad, 2)


def test_the_build_trains_on_the_assistant_tokens_and_releases_a_chat_model(guppy_build):
    build = guppy_build / "build"
    meta = json.loads((build / "data" / "meta.json").read_text())
    assert 0 < meta["loss_mask"]["train"]["targets"] < meta["train"]["tokens"]
    manifest = json.loads((guppy_build / "releases" / "tinyguppy-1" / "manifest.json").read_text())
    assert manifest["chat"]["generation_prefix"] == "<|assistant|>"
    card = (guppy_build / "releases" / "tinyguppy-1" / "MODEL_CARD.md").read_text()
    assert "keyword hit" in card and "eval leakage" in card


def test_the_harness_report_agrees_with_the_replies_it_holds(guppy_build):
    from sup.instruments.guppy_prompts import keyword_hit, style_problems

    report = json.loads((guppy_build / "build" / "harness.json").read_text())
    assert report["leakage"]["prompts_in_corpus"] == 0
    assert report["leakage"]["test_answers_in_train"] == 0
    greedy = report["conditions"]["greedy"]
    assert greedy["keyword_hit"]["n"] == report["prompts"] >= 60
    for example in greedy["examples"]:  # each verdict recomputed from the reply's text
        assert example["style"] == (not style_problems(example["reply"], example["topic"]))
    assert 60 <= report["test_split"]["n"] <= report["topics"]  # tiny: one a topic it holds
    low, high = greedy["style_pass"]["ci95"]
    assert low <= greedy["style_pass"]["rate"] <= high
    # the release's own harness run, through the CLI, on the same corpus
    release = guppy_build / "releases" / "tinyguppy-1"
    proc = sup_ok("harness", "guppy", release, "--corpus", guppy_build / "build" / "corpus" /
                  "conversations", "--samples", "1", "--tokens", "8", "--json",
                  "--chart", guppy_build / "chart.png")  # fmt: skip
    from_release = json.loads(proc.stdout)
    assert from_release["prompts"] >= 120  # every held-out prompt, not the tiny preset's
    assert (guppy_build / "chart.png").stat().st_size > 10_000
    for example in from_release["conditions"]["sampled"]["examples"]:
        assert example["seed"] >= 1000  # sampled replies never share the greedy seed rule
    examples = from_release["conditions"]["greedy"]["examples"]
    assert len(examples) >= 10
    for e in examples:
        assert e["style"] == (not style_problems(e["reply"], e["topic"]))
    assert not keyword_hit("", ["bubble"])
    # prompts split by whether the train users wrote every word, recounted from the file
    train = (guppy_build / "build" / "corpus" / "conversations" / "train.jsonl").read_text()
    words = re.compile(r"[a-z']+")
    users = {w for line in train.splitlines() for m in json.loads(line)["messages"]
             if m["role"] == "user" for w in words.findall(m["content"].lower())}  # fmt: skip
    from sup.instruments.guppy_prompts import PROMPTS

    unseen = sum(any(w not in users for w in words.findall(p["prompt"].lower()))
                 for p in PROMPTS)  # fmt: skip
    groups = from_release["conditions"]["greedy"]["by_vocabulary"]
    assert groups["unseen_words"]["prompts"] == unseen
    assert groups["all_words_seen"]["prompts"] == len(PROMPTS) - unseen


def test_guppy_plays_in_the_terminal(guppy_build):
    release = guppy_build / "releases" / "tinyguppy-1"
    one = sup_ok(release, "hi guppy", "--temperature", "0").stdout
    chat = sup_ok("chat", release, "--prompt", "hi guppy", "--temperature", "0").stdout
    assert one == chat and "<|" not in one


@pytest.fixture(scope="module")
def guppy_server(guppy_build, char_run, tmp_path_factory):
    site = tmp_path_factory.mktemp("guppysite")
    releases = site / "releases"
    shutil.copytree(guppy_build / "releases", releases)
    sup_ok("release", char_run, "--id", "plain-1", "--releases", releases)
    server = start_server(site, "--releases", releases, "--threads", 1)
    yield server
    code, stderr = stop_server(server)
    assert code == 0, stderr


def test_openai_client_chats_with_guppy_streaming_and_not(guppy_server):
    import openai

    client = openai.OpenAI(base_url=f"http://127.0.0.1:{guppy_server.port}/v1", api_key="none")
    messages = [{"role": "user", "content": "hi guppy"}]
    whole = client.chat.completions.create(
        model="tinyguppy-1", messages=messages, temperature=0, max_tokens=24
    )
    text = whole.choices[0].message.content
    assert whole.choices[0].finish_reason in ("stop", "length") and "<|" not in text
    chunks = client.chat.completions.create(
        model="tinyguppy-1", messages=messages, temperature=0, max_tokens=24, stream=True
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert streamed == text
    local = sup_ok("chat", guppy_server_release(guppy_server), "--prompt", "hi guppy",
                   "--temperature", "0", "--max-new-tokens", "24").stdout  # fmt: skip
    assert local.rstrip("\n") == text  # the server and the terminal player agree


def guppy_server_release(server):
    return server.stderr.parent / "releases" / "tinyguppy-1"


def test_chat_endpoint_refuses_non_chat_models_and_bad_messages(guppy_server):
    import openai

    client = openai.OpenAI(base_url=f"http://127.0.0.1:{guppy_server.port}/v1", api_key="none")
    with pytest.raises(openai.BadRequestError) as plain:
        client.chat.completions.create(model="plain-1", messages=[{"role": "user", "content": "x"}])
    assert "not a chat model" in str(plain.value)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="tinyguppy-1", messages=[{"role": "fish"}])
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="tinyguppy-1", messages=[])
