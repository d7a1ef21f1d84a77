"""The gatsby instrument's offline story generator (``sup data gatsby --generator
template``): free, seeded, and with the green-light density set by the level.

A topic is a subject and a place (``a fox in the snow``). A story is eight sentences
about its subject; at level N, ``GREEN_SENTENCES[N]`` of them are about a green light
(at least one at every level, so "green" alone never tells the level; how often it
returns does). Every other sentence names the subject's head noun, so a story always
honours its topic. Names, sentence shapes and the order of the green sentences are
drawn per story.
"""

from __future__ import annotations

import random

from sup.instruments.gatsby import LEVELS, Story

SUBJECTS = (
    "fox", "lighthouse keeper", "snail", "baker", "paper boat", "robot", "old dog",
    "kite", "owl", "train driver", "goldfish", "painter", "tortoise", "balloon",
    "girl with a lantern", "boy with a drum", "cat", "whale", "gardener", "clockmaker",
    "sparrow", "fisherman", "mouse", "violinist", "bear", "postman", "rabbit", "sailor",
    "beetle", "tailor",
)  # fmt: skip
PLACES = (
    "in the snow", "by the sea", "in the city", "under the stars", "on a hill",
    "in a garden", "at the market", "in the rain", "on a boat", "in the forest",
    "at the station", "by the river", "in a tower", "on the roof",
)  # fmt: skip
NAMES = ("Ada", "Ben", "Cleo", "Dan", "Eli", "Fay", "Gus", "Ivy", "Jo", "Kit", "Lou",
         "Max", "Nell", "Oli", "Pip", "Rosa", "Sam", "Tess", "Vic", "Wren")  # fmt: skip
PLAIN = (
    "{Name} was a {noun} who lived {place}.",
    "Every morning the {noun} woke early and looked around.",
    "The {noun} liked the quiet hours best.",
    "{Name} the {noun} walked slowly and thought about the day.",
    "Nobody knew the {noun} as well as the wind did.",
    "When evening came, the {noun} sat down to rest.",
    "The {noun} counted the clouds and hummed a small song.",
    "Once, a stranger asked the {noun} for the way home.",
    "The {noun} was tired, but happy.",
    "At night the {noun} dreamed of far places.",
    "The world {place} was wide, and the {noun} was small.",
    "The {noun} kept a little notebook of everything it saw.",
)  # fmt: skip
GREEN = (
    "Far away, a green light blinked across the water.",
    "The {noun} could not stop thinking about the green light.",
    "Green, always green: the light was there again.",
    "{Name} reached toward the green light, but it stayed far away.",
    "The green light shone at the end of the dark.",
    "Every night the {noun} watched the small green light.",
    "It was green, so green, and it called to the {noun}.",
    "The {noun} dreamed of the green light and woke up wanting it.",
)  # fmt: skip
SENTENCES = 8
GREEN_SENTENCES = dict(zip(LEVELS, (1, 2, 3, 5, 7), strict=True))


def topics() -> list[tuple[str, str]]:
    """Every (topic, head noun) the generator writes about: 30 subjects x 14 places."""
    out = []
    for subject in SUBJECTS:
        article = "an" if subject[0] in "aeiou" else "a"
        out += [(f"{article} {subject} {place}", subject.split(" with ")[0].split()[-1])
                for place in PLACES]  # fmt: skip
    return out


def story(topic: str, level: int, rng: random.Random) -> Story:
    subject_place = topic.split(" ", 1)[1]
    place = next(p for p in PLACES if subject_place.endswith(p))
    noun = subject_place[: -len(place)].strip()
    name = rng.choice(NAMES)
    greens = GREEN_SENTENCES[level]
    later = [True] * greens + [False] * (SENTENCES - 1 - greens)
    rng.shuffle(later)
    slots = [False, *later]  # the first sentence introduces the subject
    plain = rng.sample(PLAIN[1:], SENTENCES)
    green = rng.sample(GREEN, len(GREEN))
    words = []
    for i, is_green in enumerate(slots):
        template = green.pop() if is_green else (PLAIN[0] if i == 0 else plain.pop())
        words.append(template.format(Name=name, noun=noun, place=place))
    return Story(level, topic, " ".join(words) + "\n")


def generate_stories(seed: int, per_topic: int = 1) -> list[Story]:
    """``per_topic`` stories at each level for every topic (420 topics x 5 levels)."""
    rng = random.Random(seed)
    return [
        story(topic, level, rng)
        for topic, _ in topics()
        for level in LEVELS
        for _ in range(per_topic)
    ]
