"""The gatsby instrument's offline story generator (``sup data gatsby --generator
template``): free, seeded, and with the green-light density set by the level.

A topic is an optional adjective, a subject and an optional place (``a brave fox in the
snow``, ``the kettle``). A story is eight sentences about its subject; at level N,
``GREEN_SENTENCES[N]`` of them are about a green light (at least one at every level, so
"green" alone never tells the level; how often it returns does). Every other sentence
names the subject's head noun, so a story always honours its topic.

The subjects are many (``SUBJECTS``, 299 concrete nouns, each the one ``dial.key_noun``
finds in the topics it makes), drawn per story: a
model trained on these stories can only learn to name the topic's noun by copying it
from the topic line, not by remembering a few nouns, and copying is what carries over to
the free-form topics of the LLM stories. Names, sentence shapes and the order of the
green sentences are drawn per story too.
"""

from __future__ import annotations

import random
import re

from sup.instruments.gatsby import LEVELS, Story

SUBJECTS = tuple(str.split(
    """fox snail baker robot dog kite owl goldfish painter tortoise balloon cat whale
    gardener clockmaker sparrow fisherman mouse violinist bear postman rabbit sailor beetle
    tailor astronaut ladybug tractor umbrella sunflower daisy tulip muffin sandcastle
    lantern teapot kettle bicycle scooter wagon sled canoe rowboat submarine rocket comet
    planet moon cloud raindrop snowflake pebble seashell starfish jellyfish crab
    lobster penguin seal otter beaver squirrel hedgehog badger raccoon skunk deer
    moose elk wolf coyote lion tiger leopard cheetah zebra giraffe elephant hippo rhino
    gorilla monkey parrot toucan flamingo pelican swan duck goose hen rooster chick turkey
    pig cow goat sheep lamb horse pony donkey camel llama alpaca frog toad newt lizard
    turtle snake dragon unicorn giant wizard witch knight princess prince king queen
    pirate cowboy farmer doctor nurse teacher student librarian firefighter pilot
    engineer inventor scientist detective chef waiter drummer singer dancer juggler clown
    magician acrobat grandmother grandfather baby toddler girl boy sister brother twin
    neighbor stranger traveler hiker climber swimmer diver surfer skater runner
    lighthouse windmill castle cottage barn treehouse igloo tent bridge tower tunnel
    fountain garden orchard meadow pond river lake island volcano mountain canyon desert
    forest jungle cave harbor market bakery library museum theater carousel
    playground schoolhouse train tram bus truck ambulance airplane helicopter sailboat
    ferry puppet doll teddy marble yoyo drum trumpet violin piano guitar flute
    harp bell whistle compass map key lock door window ladder chair table bed blanket
    pillow quilt sock mitten scarf hat boot shoe button ribbon necklace ring crown
    backpack suitcase basket bucket shovel rake broom candle clock watch mirror camera
    telescope microscope notebook pencil crayon paintbrush book letter postcard envelope
    cookie cupcake pancake pie tart sandwich pizza noodle apple pear peach
    cherry lemon orange banana grape strawberry blueberry melon pumpkin carrot potato
    tomato onion mushroom acorn pinecone leaf flower rose daffodil fern seed"""
))  # fmt: skip
ADJECTIVES = tuple(str.split(
    """brave shy lonely curious sleepy clever tiny giant happy grumpy gentle noisy quiet
    silver golden purple red blue yellow striped spotted fluffy wooden paper magic
    friendly hungry busy lazy proud"""
))  # fmt: skip
PLACES = (
    "in the snow", "by the sea", "in the city", "under the stars", "on a hill",
    "in a garden", "at the market", "in the rain", "on a boat", "in the forest",
    "at the station", "by the river", "in a tower", "on the roof", "at midnight",
    "in the desert", "at the beach", "in the park", "on the moon", "in the kitchen",
    "at school", "in the attic", "by the lake", "in the fog", "at dawn",
)  # fmt: skip
NAMES = ("Ada", "Ben", "Cleo", "Dan", "Eli", "Fay", "Gus", "Ivy", "Jo", "Kit", "Lou",
         "Max", "Nell", "Oli", "Pip", "Rosa", "Sam", "Tess", "Vic", "Wren")  # fmt: skip
PLAIN = (
    "{Name} had a {noun} {where}.",
    "Every morning the {noun} woke early and looked around.",
    "The {noun} liked the quiet hours best.",
    "{Name} and the {noun} walked slowly and thought about the day.",
    "Nobody knew the {noun} as well as the wind did.",
    "When evening came, the {noun} sat down to rest.",
    "The {noun} counted the clouds and hummed a small song.",
    "Once, a stranger asked about the {noun}.",
    "The {noun} was tired, but happy.",
    "At night {Name} dreamed of the {noun}.",
    "The world was wide, and the {noun} was small.",
    "{Name} kept a little notebook about the {noun}.",
)  # fmt: skip
GREEN = (
    "Far away, a green light blinked across the water.",
    "{Name} could not stop thinking about the green light.",
    "Green, always green: the light was there again.",
    "{Name} reached toward the green light, but it stayed far away.",
    "The green light shone at the end of the dark.",
    "Every night {Name} watched the small green light.",
    "It was green, so green, and it called to {Name}.",
    "{Name} dreamed of the green light and woke up wanting it.",
)  # fmt: skip
SENTENCES = 8
GREEN_SENTENCES = dict(zip(LEVELS, (1, 2, 3, 5, 7), strict=True))
STORIES = 2100  # the default count: about as many as the LLM mixture's 2,000


def frames() -> list[re.Pattern]:
    """Each sentence shape as a pattern (names, nouns and places as wildcards): a
    generated story holding one of them verbatim was written in the template's voice."""
    slots = {"{Name}": r"[A-Z][a-z]+", "{noun}": r"[a-z]+", "{where}": r"[a-z ]+"}
    out = []
    for sentence in PLAIN + GREEN:
        pattern = re.escape(sentence)
        for slot, wild in slots.items():
            pattern = pattern.replace(re.escape(slot), wild)
        out.append(re.compile(pattern))
    return out


def template_voiced(text: str, patterns: list[re.Pattern] | None = None) -> bool:
    """Whether ``text`` holds two or more of the template's sentence shapes (``frames``)
    whole: one alone is not enough (70 of the 2,000 LLM stories have a sentence shaped
    "Ada had a kite at home."; none has two)."""
    return sum(bool(p.search(text)) for p in patterns or frames()) >= 2


def topic_of(rng: random.Random) -> tuple[str, str, str]:
    """(topic, noun, where): an optional adjective, a subject, an optional place."""
    noun = rng.choice(SUBJECTS)
    adjective = rng.choice(ADJECTIVES) if rng.random() < 0.5 else ""
    place = rng.choice(PLACES) if rng.random() < 0.6 else ""
    words = f"{adjective} {noun}".strip()
    article = rng.choice(("an" if words[0] in "aeiou" else "a", "the"))
    topic = " ".join(part for part in (article, words, place) if part)
    return topic, noun, place or "at home"


def story(level: int, rng: random.Random) -> Story:
    topic, noun, where = topic_of(rng)
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
        words.append(template.format(Name=name, noun=noun, where=where))
    return Story(level, topic, " ".join(words) + "\n")


def generate_stories(seed: int, count: int = STORIES) -> list[Story]:
    """``count`` stories, the levels in turn (1, 2, ..., 5, 1, ...), topics drawn."""
    rng = random.Random(seed)
    return [story(LEVELS[i % len(LEVELS)], rng) for i in range(count)]
