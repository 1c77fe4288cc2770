#!/usr/bin/env python3
"""Generate the speaker diarization evaluation set: espeak-ng conversations with known turns.

Every turn of a conversation is synthesised on its own by espeak-ng, trimmed to where the
speech is, and placed on the timeline after a gap of known length (0.2-0.8 s), or a known
number of seconds before the previous turn ends (cross-talk).  The true start, end and
speaker of every turn therefore come from the generator, never from a model.

    python scripts/make_speaker_set.py [--out-dir eval-data/speakers] [--long] [--force]

For every conversation NAME it writes:
    NAME.mp3          mono 22.05 kHz, 64 kbit/s
    NAME.truth.json   {"episode", "topic", "held_out", "long", "note", "duration",
                       "voices": {label: {"voice", "pitch", "speed", "amplitude"}},
                       "overlap_seconds",
                       "turns": [{"speaker", "start", "end", "text"}]}
and <out-dir>/manifest.json lists the episodes and the generator version.

The standard set: six two-voice conversations (duo01-duo06), four three-voice ones
(trio01-trio04) and one monologue (solo01), 1.5-4 minutes each.  Some pairs are hard on
purpose: two male voices that differ only in espeak variant and pitch.  duo04, duo06 and
trio03 have cross-talk (a back-channel or an early reply over the end of a turn).
duo05, duo06, trio03 and trio04 are held out ("held_out": true): they were written after
the others, and a diarizer must not be tuned on them, so a score on them measures
whether tuning on the rest generalises.

--long adds long60, a 60-minute two-voice episode for the real-time-factor and memory
benchmark: the turns of duo01-duo04 spoken by duo01's voices, looped until an hour is
reached (each distinct turn is synthesised once).

Episodes whose files exist and whose manifest entry carries the current generator
version are not rebuilt (use --force to rebuild anyway).  All text lives in this file;
nothing is random, so output is deterministic for a given espeak-ng and ffmpeg version.

Requires: espeak-ng, ffmpeg, numpy (apt-get install espeak-ng ffmpeg).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_eval_set import (  # noqa: E402  (same WAV, trim and manifest handling as the highlight set)
    BITRATE, SAMPLE_RATE, _load_manifest, _write_json, _write_wav, espeak_trimmed,
)
from make_sample import _need, _run  # noqa: E402  (same tool checks and error lines as the sample)

# Bump by hand for changes in the code path; the text and settings below are
# hashed into VERSION automatically, so editing a turn also invalidates caches.
GENERATOR_REVISION = "1"
DEFAULT_OUT_DIR = os.path.join("eval-data", "speakers")
# Silence before each turn, in seconds, taken in this order and cycled.  Eleven values, so
# the pattern does not line up with two or three speakers taking turns.
GAPS = (0.45, 0.25, 0.7, 0.35, 0.8, 0.2, 0.55, 0.3, 0.65, 0.4, 0.6)
EDGE_SILENCE = 0.5            # at the very start and end of the episode
TURN_SECONDS = (1.0, 20.0)    # every turn but a back-channel lasts this long
BACKCHANNEL_WORDS = 4         # a turn of at most this many words may be shorter than a second
MAX_WORDS = 50                # a longer turn cannot fit in TURN_SECONDS at these speeds
EPISODE_SECONDS = (90.0, 240.0)
LONG_NAME = "long60"
LONG_SECONDS = 3600.0


@dataclass(frozen=True)
class Voice:
    """espeak-ng settings: -v voice (language+variant), -p pitch 0-99, -s words per minute, -a amplitude."""
    voice: str
    pitch: int = 50
    speed: int = 160
    amplitude: int = 100

    def espeak_args(self) -> list[str]:
        return ["-v", self.voice, "-p", str(self.pitch), "-s", str(self.speed), "-a", str(self.amplitude)]


@dataclass(frozen=True)
class Turn:
    speaker: str          # a key of the conversation's voices
    text: str
    # Seconds this turn starts before the previous one ends (cross-talk); 0 means a gap from GAPS.
    overlap: float = 0.0


@dataclass(frozen=True)
class Conversation:
    name: str
    topic: str
    voices: dict[str, Voice]
    turns: tuple[Turn, ...]
    # Written after the others and never used for tuning.
    held_out: bool = False
    note: str = ""


def T(speaker: str, text: str, overlap: float = 0.0) -> Turn:
    return Turn(speaker, text, overlap)


# ---------------------------------------------------------------------------- the conversations
# Tuned: duo01-duo04, trio01, trio02, solo01.

TUNED: tuple[Conversation, ...] = (
    Conversation(
        "duo01", "starting a community garden",
        {"A": Voice("en-us+m3", pitch=45, speed=160), "B": Voice("en-us+f3", pitch=58, speed=165)},
        (
            T("A", "Welcome back to Green Corners, the show about small projects that change a street. My guest "
                   "today started a community garden on an empty lot behind a bus depot."),
            T("B", "Thanks for having me. When we started, that lot was mostly broken glass and a very angry goose."),
            T("A", "A goose?"),
            T("B", "A goose. He lived there before we did, and he made it very clear that we were the guests."),
            T("A", "So how did you get permission to use the land? I think that's where most people give up."),
            T("B", "I wrote a lot of letters. The lot belonged to the transit authority, and nobody there knew who "
                   "was responsible for it. In the end, a woman in the property office gave us a lease for one "
                   "dollar a year."),
            T("A", "One dollar."),
            T("B", "Paid in coins, at her request. She still keeps them in a jar on her desk."),
            T("A", "That's wonderful. And what about insurance, was that expensive?"),
            T("B", "Less than I feared. We joined a national network of community gardens, and their group policy "
                   "costs about three hundred dollars a year, split between the first twelve members."),
            T("A", "Right."),
            T("B", "The harder part was water. There was no tap on the lot, so for the first season we carried it "
                   "from a fire hydrant, with a permit and a borrowed tank on a trailer."),
            T("A", "That sounds exhausting, to be honest."),
            T("B", "It was. But every Saturday morning we had a little water parade down the street, and "
                   "neighbours who had never spoken to each other started walking with us."),
            T("A", "I love that. What did you grow in that first year?"),
            T("B", "Tomatoes, beans, squash, and far too much zucchini. Nobody warns you about the zucchini."),
            T("A", "Everyone warns you about the zucchini."),
            T("B", "Well, nobody warned me."),
            T("A", "Now that the garden is popular, how do you decide who gets a plot?"),
            T("B", "We keep a waiting list, with priority for people who live within walking distance. Four plots "
                   "go to the primary school on the corner, and two to the seniors' home, with raised beds so "
                   "nobody has to kneel."),
            T("A", "Exactly."),
            T("B", "One of our best gardeners is ninety one. She grows the best peppers on the lot, and she runs "
                   "our seed library, which is a shoe box full of envelopes."),
            T("A", "If someone listening wants to start their own garden, what's the first step?"),
            T("B", "Find out who owns the land before you fall in love with it. Then find three neighbours who will "
                   "show up on a rainy Saturday. Those three people matter more than any grant."),
            T("A", "Three neighbours and a rainy Saturday. Thank you so much for coming on."),
            T("B", "Thank you. And say hello to the goose."),
        ),
        note="male and female voice, both American",
    ),
    Conversation(
        "duo02", "learning to bake bread at home",
        {"A": Voice("en-gb+m7", pitch=50, speed=155), "B": Voice("en+f4", pitch=62, speed=170)},
        (
            T("B", "Hello and welcome to Crumb, the baking show you can't taste. I'm here with a retired engineer "
                   "who bakes two loaves of sourdough every single morning."),
            T("A", "Good morning. Although it's afternoon for me, I've been up since five."),
            T("B", "Since five! Why so early?"),
            T("A", "The dough tells me when to get up. I mix it the night before, it rises slowly in a cool "
                   "kitchen, and by five it is ready to be shaped. If I sleep in, it turns into a puddle."),
            T("B", "Okay, let's go back to the beginning. How did an engineer end up baking bread?"),
            T("A", "My daughter gave me a jar of starter for my birthday. I think it was a joke, but I treated it "
                   "like a project. I kept a notebook with the temperature, the flour, and the rise of every loaf."),
            T("B", "Of course you did."),
            T("A", "Three hundred loaves later, the notebook says that temperature matters more than anything else. "
                   "Two degrees warmer, and the whole schedule moves by an hour."),
            T("B", "So what would you tell a beginner who just wants a decent loaf?"),
            T("A", "Buy a cheap thermometer, and weigh everything. Cups are a guess, and bread does not forgive "
                   "guesses."),
            T("B", "That's very engineer advice."),
            T("A", "Guilty. But it works."),
            T("B", "What about the famous open crumb, the big holes everyone posts online?"),
            T("A", "Those photos have ruined a lot of weekends. Big holes need very wet dough, and very wet dough is "
                   "hard to handle. Start with a tighter dough, and you will get a loaf you can actually slice for "
                   "a sandwich."),
            T("B", "Mm-hm."),
            T("A", "Once that works every time, add a little more water each week. Change one thing at a time, and "
                   "write it down."),
            T("B", "And the starter, is it hard to keep alive?"),
            T("A", "Not really. Mine lives in the fridge during the week. I feed it on Friday evening, and it is "
                   "lively again by Saturday. It has survived two holidays and a power cut."),
            T("B", "Does it have a name?"),
            T("A", "My granddaughter named it Gerald. I was not consulted."),
            T("B", "Gerald the starter. I love it. Last question, what's the worst loaf you ever made?"),
            T("A", "I forgot the salt once. It rose beautifully, it looked perfect, and it tasted like a wet "
                   "cardboard box. The birds got that one."),
            T("B", "Thank you so much for joining us, and say hello to Gerald."),
            T("A", "I will. He'll be thrilled."),
        ),
        note="British male and female voice",
    ),
    Conversation(
        "duo03", "running a repair cafe",
        {"A": Voice("en-us+m3", pitch=40, speed=160), "B": Voice("en-us+m1", pitch=58, speed=150)},
        (
            T("A", "You're listening to Fix It Friday. My guest runs a repair cafe in a church hall, once a month, "
                   "where volunteers fix toasters, lamps and jeans for free."),
            T("B", "Hi. And bicycles. Don't forget the bicycles, they're half of our work."),
            T("A", "Bicycles too. How did it start?"),
            T("B", "I was throwing out a kettle that only needed a new switch. It cost forty cents. That annoyed me "
                   "so much that I put up a poster in the library, asking if anyone wanted to fix things together."),
            T("A", "And people came?"),
            T("B", "Eleven people came to the first one, and six of them brought a broken lamp. I still don't know "
                   "why it was lamps."),
            T("A", "What gets fixed most often now?"),
            T("B", "Clothing, actually. Zips, hems and holes. We have two volunteers with sewing machines, and "
                   "there is always a queue in front of them."),
            T("A", "Right."),
            T("B", "Then small electronics, then bicycles. The bicycles are quick wins, a brake cable or a "
                   "puncture, and people ride home happy."),
            T("A", "What about the things you can't fix?"),
            T("B", "About a third of the items can't be saved. Some are glued shut so they can't be opened, and for "
                   "some the spare part costs more than a new one. We explain why, and people take that well."),
            T("A", "That surprises me a little."),
            T("B", "People mostly want someone to take their things seriously. A man once cried when we fixed his "
                   "late wife's sewing machine. It needed a drop of oil and a new belt."),
            T("A", "Wow."),
            T("B", "Those are the days you remember."),
            T("A", "Is there any legal risk in fixing someone's toaster?"),
            T("B", "We ask everyone to sign a short form, and the volunteer and the owner do the repair together. "
                   "The owner holds the screwdriver whenever possible. That way they learn something, and it stays "
                   "their repair."),
            T("A", "Clever. How do you find volunteers?"),
            T("B", "Retired people, mostly, and a few students from the technical college. The students need "
                   "practice hours, and the retired electricians love having an audience."),
            T("A", "Sounds like a good match."),
            T("B", "It is. The coffee helps too. A volunteer bakes a cake every month, and nobody has ever missed "
                   "that."),
            T("A", "Where can people find a repair cafe near them?"),
            T("B", "Most libraries know of one. And if there isn't one, put up a poster, and see who brings a lamp."),
            T("A", "Thanks for coming on the show."),
            T("B", "Thanks for having me."),
        ),
        note="hard: two male American voices, variants m3 and m1, pitch 40 and 58",
    ),
    Conversation(
        "duo04", "training for a first marathon",
        {"A": Voice("en-us+f2", pitch=50, speed=165), "B": Voice("en-gb+m4", pitch=42, speed=158)},
        (
            T("A", "Welcome to Long Run, where we talk to people about the races that changed them. My guest ran "
                   "his first marathon at fifty two, after never having run more than a bus stop."),
            T("B", "That's true. The bus stop story is, sadly, entirely accurate."),
            T("A", "So what made you start?"),
            T("B", "My doctor. She looked at my blood pressure and said, you can take these pills forever, or you "
                   "can start moving. I chose moving, mostly out of stubbornness."),
            T("A", "And you went straight for a marathon?"),
            T("B", "No, no. I started with a programme that mixes running and walking. One minute of running, one "
                   "minute of walking, for twenty minutes, three times a week."),
            T("A", "Right.", 0.6),
            T("B", "After nine weeks I could run for half an hour without stopping. That felt like a miracle."),
            T("A", "When did the marathon idea come in?"),
            T("B", "A friend at work ran one and showed me his medal. It was a very shiny medal. I signed up that "
                   "evening, eleven months before the race, before I could talk myself out of it."),
            T("A", "What did your training look like?"),
            T("B", "Four runs a week. Three easy ones, and one long run on Sunday that grew by a mile or so every "
                   "other week. The easy runs were slow enough that I could hold a conversation."),
            T("A", "Yeah.", 0.5),
            T("B", "That was the biggest lesson. Most beginners run every run too fast, and then they get hurt."),
            T("A", "Did you get hurt?"),
            T("B", "Once. A sore knee in month six. I took two weeks off, saw a physiotherapist, and bought shoes "
                   "that actually fit my feet."),
            T("A", "And race day?"),
            T("B", "The first half was easy, and I felt like a hero. Around mile twenty, my legs filed a formal "
                   "complaint. I walked through every water station after that, and I finished in four hours and "
                   "fifty one minutes."),
            T("A", "That's a great time for a first marathon.", 0.7),
            T("B", "I'll take it. My daughter was at the finish line holding a sign that said, you're not even "
                   "that slow."),
            T("A", "And your blood pressure?"),
            T("B", "Normal. No pills. My doctor asked me to come and talk to her other patients."),
            T("A", "What would you tell someone who is where you were?"),
            T("B", "Start with the one minute runs, and be patient. Your heart gets fitter long before your knees "
                   "do."),
            T("A", "Thanks so much for sharing your story."),
            T("B", "Thanks for having me."),
        ),
        note="American female and British male voice, three overlapping turns",
    ),
    Conversation(
        "trio01", "a small press publishing poetry",
        {"A": Voice("en-us+m3", pitch=46, speed=160), "B": Voice("en-us+f3", pitch=60, speed=165),
         "C": Voice("en-gb+m7", pitch=52, speed=150)},
        (
            T("A", "Welcome to Margins, the show about independent publishing. Today I have two guests, the founders "
                   "of a small press that publishes six poetry books a year."),
            T("B", "Hi, thanks for having us."),
            T("C", "Hello, it's lovely to be here."),
            T("A", "Six books a year. Is that a lot or a little for a press like yours?"),
            T("C", "It's as many as two people with day jobs can do properly. We tried eight one year, and we both "
                   "ended up exhausted and nobody was happy with the covers."),
            T("B", "The covers were fine. The proofreading was not."),
            T("C", "That's fair."),
            T("A", "How do you choose which books to publish?"),
            T("B", "We read everything that comes in during our open month, which last year was about four hundred "
                   "manuscripts. Each of us reads half, and we pass the ones we love to each other."),
            T("C", "A book only goes ahead if we both want to fight for it. One enthusiastic editor is not enough "
                   "for a small press, because the book needs someone to push it for two years."),
            T("A", "Right."),
            T("A", "And the money side, does poetry pay?"),
            T("B", "Poetry pays in a very specific currency, which is joy. Financially, a book breaks even when we "
                   "sell about five hundred copies."),
            T("C", "Most of our books do, eventually. Our best seller sold four thousand, which in poetry is "
                   "practically a blockbuster."),
            T("A", "What made that one take off?"),
            T("C", "The poet read one poem at a wedding, a guest filmed it, and the video travelled. We sold more "
                   "copies in one week than in the whole previous year."),
            T("B", "We had to ask our friends to help us pack the boxes on the kitchen floor."),
            T("A", "Wonderful. What do you want listeners who write poetry to know?"),
            T("B", "Read the books a press has published before you send them anything. It saves everyone time."),
            T("C", "And don't send the same poem to twenty presses at once without telling them. We find out. "
                   "Poetry is a small world."),
            T("A", "Thank you both."),
            T("B", "Thank you."),
            T("C", "Thanks."),
        ),
        note="two American voices and a British male voice",
    ),
    Conversation(
        "trio02", "a neighbourhood choir",
        {"A": Voice("en-us+m2", pitch=40, speed=158), "B": Voice("en-us+m5", pitch=56, speed=165),
         "C": Voice("en+f4", pitch=58, speed=160)},
        (
            T("C", "This is Common Ground, and today we're talking about singing. With me are the director of a "
                   "neighbourhood choir, and one of its tenors, who joined without being able to read a note."),
            T("A", "Still can't, to be honest."),
            T("B", "He's being modest. He can read about half of them now."),
            T("C", "Let's start with the choir. How many singers, and who joins?"),
            T("B", "Fifty two at the moment. The youngest is sixteen and the oldest is eighty four. There is no "
                   "audition, which is the whole point. If you turn up, you're in."),
            T("A", "Which is the only reason I'm in."),
            T("C", "What made you turn up?"),
            T("A", "My wife had just died, and a neighbour said I needed somewhere to be on Tuesday evenings. I sat "
                   "at the back for three weeks without singing. Then one night I just joined in."),
            T("B", "I remember that night. You were flat, but you were loud."),
            T("A", "Loud is my gift."),
            T("C", "How do you teach music to people who can't read it?"),
            T("B", "By ear, mostly. I record each voice part on my phone, and everyone practises with the recording "
                   "during the week. The sheet music is there for those who want it."),
            T("C", "Okay."),
            T("B", "We also break every song into small pieces. Four bars at a time, then we stitch them together. "
                   "It's slow, but nobody gets left behind."),
            T("C", "What has the choir changed for you, personally?"),
            T("A", "It gave my week a shape. And I have forty friends now who I would never have met. The sopranos "
                   "bring me soup when I have a cold."),
            T("B", "That is true. There is a soup rota."),
            T("C", "What's the next concert?"),
            T("B", "In December, in the old tram depot. We are singing eight songs, including one that the tenors "
                   "still think they can avoid learning."),
            T("A", "We can."),
            T("C", "Thank you both, and good luck in December."),
        ),
        note="hard: two male American voices, variants m2 and m5, pitch 40 and 56, with a female host",
    ),
    Conversation(
        "solo01", "a short history of the pencil",
        {"A": Voice("en-us+m3", pitch=48, speed=158)},
        (
            T("A", "Welcome to Small Objects, the show about the everyday things we never think about. Today, the "
                   "pencil."),
            T("A", "For centuries, people wrote with sticks of lead, or with silver on specially prepared paper. "
                   "Then, in the fifteen hundreds, a huge deposit of graphite was found in the north of England."),
            T("A", "Shepherds used it to mark their sheep. It was so valuable that the mine was guarded, and "
                   "miners were searched when they left."),
            T("A", "The problem was holding it. Graphite is soft and breaks easily, and it leaves marks on your "
                   "hands. People wrapped it in string, then in sheepskin, and finally in wood."),
            T("A", "The modern pencil came from a shortage. In the seventeen nineties, France could no longer buy "
                   "English graphite, because of a war."),
            T("A", "An engineer mixed powdered graphite with clay and baked it in a kiln. More clay made a harder "
                   "pencil, and more graphite made a softer, darker one. That is still how pencils are graded."),
            T("A", "The yellow paint came later. The best graphite of the late eighteen hundreds came from China, "
                   "and yellow was the colour of the emperor. Manufacturers painted their pencils yellow to hint at "
                   "quality."),
            T("A", "Today, a single pencil can draw a line about fifty kilometres long, or write around forty five "
                   "thousand words."),
            T("A", "And the eraser on the end? That's an American habit. Many pencils in Europe still don't have "
                   "one."),
            T("A", "That's all for today. Next week, the paper clip, which is more complicated than you think."),
        ),
        note="one voice: paragraphs with pauses between them",
    ),
)

# Held out: written after everything above, never used for tuning.
HELD_OUT: tuple[Conversation, ...] = (
    Conversation(
        "duo05", "keeping bees on a city roof",
        {"A": Voice("en-gb+m2", pitch=38, speed=158), "B": Voice("en-us+m6", pitch=55, speed=168)},
        (
            T("A", "This is Rooftop Hour. My guest keeps four beehives on the roof of a hotel in the middle of the "
                   "city, eleven floors up."),
            T("B", "Twelve, if you count the mezzanine. The bees don't, but the hotel does."),
            T("A", "Why would a hotel want bees on the roof?"),
            T("B", "Honey for breakfast, mostly, and a good story for the guests. The chef uses it in everything "
                   "from salad dressing to ice cream, and the guests love knowing where it comes from."),
            T("A", "Do city bees actually find enough to eat?"),
            T("B", "More than you would think. Parks, balconies, the trees along the avenues. City honey is often "
                   "more varied than country honey, because there are so many different flowers within a few "
                   "kilometres."),
            T("A", "Really."),
            T("B", "In the countryside, a hive next to a field of oilseed rape gets one flavour for a month. In the "
                   "city they get lime trees, clover, roses, and whatever someone planted in a window box."),
            T("A", "What about the wind up there?"),
            T("B", "That's the real problem. We strap the hives down with ratchet straps, and we put a low wall of "
                   "planters around them as a windbreak. The first winter, a storm moved one hive by half a metre."),
            T("A", "And the guests, are they ever worried about being stung?"),
            T("B", "The roof is closed to guests. But every summer I give a tour for anyone who wants one, in a "
                   "spare bee suit. In six years, nobody on a tour has been stung."),
            T("A", "How many stings have you had?"),
            T("B", "I stopped counting after two hundred."),
            T("A", "Fair enough. How much honey do four hives make?"),
            T("B", "In a good year, about a hundred and twenty kilos. In a wet year, less than half of that. Last "
                   "year was wet, and the chef had to ration it."),
            T("A", "What should someone do if they want to keep bees?"),
            T("B", "Join a local beekeeping club first, and spend a season helping someone else. You learn more in "
                   "one afternoon with an old beekeeper than in a month of videos."),
            T("A", "Great advice. Thanks for coming on."),
            T("B", "My pleasure."),
        ),
        held_out=True,
        note="hard: two male voices, British m2 at pitch 38 and American m6 at pitch 55",
    ),
    Conversation(
        "duo06", "a library of things",
        {"A": Voice("en-us+f1", pitch=48, speed=162), "B": Voice("en+f5", pitch=62, speed=168)},
        (
            T("A", "Hello, and welcome to Borrowed Time. My guest runs a library where you don't borrow books. You "
                   "borrow drills, tents, sewing machines and, apparently, a chocolate fountain."),
            T("B", "The chocolate fountain is our most popular item. It's booked every weekend until March."),
            T("A", "How does a library of things work?"),
            T("B", "Members pay thirty dollars a year, or less if they can't afford that. Then they can borrow up to "
                   "three items at a time, for a week. We have about six hundred items now, all donated or bought "
                   "with small grants."),
            T("A", "Mm-hm.", 0.5),
            T("B", "The idea is simple. The average drill is used for thirteen minutes in its whole life. Why should "
                   "every household own one?"),
            T("A", "Thirteen minutes? Is that true?"),
            T("B", "It's a famous number, and nobody knows where it comes from. But walk down any street and count "
                   "the ladders. You get the point."),
            T("A", "What breaks most often?"),
            T("B", "Anything with a motor. Carpet cleaners, lawn mowers, the fountain. We have a volunteer who "
                   "repairs them every Thursday evening, in exchange for first pick of the camping gear."),
            T("A", "Sounds like a fair trade.", 0.4),
            T("B", "He thinks so. He has been camping eleven times this year."),
            T("A", "Do people return things?"),
            T("B", "Almost always. We lose maybe two items a year. People treat shared things well when they know "
                   "their neighbour is next in line."),
            T("A", "What surprised you most?"),
            T("B", "How much people talk. Someone comes in for a pressure washer and leaves with advice about their "
                   "garden, their roof and their teenager. The counter has become a kind of town square."),
            T("A", "Exactly.", 0.6),
            T("B", "We even started a skills evening, where members teach each other how to use the tools."),
            T("A", "Thank you for telling us about it."),
            T("B", "Thank you. And please bring the fountain back clean."),
        ),
        held_out=True,
        note="two female voices, American f1 and f5, three overlapping turns",
    ),
    Conversation(
        "trio03", "the night shift at a bakery",
        {"A": Voice("en-gb+f2", pitch=55, speed=162), "B": Voice("en-us+m4", pitch=44, speed=155),
         "C": Voice("en-us+f4", pitch=64, speed=170)},
        (
            T("A", "This is After Dark, the show about people who work while the rest of us sleep. Tonight I'm "
                   "with two bakers who start their shift at ten in the evening."),
            T("B", "Good evening. Or good morning, depending on how you look at it."),
            T("C", "For us it's lunchtime, honestly."),
            T("A", "Walk me through a night. What happens at ten?"),
            T("B", "I weigh out everything for the first doughs. Flour, water, salt and yeast for about four hundred "
                   "loaves. By eleven the big mixer is running, and you can't hear yourself think."),
            T("C", "Which is when he starts singing.", 0.8),
            T("B", "The mixer covers it. That's the whole point."),
            T("A", "And what do you do?"),
            T("C", "Pastry. Croissants, mostly, about six hundred a night. The butter has to stay cold, so I work "
                   "in a room that's kept at sixteen degrees. I wear two jumpers in July."),
            T("A", "What's the hardest part of working nights?"),
            T("B", "Sleep. I sleep from nine in the morning until four, with blackout curtains and a fan for "
                   "noise. If a neighbour starts drilling, the whole day is gone."),
            T("C", "For me it's the social life. My friends go out on Friday evening, and that's my Monday morning."),
            T("A", "Right.", 0.4),
            T("A", "Is there a best moment in the night?"),
            T("C", "Around four, when the first trays come out of the oven and the whole street smells of bread. The "
                   "taxi drivers know it. They start queueing at the back door."),
            T("B", "We sell them yesterday's rolls for a coin. It's a tradition older than both of us."),
            T("A", "Would you go back to working days?"),
            T("B", "No. At night nobody calls, nobody sends emails, and the work is done when it's done."),
            T("C", "Ask me again in winter.", 0.5),
            T("A", "Thank you both. Go get some sleep."),
            T("B", "It's the middle of our day, but thank you."),
        ),
        held_out=True,
        note="British female, American male and American female voice, three overlapping turns",
    ),
    Conversation(
        "trio04", "restoring an old sailing boat",
        {"A": Voice("en-us+m7", pitch=45, speed=160), "B": Voice("en-gb+m3", pitch=52, speed=152),
         "C": Voice("en-us+f5", pitch=60, speed=165)},
        (
            T("C", "Welcome to Slipway, the show about boats and the people who can't stop fixing them. My guests "
                   "are two brothers who spent four years restoring a wooden sailing boat from nineteen fifty eight."),
            T("A", "Four and a half years, if we're honest."),
            T("B", "Four years of work and six months of arguing about the colour."),
            T("C", "Where did you find the boat?"),
            T("B", "In a field, under a tarpaulin, with a tree growing through the cockpit. A farmer had bought it "
                   "for his son, and the son moved to another country."),
            T("A", "We paid two hundred pounds and a case of beer. The farmer was just happy to have his field back."),
            T("C", "What state was it in?"),
            T("A", "The hull was mostly sound, which surprised everyone. The deck was rotten, the mast was missing, "
                   "and the engine had become a home for a family of mice."),
            T("B", "We evicted the mice politely."),
            T("C", "How do you learn to do this kind of work?"),
            T("B", "Books, an old boatbuilder down the coast, and a lot of mistakes. I replaced the same plank three "
                   "times before it fitted."),
            T("A", "He still has the first two on the wall of his shed, as a warning."),
            T("C", "Did you ever think about giving up?"),
            T("A", "Every winter. The shed has no heating, and epoxy won't set in the cold, so from December to "
                   "February we mostly stood around a kettle and made plans."),
            T("B", "Those plans were very good, though. Most of them worked."),
            T("C", "And the first sail?"),
            T("B", "A grey morning in June, almost no wind. We went about two miles in three hours, and it was the "
                   "best day of my life."),
            T("A", "Second best. You were at my wedding."),
            T("B", "Third best. Your wedding had terrible music."),
            T("C", "On that note, thank you both for coming in."),
        ),
        held_out=True,
        note="hard: two male voices, American m7 at pitch 45 and British m3 at pitch 52, with a female host",
    ),
)

CONVERSATIONS: tuple[Conversation, ...] = TUNED + HELD_OUT
# The hour-long episode repeats these tuned two-voice conversations in duo01's voices.
LONG_SOURCES = ("duo01", "duo02", "duo03", "duo04")


def long_conversation() -> Conversation:
    """The turns of LONG_SOURCES in order (build_episode loops them up to LONG_SECONDS)."""
    sources = [c for c in TUNED if c.name in LONG_SOURCES]
    voices = sources[0].voices
    turns = tuple(turn for c in sources for turn in c.turns)
    return Conversation(LONG_NAME, "an hour of the tuned two-voice conversations", voices, turns,
                        note=f"{', '.join(LONG_SOURCES)} in duo01's voices, looped to an hour")


# ---------------------------------------------------------------------------- checks


def _words(text: str) -> int:
    return len(text.split())


def check_conversation(conversation: Conversation) -> None:
    """Raise ValueError when a conversation breaks the rules of the set (before any synthesis)."""
    where = conversation.name
    used = {turn.speaker for turn in conversation.turns}
    if used != set(conversation.voices):
        raise ValueError(f"{where}: speakers {sorted(used)} but voices for {sorted(conversation.voices)}")
    if len(set(conversation.voices.values())) != len(conversation.voices):
        raise ValueError(f"{where}: two speakers share the same voice settings")
    for i, turn in enumerate(conversation.turns):
        if not turn.text.strip() or turn.text.rstrip()[-1] not in ".?!":
            raise ValueError(f"{where}: turn must end with . ? or !: {turn.text!r}")
        if _words(turn.text) > MAX_WORDS:
            raise ValueError(f"{where}: turn {i} has {_words(turn.text)} words, at most {MAX_WORDS}")
        if turn.overlap < 0:
            raise ValueError(f"{where}: turn {i} has a negative overlap")
        if turn.overlap and (i == 0 or conversation.turns[i - 1].speaker == turn.speaker):
            raise ValueError(f"{where}: turn {i} overlaps, but not another speaker's turn")


def check_timing(conversation: Conversation, truth: dict) -> None:
    """Exit with a message when a synthesised turn or the episode falls outside the set's limits."""
    lo, hi = TURN_SECONDS
    for turn in truth["turns"]:
        length = turn["end"] - turn["start"]
        short_allowed = _words(turn["text"]) <= BACKCHANNEL_WORDS
        if length > hi or (length < lo and not short_allowed):
            sys.exit(f"error: {conversation.name}: turn at {turn['start']:.1f}s lasts {length:.1f}s, expected "
                     f"{lo:.0f}-{hi:.0f}s (edit its text in {__file__}): {turn['text'][:60]!r}")
    lo, hi = EPISODE_SECONDS
    if not lo <= truth["duration"] <= hi:
        print(f"warning: {conversation.name} lasts {truth['duration']:.0f}s, target {lo:.0f}-{hi:.0f}s",
              file=sys.stderr)


def missing_variants(conversations: tuple[Conversation, ...]) -> list[str]:
    """Voices whose +variant espeak-ng does not know (it would silently fall back to the default voice)."""
    listing = subprocess.run(["espeak-ng", "--voices=variant"], capture_output=True, text=True).stdout
    known = {line.split()[4].removeprefix("!v/") for line in listing.splitlines()[1:] if len(line.split()) > 4}
    wanted = {v.voice for c in conversations for v in c.voices.values()}
    return sorted(name for name in wanted if "+" in name and name.split("+", 1)[1] not in known)


def generator_version(conversations: tuple[Conversation, ...] = CONVERSATIONS) -> str:
    """GENERATOR_REVISION plus a hash of all text and synthesis settings."""
    payload = json.dumps({
        "conversations": [asdict(c) for c in conversations],
        "settings": [SAMPLE_RATE, BITRATE, GAPS, EDGE_SILENCE, LONG_SOURCES, LONG_SECONDS],
    }, sort_keys=True)
    return f"{GENERATOR_REVISION}+{hashlib.sha256(payload.encode()).hexdigest()[:12]}"


# ---------------------------------------------------------------------------- audio


def synthesize(text: str, voice: Voice, tmp: str) -> np.ndarray:
    """One turn as trimmed mono 16-bit samples at SAMPLE_RATE."""
    return espeak_trimmed(text, list(voice.espeak_args()), tmp)


def layout(turns: tuple[Turn, ...], lengths: list[int], min_frames: int = 0) -> list[tuple[int, int]]:
    """Where each turn goes, as (turn index, start frame); the turns are repeated until the last
    one ends at or after MIN_FRAMES.  A turn starts GAPS[k] seconds after everything before it
    has ended, or, with an overlap, that many seconds before the previous turn ends."""
    placed: list[tuple[int, int]] = []
    cursor = round(EDGE_SILENCE * SAMPLE_RATE)  # where the audio so far ends
    previous_end = None
    while True:
        for index, turn in enumerate(turns):
            k = len(placed)
            if turn.overlap and previous_end is not None:
                start = max(0, previous_end - min(round(turn.overlap * SAMPLE_RATE), lengths[placed[-1][0]] - 1))
            else:
                start = cursor + (round(GAPS[k % len(GAPS)] * SAMPLE_RATE) if k else 0)
            placed.append((index, start))
            previous_end = start + lengths[index]
            cursor = max(cursor, previous_end)
            if min_frames and cursor >= min_frames:
                return placed
        if not min_frames:
            return placed


def render(conversation: Conversation, tmp: str, min_seconds: float = 0.0) -> tuple[np.ndarray, list[dict]]:
    """The whole conversation as int16 samples at SAMPLE_RATE, and its true turns."""
    clips = [synthesize(t.text, conversation.voices[t.speaker], tmp) for t in _distinct(conversation.turns)]
    by_turn = {(t.speaker, t.text): clip for t, clip in zip(_distinct(conversation.turns), clips)}
    per_turn = [by_turn[(t.speaker, t.text)] for t in conversation.turns]
    placed = layout(conversation.turns, [c.size for c in per_turn], round(min_seconds * SAMPLE_RATE))
    total = max(start + per_turn[i].size for i, start in placed) + round(EDGE_SILENCE * SAMPLE_RATE)
    mix = np.zeros(total, dtype=np.int16)
    truth = []
    for index, start in placed:
        clip, turn = per_turn[index], conversation.turns[index]
        span = slice(start, start + clip.size)
        # added in int32, so cross-talk saturates instead of wrapping around
        mix[span] = np.clip(mix[span].astype(np.int32) + clip, -32768, 32767)
        truth.append({"speaker": turn.speaker, "start": round(start / SAMPLE_RATE, 3),
                      "end": round((start + clip.size) / SAMPLE_RATE, 3), "text": turn.text})
    return mix, truth


def _distinct(turns: tuple[Turn, ...]) -> list[Turn]:
    """One turn per (speaker, text): the long episode repeats turns, synthesised once."""
    seen: dict[tuple[str, str], Turn] = {}
    for turn in turns:
        seen.setdefault((turn.speaker, turn.text), turn)
    return list(seen.values())


def overlap_seconds(turns: list[dict]) -> float:
    """Seconds during which two or more speakers talk at once."""
    edges = sorted([(t["start"], 1) for t in turns] + [(t["end"], -1) for t in turns])
    total, active, since = 0.0, 0, 0.0
    for time_, step in edges:
        if active >= 2:
            total += time_ - since
        active += step
        since = time_
    return round(total, 3)


def _encode_mp3(samples: np.ndarray, mp3_path: str, title: str, tmp: str) -> None:
    wav_path = os.path.join(tmp, "episode.wav")
    _write_wav(wav_path, samples)
    tmp_mp3 = os.path.join(tmp, "out.mp3")
    _run([
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-i", wav_path, "-map_metadata", "-1",
        "-ac", "1", "-ar", str(SAMPLE_RATE),
        "-c:a", "libmp3lame", "-b:a", BITRATE,
        "-fflags", "+bitexact", "-flags:a", "+bitexact",
        "-id3v2_version", "3", "-metadata", f"title={title}",
        tmp_mp3,
    ])
    shutil.move(tmp_mp3, mp3_path)


def build_episode(conversation: Conversation, out_dir: str, long: bool = False) -> dict:
    """Synthesise one conversation; write NAME.mp3 and NAME.truth.json; return the truth dict."""
    with tempfile.TemporaryDirectory(prefix="castmill-speakers-") as tmp:
        samples, turns = render(conversation, tmp, LONG_SECONDS if long else 0.0)
        _encode_mp3(samples, os.path.join(out_dir, f"{conversation.name}.mp3"),
                    f"Castmill speakers {conversation.name}: {conversation.topic}", tmp)
    truth = {
        "episode": conversation.name,
        "topic": conversation.topic,
        "held_out": conversation.held_out,
        "long": long,
        "note": conversation.note,
        "duration": round(samples.size / SAMPLE_RATE, 3),
        "voices": {label: asdict(voice) for label, voice in conversation.voices.items()},
        "overlap_seconds": overlap_seconds(turns),
        "turns": turns,
    }
    if not long:
        check_timing(conversation, truth)
    _write_json(os.path.join(out_dir, f"{conversation.name}.truth.json"), truth)
    return truth


# ---------------------------------------------------------------------------- set


def _entry(truth: dict, version: str) -> dict:
    name = truth["episode"]
    return {
        "episode": name, "topic": truth["topic"], "held_out": truth["held_out"], "long": truth["long"],
        "note": truth["note"], "speakers": len(truth["voices"]), "duration": truth["duration"],
        "turns": len(truth["turns"]), "overlap_seconds": truth["overlap_seconds"],
        "audio": f"{name}.mp3", "truth": f"{name}.truth.json", "generator_version": version,
    }


def build(out_dir: str = DEFAULT_OUT_DIR, long: bool = False, force: bool = False, log=print,
          conversations: tuple[Conversation, ...] = CONVERSATIONS) -> dict:
    """Build (or reuse) the standard set, plus long60 when LONG; write and return the manifest."""
    _need("espeak-ng")
    _need("ffmpeg")
    for conversation in conversations:
        check_conversation(conversation)
    unknown = missing_variants(conversations)
    if unknown:
        raise ValueError(f"espeak-ng does not know the voice variants of {', '.join(unknown)}")
    os.makedirs(out_dir, exist_ok=True)
    version = generator_version()
    manifest_path = os.path.join(out_dir, "manifest.json")
    entries = {e["episode"]: e for e in (_load_manifest(manifest_path) or {}).get("episodes", [])
               if isinstance(e, dict) and "episode" in e}
    todo = [(c, False) for c in conversations] + ([(long_conversation(), True)] if long else [])
    for conversation, is_long in todo:
        entry = entries.get(conversation.name)
        files = [os.path.join(out_dir, f"{conversation.name}{ext}") for ext in (".mp3", ".truth.json")]
        if (not force and entry and entry.get("generator_version") == version
                and all(os.path.isfile(f) for f in files)):
            log(f"{conversation.name}: up to date ({entry['duration']:.1f}s), skipped")
            continue
        started = time.monotonic()
        truth = build_episode(conversation, out_dir, long=is_long)
        entries[conversation.name] = _entry(truth, version)
        log(f"{conversation.name}: built {truth['duration']:.1f}s, {len(truth['turns'])} turns, "
            f"{len(truth['voices'])} voices in {time.monotonic() - started:.1f}s")
    # keep entries of this version from earlier runs (long60) whose files are still there
    listed = [e for e in entries.values() if e.get("generator_version") == version
              and all(os.path.isfile(os.path.join(out_dir, e[k])) for k in ("audio", "truth"))]
    order = {c.name: i for i, c in enumerate((*CONVERSATIONS, long_conversation()))}
    listed.sort(key=lambda e: order.get(e["episode"], len(order)))
    manifest = {"generator_version": version, "sample_rate": SAMPLE_RATE, "bitrate": BITRATE, "episodes": listed}
    _write_json(manifest_path, manifest)
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out-dir", default=DEFAULT_OUT_DIR, help=f"output folder (default: {DEFAULT_OUT_DIR})")
    ap.add_argument("--long", action="store_true", help=f"also build {LONG_NAME}, a 60-minute two-voice episode")
    ap.add_argument("--force", action="store_true", help="rebuild even when the files are up to date")
    args = ap.parse_args(argv)
    started = time.monotonic()
    try:
        manifest = build(args.out_dir, long=args.long, force=args.force)
    except ValueError as exc:
        sys.exit(f"error: {exc}")
    total = sum(e["duration"] for e in manifest["episodes"])
    print(f"wrote {os.path.join(args.out_dir, 'manifest.json')}: {len(manifest['episodes'])} episodes, "
          f"{total / 60:.1f} min of audio, version {manifest['generator_version']} "
          f"({time.monotonic() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
