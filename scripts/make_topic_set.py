#!/usr/bin/env python3
"""Generate the chapter evaluation set: transcripts made of topic passages with known boundaries.

No audio is made: each episode is a TranscriptResult (the JSON `castmill transcribe --format json`
writes) with word timings at about 150 words a minute, short pauses between words, longer ones
between sentences and turns, an occasional long pause (anywhere, a little more often where the
topic changes, as in a real show), and two speakers (S1 the host, S2 the guest) taking turns.
An episode is a sequence of topics; each topic is several turns of conversation about one thing,
so the true chapter boundaries are where one topic's turns end and the next one's begin.

    python scripts/make_topic_set.py [--out-dir eval-data/topics]

For every episode NAME it writes NAME.json (the transcript) and NAME.truth.json
({"episode", "held_out", "duration", "topics": [{"topic", "start", "end"}], "boundaries"}),
and <out-dir>/manifest.json. Nothing is random but a seeded generator, so the output is the same
on every run.

HELD OUT: the topics marked ``held_out`` and the episodes made only or partly from them were written
after the segmentation (pipeline/longform/chapters.py) and its options were settled; nothing was
tuned on them, so a score on them says whether the tuning on the others generalises.

Scoring lives here too, next to the truth it reads: ``pk``, ``window_diff`` and ``boundary_hits``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from pipeline.transcribe.base import Segment, TranscriptResult, Word  # noqa: E402

DEFAULT_OUT_DIR = ROOT / "eval-data" / "topics"
SPEAKERS = ("S1", "S2")
# Seconds a word lasts: a base plus a little per letter ("the" 0.24 s, "marathon" 0.40 s).
WORD_BASE, WORD_PER_LETTER = 0.14, 0.032
WORD_GAP = (0.03, 0.09)
COMMA_PAUSE = (0.12, 0.3)
SENTENCE_PAUSE = (0.3, 0.65)
TURN_PAUSE = (0.35, 0.9)
LONG_PAUSE = (1.3, 2.6)
# Chance that a sentence or turn gap is a long pause: anywhere, and where the topic changes.
LONG_PAUSE_ANYWHERE, LONG_PAUSE_AT_TOPIC = 0.05, 0.35
# The tolerance of ``boundary_hits``: a boundary within this many seconds of a true one counts.
TOLERANCE = 30.0


@dataclass(frozen=True)
class Topic:
    name: str
    turns: tuple[str, ...]  # conversation about one thing, speakers alternating
    held_out: bool = False


@dataclass(frozen=True)
class EpisodeSpec:
    name: str
    # (topic name, turn orders): each order plays the topic's turns once, "forward", "reverse" (backwards) or
    # "rotate" (from the middle on); two orders make a topic about five minutes long, a chapter's length.
    parts: tuple[tuple[str, tuple[str, ...]], ...]
    seed: int
    held_out: bool = False


@dataclass
class GeneratedEpisode:
    name: str
    held_out: bool
    transcript: TranscriptResult
    topics: list[dict]  # {"topic", "start", "end"} in order

    @property
    def boundaries(self) -> list[float]:
        """Where each topic after the first starts, seconds."""
        return [t["start"] for t in self.topics[1:]]


# ---------------------------------------------------------------------------- the topics (tuned)

TOPICS: tuple[Topic, ...] = (
    Topic("sourdough", (
        "Let's talk about bread, because I know you've been baking sourdough for years now. How did you even get "
        "started with a starter?",
        "Honestly, a friend handed me a jar of her starter in a coffee cup. It was this bubbly, sour smelling paste, "
        "flour and water that had been fermenting for about six years. She said feed it every day and it will "
        "outlive your houseplants. And she was right, my houseplants are all gone and the starter is still alive.",
        "So what does feeding a starter actually mean? I think a lot of listeners picture a pet.",
        "It kind of is a pet. You throw away most of it, then you add fresh flour and water, usually equal weights. "
        "The wild yeast and the lactic acid bacteria eat the flour, they make gas and acid, and the jar rises. When "
        "it has doubled and smells a bit like yoghurt, it's ready to bake with.",
        "And then the dough itself. People talk about hydration all the time. What's hydration?",
        "Hydration is just the weight of water divided by the weight of flour. A beginner loaf might be seventy "
        "percent, so seven hundred grams of water for a kilo of flour. Higher hydration gives you those big open "
        "holes in the crumb, but the dough gets sticky and slack and much harder to shape.",
        "I tried a wet dough once and it basically became a pancake on the baking tray.",
        "Everybody does that once. The trick is stretch and folds during the bulk fermentation, every half hour, to "
        "build gluten strength. Then you shape it tight, put it in a floured banneton basket, and let it proof in "
        "the fridge overnight. The cold proof makes the flavour more sour and the loaf easier to score.",
        "And the oven, do you need a fancy oven?",
        "No, you need a Dutch oven, a heavy cast iron pot with a lid. Preheat it really hot, two hundred and fifty "
        "degrees, drop the loaf in, lid on for twenty minutes so the steam stays in, then lid off until the crust "
        "is deep brown. The steam is what gives you oven spring and that crackly crust.",
        "Crust, crumb, oven spring. I feel like I just learned a whole new vocabulary.",
        "And the best part is the sound. When a fresh loaf cools on the rack, the crust crackles and sings. Bakers "
        "literally call it the loaf singing.",
    )),
    Topic("marathon", (
        "Okay, change of pace. You ran your first marathon last spring, right? Tell me about the training.",
        "Yes, the city marathon in April. I followed a sixteen week training plan, running four days a week. Most "
        "of the miles were easy runs, slow enough that I could hold a conversation. That was the hardest lesson, "
        "actually. Running slowly to get faster sounds completely backwards.",
        "Why does it work, running slowly?",
        "Easy running builds your aerobic base. Your heart gets stronger, your muscles grow more capillaries and "
        "mitochondria, and you recover quickly enough to run again the next day. Then once a week you do the long "
        "run, which grows from ten miles up to twenty miles over the plan.",
        "Twenty miles in training. That's a lot of Sunday mornings.",
        "A lot of Sunday mornings and a lot of energy gels. You have to practise fuelling during the long runs, "
        "because your body only stores enough glycogen for about ninety minutes of hard running. After that you "
        "hit the wall, your legs feel like concrete and your pace falls apart.",
        "Did you hit the wall on race day?",
        "At mile twenty two, a little. I went out too fast in the first half because the crowd was cheering and the "
        "adrenaline was pumping. My target pace was ten minutes per mile and I ran the first five miles at nine "
        "fifteen. Classic mistake. The second half was slower than the first, what runners call a positive split.",
        "What about shoes and injuries? I feel like every runner I know has a sore knee.",
        "I got shin splints in week six because I increased my mileage too quickly. The rule of thumb is no more "
        "than ten percent more running each week. I also rotated two pairs of running shoes and did strength "
        "training for my calves and hips twice a week, and the injury went away.",
        "And crossing the finish line, what was that like?",
        "I cried. Four hours and twelve minutes. A stranger handed me a foil blanket and a medal, and I limped to "
        "the bus. Then I signed up for the next marathon that same evening.",
    )),
    Topic("solar", (
        "Now, you put solar panels on your roof this year. I want the honest numbers. Was it worth it?",
        "The honest numbers. The system is eight kilowatts, twenty panels on the south facing roof, and it cost "
        "about eighteen thousand dollars before the tax credit. After the thirty percent federal credit it came "
        "down to roughly twelve and a half thousand.",
        "And how much electricity does it make?",
        "Around ten thousand kilowatt hours a year, which is almost exactly what our house uses. In summer the "
        "panels produce far more than we need and the meter runs backwards, because of net metering. The utility "
        "credits us for the extra power we send to the grid, and in winter we use up those credits.",
        "So your electricity bill is zero now?",
        "Not quite zero. There's a fixed connection fee of about twelve dollars a month. But our bill used to be "
        "around one hundred and fifty dollars a month, so the payback period is about seven or eight years, and "
        "the panels have a twenty five year warranty.",
        "What about a battery? Everybody seems to want a home battery now.",
        "We looked at one. A battery lets you store solar power for the evening and keeps the lights on during a "
        "blackout. But it would have added another ten thousand dollars, and with net metering the grid is "
        "basically our battery. If our utility changes the rules, we'll add storage later. The inverter is "
        "already battery ready.",
        "Did anything go wrong with the installation?",
        "The permit took two months, much longer than the installation itself, which was two days. And the "
        "installer found some rotten plywood on the roof, so we had to replace part of the roof first. If your "
        "roof is old, replace it before you install solar, because taking the panels off later is expensive.",
        "Any surprises once it was running?",
        "I check the solar app way too often. On a clear day in June the inverter shows the production curve "
        "rising like a perfect hill, and on cloudy days I take it personally.",
    )),
    Topic("freelance", (
        "Let's switch to work. You've been a freelance designer for eight years. What's the biggest mistake new "
        "freelancers make?",
        "Pricing. Almost everyone charges by the hour at the start, and they set an hourly rate by looking at "
        "their old salary. But a freelancer pays for their own health insurance, retirement, software, and all "
        "the hours spent finding clients, which nobody pays you for.",
        "So how should someone work out their rate?",
        "Start from what you need to earn in a year, add your business costs, and divide by the hours you can "
        "actually bill. Most freelancers bill maybe twenty or twenty five hours a week, not forty. When people do "
        "that math, their rate usually doubles.",
        "Doubling your rate sounds terrifying though. What if the clients leave?",
        "Some will, and that's fine. The clients who leave over price are usually the ones who ask for endless "
        "revisions and pay invoices sixty days late. I moved to project pricing, a fixed price for a defined "
        "scope, and I write the scope into the contract with exactly two rounds of revisions.",
        "Tell me about contracts. A lot of people just start working after a nice email.",
        "Never start without a contract and a deposit. I ask for fifty percent up front before I open any design "
        "file. The contract says who owns the work, when the invoice is due, and what happens if the client "
        "wants to add features, which we call scope creep.",
        "How do you deal with scope creep in the moment, when a client asks for just one more small thing?",
        "I say yes, happily, and then I send a change order with a price. Clients respect that much more than "
        "you expect. The small things are never small, and if you do them for free, the client learns that your "
        "time is free.",
        "And finding clients? Do you still cold email people?",
        "Almost never now. Most of my work comes from referrals and past clients. I keep a simple spreadsheet of "
        "every client and check in with each one twice a year. That spreadsheet pays my mortgage.",
    )),
    Topic("beekeeping", (
        "You also keep bees, which I find both amazing and a little scary. How many hives do you have?",
        "Three hives in the back garden, so roughly one hundred and fifty thousand bees in high summer. Each "
        "colony has one queen, a few hundred drones, and tens of thousands of worker bees who do everything else, "
        "foraging for nectar and pollen, building wax comb, guarding the entrance.",
        "Do you get stung a lot?",
        "A few times a year. I wear a veil and gloves, and I use a smoker, which puffs cool smoke at the hive "
        "entrance. The smoke masks the alarm pheromone, so the guard bees don't call everyone to attack. Calm "
        "slow movements matter more than the suit, honestly.",
        "What do you actually do when you open a hive?",
        "An inspection every week or two in spring. I lift out each frame and look for eggs, which tells me the "
        "queen is alive and laying. I check for queen cells, because that means the colony is planning to swarm, "
        "and I look for signs of disease and varroa mites.",
        "Varroa mites. I've heard that name before.",
        "Varroa is the biggest threat to honey bees. The mites feed on the bees and spread viruses, and an "
        "untreated colony usually dies within two or three years. I count mites with a sugar roll test every "
        "month and treat with oxalic acid in winter when there's no brood in the hive.",
        "And swarming, is that as dramatic as it sounds?",
        "It's spectacular. Half the colony leaves with the old queen, thousands of bees pour out of the hive and "
        "form a cluster on a tree branch. I caught one swarm in a cardboard box on my neighbour's apple tree. "
        "Swarming bees are full of honey and very gentle.",
        "Let's talk honey. How much do you harvest?",
        "In a good year about thirty kilos per hive. I take the honey supers off in August, uncap the frames "
        "with a hot knife, spin them in an extractor, and the honey runs through a sieve into jars. Our honey "
        "tastes of lime trees and blackberry flowers.",
    )),
    Topic("language", (
        "I want to ask about Japanese. You started learning Japanese at forty. Why Japanese, and why then?",
        "My daughter moved to Osaka for work and I wanted to talk to her neighbours, and to order food without "
        "pointing at pictures. I'd tried Spanish at school and forgotten all of it, so I knew the classroom way "
        "of learning grammar tables didn't work for me.",
        "So what did you do differently this time?",
        "Spaced repetition flashcards, every single day. An app shows you a word just before you would forget "
        "it, so you review vocabulary at growing intervals. Fifteen minutes a day, and after a year I knew about "
        "two thousand words and most of the kanji I needed for menus and train stations.",
        "Kanji, the Chinese characters. How many are there?",
        "There are about two thousand common kanji, and each one can have several readings. That scared me at "
        "first. But kanji are built from smaller pieces called radicals, and once you learn the radicals, a new "
        "character stops looking like a random drawing and starts looking like a little story.",
        "And speaking? Flashcards don't teach you to speak.",
        "No, and that was the real wall. I booked conversation lessons with a tutor online, two half hour "
        "sessions a week. The first month I could barely introduce myself. I also did shadowing, which means "
        "repeating a native speaker's audio out loud, copying the rhythm and pitch accent.",
        "Pitch accent. That's a very specific thing to worry about.",
        "Japanese words have a pitch pattern, high and low, and getting it wrong makes you sound strange even "
        "when the grammar is perfect. Hashi with one pitch means chopsticks and with another means bridge. My "
        "tutor laughed for a full minute when I asked for a bridge with my noodles.",
        "So after two years, can you hold a conversation?",
        "Slowly, yes. Last autumn I chatted with my daughter's neighbour for twenty minutes about her garden, "
        "entirely in Japanese. She corrected my grammar twice and gave me persimmons.",
    )),
    Topic("investing", (
        "Money question now, because listeners keep asking. Where should a normal person put their savings?",
        "First an emergency fund, three to six months of expenses in a high yield savings account. Then for "
        "long term money, most people do best with low cost index funds. An index fund simply buys every stock "
        "in a market index, like the whole stock market, so you own a tiny slice of thousands of companies.",
        "Why an index fund rather than picking stocks yourself?",
        "Because almost nobody beats the market over time, including most professional fund managers. Actively "
        "managed funds charge fees of one percent or more, and those fees compound against you. A total market "
        "index fund might charge point zero three percent. Over thirty years that difference is enormous.",
        "Compound interest. Explain it like I'm five.",
        "Your money earns returns, and then those returns earn returns. If the market grows seven percent a "
        "year on average, your investment roughly doubles every ten years. So the money you invest at twenty "
        "five can double three or four times before retirement. Starting early matters more than investing a lot.",
        "But the market crashes sometimes. What do you do in a crash?",
        "Nothing, ideally. Keep investing every month, which is called dollar cost averaging, and don't sell in "
        "a panic. People who sold their index funds in the crash of two thousand and eight locked in their "
        "losses, and the people who kept buying did very well when the market recovered.",
        "And retirement accounts? The names confuse everyone.",
        "Use the tax advantaged accounts first. If your employer matches your retirement contributions, take "
        "the full match, it's free money, an instant fifty or one hundred percent return. Then an individual "
        "retirement account, then a normal brokerage account.",
        "What about bonds? When do they come in?",
        "Bonds lower the volatility of a portfolio. As you get closer to retirement you shift some money from "
        "stocks to bonds, so a crash in the year you retire doesn't wreck your plans. A target date fund does "
        "that rebalancing for you automatically.",
    )),
    Topic("sleep", (
        "Let's talk about sleep, because I know you've been reading the research. How much sleep do we need?",
        "Most adults need between seven and nine hours. And the research is pretty brutal about what happens "
        "with less. After a week of six hours a night, people perform on attention tests about as badly as "
        "someone who hasn't slept for a whole night, but they feel only a little tired.",
        "So we don't notice our own sleep debt.",
        "Exactly. Sleep also comes in cycles of about ninety minutes. Early in the night you get more deep "
        "sleep, which restores the body and clears waste from the brain. Later in the night you get more REM "
        "sleep, the dreaming stage, which is important for memory and mood. Cut the night short and you lose "
        "mostly REM.",
        "What's the single best thing someone can do to sleep better?",
        "Keep a regular wake up time, every day, weekends included. Your circadian rhythm, the internal clock, "
        "is set mainly by morning light. So get outside in daylight soon after you wake up, and keep the "
        "bedroom dark and cool in the evening, around eighteen degrees.",
        "What about caffeine? I drink coffee until about four in the afternoon.",
        "Caffeine has a half life of about five or six hours. So half of your four o'clock coffee is still in "
        "your system at ten at night, blocking adenosine, the chemical that builds sleep pressure during the "
        "day. You might fall asleep fine but your deep sleep gets shallower. Try a cut off at noon for two weeks.",
        "And alcohol? A glass of wine helps me fall asleep.",
        "It sedates you, which isn't the same as sleep. Alcohol fragments the second half of the night and "
        "suppresses REM sleep, so you wake up at three in the morning and feel unrested. Same with screens in "
        "bed, although the blue light effect is smaller than people think. The scrolling keeps you awake more "
        "than the light does.",
        "What if you can't fall asleep at all?",
        "Get up after twenty minutes and read something boring in dim light, then go back to bed when you feel "
        "sleepy. Lying awake in bed teaches your brain that the bed is a place for worrying. That's a core part "
        "of cognitive behavioural therapy for insomnia.",
    )),
    Topic("coffee", (
        "Speaking of coffee, you roast your own beans at home now. That seems like a serious commitment.",
        "It started with a popcorn machine, honestly. Green coffee beans are cheap, they keep for a year, and "
        "you can roast a small batch in a hot air popcorn popper in about eight minutes. Now I have a proper "
        "drum roaster in the garage.",
        "What happens to the bean when you roast it?",
        "Green beans are dense and grassy. As they heat up they turn yellow, then tan, and the sugars "
        "caramelise. Around two hundred degrees you hear first crack, a popping sound like popcorn, when the "
        "moisture inside the bean turns to steam and breaks the cell walls. A light roast stops soon after first "
        "crack.",
        "And a dark roast keeps going?",
        "Right, until second crack, when the oils come to the surface and the bean gets shiny and smoky. Dark "
        "roasts taste more of the roast and less of the origin. A light roasted Ethiopian coffee can taste of "
        "blueberries and jasmine, which you lose completely in a dark roast.",
        "How do you brew it? I have a sad drip machine.",
        "I use a pour over cone most mornings. Grind the beans fresh, medium fine, use about sixty grams of "
        "coffee per litre of water, and water just off the boil. Pour slowly in circles and the whole brew "
        "should take about three minutes. The grinder matters more than the brewer, a burr grinder gives an "
        "even grind size.",
        "What about espresso?",
        "Espresso is a different sport. Nine bars of pressure, a fine grind, eighteen grams of coffee in, "
        "thirty six grams of espresso out in about thirty seconds. If it runs too fast it tastes sour, too slow "
        "and it's bitter. Baristas call adjusting it dialling in, and it can eat a whole morning.",
        "Does roasting at home save money?",
        "Green beans cost about half of what roasted specialty coffee costs, so yes, a little. But the real "
        "reason is freshness. Coffee tastes best about a week after roasting, once the carbon dioxide has "
        "degassed, and most supermarket bags were roasted months ago.",
    )),
    Topic("birdwatching", (
        "Last topic before we wrap up this part. You've become a birdwatcher. When did that happen?",
        "During the lockdown, like a lot of people. I started noticing the birds at the feeder outside my "
        "kitchen window, and I bought a cheap pair of binoculars and a field guide. Within a month I could tell "
        "a house sparrow from a dunnock, which sounds small but felt like a superpower.",
        "What binoculars should a beginner buy?",
        "Eight by forty two is the classic choice. Eight times magnification is steady enough to hold by hand, "
        "and the forty two millimetre lenses let in plenty of light at dawn, when birds are most active. You "
        "don't need to spend a fortune, but waterproof is worth paying for.",
        "And how do you identify a bird that flies away in two seconds?",
        "You learn to notice size, shape, and behaviour before colour. Is it bigger than a sparrow? Does it "
        "hop or walk? Does it flick its tail? And more and more I identify birds by their song. There's a free "
        "app that listens through your phone's microphone and suggests which species is singing.",
        "Birdsong identification. That sounds like cheating.",
        "A bit, but it trains your ear. The dawn chorus in May is incredible, robins and blackbirds start "
        "before sunrise, then wrens, which are tiny but unbelievably loud. I keep a list of every species I've "
        "seen, birders call it a life list, and mine is at one hundred and twelve species.",
        "Do you travel for birds now?",
        "Sometimes. In autumn I go to the coast for the migration, when thousands of geese and wading birds "
        "arrive from the Arctic to spend the winter on the estuary. Watching a flock of knots turn in the air "
        "like smoke is one of the most beautiful things I've ever seen.",
        "Is there an etiquette to it?",
        "Keep your distance, especially from nests, and don't use recordings to lure birds out during the "
        "breeding season. And report what you see to the online bird surveys. Citizen scientists with "
        "binoculars have tracked the decline of farmland birds for decades.",
    )),
)


# ---------------------------------------------------------------------------- held-out topics
# Written after chapters.py and ChapterOptions were settled; never used for tuning.

HELD_OUT_TOPICS: tuple[Topic, ...] = (
    Topic("sailing", (
        "I heard you learned to sail last summer. How does a complete beginner even start with sailing?",
        "I took a week long course at a sailing school on the lake, in little dinghies. The first morning they "
        "make you capsize on purpose, right next to the jetty, so you learn that tipping over is normal and you "
        "know how to right the boat by standing on the centreboard.",
        "Capsizing on the first day sounds like a terrible way to build confidence.",
        "It's the opposite. Once you've been in the cold water and climbed back in, the fear goes away. Then "
        "you learn the basics: the tiller steers the rudder, the mainsheet pulls the sail in and lets it out, "
        "and you always need to know where the wind is coming from.",
        "How do you know where the wind comes from? I never notice the wind.",
        "Little ribbons on the shrouds, called telltales, and the ripples on the water. A darker patch of water "
        "moving towards you is a gust. Sailing into the wind is impossible, so you zigzag upwind, which is "
        "called tacking. You turn the bow through the wind and the boom swings across the boat.",
        "And the boom hits you on the head.",
        "Exactly once. Then you learn to duck. Going downwind is a gybe, when the stern passes through the "
        "wind, and that's the dangerous manoeuvre, because the boom can slam across with the full force of the "
        "wind behind it. The instructor shouts ready about before a tack, and everyone moves across the boat.",
        "Did you go out on a bigger boat after the course?",
        "I crewed on a thirty foot keelboat in the club races on Wednesday evenings. Keelboats don't capsize, "
        "the heavy keel keeps them upright, but the crew work is intense. I trimmed the jib, the front sail, "
        "and winched the sheets in at every tack. My hands were covered in rope burns.",
        "What was the best moment?",
        "A beam reach on a windy evening, the boat heeling over, water rushing past the hull, the skipper "
        "grinning. We finished second to last, but nobody cared. We tied up at the marina and ate chips on "
        "the dock while the sun went down.",
    ), held_out=True),
    Topic("home_studio", (
        "Let's get a bit nerdy about audio. A lot of listeners want to start their own podcast. What "
        "microphone should they buy?",
        "A dynamic microphone, not a condenser. Condenser microphones are very sensitive, so in an untreated "
        "room they pick up the fridge, the traffic, and the echo off your walls. A dynamic microphone like "
        "the classic broadcast ones only really hears what's right in front of it.",
        "USB or the kind with the three pin cable?",
        "For one person, a USB microphone is fine and much simpler. For two or more people, go with XLR "
        "microphones into an audio interface, a little box that converts the analogue signal to digital and "
        "powers the preamps. Set the gain so your loudest laugh peaks around minus six decibels.",
        "And the room? I record in my kitchen, which has tiles everywhere.",
        "Tiles are the worst. Hard surfaces reflect sound, and the reflections make the voice sound hollow "
        "and distant, what engineers call reverb. You don't need expensive acoustic foam. Record in a "
        "bedroom closet full of clothes, or hang thick blankets behind you. Soft stuff absorbs reflections.",
        "What about technique? I move around a lot when I talk.",
        "Keep a fist's distance from the microphone and speak across it rather than straight into it, so "
        "your plosives, the puffs of air on p and b sounds, don't hit the capsule. A pop filter helps. And "
        "wear closed headphones, so you hear yourself and never let the speakers bleed into the microphone.",
        "Then editing. I lose hours editing every episode.",
        "Most people over edit. Cut the long tangents and the false starts, leave the natural ums mostly "
        "alone. Then apply a high pass filter to remove rumble, a compressor to even out the levels, and "
        "normalise the loudness to about minus sixteen LUFS, which is what podcast apps expect.",
        "LUFS. Another acronym.",
        "Loudness units relative to full scale. It measures perceived loudness rather than peaks. If your "
        "episode is much quieter than the next show in someone's queue, they turn it up, then the next "
        "show blasts their ears. Consistent loudness is polite audio engineering.",
    ), held_out=True),
    Topic("volcanoes", (
        "You spent a month on a research trip to Iceland. What were you studying there?",
        "Volcanoes, specifically how magma moves underground before an eruption. Iceland sits on the "
        "Mid-Atlantic Ridge, where the North American and Eurasian tectonic plates pull apart, and on top of "
        "a hotspot. So there's a lot of magma close to the surface.",
        "How can you tell where magma is moving if it's underground?",
        "Earthquakes, mostly. When magma pushes into the crust it cracks the rock and causes swarms of small "
        "earthquakes. We had seismometers buried all over the area, and GPS stations that measure how the "
        "ground rises by a few centimetres as the magma chamber inflates. Satellites measure that too.",
        "Did you see an eruption?",
        "We did, a fissure eruption on the peninsula. The ground split open along a crack about a kilometre "
        "long and lava fountains shot up tens of metres. It was basalt lava, very runny, so it flowed in "
        "glowing rivers rather than exploding. The heat on your face from a hundred metres away is unreal.",
        "Isn't that dangerous?",
        "The real danger is the gas. Eruptions release sulphur dioxide and carbon dioxide, which collects in "
        "low hollows and can suffocate you without any warning. We carried gas detectors and always stood "
        "upwind. The explosive volcanoes are a different story, like the ones with sticky, gas rich magma.",
        "The ones that ground aeroplanes.",
        "Right, the ash clouds. Volcanic ash is tiny shards of glass and rock, and it melts inside jet "
        "engines. A big explosive eruption can blast ash high into the stratosphere, and the sulphur aerosols "
        "reflect sunlight and cool the whole planet for a year or two.",
        "Can scientists predict eruptions now?",
        "Better than before, not perfectly. We can usually tell when a volcano is restless, from the "
        "earthquake swarms, the ground deformation and the gas. But saying exactly when and where the crust "
        "will break is still very hard. That's why the monitoring never stops.",
    ), held_out=True),
)


# ---------------------------------------------------------------------------- the episodes

def _spec(name: str, parts: str, seed: int, held_out: bool = False) -> EpisodeSpec:
    """``parts``: "topic" (its turns forward, then again from the middle on) or "topic:order,order"."""
    out = []
    for part in parts.split():
        topic_name, _, orders = part.partition(":")
        out.append((topic_name, tuple(orders.split(",")) if orders else ("forward", "rotate")))
    return EpisodeSpec(name, tuple(out), seed, held_out)


EPISODES: tuple[EpisodeSpec, ...] = (
    _spec("tuned_a", "sourdough marathon solar", 1),
    _spec("tuned_b", "freelance beekeeping language investing", 2),
    _spec("tuned_c", "sleep:reverse,forward coffee birdwatching:rotate,reverse marathon:reverse,rotate freelance", 3),
    _spec("tuned_d", "coffee beekeeping", 4),
    # Long topics (about 7 minutes): room for more chapters than topics, so the count must come from the talk.
    _spec("tuned_e", "language:forward,rotate,reverse solar:reverse,forward,rotate "
                     "investing:forward,reverse,rotate sleep:rotate,forward,reverse", 6),
    # The hour: every tuned topic once, then three of them again with their turns in other orders.
    _spec("tuned_60", " ".join(t.name for t in TOPICS) + " sourdough:reverse,rotate solar:rotate,reverse "
                      "freelance:rotate,reverse", 5),
    # Held out: the new topics alone, mixed with tuned ones in new orders, and as long topics.
    _spec("held_a", "sailing home_studio volcanoes", 11, held_out=True),
    _spec("held_b", "home_studio:rotate,forward coffee:reverse,forward volcanoes:reverse,rotate "
                    "language:rotate,reverse sailing:reverse,forward", 12, held_out=True),
    _spec("held_c", "volcanoes:forward,reverse,rotate sailing:rotate,forward,reverse "
                    "home_studio:reverse,rotate,forward", 13, held_out=True),
)


# ---------------------------------------------------------------------------- building an episode

def topic(name: str) -> Topic:
    return next(t for t in ALL_TOPICS if t.name == name)


def ordered_turns(turns: tuple[str, ...], order: str) -> tuple[str, ...]:
    if order == "reverse":
        return turns[::-1]
    if order == "rotate":
        half = len(turns) // 2
        return turns[half:] + turns[:half]
    return turns


def _sentences(turn: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.?!])\s+", turn.strip()) if s]


def _word_seconds(token: str) -> float:
    letters = sum(ch.isalnum() for ch in token)
    return WORD_BASE + WORD_PER_LETTER * letters


class _Clock:
    """Lays out words in time, one segment a sentence."""

    def __init__(self, rng: random.Random):
        self.rng, self.t, self.segments = rng, 0.6, []

    def pause(self, bounds: tuple[float, float], long_chance: float) -> None:
        if self.rng.random() < long_chance:
            bounds = LONG_PAUSE
        self.t += self.rng.uniform(*bounds)

    def sentence(self, text: str, speaker: str) -> None:
        words = []
        for k, token in enumerate(text.split()):
            if k:
                self.t += self.rng.uniform(*WORD_GAP)
                if words[-1].word.endswith((",", ";", ":")):
                    self.t += self.rng.uniform(*COMMA_PAUSE)
            end = self.t + _word_seconds(token) * self.rng.uniform(0.85, 1.15)
            words.append(Word(" " + token, round(self.t, 3), round(end, 3), 0.95, speaker))
            self.t = end
        self.segments.append(Segment(words[0].start, words[-1].end, text, tuple(words), "en", (), speaker))


def build_episode(spec: EpisodeSpec) -> GeneratedEpisode:
    """The transcript of ``spec`` and where each of its topics starts and ends."""
    rng = random.Random(spec.seed)
    clock = _Clock(rng)
    topics, turn_count = [], 0
    for index, (name, orders) in enumerate(spec.parts):
        first_segment = len(clock.segments)
        turns = [turn for order in orders for turn in ordered_turns(topic(name).turns, order)]
        for k, turn in enumerate(turns):
            if clock.segments:
                at_topic = index > 0 and k == 0
                clock.pause(TURN_PAUSE, LONG_PAUSE_AT_TOPIC if at_topic else LONG_PAUSE_ANYWHERE)
            speaker = SPEAKERS[turn_count % 2]
            turn_count += 1
            for j, sentence in enumerate(_sentences(turn)):
                if j:
                    clock.pause(SENTENCE_PAUSE, LONG_PAUSE_ANYWHERE)
                clock.sentence(sentence, speaker)
        segments = clock.segments[first_segment:]
        topics.append({"topic": name, "start": segments[0].start, "end": segments[-1].end})
    duration = round(clock.t + 1.0, 3)
    transcript = TranscriptResult("en", duration, tuple(clock.segments), "generated", "make_topic_set")
    return GeneratedEpisode(spec.name, spec.held_out or any(topic(n).held_out for n, _ in spec.parts),
                            transcript, topics)


def episodes(held_out: bool | None = None) -> list[GeneratedEpisode]:
    """Every episode of the set (or only the tuned ones, or only the held-out ones)."""
    built = [build_episode(spec) for spec in EPISODES]
    return [e for e in built if held_out is None or e.held_out == held_out]


def words_per_minute(episode: GeneratedEpisode) -> float:
    return len(episode.transcript.words) / (episode.transcript.duration / 60)


# ---------------------------------------------------------------------------- scoring

def _labels(boundaries: list[float], seconds: int) -> np.ndarray:
    """The segment number of every whole second of the episode."""
    marks = np.zeros(seconds, dtype=int)
    for b in boundaries:
        if 0 < b < seconds:
            marks[int(b)] += 1
    return np.cumsum(marks)


def _window(reference: list[float], seconds: int) -> int:
    """k: half the mean true segment length, in seconds (the usual choice for Pk and WindowDiff)."""
    return max(1, int(round(seconds / (len(reference) + 1) / 2)))


def pk(reference: list[float], hypothesis: list[float], duration: float) -> float:
    """Beeferman's Pk over one-second units: the share of pairs of seconds k apart that the hypothesis puts
    in the same segment where the reference does not, or the other way round. k is half the mean true
    segment length. 0 is perfect; lower is better."""
    seconds = int(np.ceil(duration))
    k = _window(reference, seconds)
    ref, hyp = _labels(reference, seconds), _labels(hypothesis, seconds)
    same_ref = ref[:-k] == ref[k:]
    same_hyp = hyp[:-k] == hyp[k:]
    return float(np.mean(same_ref != same_hyp))


def window_diff(reference: list[float], hypothesis: list[float], duration: float) -> float:
    """Pevzner and Hearst's WindowDiff over one-second units: the share of windows of k seconds in which the
    hypothesis counts a different number of boundaries than the reference. Same k as ``pk``."""
    seconds = int(np.ceil(duration))
    k = _window(reference, seconds)
    ref, hyp = _labels(reference, seconds), _labels(hypothesis, seconds)
    return float(np.mean((ref[k:] - ref[:-k]) != (hyp[k:] - hyp[:-k])))


def boundary_hits(reference: list[float], hypothesis: list[float], tolerance: float = TOLERANCE) -> tuple[float, float]:
    """(recall, precision): the share of true boundaries with a predicted one within ``tolerance`` seconds,
    and the share of predicted boundaries with a true one that near (1.0 for an empty side)."""
    def near(points: list[float], others: list[float]) -> float:
        if not points:
            return 1.0
        return sum(any(abs(p - o) <= tolerance for o in others) for p in points) / len(points)

    return near(reference, hypothesis), near(hypothesis, reference)


# ---------------------------------------------------------------------------- writing the set

def write_set(out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest = {"episodes": []}
    for episode in episodes():
        _write_json(out_dir / f"{episode.name}.json", episode.transcript.to_dict())
        truth = {"episode": episode.name, "held_out": episode.held_out, "duration": episode.transcript.duration,
                 "topics": episode.topics, "boundaries": episode.boundaries}
        _write_json(out_dir / f"{episode.name}.truth.json", truth)
        manifest["episodes"].append({"episode": episode.name, "held_out": episode.held_out,
                                     "minutes": round(episode.transcript.duration / 60, 1),
                                     "topics": len(episode.topics), "wpm": round(words_per_minute(episode))})
    _write_json(out_dir / "manifest.json", manifest)
    return manifest


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out-dir", type=Path, default=DEFAULT_OUT_DIR)
    args = parser.parse_args()
    for row in write_set(args.out_dir)["episodes"]:
        print(f"{row['episode']:<12} {'held out' if row['held_out'] else 'tuned':<9} {row['minutes']:>5} min "
              f"{row['topics']:>3} topics {row['wpm']:>4} wpm")
    return 0


ALL_TOPICS: tuple[Topic, ...] = TOPICS + HELD_OUT_TOPICS

if __name__ == "__main__":
    sys.exit(main())
