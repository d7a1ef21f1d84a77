"""The guppy corpus generator and the harness's prompts and style rules: the persona's
style holds by construction, answers are diverse, held-out splits do not leak, and the
harness prompts never occur in a corpus. Figures are recomputed from the files, never
read from the manifest alone."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter

import pytest

from sup.errors import UsageError
from sup.instruments.guppy_corpus import THRESHOLD, generate, renderings
from sup.instruments.guppy_prompts import PROMPTS, keyword_hit, style_ok, style_problems
from sup.instruments.guppy_topics import (
    ABSTRACTIONS,
    CUE_TEMPLATES,
    TOPIC_WORDS,
    TOPICS,
    problems,
)
from sup.instruments.guppy_words import CUES, FOLLOW_UPS, cue_slot, mentions

SPLITS = ("train", "val", "test")


def read(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def answers(rows):
    return [m["content"] for r in rows for m in r["messages"] if m["role"] == "assistant"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("guppy") / "corpus"
    said = []
    manifest = generate(out, samples=20000, seed=1, report=said.append)
    rows = {s: read(out / f"{s}.jsonl") for s in SPLITS}
    return out, manifest, rows, said


def test_topics_are_many_and_every_template_is_in_style():
    assert len(TOPICS) >= 60
    assert problems() == []  # every piece an answer is built from keeps the style guide
    assert set(TOPIC_WORDS) == set(TOPICS)
    assert {"money", "job", "internet", "phone", "computer", "email"} <= set(ABSTRACTIONS)
    assert not set(ABSTRACTIONS) & set().union(*TOPIC_WORDS.values())


def test_cue_words_widen_every_topic_and_each_names_one_topic(corpus, monkeypatch):
    owners = Counter(word for words in CUES.values() for word in words)
    assert set(CUES) == set(TOPICS) and max(owners.values()) == 1
    for name, topic in TOPICS.items():
        assert len(CUES[name]) >= 20, name
        slot = "{" + cue_slot(name) + "}"
        assert sum(slot in user for user in topic.users) == len(CUE_TEMPLATES), name
    # the generated users say them, each in its own topic's conversations
    _, _, rows, _ = corpus
    firsts = [(r["topic"], r["messages"][0]["content"]) for r in rows["train"]]
    cued = {t for t, text in firsts if mentions(text, CUES[t])}
    assert cued == set(TOPICS)
    # a word under two topics would teach both: the style checks refuse it
    word = CUES["cat"][0]
    monkeypatch.setitem(CUES, "food", (*CUES["food"], word))
    assert f"cue word {word!r} under food, cat" in problems()  # in the cue file's order


def test_same_seed_same_bytes_and_another_seed_differs(tmp_path):
    for name, seed in (("a", 5), ("b", 5), ("c", 6)):
        generate(tmp_path / name, samples=2000, seed=seed)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == ["drops.jsonl", "manifest.json", "test.jsonl", "train.jsonl", "val.jsonl"]
    for f in files:
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    assert (tmp_path / "a" / "train.jsonl").read_bytes() != (
        tmp_path / "c" / "train.jsonl"
    ).read_bytes()


def test_every_message_is_well_formed_and_every_answer_in_style(corpus):
    _, manifest, rows, _ = corpus
    turns = Counter()
    for split in SPLITS:
        for r in rows[split]:
            messages = r["messages"]
            assert [m["role"] for m in messages] == ["user", "assistant"] * (len(messages) // 2)
            assert all(isinstance(m["content"], str) and m["content"].strip() for m in messages)
            assert len(r["combos"]) == len(messages) // 2 and r["combo"] == r["combos"][0]
            assert r["topic"] == r["combo"].split("/")[0]
            turns[len(r["combos"])] += 1
            for m, combo in zip(messages[1::2], r["combos"], strict=True):
                assert style_problems(m["content"], combo.split("/")[0]) == [], m["content"]
    single = turns[1] / sum(turns.values())
    assert 0.7 < single < 0.8 and set(turns) == {1, 2, 3}
    assert {s: len(rows[s]) for s in SPLITS} == manifest["counts"]
    assert 19000 < sum(manifest["counts"].values()) <= 20000


def test_answers_are_diverse(corpus):
    _, manifest, rows, _ = corpus
    all_answers = [a for s in SPLITS for a in answers(rows[s])]
    rate = len(set(all_answers)) / len(all_answers)
    assert rate >= 0.8
    assert manifest["unique_answers"]["assistant_messages"] == len(all_answers)
    assert manifest["unique_answers"]["unique"] == len(set(all_answers))


def test_no_held_out_answer_is_in_train_and_combos_never_straddle(corpus):
    _, manifest, rows, _ = corpus
    train = {a.strip() for a in answers(rows["train"])}
    assert sum(a.strip() in train for a in answers(rows["test"])) == 0
    assert sum(a.strip() in train for a in answers(rows["val"])) == 0
    assert manifest["leakage"]["test_answers_in_train"] == 0
    where = {}
    for split in SPLITS:
        for r in rows[split]:
            assert where.setdefault(r["combo"], split) == split, r["combo"]
    total = sum(len(rows[s]) for s in SPLITS)
    for split in ("val", "test"):
        assert 0.03 < len(rows[split]) / total < 0.08
        assert {r["topic"] for r in rows[split]} == set(TOPICS)  # every topic held out


def test_drops_match_the_manifest(corpus):
    out, manifest, rows, said = corpus
    drops = read(out / "drops.jsonl")
    kinds = Counter(d["reason"] for d in drops)
    assert kinds["exact"] == manifest["dedup"]["exact"]
    assert kinds["near"] == manifest["dedup"]["near"]
    assert kinds["leak"] == sum(manifest["leakage"]["dropped"].values())
    assert set(kinds) <= {"exact", "near", "leak"}
    written = {r["index"] for s in SPLITS for r in rows[s]}
    dedup_dropped = {d["index"] for d in drops if d["reason"] != "leak"}
    assert len(written) + len(drops) == manifest["candidates"]
    for d in drops:
        if d["reason"] == "near":
            assert d["jaccard"] >= THRESHOLD and d["kept"] < d["index"]
        if d["reason"] != "leak":
            assert d["kept"] not in dedup_dropped
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == digest
    assert json.loads((out / "manifest.json").read_text()) == manifest
    assert 2 <= len(said) <= 6


def normal(text: str) -> str:
    return " ".join(re.findall(r"[a-z']+", text.lower()))


def test_harness_prompts_cover_every_topic_and_never_occur_in_the_corpus(corpus):
    _, _, rows, _ = corpus
    per_topic = Counter(p["topic"] for p in PROMPTS)
    assert set(per_topic) == set(TOPICS) and min(per_topic.values()) >= 2
    asked = {normal(m["content"]) for s in SPLITS for r in rows[s] for m in r["messages"]
             if m["role"] == "user"}  # fmt: skip
    assert not [p["prompt"] for p in PROMPTS if normal(p["prompt"]) in asked]
    by_topic = {t: [] for t in TOPICS}
    for r in rows["train"]:
        by_topic[r["topic"]].append(r["messages"][1]["content"])
    for p in PROMPTS:
        assert 3 <= len(p["keywords"]) <= 6
        assert all(k == k.lower() and k.isalpha() for k in p["keywords"])
        # the keywords are words the corpus's answers on the topic do say
        assert any(keyword_hit(a, p["keywords"]) for a in by_topic[p["topic"]]), p


def test_no_harness_prompt_can_be_generated_and_user_templates_are_varied():
    # every message the generator can make of every user template (each slot fill,
    # call, closer, shorthand), normalised as above, against every harness prompt
    made = {normal(r) for t in TOPICS.values() for u in t.users for r in renderings(u)}
    made |= {normal(r) for u in FOLLOW_UPS for r in renderings(u)}
    assert not [p["prompt"] for p in PROMPTS if normal(p["prompt"]) in made]
    assert not [p["prompt"] for p in PROMPTS if normal(p["prompt"]) in map(normal, FOLLOW_UPS)]
    for topic in TOPICS.values():
        assert len(topic.users) >= 12, topic.name
        assert len({normal(u) for u in topic.users}) == len(topic.users), topic.name
        # many of a topic's templates ask without naming any of its words
        unnamed = [u for u in topic.users if not mentions(u, topic.words)]
        assert len(unnamed) >= 2, topic.name


def test_style_rules():
    assert style_problems("", "food") == ["empty"]
    assert style_ok("i eat flakes. blub.", "food")
    assert style_problems("I eat flakes.", "food") == ["uppercase"]
    long = "i eat " + "very " * 11 + "many flakes."
    assert style_problems(long, "food") == ["long sentence: 15 words"]
    assert style_problems("i eat flakes with money.", "food") == ["abstraction: money"]
    assert style_problems("the water is calm.", "food") == ["off topic"]
    assert style_ok("bubbles go up. wow!", "bubbles")
    assert keyword_hit("so many bubbles", ["bubble"]) and keyword_hit("fishes", ["fish"])
    assert not keyword_hit("i feel bubbly", ["bubble"]) and not keyword_hit("", ["a"])
    with pytest.raises(UsageError):
        style_problems("hi", "taxes")


def test_prompts_are_split_by_whether_the_train_users_wrote_every_word():
    from sup.instruments.guppy_harness import by_vocabulary, unseen_words, user_vocabulary

    train = [{"messages": [{"role": "user", "content": "Do you like the CAT's tail?"},
                           {"role": "assistant", "content": "cake"}]}]  # fmt: skip
    vocabulary = user_vocabulary(train)
    assert vocabulary == {"do", "you", "like", "the", "cat's", "tail"}  # users only
    assert unseen_words("do you like the cake?", vocabulary) == ["cake"]
    assert unseen_words("Do you like the tail", vocabulary) == []
    replies = [{"prompt": 0, "unseen": [], "keyword": True, "style": True},
               {"prompt": 1, "unseen": ["cake"], "keyword": False, "style": True},
               {"prompt": 2, "unseen": ["bake"], "keyword": True, "style": False}]  # fmt: skip
    groups = by_vocabulary(replies, per_prompt=1)
    seen, unseen = groups["all_words_seen"], groups["unseen_words"]
    assert (seen["prompts"], unseen["prompts"]) == (1, 2)
    assert seen["keyword_hit"]["rate"] == 1.0 and unseen["keyword_hit"]["rate"] == 0.5
    assert unseen["style_pass"]["rate"] == 0.5
    low, high = unseen["keyword_hit"]["ci95"]
    assert 0 < low < 0.5 < high < 1  # Wilson for 1 of 2


def test_an_existing_directory_is_refused_without_force(tmp_path):
    out = tmp_path / "c"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(UsageError, match="exists"):
        generate(out, samples=300, seed=1)
    assert (out / "keep.txt").read_text() == "mine"
    manifest = generate(out, samples=300, seed=1, force=True)
    assert not (out / "keep.txt").exists() and sum(manifest["counts"].values()) > 250
    assert manifest["counts"]["val"] >= 15 and manifest["counts"]["test"] >= 15  # small, held out
    assert not [p for p in tmp_path.iterdir() if p.name != "c"]  # no temp dir left
