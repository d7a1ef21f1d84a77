"""Words a human may use for each guppy topic, on the user side only (generator v3).

Written from general knowledge of each topic by someone who had not read the harness's
held-out prompts (``guppy_prompts``), so that widening what the fish hears does not
tune it to its own test. Each ``@topic`` line lists cue words (single lowercase words,
each under one topic only: ``guppy_topics.problems`` checks it), drawn per sample into
``guppy_topics.CUE_TEMPLATES``; each ``?`` line adds user messages for the topic,
separated by ``|``. A line that starts with spaces goes on the line before it.
"""

TEXT = """
@tank aquarium fishbowl bowl habitat enclosure container tub cube nano gallons litres hood
    cabinet setup residence dwelling apartment abode quarters digs pad crib spacious cramped
    roomy cosy decor layout aquascape
? is your fishbowl comfy enough for you | how many gallons is your little habitat? | do you like
    the new decor in there
? your enclosure looks so roomy now | is it cramped in your bowl today | i moved your aquascape
    around, hope that's ok
@food feed feeding snack meal supper morsel treats pellets bloodworms daphnia nibble munch
    munching peckish famished ravenous tasty yummy delicious chow grub gobbled scoff appetite
    mealtime dinnertime scrumptious
? feeling peckish, little one? | i've got some bloodworms for you | time for your supper
? are you famished already | was that pellet tasty? | you gobbled that up so fast
@temperature thermometer degrees celsius fahrenheit chilly freezing toasty tepid lukewarm balmy
    frosty icy nippy steamy boiling sweltering scorching shivering cooler warmer mild frigid
    chilled roasting tropical
? what does the thermometer say today | is your water feeling chilly? | is it toasty in there
? the water feels lukewarm to me | how many degrees do fish like? | it's freezing in my flat,
    are you ok
@light bulb led illumination lit brightness dimmer dimmed glare gleam flicker flickering
    sunlight sunbeam beam rays switch torch flashlight lighting lightbulb daylight blinding
    spotlight lampshade fluorescent uv brighter
? the bulb in your lid burned out | is the glare too much for you? | your tank light keeps
    flickering
? i dimmed the lighting a little | do you like resting in the sunbeam | i shone a torch in,
    sorry
@bubbles fizz fizzy fizzing bubbly froth frothy foam foamy airstone rising burble gurgle
    gurgling blub blubbing popping blowing orbs soda seltzer effervescent champagne spheres
? there's foam on top of your water | is the airstone working today? | do you go around popping
    them all day
? your tank sounds all gurgling | blub blub, are you talking to me? | so frothy in there today
@filter cartridge canister intake outflow suction filtration filtering purify purifier strainer
    debris sludge cloudy whirlpool swirl swirling vortex waterfall trickle churn gush
    circulation clogged clog impeller outlet
? i swapped the filter cartridge today | is the intake too strong for you? | your water looks
    cloudy again
? the outflow makes a tiny waterfall | the filter was clogged with sludge | do you like playing
    in the swirl
@pump_hum drone droning whir whirring whirr rumble rumbling murmur motor compressor airline
    vibration vibrating rattle rattling thrum thrumming racket din whine whining electric buzzy
    tubing
? your air pump is rattling again | can you hear that low drone | the motor by your tank is
    whirring
? what a racket that compressor makes | does the vibration bother you | that thrumming never
    stops, huh
@heater thermostat element dial knob rod wattage heating plugged unplugged cord socket indicator
    radiator submersible overheating overheat heated thermal setting boiler watts cable
? i turned the thermostat up a bit | is the heater plugged in properly? | the little indicator
    light went out
? should i set the dial higher | what wattage heater do you need | i hope it never starts
    overheating
@cat kitty kitten pussycat moggy tabby feline whiskers claws claw pounce pounced prowl prowling
    purr purring meowing hiss hissing furball tomcat mouser predator licking stalking crouching
    catnip
? my kitten keeps pawing at your glass | the tabby is prowling near you again | did the cat's
    purring wake you
? the furball is stalking you | my cat was hissing at your tank | is that big feline scaring you
@night midnight bedtime evening dusk twilight moonlight moonlit nocturnal darkness overnight
    nightly nightlight blackout gloom eerie silence hush owl nightfall sundown pitch nightowl
? it's bedtime, do you want the nightlight on | are you nocturnal, little one | the house goes
    so eerie after midnight
? does the darkness bother you | what do you get up to overnight | i love the hush of the
    evening
@morning sunrise dawn daybreak sunup rise waking woke awoke alarm yawn yawning stretch coffee
    cuppa overslept dewy rooster arise toast cereal groggy
? rise and shine little fish | i just had my coffee, are you up yet | my alarm went off way too
    early
? you're up before sunrise again | i overslept, sorry for the late flakes | feeling groggy too?
@sleep nap napping doze dozing snooze snoozing slumber drowsy dozy shuteye siesta bed pillow
    blanket zzz snore snoring kip catnap exhausted weary knackered lullaby insomnia sleepless
    tuck
? are you having a little nap | you look so drowsy right now | do fish ever snore?
? time for some shuteye, buddy | i'm knackered, i need my bed | did you doze off on me
@dreams dreamt dreaming dreamland daydream daydreaming dreamer dreamy imagination imagine
    imagined fantasy fantasise visions subconscious surreal sleepwalking nightmare fairytale
    magical wonderland vivid bizarre dreamscape reverie
? i dreamt you could fly | are you off in dreamland again? | do you ever daydream in there
? what does a fish imagine | i just had an awful nightmare | you look all dreamy today
@loneliness solitude solitary isolated isolation lonesome loner companion companionship solo
    singleton abandoned forsaken neglected miss missed missing empty emptiness hermit recluse
    friendless unloved lone longing yearning sadness forlorn
? did you miss me while i was out | do you feel isolated in your corner | you must feel so
    solitary in there
? are you a bit of a loner | i'm sorry i neglected you this week | would a companion cheer you
    up
@friends pal pals mate buds chum chums bestie besties bff friendship friendly playmate playmates
    sidekick gang amigo bond bonding hangout hang ally partner pally
? you're my best pal, you know | who's your bestie in the tank | will you be my bff
? the snail seems like a good sidekick | do you have a gang in there | i love our little
    friendship
@fear terrified petrified spooked startled panic panicking anxious anxiety worried scaredy
    fright timid skittish trembling shadow shadows danger dangerous freaked jittery phobia dread
    courage cowardly bravery yikes
? did something get you spooked | you seem really skittish today | don't panic, it's only my
    hand
? are you terrified of my shadow | you look so anxious, little fish | have a bit of courage,
    you're safe
@plants stem stems roots moss weeds fern ferns anubias elodea frond fronds foliage greenery
    garden jungle sprout sprouting prune pruning reeds lily duckweed hornwort vallisneria bushy
    lush photosynthesis
? your little jungle is getting so lush | i planted a new fern for you | do you like the
    duckweed up top
? the roots are sticking out everywhere | should i prune your garden a bit | do you like weaving
    through the fronds
@rocks boulders slate lava granite limestone quartz crystal crystals geode pumice flint rocky
    cave caves ledge crag outcrop cliff arch slab minerals shale sandstone craggy jagged
? do you like the lava rock i added | is that slate slab comfy to sit on | do you go into the
    little cave
? i found a bit of quartz for you | careful on those jagged edges | do you sit on that ledge
@gravel substrate sandy pebbly grains grit gritty shingle marbles beads sift sifting burrow
    burrowing rake raking chips silt soil mud muddy granules aquasoil grainy
? i'm raking your substrate flat | do you like sifting through the sand | your bottom layer
    looks a bit gritty
? there's silt settling on the floor | are you burrowing for crumbs | i added some beads down
    there
@castle turret turrets fortress fort kingdom queen prince princess knight knights moat
    drawbridge battlements dungeon throne ruins archway gate royal royalty majesty ornament
    citadel chateau stronghold
? how's life in your fortress | are you the prince of that little kingdom | is there a dungeon
    under the turret
? your majesty, how is your castle | do you fit through the archway | the little ornament looks
    like ruins
@water_change hose vacuum vacuuming dechlorinator conditioner chlorine refill refilled drain
    draining drained refresh refreshed freshen cleanup maintenance jug jugs topup mop spill
    spilled sloshing siphoning
? i drained some and did a topup | did you taste the conditioner i added | sorry the hose made
    such a mess
? the gravel vacuum is coming out again | you look so refreshed after that | i spilled half the
    jug on the floor
@other_fish neon neons platy platies molly mollies danio danios goldfish betta bettas barbs
    corydoras catfish pleco loach rasbora angelfish shoal schooling tankmate tankmates newcomer
    swordtail killifish cichlid zebrafish roommate
? do you get on with the neons | the pleco is stuck to the side again | should i add a betta
? is the molly bossing you around | your tankmates look busy today | do the danios ever slow
    down
@snails shells gooey goo slug slugs mollusc mollusk antennae feelers eyestalks crawl crawling
    creep creeping sluggish nerite ramshorn slowpoke slowcoach sticky slither slithering
    gastropod escargot limpet whorl dawdle
? the nerite is crawling up the side again | is the slowpoke with the shell your buddy | there's
    goo all over the front
? look at those little feelers | there's a new ramshorn in here | is that a slug or a snail
@algae scum greenish bloom blooms hairy stringy strands cyanobacteria diatoms brownish scrape
    scraper scraping scrubber magnet overgrown overgrowth grime grimy gunk swampy swamp slick
    patches
? there's a greenish scum on the glass | your tank is getting overgrown again | i bought a
    magnet scraper for the gunk
? is that stringy stuff bad for you | it looks like a swamp in there | i spent ages scraping off
    the grime
@glass pane panes window smear transparent invisible barrier smudge smudges smudged streaks
    streaky polish polished wipe wiped acrylic plexiglass bump bumped bonk bonked crack cracked
    scratch scratches panel panels
? sorry about the smudges, i'll wipe them | is there a crack in your front pane? | do you know
    there's an invisible wall there
? you bonked into the pane again | i polished the panels till they shone | i wiped all the
    streaks off for you
@reflections mirrors reflect reflected reflecting reflective twin double doppelganger lookalike
    copycat clone imitate mimic mimicking rival intruder impostor stranger duplicate vanity vain
    image flaring identical
? who's that twin of yours | that copycat is just you | are you flaring at your rival again
? you've got a lookalike over there | stop being so vain, little one | do you think that's a
    stranger fish
@swimming zip zipping torpedo darting dash paddle paddling glide gliding laps dive diving
    somersault backstroke sprint sprinting whizz whizzing hover hovering zoomies drifting twirl
    spinning speedy zippy nimble agile
? look at you zipping about | how many laps have you done today | can you do a somersault for me
? you glide so smoothly | you're so speedy today | why are you just hovering there
@fins flipper flippers flutter fluttering flap flapping frilly ragged frayed dorsal caudal
    pectoral ventral veil veiltail fringe flick flicking wag wagging waggle ripple rippling
    fanning feathery tattered rudder
? your dorsal looks so tall today | why is your tail frayed at the end | i love how your fins
    flutter
? you keep flicking your back end | wag your tail for me | your veil looks a bit tattered
@gills oxygen gasp gasping gulp gulping inhale exhale respiration suffocate suffocating drowning
    pant panting puff puffing airless operculum choking wheeze wheezing snorkel scuba nostrils
    lungful breathless
? why are you gasping at the top | is there enough oxygen in there | do you need a snorkel like
    me
? you're gulping really fast | take a deep breath in and exhale | do you have little nostrils
    too
@net scooper capture captured trap trapped fishnet netting dipnet sieve pole scooping snag
    snagged nab nabbed fishing fisherman angler hook bait bagged bag transfer lasso ensnare
? i have to trap you for a minute, sorry | i'll be quick with the scooper | do you think the
    fishnet is scary
? don't wriggle, i've nearly got you in the bag | you dodge the netting every time | i need to
    transfer you to the big tank
@sick poorly peaky queasy nauseous fever infection disease illness ich fungus parasites vet
    doctor meds medication cure remedy recover recovery healing symptoms bloated swollen pale
    lethargic quarantine hospital rot germs virus
? you look a bit poorly today | should i take you to the vet | is your belly bloated?
? i added some meds to your water | hope you recover soon, little one | you seem lethargic,
    what's wrong
@growing chunky chubby plump massive giant enormous gigantic growth spurt longer inches
    centimetres measure measuring ruler size fry juvenile mature maturing shrink shrinking bulk
    hefty whopper taller
? you're getting so chunky | how many inches long are you now | did you have a growth spurt
? you were just a fry when i got you | let me measure you against my thumb | are you done
    maturing yet
@memory recall recalled recollect memories memorise memorize forgetful forgetting amnesia brain
    remind reminder reminded nostalgia nostalgic familiar blank flashback unforgettable
    memorable scatterbrained absentminded retain
? can you recall the day we met | do i look familiar to you | you're so forgetful, little fish
? what are your favourite memories | how much can your brain hold | let me remind you who i am
@counting maths arithmetic addition adding subtract minus multiply divide tally total calculate
    calculator zero nine twenty hundred thousand million dozen figure equals digits numeral
    abacus odd
? what's nine take away two | can you count to a hundred | how many flakes make a dozen
? are you any good at arithmetic | let's tally up your pebbles | what do you get if you multiply
    two by two
@colours color colors colourful colorful hue hues shades tint rainbow violet indigo turquoise
    teal crimson scarlet emerald amber bronze magenta beige lilac pastel black navy maroon
    pigment crayon dyed
? your tail has a bit of turquoise in it | what's your favourite hue | you look almost crimson
    right now
? do you see the rainbow on the wall | is teal your best colour | you're so colourful today
@bored boredom dull tedious monotonous meh restless fidgety uneventful humdrum entertain
    entertained entertainment amuse amusing toy toys puzzle pastime hobby hobbies repetitive
    routine samey idle lounging twiddling
? is life in there a bit dull | want a toy to play with | what do you do to keep entertained
? you seem so restless today | do you have any hobbies | same routine every day, huh
@exploring discover discovered discovery adventure adventurous adventurer expedition quest
    investigate investigating inspect snoop snooping nosy curious curiosity scout scouting roam
    roaming wander wandering rummage rummaging explorer nook nooks crannies
? off on another adventure? | what did you discover today | you're so nosy, little one
? i saw you snooping round the back | are you scouting for food | go on, investigate that new
    thing
@hiding hideout hideaway hidey hidden peeking lurk lurking sneaky sneak shelter refuge den
    bashful shyness vanish vanished disappear disappeared camouflage conceal concealed seeker
    skulk skulking ducked
? where's your secret hideout | i see you peeking out at me | you vanished for ages just now
? why are you lurking back there | are you feeling bashful today | nice camouflage, you blend
    right in
@greetings hiya heya heyo hullo hallo hii aloha hola bonjour wassup whatsup yoohoo oi gday greet
    greeted greeting wotcha waving arrived arrival salute namaste
? hiya little buddy | yoohoo, anyone in there | wotcha, mister fish
? hola, guppy | i've arrived, come say hi | aloha from out here
@goodbyes farewell cya adios adieu tata toodles ttyl laters leaving depart departing departure
    nite nighty goodnight cheerio sayonara ciao brb gtg ttfn hasta byee
? toodles, little fish | i'm leaving for a bit, be good | cheerio, see you tomorrow
? nighty nite, guppy | ok gtg, bye for now | farewell for today
@thanks grateful gratitude appreciate appreciated appreciation thankful thankyou tysm tyvm ta
    merci gracias danke obliged kindness helpful favour favor owe lifesaver bless indebted
    legend
? i really appreciate you listening | tysm little guppy | merci for cheering me up
? i'm so grateful for you | you're a lifesaver, honestly | i owe you a pellet for that
@compliments cute cutie exquisite stunning sparkle sparkling elegant graceful majestic beauty
    stunner fabulous glamorous dashing dazzling radiant splendid magnificent charming cutest
    prettiest snazzy dapper flattered compliment praise
? you're the cutest fish ever | what a stunner you are | you look so elegant today
? your scales are dazzling | you're a little beauty, you know that | you're looking very dapper
@how_are_you feelings mood moods alright frazzled wellbeing vibe vibes chipper grumpy cranky
    content spirits fettle peachy dandy upbeat coping lately wellness doin
? how's your mood today | you feeling alright in there | what are the vibes like in the tank
? are you in good spirits | you seem a bit grumpy, everything ok | how've you been lately
@name named nickname nicknames moniker title surname firstname initials introduce introductions
    christen christened dub dubbed rename renamed label identity nametag pronounce spell
    spelling alias naming
? do you have a nickname | can i rename you finn | how do you spell your name
? what's your surname, little fish | let me introduce myself | who named you, anyway
@age ageing aging elderly ancient youngster baby newborn infant toddler teen teenager lifespan
    lifetime years months decades senior veteran wrinkly grandpa granny oldie ageless youth
    youthful
? are you still a baby | what's the lifespan of a guppy | you must be ancient in fish years
? are you a teenager yet | how many months have you been here | you look so youthful
@love adore adored affection affectionate crush darling honey heart hearts hug hugs cuddle
    cuddles kiss kisses smooch romance romantic valentine beloved devoted cherish fond fondness
    xoxo luv babe sweetie
? i adore you, little fish | sending you a big hug | do you have a crush on anyone
? you stole my heart | i'm so fond of you | will you be my valentine
@jokes hilarious hysterical lmao haha hehe chuckle pun puns punchline riddle riddles comedy
    comedian comic humour humor witty jest prank pranks goofy gag banter teasing joker jokester
    rofl
? got a good pun for me | what's the punchline | tell me a riddle, fishy
? you're hilarious, you know | are you a comedian now | haha you're so goofy
@meaning_of_life purpose existence existential philosophy philosophical philosopher universe
    cosmos soul spiritual profound ponder pondering destiny fate afterlife heaven mortality
    death dying wisdom wise enlightenment truth eternity significance
? what's your purpose, little fish | do you ever ponder existence | are you a philosopher in
    there
? do fish have a soul | is there an afterlife for fish | what do you think about the universe
@rain downpour pouring showers shower puddle puddles drenched soggy damp raincoat wellies gutter
    drip dripping sprinkling monsoon torrential pitter patter mizzle deluge spitting rainfall
    rainstorm
? it's pouring out there | i got drenched on the way home | there are puddles everywhere today
? can you hear the pitter patter | my raincoat is soaking wet | it's been a proper downpour
@weather stormy lightning windy breezy breeze snowy hail sleet frost mist misty humid humidity
    muggy climate season seasons hurricane tornado blizzard overcast sunshine gale thunderstorm
    heatwave meteorologist
? it's so muggy today | we had hail earlier | is it ever windy in there
? there's a blizzard outside | such a dreary, overcast day | did you see the lightning
@sky cloud clouds starry moon stargazing heavens bird planes aeroplane airplane helicopter kite
    sunset planet planets galaxy rocket astronaut comet horizon atmosphere upward skies overhead
? the sunset was amazing | planes keep flying over the house | did you know the moon is up there
? i flew my kite in the park | an astronaut went up into space | the skies were so clear today
@ocean seas beach beaches seaside shore coast waves tide tides salty saltwater seawater reef
    coral dolphin dolphins shark sharks octopus jellyfish crab kelp seabed seashells surf
    surfing swell marine abyss lagoon
? i saw dolphins off the coast | would you like to live on a coral reef | the tide was way out
    today
? i went surfing at the seaside | there are sharks out there, you know | i picked up some
    seashells for you
@boats ship sail sailor yacht canoe kayak raft rowing dinghy cruise liner submarine anchor
    captain crew deck harbour dock pirate pirates voyage ahoy sinking shipwreck mast hull
    lifeboat aboard
? ahoy there, little captain | i took a kayak out on the lake | should i get you a pirate ship
? we saw a yacht in the harbour | i'm going on a cruise next week | ever seen a submarine
@music songs singer tune tunes melody piano violin drums drummer beat rhythm radio playlist
    concert band dancing karaoke whistle whistling speakers orchestra opera jazz lyrics chorus
    choir serenade album ukulele flute
? i'll whistle you a tune | do you like piano or violin better | i'm putting the radio on for
    you
? let me serenade you | this playlist is for you, little fish | want to hear me play the ukulele
@tapping knocking knocked bang banging thud thwack whack pound pounding knuckle knuckles prod
    prodding finger fingers fingernail fingernails clink clinking clatter jab drumming
? sorry, i was drumming on your side | did that thud scare you | my nephew keeps rapping his
    knuckles on the front
? i knocked your tank with my elbow | can you feel my fingernail on the glass | i'll stop
    banging, promise
@human_face faces nose mouth lips dimples smiling grin grinning frown beard moustache spectacles
    eyebrows cheeks chin forehead freckles teeth ears hair haircut makeup wink winking
    expression recognise recognize squint
? do you like my new haircut | i'm smiling at you, can you tell | what do you think of my beard
? look at this expression i'm making | can you see my freckles from there | i'm winking at you
@questions_about_human mankind humankind humanity species mammal mammals primate ape arms knees
    toes feet shoes socks clothes clothing walking upright alien creature land landlubber sofa
    couch kitchen weirdo
? do i seem like an alien to you | what do you make of humankind | i'm just a big mammal, you
    know
? i wear socks on my feet, weird huh | do you think i'm a strange creature | i spend all day on
    the couch
@weekends saturday saturdays sunday sundays friday fridays monday mondays lazy lazing brunch
    chilling relax relaxing unwind downtime leisure errands chores picnic barbecue hangover
? lazy sunday with you, little fish | it's saturday, time to relax | i've got so many errands
    this weekend
? mondays are the worst | we're having a barbecue later | just chilling at home today
@money coins coin penny pennies quid bucks euros cents wallet purse bank savings bills debt loan
    mortgage budget expensive cheap pricey afford wealthy poor millionaire spending shopping
    purchase
? i can't afford anything this month | my wallet is looking thin | bills, bills, bills
? want a coin for your tank | i'm saving up to be a millionaire | this tank was so expensive,
    you know
@phones smartphone mobile cellphone iphone android tablet laptop computer screen texting texted
    ringtone ringing notification notifications scrolling tiktok instagram whatsapp youtube
    charger battery photo photos camera emoji signal bluetooth
? my battery's about to die | let me take a photo of you | sorry, i was scrolling on my laptop
? i'm texting my mum about you | want to be on my instagram | my screen stopped working
@job career employer coworker coworkers colleague colleagues shift overtime salary wages
    paycheck payday promotion promoted fired interview resume hired commute deadline manager
    workplace workday unemployed retired intern profession occupation freelance spreadsheet
? i got a promotion today | my commute took forever | i have a job interview tomorrow
? my manager is so annoying | working overtime again this week | payday finally came
@news headlines headline journalist reporter broadcast bulletin article politician politicians
    president minister parliament congress senate war crisis economy inflation scandal protest
    protests campaign ballot polls debate media tabloid
? did you see the headlines today | the president gave a speech | there's a big scandal on tv
? inflation is getting ridiculous | there's a protest downtown | the debate was wild
@cars driving driver engine truck lorry van taxi uber motorbike scooter bicycle garage mechanic
    petrol fuel tyres wheel wheels honk horn motorway highway roads parking speeding licence
    seatbelt brakes crash roadtrip
? both my tyres were flat | my car's at the mechanic | took a taxi home today
? the motorway was jammed | i passed my driving test | a lorry nearly hit me
@holidays xmas easter halloween hanukkah diwali eid thanksgiving festive santa reindeer tinsel
    decorations gifts stocking snowman mistletoe turkey pumpkin costume fireworks countdown
    sightseeing abroad getaway resort hotel suitcase packing passport flight
? i'm packing my suitcase now | we're going abroad next week | santa might bring you something
? happy halloween, spooky fish | i put tinsel on the tree | the fireworks were so loud
@birthdays bday birthdate cake cakes candles parties balloon balloons presents card cards pinata
    wishes anniversary celebration confetti streamers icing frosting sprinkles cupcake cupcakes
    invitation guests bash shindig unwrap wrapping
? it's my bday today | i saved you some cake | we had a pinata at my party
? i got so many birthday cards | we're hanging up balloons | want a bit of icing
"""
