"""The guppy harness: the fish answers held-out prompts, and every reply is checked.

The prompts (``guppy_prompts.PROMPTS``: at least two per topic, written for the harness
and never in the corpus, which is checked here) are asked as single-turn chats, in two
conditions: greedy (one reply a prompt) and sampled (``SAMPLES`` replies a prompt at
``TEMPERATURE``, each with its own seed, ``SEED_BASE + prompt index * SAMPLES + k``, so
no two replies share a seed). Per reply (definitions in ``guppy_prompts``):

- keyword hit: the reply contains one of the prompt's expected keywords;
- style pass: all lowercase, no sentence over the word limit, no human abstraction
  from the list, on the topic (a word of the topic's vocabulary), not empty;
- copy: the reply is, after stripping, verbatim an assistant message of the training
  split (memorisation made visible);
- unique-reply rate: distinct reply texts / replies, over the condition's replies.

A third, diagnostic condition asks the test split's own first questions (two a topic,
from held-out template combinations, greedy; ``TEST_PER_TOPIC``) and reports the style
pass rate there: the same rules on questions phrased the way the corpus phrases them,
so a gap between it and the held-out prompts is the phrasing the model never read.

Intervals (95%): greedy rates are Wilson intervals over prompts; sampled rates are
cluster bootstraps over prompts (the replies to one prompt are not independent). The
unique-reply rate's interval holds each reply's share (1 / copies of its text in the
condition) fixed and resamples prompts. Eval leakage, also reported: harness prompts
that occur as a user message anywhere in the corpus, and test-split answers that occur
verbatim in train (recomputed from the files, never read from the corpus manifest).

By vocabulary: each condition's keyword and style rates are also reported for the
prompts whose every word (``guppy_words.WORD``, lowercased) occurs in some train user
message and for the prompts holding a word no train user message holds. A model that
learnt only from the generator cannot know what an unseen word means, so the second
group shows how far the generator's user vocabulary reaches, not how well the model
learnt it.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from sup.errors import SupError, UsageError
from sup.instruments.guppy_prompts import PROMPTS, keyword_hit, style_problems
from sup.instruments.guppy_words import WORD
from sup.instruments.stats import cluster_bootstrap, wilson

SAMPLES = 3  # sampled replies per prompt
TEST_PER_TOPIC = 2  # the diagnostic condition's test-split questions per topic
TEMPERATURE = 0.8
SEED_BASE = 1000
REPLY_TOKENS = 64
# by_vocabulary's groups, as the report's lines name them
VOCABULARY_GROUPS = {"all_words_seen": "every word seen", "unseen_words": "a word never seen"}


def read_split(corpus: Path, split: str) -> list[dict]:
    path = Path(corpus) / f"{split}.jsonl"
    if not path.is_file():
        raise UsageError(f"{corpus} is not a guppy corpus (no {split}.jsonl): run sup data guppy")
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _answers(rows: list[dict]) -> set[str]:
    return {m["content"].strip() for r in rows for m in r["messages"] if m["role"] == "assistant"}


def user_vocabulary(rows: list[dict]) -> set[str]:
    """Every word of the user messages in ``rows`` (lowercased, ``WORD``)."""
    return {
        w for r in rows for m in r["messages"] if m["role"] == "user"
        for w in WORD.findall(m["content"].lower())
    }  # fmt: skip


def unseen_words(prompt: str, vocabulary: set[str]) -> list[str]:
    return [w for w in WORD.findall(prompt.lower()) if w not in vocabulary]


def leakage(corpus: Path) -> dict:
    """Harness prompts found as user messages in the corpus, and test answers in train."""
    splits = {s: read_split(corpus, s) for s in ("train", "val", "test")}
    asked = {
        m["content"].strip()
        for rows in splits.values()
        for r in rows
        for m in r["messages"]
        if m["role"] == "user"
    }
    prompts_in_corpus = sum(p["prompt"].strip() in asked for p in PROMPTS)
    train_answers = _answers(splits["train"])
    test_answers = [
        m["content"].strip()
        for r in splits["test"]
        for m in r["messages"]
        if m["role"] == "assistant"
    ]
    in_train = sum(a in train_answers for a in test_answers)
    vocabulary = user_vocabulary(splits["train"])
    return (
        {
            "train_user_words": len(vocabulary),
            "prompts": len(PROMPTS),
            "prompts_in_corpus": prompts_in_corpus,
            "test_answers": len(test_answers),
            "test_answers_in_train": in_train,
            "rate": (prompts_in_corpus + in_train) / max(len(PROMPTS) + len(test_answers), 1),
        },
        train_answers,
        vocabulary,
    )


def chosen_prompts(per_topic: int | None) -> list[dict]:
    """Every harness prompt, or the first ``per_topic`` of each topic (quick checks)."""
    if per_topic is None:
        return list(PROMPTS)
    seen: Counter = Counter()
    chosen = []
    for p in PROMPTS:
        if seen[p["topic"]] < per_topic:
            seen[p["topic"]] += 1
            chosen.append(p)
    return chosen


def guppy_report(
    voice,
    corpus: Path,
    samples: int = SAMPLES,
    tokens: int = REPLY_TOKENS,
    prompts_per_topic: int | None = None,
) -> dict:
    if corpus is None:
        raise UsageError("the guppy harness needs --corpus DIR (the corpus the model read)")
    leak, train_answers, vocabulary = leakage(Path(corpus))
    if leak["prompts_in_corpus"]:
        raise SupError(
            f"{leak['prompts_in_corpus']} harness prompts occur in {corpus}: the evaluation "
            "would measure memorisation; regenerate the corpus"
        )
    prompts = chosen_prompts(prompts_per_topic)
    conditions = {"greedy": (0.0, 1), "sampled": (TEMPERATURE, samples)}
    report: dict = {
        "instrument": "guppy",
        "format": "sup-harness-guppy",
        "version": 1,
        "prompts": len(prompts),
        "topics": len({p["topic"] for p in prompts}),
        "reply_tokens": tokens,
        "leakage": leak,
        "conditions": {},
    }
    for name, (temperature, n) in conditions.items():
        replies = []
        for i, p in enumerate(prompts):
            for k in range(n):
                seed = SEED_BASE + i * n + k
                text = voice.reply([{"role": "user", "content": p["prompt"]}], tokens,
                                   temperature, seed)  # fmt: skip
                problems = style_problems(text, p["topic"])
                replies.append({
                    "prompt": i, "topic": p["topic"], "seed": seed, "reply": text,
                    "unseen": unseen_words(p["prompt"], vocabulary),
                    "keyword": keyword_hit(text, p["keywords"]), "style": not problems,
                    "problems": problems, "copy": text.strip() in train_answers,
                })  # fmt: skip
        report["conditions"][name] = summarise(replies, temperature, n)
    report["test_split"] = test_split_style(voice, Path(corpus), tokens, prompts_per_topic)
    g, s = report["conditions"]["greedy"], report["conditions"]["sampled"]
    report["headline"] = {
        "keyword_hit": g["keyword_hit"]["rate"],
        "style_pass": g["style_pass"]["rate"],
        "unique_sampled": s["unique"]["rate"],
        "copy_sampled": s["copy"]["rate"],
        "sampled_keyword_hit": s["keyword_hit"]["rate"],
        "sampled_style_pass": s["style_pass"]["rate"],
        "leakage": leak["rate"],
    }
    return report


def test_split_style(voice, corpus: Path, tokens: int, per_topic: int | None) -> dict:
    """Greedy replies to the test split's first questions, the first ``TEST_PER_TOPIC``
    (or ``per_topic``) of each topic in file order: the style pass rate in the corpus's
    own phrasing (see the module doc)."""
    want = per_topic or TEST_PER_TOPIC
    seen: Counter = Counter()
    passed = n = 0
    for row in read_split(corpus, "test"):
        if seen[row["topic"]] >= want:
            continue
        seen[row["topic"]] += 1
        question = row["messages"][0]["content"]
        reply = voice.reply([{"role": "user", "content": question}], tokens, 0.0, SEED_BASE)
        passed += not style_problems(reply, row["topic"])
        n += 1
    return {"n": n, "style_pass": passed / max(n, 1), "ci95": list(wilson(passed, n)),
            "interval": "wilson", "questions": "the test split's first, greedy"}  # fmt: skip


def rate(values: list[float], replies: list[dict], per_prompt: int) -> dict:
    """The mean of ``values`` (one per reply) with its 95% interval: Wilson for one reply
    a prompt, else a cluster bootstrap over prompts."""
    n = len(replies)
    hits = sum(values)
    if n == 0:
        return {"n": 0, "hits": 0, "rate": None, "ci95": None, "interval": None}
    if per_prompt == 1:
        low, high = wilson(round(hits), n)
    else:
        per: dict[int, float] = {}
        for v, r in zip(values, replies, strict=True):
            per[r["prompt"]] = per.get(r["prompt"], 0.0) + v
        by_prompt = list(per.values())
        low, high = cluster_bootstrap(by_prompt, [per_prompt] * len(by_prompt))
    interval = "wilson" if per_prompt == 1 else "cluster bootstrap by prompt"
    return {"n": n, "hits": round(hits, 3), "rate": hits / n, "ci95": [low, high],
            "interval": interval}  # fmt: skip


def by_vocabulary(replies: list[dict], per_prompt: int) -> dict:
    """Keyword and style rates for prompts whose words the train users all wrote, and
    for prompts holding a word they never wrote (the module doc)."""
    out = {}
    for name, mine in (("all_words_seen", [r for r in replies if not r["unseen"]]),
                       ("unseen_words", [r for r in replies if r["unseen"]])):  # fmt: skip
        out[name] = {
            "prompts": len({r["prompt"] for r in mine}),
            "keyword_hit": rate([float(r["keyword"]) for r in mine], mine, per_prompt),
            "style_pass": rate([float(r["style"]) for r in mine], mine, per_prompt),
        }
    return out


def summarise(replies: list[dict], temperature: float, per_prompt: int) -> dict:
    """Rates with 95% intervals, overall and per topic, for one condition."""
    n = len(replies)
    copies = Counter(r["reply"].strip() for r in replies)
    share = [1 / copies[r["reply"].strip()] for r in replies]

    topics = {}
    for topic in sorted({r["topic"] for r in replies}):
        mine = [r for r in replies if r["topic"] == topic]
        k, st = sum(r["keyword"] for r in mine), sum(r["style"] for r in mine)
        topics[topic] = {
            "n": len(mine),
            "keyword_hit": k / len(mine),
            "keyword_ci95": list(wilson(k, len(mine))),
            "style_pass": st / len(mine),
            "style_ci95": list(wilson(st, len(mine))),
        }
    problems = Counter(p.split(":")[0] for r in replies for p in r["problems"])
    return {
        "temperature": temperature,
        "replies_per_prompt": per_prompt,
        "keyword_hit": rate([float(r["keyword"]) for r in replies], replies, per_prompt),
        "style_pass": rate([float(r["style"]) for r in replies], replies, per_prompt),
        "copy": rate([float(r["copy"]) for r in replies], replies, per_prompt),
        "unique": {**rate(share, replies, per_prompt), "distinct": len(copies)},
        "by_vocabulary": by_vocabulary(replies, per_prompt),
        "style_problems": dict(problems.most_common()),
        "topics": topics,
        "examples": [
            {k: r[k] for k in ("topic", "seed", "reply", "keyword", "style")}
            for r in replies[:: max(1, n // 12)]
        ],
    }


def interval_text(x: dict) -> str:
    """A rate with its 95% interval, as the report's lines print it."""
    return f"{x['rate']:.3f} [{x['ci95'][0]:.3f}, {x['ci95'][1]:.3f}]"


def guppy_lines(report: dict) -> list[str]:
    lines = []
    for name, c in report["conditions"].items():
        lines.append(
            f"{name} (temperature {c['temperature']:g}, {c['keyword_hit']['n']} replies to "
            f"{report['prompts']} held-out prompts over {report['topics']} topics): keyword hit "
            f"{interval_text(c['keyword_hit'])}, style pass {interval_text(c['style_pass'])}, "
            f"unique replies {interval_text(c['unique'])}, verbatim copies of training "
            f"answers {interval_text(c['copy'])}"
        )
        groups = [
            f"{label} in a train user message ({g['prompts']} prompts): keyword "
            f"{interval_text(g['keyword_hit'])}, style {interval_text(g['style_pass'])}"
            for key, label in VOCABULARY_GROUPS.items()
            if (g := c.get("by_vocabulary", {}).get(key)) and g["keyword_hit"]["n"]
        ]
        if groups:
            lines.append(f"{name} by vocabulary: " + "; ".join(groups))
    t = report.get("test_split")
    if t:
        lines.append(
            f"the test split's own questions (greedy, {t['n']}): style pass "
            f"{t['style_pass']:.3f} [{t['ci95'][0]:.3f}, {t['ci95'][1]:.3f}]"
        )
    leak = report["leakage"]
    lines.append(
        f"eval leakage: {leak['prompts_in_corpus']} of {leak['prompts']} harness prompts in the "
        f"corpus, {leak['test_answers_in_train']} of {leak['test_answers']} test answers "
        "verbatim in train"
    )
    return lines


def guppy_chart(report: dict, path: Path) -> None:
    """Keyword hit and style pass per topic (greedy and sampled), one row per topic."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    topics = sorted(report["conditions"]["greedy"]["topics"])
    fig, axes = plt.subplots(1, 2, figsize=(11, max(6, len(topics) * 0.18)), sharey=True)
    ys = range(len(topics))
    for ax, key, title in zip(axes, ("keyword_hit", "style_pass"),
                              ("keyword hit", "style pass"), strict=True):  # fmt: skip
        for offset, (name, colour) in enumerate((("greedy", "#1f77b4"), ("sampled", "#ff7f0e"))):
            per = report["conditions"][name]["topics"]
            ax.barh([y + offset * 0.4 for y in ys], [per[t][key] for t in topics], height=0.4,
                    color=colour, label=name)  # fmt: skip
        ax.set_title(f"{title} by topic")
        ax.set_xlim(0, 1)
    axes[0].set_yticks(list(ys))
    axes[0].set_yticklabels(topics, fontsize=6)
    axes[0].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
