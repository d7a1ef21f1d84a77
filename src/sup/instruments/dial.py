"""The gatsby harness: does the obsession dial work, on topics the model never read?

For each level 1..5 and each held-out topic (the corpus's ``test`` topics, up to
``samples`` of them, the same topics at every level), one story is sampled from the
prompt the release's controls build (``gatsby.CONTROLS``), at ``TEMPERATURE``, with its
own seed ``SEED + 1000 * level + i``. Of each story, the first ``CHARS`` generated
characters after the prompt are scored (the prompt is never counted):

- ``green``: whole-word, case-insensitive matches of "green" (``\\bgreen\\b``: "greens"
  and "evergreen" do not count);
- ``green_substring``: every "green" inside any word, the studio's older count, for
  comparison;
- ``topic``: whether the text names the topic's key noun (``key_noun``), singular or
  plural, as a whole word;
- ``template_voiced``: whether it holds two whole sentences of the template generator
  (``gatsby_templates.template_voiced``): where template stories were mixed into training, the
  share of stories told in their voice rather than the LLMs'.

Per level: the mean green count with a 95% bootstrap interval, and the topic-honouring
rate with a Wilson interval. Overall: Spearman's rank correlation of level with count
over every story (ties get average ranks), whether the means rise strictly, and whether
the intervals of levels 1, 3 and 5 are pairwise apart.
"""

from __future__ import annotations

import itertools
import re

import numpy as np

from sup.formats.controls import render_prompt
from sup.instruments.gatsby import CHARS, CONTROLS, LEVELS, green_count
from sup.instruments.stats import bootstrap_mean, overlaps, wilson

TEMPERATURE = 0.8
SAMPLES = 40
SEED = 5000
ARTICLES = frozenset(str.split("a an the one some two three little old young big small"))
# A topic's head noun ends where a preposition, a clause or a participle begins.
BREAKS = frozenset(str.split(
    "in on at by over under near with without of for from into onto across through "
    "behind beside above below who that which and while during after before not too full"
))  # fmt: skip
VERBS = frozenset(str.split("left went came fell got made lost found broke is are was were"))


def key_noun(topic: str) -> str:
    """The topic's head noun, by a documented heuristic (no tagger): skip leading
    articles, small adjectives, -ing words and prepositions; then collect words until a
    preposition or clause word (``BREAKS``), an -ing participle, an -ed participle or
    -ly adverb after the first word, a past-tense ``VERBS`` word, or a word ending in
    "s" with more words after it (a verb: "a doll needs repair"); the head is the last
    word collected. "a purple hot air balloon floating over mountains" ->
    balloon; "Broken fence lets radishes escape" -> fence; "Dreaming of talking stars"
    -> stars. Each story in the report records the noun it was checked for."""
    words = re.findall(r"[a-z]+(?:'[a-z]+)?", topic.lower())
    head: list[str] = []
    for i, word in enumerate(words):
        ing = word.endswith("ing") and len(word) > 4
        if not head:
            if word not in ARTICLES and word not in BREAKS and not ing:
                head.append(word)
            continue
        verb_s = word[-1] == "s" and word[-2:] != "ss" and "'" not in word and i + 1 < len(words)
        adverb, participle = (
            word.endswith("ly") and len(word) > 3,
            word.endswith("ed") and len(word) > 4,
        )
        if (
            word in BREAKS
            or ing
            or word in VERBS
            or (verb_s and len(word) > 3)
            or adverb
            or participle
        ):
            break
        head.append(word)
    return head[-1] if head else (words[-1] if words else "")


def honours_topic(text: str, topic: str) -> bool:
    noun = key_noun(topic)
    if not noun:
        return False
    forms = {noun, noun + "s", noun + "es"}
    if noun.endswith("y"):
        forms.add(noun[:-1] + "ies")
    words = set(re.findall(r"[a-z]+", text.lower()))
    return bool(forms & words)


def spearman(x, y) -> float:
    """Spearman's rho: Pearson's correlation of average ranks (0 when one side is flat)."""

    def ranks(values):
        values = np.asarray(values, float)
        order = values.argsort(kind="stable")
        r = np.empty(len(values))
        r[order] = np.arange(len(values), dtype=float)
        for v in np.unique(values):  # ties share their average rank
            r[values == v] = r[values == v].mean()
        return r

    rx, ry = ranks(x), ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        return 0.0
    return float(np.corrcoef(rx, ry)[0, 1])


def dial_report(voice, topics: list[str], samples: int = SAMPLES, chars: int = CHARS) -> dict:
    """Sample and score the dial (see the module docstring); ``voice`` is a
    ``voices.Voice``. Tokens generated per story: ``chars`` (a token is at least one
    character, so a story that does not end early always has ``chars`` to score)."""
    from sup.instruments.gatsby_templates import frames, template_voiced

    patterns = frames()
    topics = topics[:samples]
    levels, stories = [], []
    for level in LEVELS:
        counts, honoured, subs = [], [], []
        for i, topic in enumerate(topics):
            seed = SEED + 1000 * level + i
            prompt = render_prompt(CONTROLS, {"level": level, "topic": topic})
            text = voice.sample(prompt, chars, TEMPERATURE, seed, max_chars=chars)[:chars]
            counts.append(green_count(text))
            subs.append(text.lower().count("green"))
            honoured.append(honours_topic(text, topic))
            stories.append({"level": level, "topic": topic, "key_noun": key_noun(topic),
                            "seed": seed, "green": counts[-1], "topic_honoured": honoured[-1],
                            "template_voiced": template_voiced(text, patterns),
                            "text": text})  # fmt: skip
        hits = sum(honoured)
        levels.append({
            "level": level,
            "samples": len(counts),
            "green_mean": float(np.mean(counts)),
            "green_ci95": list(bootstrap_mean(counts, seed=level)),
            "green_substring_mean": float(np.mean(subs)),
            "topic_rate": hits / len(counts),
            "topic_ci95": list(wilson(hits, len(counts))),
        })  # fmt: skip
    means = [x["green_mean"] for x in levels]
    ci = {x["level"]: tuple(x["green_ci95"]) for x in levels}
    apart = all(not overlaps(ci[a], ci[b]) for a, b in itertools.combinations((1, 3, 5), 2))
    honoured = sum(s["topic_honoured"] for s in stories)
    voiced = sum(s["template_voiced"] for s in stories)
    return {
        "harness": "gatsby-dial",
        "temperature": TEMPERATURE,
        "chars_scored": chars,
        "topics": {"side": "test", "count": len(topics)},
        "seeds": f"{SEED} + 1000 * level + i (i: the topic's index)",
        "levels": levels,
        "headline": {
            "green_means": means,
            "spearman": spearman([s["level"] for s in stories], [s["green"] for s in stories]),
            "strictly_increasing": all(a < b for a, b in itertools.pairwise(means)),
            "levels_1_3_5_apart": apart,
            "topic_rate": honoured / len(stories),
            "topic_ci95": list(wilson(honoured, len(stories))),
            "template_voiced_rate": voiced / len(stories),
        },
        "stories": stories,
    }


def dial_chart(report: dict, path) -> None:
    """Left: mean whole-word "green" by level with 95% intervals. Right: the share of
    stories that name their topic, by level, with Wilson intervals."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from sup.fileio import atomic_write

    levels = report["levels"]
    x = [lv["level"] for lv in levels]
    fig, (ax, ax_topic) = plt.subplots(1, 2, figsize=(11, 4))
    for axis, key, ci, colour in ((ax, "green_mean", "green_ci95", "tab:green"),
                                  (ax_topic, "topic_rate", "topic_ci95", "tab:blue")):  # fmt: skip
        values = [lv[key] for lv in levels]
        low = [v - lv[ci][0] for v, lv in zip(values, levels, strict=True)]
        high = [lv[ci][1] - v for v, lv in zip(values, levels, strict=True)]
        axis.errorbar(x, values, yerr=[low, high], marker="o", capsize=4, color=colour)
    n, h = levels[0]["samples"], report["headline"]
    title = (f"gatsby: the obsession dial ({n} held-out topics a level; "
             f"Spearman {h['spearman']:.2f})")  # fmt: skip
    ax.set(xlabel="level", ylabel=f'"green" in the first {report["chars_scored"]} chars',
           title=title, xticks=x)  # fmt: skip
    ax_topic.set(xlabel="level", ylabel="share of stories naming the topic's noun",
                 title="topic honoured", xticks=x, ylim=(0, 1))  # fmt: skip
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110))
    plt.close(fig)
