"""A chat release in the browser page, end to end, and the chat prompt rules the page
shares with the Python players.

The shared cases (tests/vectors/chat.json, made by tests/vectors/make_chat_vectors.py)
hold the Python side here and web/src/chat.js in web/test/chat.test.mjs: the same ids
for every conversation, the same cropping at whole turns, the same refusals.

The release is a tiny chat model made through the real CLI (`sup prepare --chat`,
`sup train`, `sup export`, as tests/test_chat_data.py makes it), served beside the page
by a static server and talked with in headless Chromium: each reply on the page must be
`sup chat`'s greedy reply to the same conversation (sup.cli.chat.ChatSession), the KV
cache kept from reply to reply must give the tokens a recomputation gives, and a
conversation that outgrows the context is cropped as Python crops it. Like
tests/test_web.py, the browser tests fail, never skip, when Chromium, node or
web/node_modules is missing, unless SUP_SKIP_BROWSER=1.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers import sets, sup_ok
from sup.errors import SupError
from sup.play.chat import check_chat_template, encode_chat, fit_turns
from test_chat_data import TEMPLATE, conversations, write_jsonl
from test_web import SITE_FILES, WEB, require_browser, serve, visible

VECTORS = json.loads((Path(__file__).parent / "vectors" / "chat.json").read_text("utf-8"))
PNG = b"\x89PNG\r\n\x1a\n"
RELEASE = "tiny-chat-1"
LENGTH = 24  # tokens a reply may have: the room chat_context keeps, so turn 3 is cropped
SAYS = ["do you like worms? (5)", "what then?", "do you like peas? (2)"]


# ------------------------------------------------------------------ the shared cases


def vector_tokenizers():
    from sup.engine.vocab import tokenizer_from_json
    from sup.formats.tokenizer import player_tokenizer

    for entry in VECTORS["tokenizers"]:
        for side, make in (("training", tokenizer_from_json), ("player", player_tokenizer)):
            yield pytest.param(entry, make(entry["tokenizer"]), id=f"{entry['name']}-{side}")


@pytest.mark.parametrize(("entry", "tok"), list(vector_tokenizers()))
def test_the_shared_chat_cases_are_pythons(entry, tok):
    """The committed cases equal what the Python rules give today, with the training
    tokenizer (Hugging Face) and the player's (sup/formats/bpe.py) alike."""
    from types import SimpleNamespace

    from sup.play.runtime import OnnxLM

    templates, long = VECTORS["templates"], VECTORS["long_conversation"]
    assert tok.special_tokens() == entry["tokenizer"]["special_tokens"]
    for case in entry["encode"]:
        assert encode_chat(tok, templates[case["template"]], case["messages"]) == case["ids"]
    for case in entry["fit"]:
        got = fit_turns(tok, templates[case["template"]], long, case["budget"])
        assert got == (case["ids"], case["dropped"])
    for case in entry["context"]:
        player = SimpleNamespace(tokenizer=tok, block_size=case["block_size"],
                                 generation={"prompt_prefix": case["prompt_prefix"]})  # fmt: skip
        got = OnnxLM.chat_context(player, templates[case["template"]], long, case["room"])
        assert got == (case["ids"], case["dropped"])
    assert {c["dropped"] for c in entry["fit"]} > {0}  # the cases do crop


@pytest.mark.parametrize("case", VECTORS["bad_templates"], ids=lambda c: c["why"])
def test_the_shared_bad_templates_are_refused(case):
    with pytest.raises(SupError, match="bad chat template") as e:
        check_chat_template(case["template"], "manifest.json")
    assert "\n" not in str(e.value)


# ------------------------------------------------------------------ the page


@pytest.fixture(scope="module")
def browser() -> None:
    require_browser()


@pytest.fixture(scope="module")
def site(browser, tmp_path_factory) -> Path:
    """The page and releases/ holding tiny-chat-1, a chat model trained for a few
    seconds on the fish conversations of tests/test_chat_data.py."""
    from sup.ship.registry import write_registry

    work = tmp_path_factory.mktemp("chat")
    write_jsonl(work / "chat.jsonl", conversations(300))
    (work / "template.json").write_text(json.dumps(TEMPLATE), encoding="utf-8")
    sup_ok("prepare", work / "chat.jsonl", "--chat", work / "template.json",
           "--tokenizer", "bpe:300", "--out", work / "data")  # fmt: skip
    sup_ok("train", "--data", work / "data", "--out", work / "run", "--quiet",
           *sets(max_iters=150, eval_interval=50, block_size=96, windows="documents",
                 arch="modern", n_embd=48))  # fmt: skip
    root = work / "site"
    sup_ok("export", work / "run", "--out", root / "releases" / RELEASE, "--id", RELEASE,
           "--demo-prompt", SAYS[0], "--max-new-tokens", LENGTH)  # fmt: skip
    write_registry(root / "releases")
    for name in SITE_FILES:
        copy = shutil.copytree if (WEB / name).is_dir() else shutil.copy
        copy(WEB / name, root / name)
    return root


@pytest.fixture(scope="module")
def python(site) -> list[dict]:
    """`sup chat`'s greedy conversation (ChatSession, the terminal player's code): each
    turn's context, messages dropped to fit, and reply."""
    from sup.cli.chat import ChatSession
    from sup.instruments.voices import Voice
    from sup.play.runtime import OnnxLM

    bundle = site / "releases" / RELEASE
    lm = OnnxLM(bundle)
    settings = {"max_new_tokens": LENGTH, "temperature": 0.0, "top_k": None, "top_p": None}
    session = ChatSession(Voice("bundle", bundle, _lm=lm), settings, seed=0)
    turns = []
    for text in SAYS:
        asked = [*session.messages, {"role": "user", "content": text}]
        context, _ = lm.chat_context(lm.manifest["chat"], asked, LENGTH)
        dropped: list[int] = []
        reply = "".join(session.ask(text, dropped.append))
        turns.append({"context": context, "dropped": sum(dropped), "reply": reply})
    return turns


def drive(url: str, jobs: list[dict]) -> list[dict]:
    proc = subprocess.run(["node", str(WEB / "scripts" / "drive.mjs"), url, json.dumps(jobs)],
                          capture_output=True, text=True, timeout=180)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def results(site, tmp_path_factory) -> dict:
    shot = tmp_path_factory.mktemp("shots") / "web-chat.png"
    steps = [{"say": SAYS[0]}, {"say": SAYS[1], "enter": True},
             {"say": SAYS[2], "screenshot": str(shot)}, {"newChat": True},
             {"say": "hello", "stop": True}, {"say": SAYS[0]}]  # fmt: skip
    trace = {"kind": "chat-trace", "bundle": f"releases/{RELEASE}/", "says": SAYS,
             "length": LENGTH}  # fmt: skip
    jobs = {
        "page": {"kind": "chat", "model": RELEASE, "temperature": 0, "steps": steps},
        "cached": {**trace, "useCache": True},
        "recomputed": {**trace, "useCache": False},
    }
    with serve(site) as url:
        got = dict(zip(jobs, drive(url, list(jobs.values())), strict=True))
    return {**got, "screenshot": shot}


def test_the_page_chats_as_sup_chat_does(results, python):
    """Bubbles, user right and model left; each greedy reply is `sup chat`'s, the third
    after cropping the two oldest messages (said on the page, those bubbles dimmed).
    New chat starts over; a stopped reply is left out with its question (as Ctrl-C in
    `sup chat`), so the first question then gets the first reply again."""
    page = results["page"]
    assert page["console"] == [] and page["dialogs"] == []
    assert page["chatShown"] and not page["promptShown"] and not page["outputShown"]
    first, second, third, reset, stopped, again = page["steps"]
    for n, step in enumerate((first, second, third)):
        assert step["state"] == "done" and step["error"] is None, step
        log = step["log"]
        assert [b["who"] for b in log] == ["user", "model"] * (n + 1)
        assert [b["text"] for b in log[::2]] == SAYS[: n + 1]
        replies = [visible(t["reply"]) for t in python[: n + 1]]
        assert [b["text"] for b in log[1::2]] == replies
        assert step["stats"].endswith("end of text")  # each reply ended at <|end|>
    assert all(t["reply"].strip() for t in python) and "<|" not in "".join(
        t["reply"] for t in python
    )
    assert [t["dropped"] for t in python] == [0, 0, 2]
    assert first["notice"] is None and second["notice"] is None
    assert third["notice"] == (
        "The conversation outgrew the model's context: the oldest 2 messages were left out."
    )
    assert [b["classes"] for b in third["log"]] == [["left-out"]] * 2 + [[]] * 4
    # the second reply started from the first turn's cache; the cropped third could not
    assert second["cachedTokens"] > 0 and third["cachedTokens"] == 0
    assert reset["log"] == [] and reset["state"] == "ready"
    assert stopped["state"] == "done" and stopped["stats"].endswith("stopped")
    assert [b["classes"] for b in stopped["log"]] == [["stopped"]] * 2
    assert [b["text"] for b in again["log"]] == [
        "hello",
        stopped["log"][1]["text"],
        SAYS[0],
        visible(python[0]["reply"]),
    ]
    assert [b["classes"] for b in again["log"]] == [["stopped"]] * 2 + [[]] * 2
    assert results["screenshot"].read_bytes()[:8] == PNG


def test_the_kv_cache_kept_across_turns_gives_the_recomputed_replies(results, python, site):
    """The worker's chat loop in the player module: with the cache kept from turn to
    turn, the second turn feeds only its new tokens after the first turn's context and
    reply, and every reply equals the one recomputed without a cache (the full graph)
    and Python's."""
    cached, recomputed = results["cached"]["turns"], results["recomputed"]["turns"]
    manifest = json.loads((site / "releases" / RELEASE / "manifest.json").read_text())
    stops = set(manifest["generation"]["stop_ids"])
    for mine, full, theirs in zip(cached, recomputed, python, strict=True):
        assert mine["context"] == full["context"] == theirs["context"]
        assert mine["dropped"] == theirs["dropped"]
        assert mine["ids"] == full["ids"] and mine["ids"][-1] in stops
        assert mine["text"] == full["text"] == theirs["reply"]
    one, two, three = cached
    # the cache after turn 1: its context and reply, all but the stop token (never fed)
    held = len(one["context"]) + len(one["ids"]) - 1
    assert two["context"][:held] == one["context"] + one["ids"][:-1]  # the reply re-encodes
    assert two["cachedTokens"] == held
    assert two["steps"][0] == [len(two["context"]) - held, held]  # only the new tokens
    assert three["cachedTokens"] == 0 and three["steps"][0] == [len(three["context"]), 0]
    assert all(past == 0 for _, past in recomputed[1]["steps"])  # the full graph each time
