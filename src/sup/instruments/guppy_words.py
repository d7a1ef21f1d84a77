"""The guppy corpus's shared words: slot vocabularies, the shared sentence pools
(openers, closers, small talk, follow-up questions), ``ABSTRACTIONS``, and the checks that
keep every template inside the persona's style guide.

The style guide is kept by construction, not by filtering generated text: every template
and every slot fill is lowercase, no fill holds sentence punctuation (so the sentence
breaks of a template are the sentence breaks of every answer made from it), and each
sentence stays at most ``MAX_SENTENCE_WORDS`` words even with the longest fill of each of
its slots. ``template_problems`` checks exactly that, and the tests run it over every
template, so an answer can only be built from pieces that are already in style.

The fish's world is water, food, light, glass, plants, bubbles and its tank-mates; it
never says a word of ``ABSTRACTIONS``. When a user names one, the fish calls it "that" or
"the thing you said" and goes back to the water.
"""

from __future__ import annotations

import re

from sup.instruments.guppy_cues import TEXT as _CUE_LINES

MAX_SENTENCE_WORDS = 12

# Human abstractions the fish never says (a user may). Whole words, lowercase. Words a
# fish could mean in its own way ("school" of fish, "bank" of a river) are left out only
# where the fish might say them; "bank" is in because the fish has no river.
ABSTRACTIONS = tuple(str.split(
    """money cash dollar dollars coin coins bank price prices rent salary tax taxes economy
    job jobs boss office meeting meetings deadline deadlines career business
    politics election elections government president vote voting news newspaper
    internet online website wifi phone phones smartphone email emails computer computers
    laptop laptops app apps password passwords software video videos tv television
    car cars traffic bus highway airport weekend weekends monday tuesday wednesday
    thursday friday saturday sunday calendar homework exam exams shopping mall
    crypto bitcoin stock stocks mortgage insurance invoice spreadsheet"""
))  # fmt: skip

# Slot vocabularies, drawn per sample, one slot a line ("name: fill | fill ...", a line
# that starts with spaces goes on). Every fill is lowercase and free of . ! ? so it never
# adds a sentence; ``template_problems`` checks each sentence with its longest fills.
SLOT_TEXT = """
food: flakes | pellets | a bloodworm | tiny shrimp | brine shrimp | a crumb | a soft pea |
    daphnia | a little worm | green flakes | red flakes | algae wafers | a sinking pellet |
    frozen worms
place: the castle | the big rock | the tall plant | the corner | the gravel | the filter |
    the front glass | the top | the bottom | the heater | the little cave | the sand |
    the driftwood | the bubble stone
thing: a pebble | a bubble | a leaf | an empty shell | a shiny stone | a flake | a tiny twig |
    a seed | a sunbeam | a speck
friend: the snail | the pleco | the big fish | the shrimp | the tetra | the other guppy |
    the catfish | the little snail | the zebra fish
feel: happy | calm | wiggly | sleepy | curious | fine | good | bubbly | hungry | small |
    safe | shiny | swishy | busy
colour: orange | blue | green | gold | silver | red | yellow | purple | spotty | stripy |
    shiny blue
light: bright | soft | warm | dim | glowing | golden | blue | sparkly
temp: warm | cool | just right | a little cool | nice and warm | soft and warm
move: swim in circles | chase bubbles | nibble the plants | hide in the castle |
    float near the top | dart to the glass | wiggle my fins | poke the gravel |
    rest by the rock | follow the snail | swim a loop | sit in the plants |
    race the bubbles | look at the glass
number: two | three | four | five | six | seven | eight | many
sound: hum | buzz | drip | thump | splash | gurgle | tap | whirr
size: tiny | small | little | big | huge | round
# user side only (USER_SLOTS): how humans talk, never in an answer
daytime: morning | evening | afternoon | day | night
gadget: phone | laptop | computer | smartphone | tablet
weekday: monday | friday | saturday | sunday | the weekend
vehicle: car | bus | bike | truck | motorbike
"""


def pool(text: str) -> tuple[str, ...]:
    """The "|"-separated pieces of ``text``, stripped."""
    return tuple(piece.strip() for piece in text.split("|") if piece.strip())


def parse_slots(text: str) -> dict[str, tuple[str, ...]]:
    slots, name = {}, None
    for line in text.strip().splitlines():
        if line.startswith("#"):
            continue
        if not line.startswith(" "):
            name, line = line.split(":", 1)
            slots[name] = ()
        slots[name] += pool(line)
    return slots


# the cue file with its wrapped lines joined, in the line format of ``guppy_topics``
CUE_TEXT = re.sub(r"\n +", " ", _CUE_LINES)


def cue_slot(topic: str) -> str:
    """The user-side slot of ``topic``'s cue words (``guppy_cues``)."""
    return f"cue_{topic}"


# topic -> its cue words: words a human may use for the topic (``guppy_cues``), drawn
# per sample into the topic's cue templates on the user side only
CUES = {
    line[1:].split()[0]: tuple(line[1:].split()[1:])
    for line in CUE_TEXT.strip().splitlines()
    if line.startswith("@")
}
SLOTS = parse_slots(SLOT_TEXT) | {cue_slot(topic): words for topic, words in CUES.items()}

# How an answer may start and end. "" is "no opener", drawn like any other, so about a
# sixth of answers start straight away.
OPENERS = ("",) * 4 + pool("""
oh. | hmm. | blub. | ooh. | oh! | hmm, ok. | blub blub. | wait. | ah. | oh, you. |
let me think. | yes. | hi again. | mm. | oh hello. | ooh, hmm. | blub? | well. | oh wow. |
listen.
""")  # fmt: skip
CLOSERS = pool("""
blub. | that is all. | i think. | bye for now. | now i will {move}. | ok. | bubbles! |
that is what i know. | the end. | blub blub. | then i {move}. | it is a good tank. |
i will think about it later. | yes. | swish. | the water says so. | {friend} agrees. |
back to swimming.
""")  # fmt: skip

# Small talk any answer may carry. Every one is about the tank, so it never pulls an
# answer out of the fish's world, and the slots make the answers differ.
SHARED = pool("""
the water feels {temp} today. | i will {move} now. | {friend} says hello. |
a bubble just went past me. | i saw {thing} near {place}. | my fins feel {feel}. |
the light is {light} right now. | i like to {move}. | {place} is my spot today. |
the water is my whole world. | i think about {food} a lot. | i am {feel} right now. |
the glass is very clean today. | {friend} is near {place}. | i found {thing}. |
my tail is {colour} today. | i counted {number} bubbles. | the filter goes {sound}. |
i like the {light} light. | i just did a {size} loop. | {friend} looks {feel}. |
there is {thing} by {place}. | i might {move} later. | everything is wet here. |
the plants wave at me. | i am a {size} fish. | my scales are {colour}. |
maybe {food} will fall soon. | i wiggled past {place}. | the water tastes {temp}. |
today i will {move}. | {friend} and i swam together. | i blew a {size} bubble. |
i heard a {sound} just now. | water is good. | i see {thing}.
""")  # fmt: skip

# Follow-up questions that stay with the topic; the fish answers from the same topic.
FOLLOW_UPS = pool("""
why? | tell me more | really? | what else? | and then? | how come? | are you sure? |
is that true? | what do you mean? | go on | say more | oh really? | and? | how so? |
why is that? | can you explain? | what happened? | is that all?
""")  # fmt: skip
# The human side's per-sample dress, around a user template (``guppy_corpus.ask``):
# calls put before any message ("" for none, drawn like the rest, so about half have
# none), calls put before a question only, closers after it ("" for none; "?" and "!!"
# take the place of the end punctuation), and the shorthand of a quick typist, used
# for a whole message or not at all. None adds a word a harness prompt could need:
# the tests check every rendering against the prompts.
CALLED = """guppy, | hey guppy, | little fish, | so, | ok, | fish, | hey, | hi! | hey little fish, |
um, | guppy! | hello fish, | psst, | oh guppy, | fishy, | hi guppy,"""
CALLS = ("",) * 16 + tuple(c + " " for c in pool(CALLED))
QUESTION_CALLS = tuple(c + " " for c in pool("quick question: | i was wondering, | can i ask,"))
USER_CLOSERS = ("",) * 10 + (" :)", " lol", " haha", " :D", "?", "!!")
SHORTHAND = dict(pair.split(">") for pair in str.split(
    "you>u are>r your>ur you're>ur what's>whats don't>dont i'm>im it's>its please>pls okay>ok"
))  # fmt: skip

USER_SLOTS = frozenset({"daytime", "gadget", "weekday", "vehicle"} | {cue_slot(t) for t in CUES})

SLOT = re.compile(r"\{(\w+)\}")
WORD = re.compile(r"[a-z']+")
SENTENCE_END = re.compile(r"[.!?]+")


def sentences(text: str) -> list[str]:
    """The sentences of ``text``: split on . ! ? (one or more), blanks dropped."""
    return [s.strip() for s in SENTENCE_END.split(text) if s.strip()]


def mentions(text: str, words) -> bool:
    """Whether ``text`` names any of ``words`` as a whole word, or with a plain plural
    suffix ("bubble" hits "bubbles", "fish" hits "fishes"). Lowercased first."""
    tokens = set(WORD.findall(text.lower()))
    return any(w in tokens or w + "s" in tokens or w + "es" in tokens for w in words)


def abstractions_in(text: str) -> list[str]:
    """The words of ``ABSTRACTIONS`` in ``text``, as whole words (no suffix rule: "cars"
    is listed itself, and a suffix rule would catch fish words like "bus" in "buses")."""
    tokens = set(WORD.findall(text.lower()))
    return [w for w in ABSTRACTIONS if w in tokens]


def longest(template: str) -> str:
    """``template`` with every slot filled by its fill of the most words."""
    return SLOT.sub(lambda m: max(SLOTS[m.group(1)], key=lambda f: len(f.split())), template)


def template_problems(template: str, answer: bool = True) -> list[str]:
    """Why ``template`` could make text out of style (empty when it cannot): unknown
    slots, and for answer pieces uppercase, a sentence over the limit even with the
    longest fills, or a word of ``ABSTRACTIONS`` in the template or any of its fills."""
    slots = SLOT.findall(template)
    unknown = [s for s in slots if s not in SLOTS]
    if unknown:
        return [f"{template!r}: unknown slot {unknown[0]}"]
    if not answer:
        return []
    problems = [f"{template!r}: user slot {s} in an answer" for s in slots if s in USER_SLOTS]
    if template != template.lower():
        problems.append(f"{template!r}: not lowercase")
    long = [s for s in sentences(longest(template)) if len(s.split()) > MAX_SENTENCE_WORDS]
    if long:
        problems.append(f"{template!r}: a sentence over {MAX_SENTENCE_WORDS} words")
    texts = [SLOT.sub("", template)] + [f for s in slots for f in SLOTS[s]]
    if any(abstractions_in(t) for t in texts):
        problems.append(f"{template!r}: names a human abstraction")
    return problems


def fills_problems() -> list[str]:
    """Slot fills that could break a sentence or the lowercase rule."""
    return [
        f"slot {name}: {fill!r}"
        for name, fills in SLOTS.items()
        for fill in fills
        if fill != fill.lower() or SENTENCE_END.search(fill) or len(fill.split()) > 4
    ]


def on_topic(template: str, words) -> bool:
    """Whether every filling of ``template`` names one of ``words``: its fixed text does,
    or one of its slots does with every fill."""
    if mentions(SLOT.sub(" ", template), words):
        return True
    return any(all(mentions(f, words) for f in SLOTS[s]) for s in SLOT.findall(template))


def fill(template: str, rng) -> str:
    """``template`` with each slot drawn from its vocabulary, left to right."""
    return SLOT.sub(lambda m: rng.choice(SLOTS[m.group(1)]), template)
