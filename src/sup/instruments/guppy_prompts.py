"""The guppy harness's held-out prompts and the persona's style rules (no model code).

``PROMPTS``: two or more prompts per topic, written by hand for the harness in words no
user template of ``guppy_topics`` uses, so a corpus never holds one (the tests check a
20,000-conversation corpus). Each has 3-6 ``keywords``: a reply naming any of them is a
keyword hit.

``style_problems(reply, topic)``: how a reply breaks the persona's style, one short
string a failure, "kind: detail" (the harness counts them by kind):

- ``empty``: nothing but whitespace;
- ``uppercase``: any uppercase letter (the fish writes all lowercase);
- ``long sentence``: a sentence over ``MAX_SENTENCE_WORDS`` (12) words, sentences split
  on . ! ? and words on whitespace;
- ``abstraction``: a word of ``ABSTRACTIONS``, as a whole word;
- ``off topic``: no word of ``TOPIC_WORDS[topic]``.

Matching words (``keyword_hit`` and the topic rule): the reply is lowercased and split
into words (letters and apostrophes); a word counts when it is the keyword, or the
keyword with a plain plural suffix "s" or "es" ("bubble" hits "bubbles", never
"bubbly"). The abstraction rule matches whole words only ("cars" is listed itself).
"""

from __future__ import annotations

from sup.errors import UsageError
from sup.instruments.guppy_topics import TOPIC_WORDS
from sup.instruments.guppy_words import MAX_SENTENCE_WORDS, abstractions_in, mentions, sentences

__all__ = ["MAX_SENTENCE_WORDS", "PROMPTS", "keyword_hit", "style_ok", "style_problems"]

# topic | prompt | keywords
_PROMPTS = """
age | how many days have you been swimming around? | young old grow days small
age | are you an old fish or a baby fish? | young old tiny grow small
algae | what is the green stuff growing on your walls? | algae green glass fuzz snail
algae | is the green fuzz tasty? | algae nibble green plants
birthdays | should i bake you a cake for your birthday? | day treat food older bigger
birthdays | guppy, it is your special day today! | day treat food older bigger
boats | would a boat fit in your tank? | boat float floats water leaf
boats | i saw a big boat at the lake today | boat float floating water swim
bored | don't you get tired of the same tank every day? | bored boring same explore bubbles
bored | what do you do for fun when nothing happens? | bored explore bubbles games fun
bubbles | why do the bubbles always go up? | bubble air float up pop
bubbles | is it fun to chase the bubbles? | bubble chase air pop tickle
castle | is the castle in your tank a real castle? | castle door hide quiet swim
castle | who lives in that little castle? | castle door hide inside quiet
cars | my new car is really fast, want a ride? | know swim fins fast water
cars | do fish ever drive down the road? | know swim fins water
cat | the cat keeps sitting next to your tank | cat glass hide eyes watches
cat | is our cat your friend? | cat trust glass eyes hide
colours | which colour do you think is the prettiest? | colour green red blue orange
colours | are your scales orange or gold? | orange gold colour shiny scales
compliments | your tail is really lovely | thank fins scales shiny happy
compliments | you're the cutest fish i've ever seen | thank pretty fins happy shiny
counting | how high can a fish count? | count one two three many
counting | can you count the rocks in your tank for me? | count one two three number
dreams | what did you dream about last night? | dream flakes swimming bubble
dreams | do fish have dreams when they sleep? | dream sleep swimming glass
exploring | what is the most interesting spot in your tank? | found spot corner explore castle
exploring | did you discover anything today? | found explore spot corner new
fear | what makes you swim away in fright? | scared net hide afraid shadows
fear | what is the scariest thing in your life? | net scared afraid hide
filter | why does the water always move in one direction? | filter current water clean flow
filter | the filter looks dirty, should i clean it? | filter clean water current
fins | what do you use your fins for? | fins steer swim tail wiggle
fins | your tail fin looks so long! | fin tail fins swish
food | what is the tastiest thing that falls into your water? | food flakes eat hungry
food | should i feed you now? | food hungry flakes eat
friends | who do you hang out with in there? | friend swim together snail
friends | who is your closest pal in the tank? | friend together swim
gills | how do you get air under water? | gills breathe water air
gills | what are the little flaps on your sides? | gills breathe water
glass | what do you think the see-through wall is? | glass wall clear water see
glass | does it hurt when you bump your nose on the wall? | glass bumped wall
goodbyes | i'm off to bed now, see you tomorrow | bye goodbye see water
goodbyes | i'm leaving for a while, take care | bye goodbye back see
gravel | what are all the little stones at the bottom? | gravel stones bottom sand
gravel | do you like digging in the sand? | gravel sand crumbs bottom
greetings | hiya guppy! | hi hello hey glass
greetings | good to see you again, fish | hi hello glass happy
growing | will you get bigger one day? | grow bigger growing tiny big
growing | you look bigger than last month | grow bigger growing grew
heater | what is the warm tube in your tank? | heater warm hot water
heater | should i turn the heater up? | heater warm water hot
hiding | where is your secret spot? | hide spot castle plant safe
hiding | why did you hide when i came in? | hide safe net spot
holidays | we are decorating for the holidays | day food special light
holidays | do fish get a holiday too? | day days food special
how_are_you | how is your day going? | good feel fine water happy
how_are_you | are you feeling alright today? | good feel fine ok
human_face | do i look funny through the glass? | face big eyes glass
human_face | what does my face look like to you? | face eyes big round
job | i had a long day at work | know swim float eat
job | what do fish do for a living? | swim eat know float
jokes | do you know anything funny? | joke funny laugh bubbles
jokes | tell me something silly | joke funny laugh silly
light | should i leave the lamp on tonight? | light lamp bright dark
light | do you like the sunny light? | light bright shine scales
loneliness | do you ever miss having company? | lonely alone friend bubbles
loneliness | is it sad to be the only guppy? | lonely alone friend
love | what makes your heart happy? | love food water flakes happy
love | do you love your tank? | love warm water happy
meaning_of_life | what are fish here for? | life swim food water
meaning_of_life | what is the purpose of everything? | life swim food water flakes
memory | will you remember me tomorrow? | remember face forget food
memory | is it true fish forget everything? | remember forget memory
money | how many coins would you like? | know food flakes need
money | i just got paid a lot of money | know food need shiny
morning | rise and shine, guppy! | morning light wake food
morning | what is the first thing you do when you wake up? | morning wake light food
music | i am playing some music for you | music sound water wiggle
music | do you hear the radio? | sound music hum buzz
name | what do people call you? | guppy name fish
name | do fish have names? | guppy name fish
net | why are you afraid of the green net? | net scared hide swim
net | i need to use the net to move you | net scared hide
news | did you see what the president said? | know water tank quiet
news | i'm worried about the economy | know water tank food
night | what happens in your tank after dark? | night dark sleep quiet
night | do you stay up all night? | night sleep dark rest
ocean | would you like to swim in the big sea? | ocean sea big water
ocean | the ocean is huge and salty | ocean sea big water
other_fish | are you the only fish in there? | fish other group swim
other_fish | do you get along with the other fish? | fish other swim
phones | look at this picture on my phone | know glow light glass
phones | do you want me to text you? | know glow light
plants | what are the green things waving in your tank? | plants green leaves
plants | do you nibble the plants? | plants nibble leaves green
pump_hum | what is that buzzing from the pump? | pump hum air sound
pump_hum | is the hum too loud for you? | hum pump sound
questions_about_human | what do you think i do when i leave? | food dry fins hands
questions_about_human | am i a big fish to you? | fins food big hands dry
rain | it is pouring outside today | rain water wet drops
rain | do you wish it would rain in your tank? | rain water wet
reflections | who is that guppy looking back at you? | fish glass reflection copies
reflections | do you know it is you in the glass? | reflection fish glass
rocks | where did you get your rocks? | rock stone smooth hard
rocks | is the rock a good place to rest? | rock resting stone
sick | you look a bit pale, are you ill? | sick fine better rest
sick | how do fish get better when they are unwell? | sick better water rest
sky | do you know what is above your water? | sky lid light top up
sky | what colour is the sky? | sky blue top up
sleep | how do fish take a nap? | sleep rest still tired
sleep | when do you go to bed? | sleep rest light
snails | what is the slow thing climbing your wall? | snail slow glass shell
snails | do you race the snail? | snail slow win
swimming | are you a fast swimmer? | swim fast loop
swimming | how do you swim so well? | swim swimming fins
tank | what is it like living in a tank? | tank water glass home
tank | is your home cozy? | home tank water
tapping | what if i knock on your glass? | tap loud scary glass
tapping | is knocking on the tank rude? | tap loud glass
temperature | is your water too chilly? | warm cold heater water
temperature | should i make the water warmer? | warm cold heater
thanks | thank you so much, little guppy | welcome thank happy
thanks | i really appreciate you | welcome thank happy
water_change | i'm going to clean your water today | water fresh clean new
water_change | do you like it when the water is new? | water fresh clean
weather | it's freezing outside today | weather water warm calm
weather | is it windy in your tank? | water calm weather
weekends | any plans for saturday? | day days same know
weekends | i love weekends, do you? | day days same know
"""


def _parse(text: str) -> list[dict]:
    rows = [line.split(" | ") for line in text.strip().splitlines()]
    return [{"topic": t, "prompt": p, "keywords": k.split()} for t, p, k in rows]


PROMPTS = _parse(_PROMPTS)


def keyword_hit(reply: str, keywords) -> bool:
    """Whether ``reply`` names any of ``keywords`` (whole word or plain plural)."""
    return mentions(reply, keywords)


def style_problems(reply: str, topic: str) -> list[str]:
    """How ``reply`` breaks the persona's style (the module docstring); empty when in
    style."""
    if topic not in TOPIC_WORDS:
        raise UsageError(f"unknown guppy topic {topic!r}")
    if not reply.strip():
        return ["empty"]
    problems = []
    if reply != reply.lower():
        problems.append("uppercase")
    for s in sentences(reply):
        if len(s.split()) > MAX_SENTENCE_WORDS:
            problems.append(f"long sentence: {len(s.split())} words")
    problems += [f"abstraction: {w}" for w in abstractions_in(reply)]
    if not mentions(reply, TOPIC_WORDS[topic]):
        problems.append("off topic")
    return problems


def style_ok(reply: str, topic: str) -> bool:
    return not style_problems(reply, topic)
