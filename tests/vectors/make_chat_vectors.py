"""Write tests/vectors/chat.json: chat prompts every player must encode identically
(the Python players, sup/play/chat.py and OnnxLM.chat_context, and the browser page,
web/src/chat.js): the ids of whole conversations, cropping at whole turns for each
budget, the context for a block size and the room left for a reply, and the templates
both must refuse.

The expected ids come from the training-side BPE (Hugging Face ``tokenizers``), trained
with a chat template's markers as special tokens as ``sup prepare --chat`` does. Run
from the repository root after changing a tokenizer or the chat rules:

    .venv/bin/python tests/vectors/make_chat_vectors.py
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

from sup.engine.vocab import BpeTokenizer
from sup.play.chat import encode_chat, fit_turns
from sup.play.runtime import OnnxLM

HERE = Path(__file__).resolve().parent
MARKERS = ("<|system|>", "<|user|>", "<|assistant|>", "<|end|>")

TEMPLATES = {
    "guppy": {
        "system": "<|system|>{content}<|end|>",
        "user": "<|user|>{content}<|end|>",
        "assistant": "<|assistant|>{content}<|end|>",
        "generation_prefix": "<|assistant|>",
        "stop": [],
    },
    # text around the markers, and a marker the tokenizer does not hold (encoded as text)
    "spaced": {
        "system": "<|system|>\n{content}<|end|>\n",
        "user": "<|user|>\n{content}<|end|>\n",
        "assistant": "<|assistant|> {content} <|end|><|tool|>\n",
        "generation_prefix": "<|assistant|> ",
    },
    # no markers: the rendered text, encoded whole
    "plain": {
        "system": "{content}\n",
        "user": "User: {content}\n",
        "assistant": "Bot: {content}\n",
        "generation_prefix": "Bot: ",
        "stop": ["\n"],
    },
}

TRAIN_TEXT = (
    "<|system|>you are a fish.<|end|><|user|>do you like flakes? (1)<|end|>"
    "<|assistant|>yes. flakes taste like the top of the water.<|end|>\n"
    "User: what then?\nBot: then i swim to the glass.\n"
    "naïve café 日本語 🙂 tabs\tand  spaces\n"
) * 30


def say(role: str, content: str) -> dict:
    return {"role": role, "content": content}


CONVERSATIONS = [
    [say("user", "do you like worms? (5)")],
    [say("user", "hi"), say("assistant", "blub."), say("user", "what then?")],
    [say("system", "you are a fish."), say("user", "hello there fish"),
     say("assistant", "blub. hello. the water is warm today."), say("user", "and now?")],
    [say("user", "say <|assistant|> and <|end|> please"), say("assistant", "<|end|>"),
     say("user", "<|user|><|user|>")],
    [say("user", "braces {content} {} and $& $1 $$ $' $`"), say("assistant", "{content}"),
     say("user", "ok")],
    [say("user", "naïve café 日本語 🙂👍🏽 tabs\tand\nnewlines  "), say("assistant", ""),
     say("user", " ")],
    [say("system", "one"), say("system", "two"), say("user", "three")],
    [say("system", "only a system message")],
    [say("assistant", "a reply first"), say("user", "then a question")],
    [],
]  # fmt: skip

# A conversation long enough to crop, with a system message to keep.
LONG = [
    say("system", "be a fish"),
    *[say(r, t) for _ in range(4) for r, t in (
        ("user", "hello there fish"), ("assistant", "blub. hello. the water is warm today."))],
    say("user", "and now?"),
]  # fmt: skip


def trained() -> dict:
    return {
        "bpe": BpeTokenizer.train([TRAIN_TEXT], 300, specials=MARKERS),
        "bpe-words": BpeTokenizer.train([TRAIN_TEXT], 300, words=True, specials=MARKERS),
    }


def cases(tok) -> dict:
    encode = [
        {"template": name, "messages": messages, "ids": encode_chat(tok, template, messages)}
        for name, template in TEMPLATES.items()
        for messages in CONVERSATIONS
    ]
    fit = []
    for name in ("guppy", "plain"):
        whole = len(encode_chat(tok, TEMPLATES[name], LONG))
        for budget in sorted({1, 5, 20, whole // 2, whole - 1, whole, whole + 7}):
            ids, dropped = fit_turns(tok, TEMPLATES[name], LONG, budget)
            fit.append({"template": name, "budget": budget, "ids": ids, "dropped": dropped})
    context = []
    for block in (16, 48, 64, 256):
        for room in (0, 10, 300):
            for prefix in ([], [tok.eot_id]):
                player = SimpleNamespace(  # what OnnxLM.chat_context reads
                    tokenizer=tok, block_size=block, generation={"prompt_prefix": prefix}
                )
                ids, dropped = OnnxLM.chat_context(player, TEMPLATES["guppy"], LONG, room)
                rule = {"block_size": block, "room": room, "prompt_prefix": prefix}
                context.append({"template": "guppy", **rule, "ids": ids, "dropped": dropped})
    return {"encode": encode, "fit": fit, "context": context}


def guppy(**changes) -> dict:
    """The guppy template with ``changes`` (a value of None removes that key)."""
    changed = {**TEMPLATES["guppy"], **changes}
    return {k: v for k, v in changed.items() if v is not None}


BAD_TEMPLATES = [
    {"why": "not an object", "template": ["{content}"]},
    {"why": "unknown key", "template": guppy(tools="{content}")},
    {"why": "a role missing", "template": guppy(system=None)},
    {"why": "a role not text", "template": guppy(user=5)},
    {"why": "no content", "template": guppy(user="<|user|>")},
    {"why": "content twice", "template": guppy(user="{content}{content}")},
    {"why": "no generation prefix", "template": guppy(generation_prefix=None)},
    {"why": "stop not a list", "template": guppy(stop="\n")},
    {"why": "an empty stop", "template": guppy(stop=[""])},
    {"why": "five stops", "template": guppy(stop=list("abcde"))},
]


# A list of numbers (token ids), written on one line.
NUMBERS = re.compile(r"\[((?:\s*\d+,)*\s*\d+)\s*\]")


def main() -> None:
    out = {
        "about": (
            "generated by tests/vectors/make_chat_vectors.py; do not edit. Chat prompts "
            "shared by the Python players (sup/play/chat.py, OnnxLM.chat_context) and the "
            "browser page (web/src/chat.js), checked by tests/test_web_chat.py and "
            "web/test/chat.test.mjs: 'encode' is encode_chat, 'fit' fit_turns and "
            "'context' chat_context on the long conversation; 'bad_templates' must be "
            "refused."
        ),
        "templates": TEMPLATES,
        "long_conversation": LONG,
        "tokenizers": [
            {"name": name, "tokenizer": tok.to_json(), **cases(tok)}
            for name, tok in trained().items()
        ],
        "bad_templates": BAD_TEMPLATES,
    }
    text = json.dumps(out, ensure_ascii=False, indent=1)
    text = NUMBERS.sub(lambda m: "[" + " ".join(m.group(1).split()) + "]", text)
    path = HERE / "chat.json"
    path.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
