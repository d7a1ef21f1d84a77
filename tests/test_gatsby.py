"""The gatsby instrument: its corpus (the shared LLM mixture and the template generator,
split by topic), the dial harness's metric functions on hand-made samples whose answers
are known, and a tiny build through the real CLI into a release played with controls
by the terminal player and ``sup serve``."""

from __future__ import annotations

import itertools
import json

import pytest

from helpers import SHARED_DATA, assert_cli_error, run_sup, sup_ok
from sup.errors import SupError
from sup.instruments import dial, gatsby, gatsby_templates
from sup.instruments.stats import bootstrap_mean, wilson

MIXTURE = SHARED_DATA / "gatsby-mixture-2k.txt"
STORY = "[green=2] [green=2] [green=2] obsession=soft\ntopic: a snail on a leaf\nTheo sat.\n"


# ----------------------------------------------------------------------------- metrics


def test_green_is_counted_as_a_whole_word_any_case():
    text = "Green light. GREEN! the green-eyed cat, evergreen, greens, Greenland, green."
    assert dial.green_count(text) == 4  # Green, GREEN, green(-eyed), green.
    assert text.lower().count("green") == 7  # the studio's substring count


class Scripted:
    """A voice that answers each prompt with fixed text: the harness's arithmetic on
    known answers (the real models are sampled in test_gatsby_tiny_build_end_to_end)."""

    def __init__(self, reply):
        self.reply, self.prompts = reply, []

    def sample(self, prompt, tokens, temperature, seed, max_chars=None):
        self.prompts.append((prompt, seed))
        return self.reply(prompt)


def test_the_prompt_never_counts_and_each_level_and_sample_has_its_own_seed():
    voice = Scripted(lambda prompt: "the fox slept.")  # every prompt says green 3 times
    report = dial.dial_report(voice, ["a fox in the snow", "a cat"], samples=2)
    assert [lv["green_mean"] for lv in report["levels"]] == [0.0] * 5
    assert all("green" in p for p, _ in voice.prompts)
    seeds = [s for _, s in voice.prompts]
    assert len(set(seeds)) == len(seeds) == 10
    assert report["levels"][0]["topic_rate"] == 0.5  # "fox" named, "cat" not


def test_a_dial_that_works_is_reported_as_working():
    def reply(prompt):
        level = int(prompt[len("[green=")])
        return "green " * (2 * level) + "the fox"

    report = dial.dial_report(Scripted(reply), ["a fox", "an old fox"], samples=2)
    h = report["headline"]
    assert h["green_means"] == [2.0, 4.0, 6.0, 8.0, 10.0]
    assert h["strictly_increasing"] and h["levels_1_3_5_apart"]
    assert h["spearman"] == pytest.approx(1.0)
    assert h["topic_rate"] == 1.0


def test_only_the_first_chars_are_scored():
    report = dial.dial_report(Scripted(lambda p: "x" * 480 + " green"), ["a fox"], samples=1)
    assert report["levels"][0]["green_mean"] == 0.0


@pytest.mark.parametrize(
    "topic, noun",
    [
        ("a purple hot air balloon floating over mountains", "balloon"),
        ("a snail on a leaf", "snail"),
        ("Broken fence lets radishes escape", "fence"),
        ("Dreaming of talking stars", "stars"),
        ("a friendly dragon's adventure", "adventure"),
        ("a girl with a lantern in the snow", "girl"),
        ("A broken doll needs repair", "doll"),
        ("Building cards scattered by wind", "cards"),
        ("Gift wrapped in too-tight paper", "gift"),
        ("A hug too tight", "hug"),
        ("a subway full of dreams", "subway"),
        ("Forgotten blanket at midnight", "blanket"),
        ("a wilted tulip fights rain", "tulip"),
    ],
)
def test_key_noun(topic, noun):
    assert dial.key_noun(topic) == noun


def test_topic_honoured_by_its_noun_singular_or_plural_as_a_whole_word():
    assert dial.honours_topic("Two balloons rose.", "a red balloon")
    assert dial.honours_topic("The puppies ran.", "a puppy on a rug")
    assert not dial.honours_topic("A balloonist waved.", "a red balloon")
    assert not dial.honours_topic("The sky was blue.", "a red balloon")


def test_spearman_and_intervals_on_known_cases():
    assert dial.spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert dial.spearman([1, 1, 2, 2], [1, 2, 3, 4]) == pytest.approx(0.894427, abs=1e-6)
    assert dial.spearman([1, 2, 3], [5, 5, 5]) == 0.0
    assert bootstrap_mean([3.0] * 10) == (3.0, 3.0)
    low, high = wilson(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)


# ----------------------------------------------------------------------------- corpus


def test_the_shared_mixture_parses_and_splits_by_topic(tmp_path):
    stories, source = gatsby.read_source(MIXTURE)
    assert len(stories) == 2000 and len({s.topic for s in stories}) == 400
    assert source["provenance"]["counts"]["stories"] == 2000
    manifest = gatsby.build_corpus(stories, tmp_path / "c", source)
    assert manifest["held_out_topics_in_train"] == manifest["held_out_stories_in_train"] == 0
    seen = {}
    for side in ("train", "val", "test"):
        for f in (tmp_path / "c" / side).iterdir():
            topic = f.read_text().split("\n")[1]
            assert seen.setdefault(topic, side) == side  # a topic lives on one side only
    topics = gatsby.held_out_topics(tmp_path / "c")
    assert len(topics) >= dial.SAMPLES  # enough held-out topics for the harness


def test_measured_levels_say_what_the_text_does():
    """0-1 greens in the first 480 characters is level 1, 2 is 2, 3 is 3, 4-5 is 4, 6+ is
    5; greens past the first 480 characters and "evergreen" do not count."""
    cases = {"no green at all.": 1, "green. " * 1: 1, "green. " * 2: 2, "green. " * 3: 3,
             "green. " * 5: 4, "green. " * 6: 5, "evergreen greens. " * 9: 1,
             "x" * 480 + " green" * 9: 1}  # fmt: skip
    for body, level in cases.items():
        assert gatsby.measured_level(body) == level, body
    stories = [gatsby.Story(5, "a fox", "green once.\n"), gatsby.Story(2, "a cat", "green " * 7)]
    out, summary = gatsby.measured_levels(stories)
    assert [s.level for s in out] == [1, 5] and [s.topic for s in out] == ["a fox", "a cat"]
    assert summary["relabelled"] == 2 and summary["by_level"]["5"] == {
        "stories": 1,
        "green_mean": 7.0,
    }
    assert summary["by_level"]["3"] == {"stories": 0, "green_mean": None}


def test_the_mixture_relabelled_by_measure_reads_through_the_cli(tmp_path):
    sup_ok("data", "gatsby", "--from", MIXTURE, "--levels", "measured", "--out", tmp_path / "c")
    manifest = json.loads((tmp_path / "c" / "manifest.json").read_text())
    levels = manifest["generator"]["levels"]
    means = [levels["by_level"][str(n)]["green_mean"] for n in range(1, 6)]
    assert means[1:3] == [2.0, 3.0] and means[0] < 1 and 4 <= means[3] <= 5 and means[4] >= 6
    for f in (tmp_path / "c" / "train").iterdir():  # every control line says what it holds
        story = gatsby.parse_stories(f.read_text(), str(f))[0]
        assert gatsby.measured_level(story.body) == story.level


def test_template_stories_mix_in_for_training_but_never_become_harness_prompts(tmp_path):
    out = tmp_path / "c"
    sup_ok("data", "gatsby", "--from", MIXTURE, "--generator", "template", "--out", out)
    manifest = json.loads((out / "manifest.json").read_text())
    made = gatsby_templates.STORIES
    assert manifest["generator"]["mixed_with"]["stories"] == made
    assert manifest["held_out_topics_in_train"] == 0
    assert sum(c["stories"] for c in manifest["counts"].values()) == 2000 + made
    mixture_topics = {s.topic for s in gatsby.read_source(MIXTURE)[0]}
    template_topics = {s.topic for s in gatsby_templates.generate_stories(0)}
    prompts = json.loads((out / "topics.json").read_text())
    assert prompts["test"] and set(prompts["test"] + prompts["val"]) <= mixture_topics
    train = {f.read_text().split("\n")[1][len("topic: ") :] for f in (out / "train").iterdir()}
    assert train & template_topics and not train & set(prompts["test"])


def test_the_template_voice_is_told_from_the_llm_stories():
    llm = gatsby.read_source(MIXTURE)[0]
    assert not any(gatsby_templates.template_voiced(s.body) for s in llm)
    made = gatsby_templates.generate_stories(seed=5, count=100)
    assert all(gatsby_templates.template_voiced(s.body) for s in made)


def test_a_noun_swap_keeps_number_capitals_and_whole_words():
    from sup.instruments.gatsby_augment import swap

    text = "The snail slept. Snails dream; two snails met a snailish snail-shell."
    assert swap(text, "snail", "fox") == (
        "The fox slept. Foxes dream; two foxes met a snailish fox-shell."
    )
    assert swap("A puppy and three puppies.", "puppy", "berry") == "A berry and three berries."


def test_augmented_copies_are_train_only_and_name_their_new_noun(tmp_path):
    out = tmp_path / "c"
    sup_ok("data", "gatsby", "--from", MIXTURE, "--augment", "2", "--out", out)
    manifest = json.loads((out / "manifest.json").read_text())
    made = manifest["generator"]["augment"]
    assert made["made"] == 2 * made["eligible"] - made["dropped_held_out"] and made["made"] > 1500
    assert manifest["held_out_topics_in_train"] == 0
    assert manifest["counts"]["test"]["stories"] == 235  # held-out sides untouched
    original = {s.topic for s in gatsby.read_source(MIXTURE)[0]}
    copies = []
    for f in (out / "train").iterdir():
        story = gatsby.parse_stories(f.read_text(), str(f))[0]
        if story.topic not in original:
            copies.append(story)
    assert len(copies) == made["made"]
    assert all(dial.honours_topic(c.body, c.topic) for c in copies)


@pytest.mark.parametrize(
    "text, line",
    [
        ("once upon a time\n" + STORY, 1),
        (STORY + "[green=2] [green=3] [green=2] obsession=soft\ntopic: x\nbody\n", 4),
        (STORY + "[green=4] [green=4] [green=4] obsession=soft\ntopic: x\nbody\n", 4),
        (STORY + "[green=1] [green=1] [green=1] obsession=faint\nno topic line\nbody\n", 5),
        (STORY + "[green=9] [green=9] [green=9] obsession=total\ntopic: x\nbody\n", 4),
    ],
)
def test_a_bad_control_line_is_an_error_naming_its_line(text, line):
    with pytest.raises(SupError, match=rf"stories.txt: line {line}\b"):
        gatsby.parse_stories(text, "stories.txt")


def test_the_template_generator_sets_green_density_by_level():
    stories = gatsby_templates.generate_stories(seed=3)
    assert len(stories) == gatsby_templates.STORIES
    assert len({dial.key_noun(s.topic) for s in stories}) > 250  # copied, not remembered
    by_level = {}
    for s in stories:
        by_level.setdefault(s.level, []).append(dial.green_count(s.body))
        assert dial.honours_topic(s.body, s.topic)
    means = [sum(v) / len(v) for _, v in sorted(by_level.items())]
    assert all(a < b for a, b in itertools.pairwise(means))
    assert gatsby_templates.generate_stories(seed=3) == stories  # seeded


# ----------------------------------------------------------------------------- end to end


def test_gatsby_tiny_build_end_to_end(tmp_path):
    from test_serve import start_server, stop_server

    out, releases = tmp_path / "build", tmp_path / "releases"
    sup_ok("build", "gatsby", "--preset", "tiny", "--out", out, "--release", "gatsby-1",
           "--releases", releases, "--quiet")  # fmt: skip
    report = json.loads((out / "harness.json").read_text())
    assert [lv["level"] for lv in report["levels"]] == [1, 2, 3, 4, 5]
    assert report["topics"]["side"] == "test"
    test_topics = set(json.loads((out / "corpus" / "stories" / "topics.json").read_text())["test"])
    assert {s["topic"] for s in report["stories"]} <= test_topics
    assert (out / "harness.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    release = releases / "gatsby-1"
    manifest = json.loads((release / "manifest.json").read_text())
    assert manifest["controls"]["fields"][0]["name"] == "level"
    assert "## Controls" in (release / "MODEL_CARD.md").read_text()
    assert "whole-word" in (release / "MODEL_CARD.md").read_text()  # the harness figures

    played = sup_ok("play", release, "--level", "5", "a", "red", "kite", "--max-new-tokens",
                    "20", "--temperature", "0")  # fmt: skip
    assert played.stdout.startswith(
        "[green=5] [green=5] [green=5] obsession=total\ntopic: a red kite\n"
    )
    for args, words in (
        (("--level", "7"), "--level must be an integer from 1 to 5, got 7"),
        (("--colour", "blue"), "no control --colour"),
        (("x" * 119,), "shorten --topic"),  # fits max_chars, not the 160-char context
        (("x" * 121,), "at most 120"),
    ):
        assert words in assert_cli_error(run_sup("play", release, *args), 2)

    server = start_server(tmp_path, "--releases", releases)
    try:
        body = {"model": "gatsby-1", "prompt": "a red kite", "max_tokens": 20,
                "temperature": 0, "controls": {"level": 5}}  # fmt: skip
        reply = server.post("/v1/completions", body)
        assert reply.status == 200
        continuation = played.stdout.split("topic: a red kite\n", 1)[1][:-1]  # play ends the line
        assert reply.json()["choices"][0]["text"] == continuation
        bad = server.post("/v1/completions", {**body, "controls": {"level": 0}})
        assert bad.status == 400 and bad.json()["error"]["param"] == "controls.level"
    finally:
        stop_server(server)

    second = sup_ok("build", "gatsby", "--preset", "tiny", "--out", out, "--release",
                    "gatsby-1", "--releases", releases)  # fmt: skip
    assert second.stderr.count("up to date") == 5  # corpus, prepare, train, harness, release


def test_gatsby_data_needs_a_source(tmp_path):
    msg = assert_cli_error(run_sup("data", "gatsby", "--out", tmp_path / "c"), 2)
    assert "--from FILE" in msg and "--generator template" in msg
    bad = tmp_path / "bad.txt"
    bad.write_text("a story with no control line\n")
    msg = assert_cli_error(run_sup("data", "gatsby", "--from", bad, "--out", tmp_path / "c"), 1)
    assert "line 1 is not a control line" in msg
    assert not (tmp_path / "c").exists()
