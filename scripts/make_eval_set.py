#!/usr/bin/env python3
"""Generate the labelled evaluation set for highlight mining.

Each episode is a synthetic two-voice podcast (espeak-ng, host en-us+m3, guest
en-us+f3) in which three strong, clip-worthy guest moments are planted among
realistic filler talk.  Because every sentence is synthesised to its own WAV,
trimmed to where the speech is, and joined with silences of known length, the
true start and end of every sentence and moment are known to the sample.

    python scripts/make_eval_set.py --out-dir eval-data [--episodes 9] [--force]

For every episode epNN it writes:
    epNN.mp3          mono 22.05 kHz, 64 kbit/s
    epNN.truth.json   {"episode", "topic", "held_out", "duration", "language",
                       "moments": [{"start", "end", "text"}],
                       "sentences": [{"speaker", "text", "start", "end", "planted"}]}
and <out-dir>/manifest.json lists the episodes and the generator version.
Episodes ep07-ep09 are held out ("held_out": true in the manifest and truth): they
were written later, without looking at how the miner scores, so a score on them
measures whether tuning on ep01-ep06 generalises.
Episodes whose files exist and whose manifest entry carries the current
generator version are not rebuilt (use --force to rebuild anyway).  All text
lives in this file; nothing is random, so output is deterministic for a given
espeak-ng and ffmpeg version.

Requires: espeak-ng, ffmpeg, numpy (apt-get install espeak-ng ffmpeg).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
import time
import wave
from dataclasses import asdict, dataclass

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_sample import _need, _run  # noqa: E402  (same tool checks and error lines as the sample)

# Bump by hand for changes in the code path; the text and settings below are
# hashed into VERSION automatically, so editing a sentence also invalidates caches.
GENERATOR_REVISION = "1"
SHOW = "Working Notes"
LANGUAGE = "en"
SAMPLE_RATE = 22050
BITRATE = "64k"
VOICES = {"host": "en-us+m3", "guest": "en-us+f3"}
# The voices of each spoken language (the multilingual set: Indonesian and code-switched shows).
VOICES_BY_LANGUAGE = {"en": VOICES, "id": {"host": "id+m3", "guest": "id+f3"}}
# espeak-ng -a (amplitude), -p (pitch), -s (words per minute)
FILLER_STYLE = {"amplitude": 90, "pitch": 45, "speed": 150}
PLANTED_STYLE = {"amplitude": 160, "pitch": 60, "speed": 170}
GAP_SAME_TURN = 0.35      # between sentences of one turn
GAP_NEW_TURN = 0.7        # between turns
GAP_AROUND_MOMENT = 1.0   # before the first and after the last sentence of a planted moment
EDGE_SILENCE = 0.5        # at the very start and end of the episode
# Trimming: a sample is speech when |x| >= TRIM_FRACTION of the sentence's peak.
TRIM_FRACTION = 0.01
# What every full episode must satisfy (checked before and after synthesis).
MOMENTS_PER_EPISODE = 3
FILLER_BETWEEN = (12, 20)     # filler sentences between consecutive moments
MOMENT_SECONDS = (20.0, 45.0)  # speech from a moment's first to last sample
EPISODE_SECONDS = (360.0, 420.0)  # target length; outside it we warn


@dataclass(frozen=True)
class SetRules:
    """What every full episode of a set must satisfy."""
    filler_between: tuple[int, int] = FILLER_BETWEEN
    moment_seconds: tuple[float, float] = MOMENT_SECONDS
    episode_seconds: tuple[float, float] = EPISODE_SECONDS


ENGLISH_RULES = SetRules()
# The multilingual episodes are shorter (three to four minutes), with less filler between moments.
MULTILINGUAL_RULES = SetRules(filler_between=(8, 12), moment_seconds=(15.0, 45.0), episode_seconds=(150.0, 300.0))
SHORT_KEEP = 2            # --short: filler sentences kept per filler stretch


@dataclass(frozen=True)
class Turn:
    speaker: str                 # "host" | "guest"
    sentences: tuple[str, ...]
    planted: bool = False
    language: str = "en"         # the language the turn is spoken in (a key of VOICES_BY_LANGUAGE)


@dataclass(frozen=True)
class Script:
    episode: str
    topic: str
    turns: tuple[Turn, ...]
    # Written later, without looking at the miner's scoring, to measure whether it generalises.
    held_out: bool = False
    # "en", "id", or "mix" for a show that switches between English and Indonesian by turn.
    language: str = LANGUAGE


def H(*sentences: str) -> Turn:
    return Turn("host", sentences)


def G(*sentences: str) -> Turn:
    return Turn("guest", sentences)


def P(*sentences: str) -> Turn:
    """A planted moment: one guest turn that would make a good social clip."""
    return Turn("guest", sentences, planted=True)


# Closing credits, read by the host at the end of every episode (as real shows do).
CREDITS = ("Working Notes is put together by our producer, and our theme music comes from a royalty-free "
           "library.",
           "If you have a question for a future guest, send us a voice memo through the link in the show "
           "notes, and we might play it on the show.")

SCRIPTS: tuple[Script, ...] = (
    Script("ep01", "pricing a freelance service", (
        H("Hey everyone, welcome back to Working Notes.",
          "I'm your host, and this is the show where we talk to people who run small businesses "
          "about the unglamorous parts, the money, the admin, the stuff nobody puts on Instagram.",
          "Today I'm sitting down with a freelance designer who has been doing this for about nine "
          "years, and who, full disclosure, designed the logo for this very show."),
        G("Hi, thanks for having me.",
          "And yes, I did, and I'm still very proud of that little microphone.",
          "I've been listening since, I think, episode forty-two, the one with the accountant?"),
        H("Oh, that one, yeah, that was a fun one.",
          "He had a lot of opinions about spreadsheets, I remember that.",
          "Before we get going, quick housekeeping, the newsletter moved to a new address, so check "
          "the show notes.",
          "And we're doing a live episode in the spring, which, I mean, we'll see how that goes, but "
          "more on that later."),
        G("Okay, noted.",
          "A live episode, that's exciting.",
          "So, I mean, where do you want to start?"),
        H("Let's start with the thing everyone asks about, which is money, and specifically, how you "
          "decide what to charge for a project."),
        P("Here's the thing most freelancers get wrong about pricing: they charge by the hour.",
          "When I billed sixty dollars an hour, a logo took me ten hours, so the client paid six "
          "hundred dollars, and I got punished for getting faster.",
          "Now I sell a fixed brand package for three thousand two hundred dollars, with two rounds "
          "of revisions and a hard deadline of three weeks.",
          "The client knows the price on day one, and I keep every hour I save.",
          "And when I get faster, my income goes up instead of down.",
          "So stop selling your time, and start pricing the result."),
        H("Wow, okay.",
          "That's, yeah, that's a lot to think about.",
          "I remember when I started, I just sort of, you know, picked a number out of the air."),
        G("Oh, everyone does that.",
          "He told me, my first mentor, he said, just double whatever you think, and, I mean, he "
          "wasn't totally wrong, but it's not a system.",
          "Because the number has to come from somewhere, and for most of us, it comes from panic."),
        H("Right, right.",
          "And so that was, what, early on in your career?"),
        G("Yeah, that was maybe year two, year three, it kind of blurs together honestly.",
          "I was doing a lot of, like, restaurant menus and wedding invitations back then, which, I "
          "mean, was fine, but the pay was terrible."),
        H("Let's take a quick break.",
          "This episode is brought to you by our sponsor, a simple invoicing app for freelancers and "
          "small studios.",
          "It sends the reminders for you, so you never have to chase a late payment again, and the "
          "link in the show notes gets you a free month."),
        H("Okay, we're back.",
          "Thanks again to our sponsor for supporting the show.",
          "So this idea of raising your rates, I think a lot of people are scared of that part."),
        G("Oh, terrified, yeah, I was too, for years."),
        H("How do you actually do it without scaring everybody off?"),
        P("Want to know how I raised my rates by forty percent without losing a single client?",
          "I sent every client a short email ninety days ahead, saying that my new pricing would "
          "start on the first of March.",
          "Anyone who booked before then kept the old rate, and seven out of nine clients booked early.",
          "The whole email was four sentences long, with the new price, the start date, and a link to "
          "book.",
          "The two who left were my lowest paying clients, and their slots went to new projects at the "
          "higher price within a month.",
          "Give people notice and a deadline, and a price increase feels fair instead of sudden."),
        H("Seven out of nine, that's, that's pretty good."),
        G("It surprised me too, honestly.",
          "I was sure half of them would just, you know, disappear.",
          "And this, this was during a slow year, so the timing wasn't great either."),
        H("Where was I going with this?",
          "Oh, right, the email."),
        G("Yeah, and I'll put a template in the show notes, if that helps people.",
          "It's nothing fancy, just a few lines really.",
          "Honestly, it took me longer to hit send than to write it."),
        H("That would be great.",
          "I think our listeners would like that.",
          "We get a lot of emails about pricing, actually, more than almost any other topic."),
        G("Sure, no problem at all."),
        H("So, I mean, there's a whole other side of this, which is, like, the actual proposal.",
          "Do you send one price, or, I don't know, how does that work for you?"),
        G("It kind of depends on the client, to be honest.",
          "Some people want a single number and that's it.",
          "But for bigger projects, I stopped doing that a couple of years ago."),
        H("Hmm, interesting.",
          "Why did you stop?"),
        P("The cheapest way to charge more is to offer three options instead of one.",
          "For a website project, I quote a basic tier at four thousand dollars, a standard tier at six "
          "thousand, and a premium tier at nine thousand with a year of support.",
          "About sixty percent of clients pick the middle option, because the premium tier makes it "
          "look reasonable.",
          "Only about one in ten picks the basic tier, and those are usually small nonprofits on a "
          "tight budget.",
          "Before I used tiers, almost everyone haggled me down from a single price.",
          "Three clear options turn the conversation from whether to hire you into which package to buy."),
        H("This has been fantastic, thank you so much.",
          "Where can people find you?"),
        G("I'm on most of the usual places, and I have a portfolio website too.",
          "I also run a pricing workshop every few months, which, uh, I should probably mention."),
        H("Definitely.",
          "We'll put all of that in the show notes."),
        G("Thanks so much, bye everyone."),
        H("And that's it for this week, if you enjoyed the episode, leave us a review, it really helps.",
          "Next week, we'll talk about hiring your first employee.",
          *CREDITS,
          "Talk soon."),
    )),
    Script("ep02", "hiring your first employee", (
        H("Welcome to Working Notes, I'm your host.",
          "This is episode sixty one, and it's one a lot of you have been asking for.",
          "Quick note before we start, we're recording this one in person, so if you hear a coffee "
          "grinder in the background, that's why."),
        G("Sorry about that.",
          "It's, it's a working roastery, so it never really stops."),
        H("No, I love it, it's very on brand.",
          "So my guest today runs a small coffee roastery with, how many people now?"),
        G("Six, if you count me, which, you know, some days I'm not sure I should.",
          "Five and a half on a slow week, maybe."),
        H("Ha, right.",
          "And the last time you were on the show, this was back in episode seventeen, it was just you."),
        G("Just me and a very old roaster, yeah.",
          "That thing was older than me, I think, and it made this horrible squeaking noise every morning.",
          "And so a lot has changed since then, I guess."),
        H("That's what I want to dig into, the whole hiring thing.",
          "Because I think a lot of listeners are right at that point.",
          "They're busy, they're tired, and they're wondering if it's time to bring someone on.",
          "So, let's start with money, what does a first employee actually cost?"),
        P("Your first hire will cost you about one and a half times their salary, and nobody tells "
          "you that.",
          "When I hired my first roaster at forty thousand dollars a year, payroll taxes, insurance, "
          "and equipment added another eighteen thousand.",
          "Then there were three months of training, when my own output dropped by half.",
          "And I still had to pay myself, which a lot of new owners quietly stop doing.",
          "So before you hire, make sure you have six months of that full cost sitting in the bank.",
          "If you can't cover it, you're not ready, no matter how busy you feel."),
        H("One and a half times, wow.",
          "That's, okay, that's more than I would have guessed."),
        G("Yeah, it caught me off guard, I mean, it kind of depends where you live, but still.",
          "My accountant laughed at me, a little, when I showed her my first budget.",
          "And the training part, that's the bit nobody budgets for."),
        H("Right, because you're the one doing the training.",
          "And that's time you're not roasting, or selling, or, I don't know, sleeping."),
        G("Exactly, and you're doing it while also, you know, running everything else.",
          "The first month, I think I worked about seventy hours a week."),
        H("Let's pause there for a second for a word from our sponsor.",
          "Today's episode is supported by our sponsor, a scheduling app that builds your team's weekly "
          "rota in about five minutes.",
          "Try it free for thirty days with the link in the show notes."),
        H("Thanks again to our sponsor for this one.",
          "Okay, so, say I've got the money.",
          "I've done the math, I've got the six months.",
          "Who do I hire first?"),
        P("What should your first employee actually do?",
          "Not the work you love, and not the work you're best at, it should be the task that eats the "
          "most hours of your week.",
          "For me that was packing and shipping orders, which took twenty two hours every single week.",
          "I'd written down everything I did for two weeks, in fifteen minute blocks, and the packing "
          "jumped right off the page.",
          "Once I handed that off to a part time hire at eighteen dollars an hour, I had my Mondays and "
          "Tuesdays back for sales.",
          "Within a quarter, wholesale revenue went up by thirty percent, which paid for the hire three "
          "times over."),
        H("Thirty percent, that's a big jump."),
        G("It was, and honestly, I should have done it a year earlier.",
          "I kept thinking, this is my business, I should be the one packing every bag, which, looking "
          "back, was kind of silly."),
        H("I think a lot of owners feel that way.",
          "He said something similar, our guest from a few weeks ago, the guy with the bike shop.",
          "He couldn't let anyone else touch the repairs for, like, five years."),
        G("Oh, really?",
          "I should listen to that one.",
          "I'm always behind on podcasts, sorry."),
        H("Where was I?",
          "Right, so you found the role.",
          "Then you have to actually find the person, which is its own nightmare."),
        G("Oh, it's the worst part, I think.",
          "We put up a job post once and got a hundred and forty applications in two days, and I had no "
          "idea how to pick.",
          "I mean, I've done it, what, eight or nine times now, and it never feels easy.",
          "And you only really find out after they start, which is a bit late."),
        H("And interviews, like, I'm terrible at interviews, on both sides of the table.",
          "Honestly, I just go with my gut.",
          "How do you actually figure out if someone's good?"),
        P("Skip the job interview, and do a paid trial day instead.",
          "I pay every finalist one hundred fifty dollars to work a real shift with us, roasting, "
          "packing, and talking to customers.",
          "In one day you learn more than in three rounds of interviews, because you see how someone "
          "handles a mistake.",
          "The trial day also shows candidates what the job really is, so the wrong people often decide "
          "on their own that it's not for them.",
          "Since we started trial days, four out of five hires have stayed longer than a year.",
          "Before that, I lost two of my first three hires within the first two months."),
        H("Four out of five, that's a great track record.",
          "Thank you so much for coming on."),
        G("Thanks for having me, this was really fun.",
          "And if anyone listening is about to make their first hire, honestly, good luck, it's worth it."),
        H("If you want to try my guest's coffee, the link is in the show notes.",
          "I've had the Ethiopian one, it's very good.",
          "Next week, we're talking about growing a newsletter, with someone who has done it really, "
          "really well.",
          *CREDITS,
          "That's all for this week, see you next time."),
        G("Bye, everyone.",
          "And go easy on the coffee."),
    )),
    Script("ep03", "growing a newsletter", (
        H("Hi, and welcome to Working Notes.",
          "It's a rainy Tuesday here, the coffee is strong, and I'm really glad to have today's guest on.",
          "Today I'm talking to the writer of a weekly cooking newsletter with, and correct "
          "me if I'm wrong, about forty thousand subscribers?"),
        G("About that, yeah, it goes up and down a bit.",
          "Thanks for having me on.",
          "I've wanted to do this show for ages, actually.",
          "I used to listen on my long drive to the farmers market, back when I sold jam on weekends."),
        H("Oh, that's kind.",
          "So, for anyone who doesn't know the newsletter, what's the, what's the pitch?"),
        G("It's recipes, mostly, simple weeknight stuff, plus a little bit of me rambling about my week.",
          "Which, I'm told, is people's favorite part, for some reason."),
        H("So, straight in, because I know you're busy.",
          "What was the thing that really made the newsletter take off?"),
        P("Here's what actually grew my newsletter: one lead magnet, not ten social accounts.",
          "I wrote a free twelve page guide to planning weeknight dinners, and offered it on "
          "every recipe page.",
          "Before the guide, the site turned about half a percent of visitors into subscribers.",
          "After the guide, it converted three point two percent, and we went from two thousand to "
          "eleven thousand subscribers in six months.",
          "Pick the one problem your readers have every week, and give away the answer in exchange "
          "for an email."),
        H("Three point two percent, okay, for people who don't know, that's a lot."),
        G("It is, yeah, I mean, I didn't believe the numbers at first.",
          "I thought the tracking was broken, honestly."),
        H("And that guide, was that hard to make?"),
        G("Not really, it took a weekend, maybe two.",
          "I made it in a free design tool, and I think I changed the font about eleven times.",
          "And the first version was, um, pretty rough, the photos were from my phone."),
        H("That's encouraging, actually.",
          "I feel like people wait until things are perfect.",
          "I've had a half finished course sitting in a folder for, I don't know, two years."),
        G("Oh, totally, and then they never ship it.",
          "I was the same, for like a year."),
        H("Let me stop you there, because we need to do a quick ad.",
          "This episode is brought to you by our sponsor, an invoicing app for freelancers and small "
          "teams.",
          "If you get paid by clients, it will send the invoice and the reminders for you, and you can "
          "try it free with the link in the show notes."),
        H("Alright, we're back with my guest.",
          "So you hit, what, eleven thousand?",
          "And then it kind of slowed down, right?"),
        G("It did, it just sort of flattened out.",
          "Which was, yeah, frustrating."),
        P("Why do most newsletters stop growing at around five thousand subscribers?",
          "Because the writer stops asking readers to share it.",
          "I added one line at the bottom of every issue that said, forward this to one friend who "
          "cooks, and I built a referral program with a free cookbook at three referrals.",
          "Referrals went from almost nothing to about a quarter of all new sign ups.",
          "Over the next year, that took us from eleven thousand to about twenty six thousand "
          "subscribers, without spending a dollar on ads.",
          "The readers you already have are the cheapest growth channel you will ever get."),
        H("A quarter of all sign ups, from one line."),
        G("One line and a cookbook, yeah.",
          "And the cookbook was just, it was old recipes, really, stuff from the archive.",
          "It took me an afternoon to put together, and people were thrilled to get it."),
        H("That's smart.",
          "He would love that, my producer, he's always telling me to reuse old stuff.",
          "This show has, what, ninety episodes, and he wants to turn them all into something."),
        G("He's right!",
          "Your archive is a gold mine, honestly, most people forget what they already made."),
        H("Okay, one more question, and then I'll let you go.",
          "What about how often you send?",
          "Because I get, I don't know, I get so many emails from some of these."),
        G("Oh, this is my favorite topic.",
          "I mean, you know, everyone says send more.",
          "And it kind of goes against what everyone tells you."),
        H("Oh, interesting.",
          "Go on."),
        P("Sending less often doubled my open rate.",
          "I used to send three emails a week, and opens had slid down to twenty one percent.",
          "When I cut back to one issue every Sunday morning, with one recipe, one tip, and one reader "
          "question, opens climbed to forty four percent within two months.",
          "Unsubscribes dropped by more than half as well.",
          "And because each issue got more attention, sales of my cookbook from the newsletter went up "
          "by about a third.",
          "Your subscribers don't want more email, they want one email they look forward to."),
        H("Forty four percent, that's incredible.",
          "So where can people sign up?"),
        G("The sign up link is on every recipe page, it's hard to miss.",
          "And the planner is still free, by the way.",
          "Grab it, it's the best thing I've made."),
        H("Perfect.",
          "I'll put the link in the show notes.",
          "Before we go, one quick question, from a listener in Leeds who wants to know if he should "
          "start a newsletter or a podcast first."),
        G("Oh, that's a hard one.",
          "I mean, honestly, start whichever one you'll actually keep doing every week, that's the whole "
          "secret."),
        H("That's a great answer, and annoyingly simple.",
          "And that's a wrap on this episode of Working Notes."),
        G("Thanks again, this was lovely."),
        H("If you're new here, we have almost a hundred episodes in the archive, so, you know, dig in.",
          "Next week, a sleep researcher joins us to talk about sleep, which I really need.",
          *CREDITS,
          "See you next week."),
    )),
    Script("ep04", "sleep and productivity", (
        H("Welcome back to Working Notes.",
          "This is episode sixty three, and yes, I checked the number this time.",
          "This week is a bit different, we're talking about sleep, which, I'll be honest, is not my "
          "strong point."),
        G("That's why I'm here, I guess."),
        H("Exactly.",
          "My guest is a doctor who runs a sleep lab at a university hospital, and has studied "
          "sleep and work for about fifteen years.",
          "She has also written a book on sleep and work, which is on my nightstand, unread, because, "
          "well, I fall asleep."),
        G("Thanks, happy to be here.",
          "And for the record, I also don't always get enough sleep, so, you know, no judgment.",
          "I have two kids, so my nights are not exactly textbook."),
        H("Ha, good to know.",
          "Before we dive in, a small correction from last week, the newsletter episode was episode "
          "sixty two, not sixty three, thanks to everyone who wrote in."),
        G("People really do listen closely, huh?"),
        H("Oh, they do, it's terrifying.",
          "So, I have to ask, because I do this all the time.",
          "I stay up late to finish work, I sleep five or six hours, and I feel, I mean, I feel fine?",
          "Is that actually a problem?"),
        P("Cutting sleep to get more done is the worst trade you can make.",
          "In one well known study, people who slept six hours a night for two weeks did as badly on "
          "attention tests as people who had gone a full twenty four hours without sleep.",
          "And the scary part is that they rated themselves as only slightly tired.",
          "So you lose focus, you make more mistakes, and you don't even notice it happening.",
          "If you want more productive hours, protect seven to eight hours of sleep first."),
        H("Okay, that's, that's a bit terrifying."),
        G("It is, and it's one of the most repeated findings in the field.",
          "This was a big study, and it's been replicated a few times since.",
          "Honestly, it's the finding I bring up most at dinner parties, which, I'm told, makes me a "
          "great guest."),
        H("And so the people in the study, they didn't feel tired?"),
        G("Not really, they kind of adapted to feeling a bit off, and they thought that was normal.",
          "It's a bit like getting used to a noisy street, you stop hearing it."),
        H("That sounds like me, honestly.",
          "Like, every Monday.",
          "And Tuesday, if I'm honest."),
        G("Mondays are a whole other topic, I could talk about that for an hour.",
          "There's a name for it, social jet lag, but let's save that."),
        H("Quick break, and then I want to get into what people can actually do about it.",
          "Today's episode is brought to you by a mattress company that lets you try any "
          "mattress for one hundred nights.",
          "Use the link in the show notes and get fifteen percent off."),
        H("Okay, we're back.",
          "Thanks to our sponsor for supporting the show.",
          "So, say I'm convinced.",
          "I want to sleep better.",
          "Where do I start?"),
        P("Want to know the single best thing you can do for your sleep tonight?",
          "Get up at the same time every day, including weekends.",
          "Your body clock sets itself by your wake up time, not by your bedtime.",
          "In one of our studies, people who kept a fixed wake up time for three weeks fell asleep "
          "about twenty minutes faster, without changing anything else.",
          "They also felt more alert in the morning, which matters if your hardest work happens before "
          "lunch.",
          "Pick a time you can keep on Saturday, and set the alarm for it seven days a week."),
        H("Seven days a week, that's tough.",
          "I mean, Saturday mornings are sacred."),
        G("I know, I know, everyone says that.",
          "You can sleep in a little, maybe thirty minutes, but not three hours.",
          "But the first week is the hardest, after that your body starts waking up on its own, a few "
          "minutes before the alarm."),
        H("Where was I?",
          "Oh, yes, the afternoon.",
          "Because I, I have a real afternoon slump, like, every day around three."),
        G("That's very normal, actually, there's a natural dip after lunch.",
          "It happens to almost everyone, somewhere between one and four in the afternoon."),
        H("And so I have a coffee.",
          "Usually a big one.",
          "Sometimes two, if it's a long day."),
        G("Okay.",
          "So, this is where I get a little strict.",
          "And I know people won't like it."),
        P("Here's the thing about afternoon coffee: caffeine has a half life of about five to six hours.",
          "So if you drink a large coffee at four in the afternoon, half of it is still in your system "
          "at ten at night.",
          "People in our lab who had caffeine six hours before bed lost about an hour of sleep, and most "
          "of them had no idea.",
          "My rule is simple, no caffeine after noon, and if you need a boost later, take a twenty "
          "minute walk outside.",
          "It feels small, but it's the easiest hour of sleep you'll ever get back."),
        H("No caffeine after noon, okay, that's going to hurt.",
          "Thank you, this was really useful."),
        G("My pleasure, and good luck with the coffee.",
          "And honestly, start with the wake up time, the rest gets easier after that."),
        H("Ha, I'll need it.",
          "If you want to read my guest's research, we'll link a few of her papers in the show notes.",
          "Her book is linked there too, and yes, I'm going to finish it.",
          "And next week, we're back to business topics, we're talking about podcast equipment, which, "
          "yes, is a little self serving."),
        G("Sounds fun."),
        H("One more thing before the credits, a listener asked whether naps count."),
        G("They do, a little, but keep them under twenty five minutes, and before three in the "
          "afternoon, or they eat into your night."),
        H("Noted, short naps, and early.",
          *CREDITS,
          "Thanks for listening, everyone.",
          "Sleep well."),
    )),
    Script("ep05", "podcast equipment", (
        H("Hey, it's your host, and this is Working Notes.",
          "Today we're talking about podcast equipment, which, as someone who has bought way too many "
          "microphones, I'm very excited about."),
        G("Oh no, how many?"),
        H("We'll get to that.",
          "It's, it's embarrassing, let's just say there's a drawer."),
        G("There's always a drawer.",
          "Everyone I work with has a drawer full of cables and adapters and stuff they bought at two in "
          "the morning."),
        H("That's exactly it.",
          "Before we start, a quick thank you to everyone who came to the live show in Chicago last "
          "month, that was, I mean, that was a lot of fun."),
        G("And it sounded great in that room, if I say so myself."),
        H("It did, because my guest ran the sound, full disclosure.",
          "She is an audio engineer who has set up studios for more than two hundred "
          "shows, from tiny home setups to big radio rooms.",
          "Now, I mean, you know, it's a big topic, but let's keep it simple.",
          "Where should a beginner start?"),
        P("You do not need a four hundred dollar microphone to sound professional.",
          "A seventy dollar dynamic microphone like the Samson Q2U, placed about four inches from your "
          "mouth, will beat an expensive condenser mic in a normal bedroom almost every time.",
          "Condenser mics pick up everything, the fridge, the traffic, the echo off your walls.",
          "A dynamic mic mostly hears what's right in front of it, which is your voice.",
          "Spend the money you save on a good pair of headphones, and you'll be ahead of most new podcasts."),
        H("Seventy dollars, okay.",
          "And I have, let me count, four microphones that cost way more than that."),
        G("Ha, you're not alone.",
          "I mean, you know, gear is fun, I get it.",
          "And to be fair, some of those expensive ones are great, in the right room.",
          "That's the catch, really."),
        H("Right, and this, this is something I wanted to ask you about.",
          "Because my room is, um, it's not great."),
        G("Most rooms aren't, honestly, and home offices are usually the worst, lots of glass and bare "
          "walls."),
        H("Before we go there, a quick word from this week's sponsor.",
          "This episode is brought to you by our sponsor, a scheduling app for small teams.",
          "If you manage a team with shifts, it builds the schedule for you in minutes, and it's "
          "free for thirty days with the link in the show notes."),
        H("Okay, back to my guest.",
          "So, you mentioned episode forty-two earlier, before we started recording, the one where my "
          "audio was, uh, famously bad."),
        G("I did, sorry.",
          "It was, it had a lot of echo."),
        H("It did.",
          "I got emails about it, some of them very detailed, with timestamps."),
        G("And so that's really a room problem, not a microphone problem."),
        H("So where do I even begin with the room?"),
        P("What's the biggest upgrade you can make for almost no money?",
          "Treat your room, not your gear.",
          "Hang two heavy blankets behind you, put a rug on the floor, and record in the corner of the "
          "room with the most furniture.",
          "The whole setup costs less than fifty dollars, and most people already own half of it.",
          "In my tests, that cut the echo time in a typical spare bedroom from about six tenths of a "
          "second to under three tenths.",
          "Listeners can't name what's wrong with an echoey room, but they stop listening within the "
          "first minute."),
        H("Under three tenths, from blankets."),
        G("From blankets and a rug, yeah, it's not glamorous.",
          "I have a whole folder of photos of podcasters recording inside closets.",
          "One of them recorded a whole season in a wardrobe, and it honestly sounded great."),
        H("The closet trick, yes, I've done that.",
          "It was very hot in there.",
          "I think I lost about two kilos that summer."),
        G("It always is, that's the downside.",
          "And you can't really breathe in there, after an hour or so."),
        H("Okay, so, different topic, sort of.",
          "Most of our guests are remote now, like, almost all of them.",
          "And I feel like that's where things fall apart, audio wise."),
        G("It can, yeah, it really depends on the setup.",
          "And the internet connection, and the guest's laptop, and, I mean, a lot of things.",
          "This, this is where most of my support emails come from, honestly."),
        H("Where was I?",
          "Right, remote.",
          "Is there one thing that fixes most of it?"),
        G("There is, actually."),
        P("Here's the thing nobody tells you about remote interviews: record each person locally.",
          "If you rely on the call audio, you get compressed, glitchy sound every time the internet "
          "hiccups.",
          "With a tool like Riverside, or a simple recorder on each end, every guest is captured in full "
          "quality, at forty eight kilohertz, on their own machine.",
          "Then you line up the two tracks in your editor, which takes about five minutes.",
          "It's the single change that made my remote episodes sound like we were in the same room."),
        H("Five minutes of work for a much better show, I love that.",
          "Thank you so much."),
        G("Thanks, and please stop buying microphones."),
        H("No promises.",
          "Okay, maybe one more, but a cheap one.",
          "We'll put her full gear list in the show notes.",
          "It's a short list, which is kind of the point.",
          "And, again, thanks to our sponsor for supporting the show."),
        G("Bye, everyone, and happy recording."),
        H("Next time, we're talking about travel on a budget.",
          "Our guest has been to more than sixty countries, mostly on a shoestring, and she has some "
          "great tricks.",
          *CREDITS,
          "And if you're wondering, yes, this episode was recorded on the seventy dollar microphone.",
          "See you next week."),
    )),
    Script("ep06", "travel on a budget", (
        H("Hello, hello, welcome to Working Notes.",
          "I'm your host, and this is, I think, our last episode before the summer break."),
        G("Oh, nice timing, then, everyone's planning their trips right now."),
        H("Perfect timing, because today we're talking about travel.",
          "My guest is a travel writer who has visited, what is it, sixty countries?"),
        G("Sixty three, but who's counting.",
          "Thanks for having me."),
        H("Sixty three.",
          "That's wild.",
          "I've been to, like, nine."),
        G("It sounds like a lot, but it's, it's been fifteen years of this, so it adds up.",
          "And most of those trips were on a pretty small budget, believe me."),
        H("And the thing about your writing that I love is that you do it on a budget."),
        G("I have to, honestly.",
          "Travel writing does not pay as well as people think.",
          "My first book earned me about enough money for one plane ticket."),
        H("Ha, I believe that.",
          "Before we start, a little housekeeping, we're taking two weeks off in August, and we'll be "
          "back with episode one hundred.",
          "And a big thank you to everyone who sent in travel questions, we got over three hundred of them.",
          "If someone has a trip in mind, but the price is scaring them, what's the first thing they "
          "should do?"),
        P("Want to know the fastest way to cut the cost of a trip in half?",
          "Travel in the shoulder season, the few weeks right before or after peak season.",
          "Last year I stayed in Lisbon in late October, and the same apartment that costs two hundred "
          "ten dollars a night in July was eighty five dollars.",
          "Flights from New York were about forty percent cheaper, and the weather was still around "
          "twenty two degrees.",
          "Museums had no lines, and I got a table at a restaurant that is booked out for weeks in the "
          "summer.",
          "Same city, same apartment, half the price, and a lot fewer crowds."),
        H("Eighty five instead of two hundred ten, that's a huge difference.",
          "That's, what, more than half off?"),
        G("It really is.",
          "I go back almost every year now, always in the autumn.",
          "And honestly, October in Lisbon is, I mean, it's lovely, I'd almost pick it over summer.",
          "And the locals are a lot more relaxed once the summer crowds go home."),
        H("I've never been.",
          "It's been on the list for years.",
          "My wife keeps sending me photos of those yellow trams."),
        G("You should go.",
          "Just, you know, not in August.",
          "August is, I mean, it's hot, it's crowded, and everything costs twice as much."),
        H("Noted, no August.",
          "Let's take a short break.",
          "This episode is sponsored by the makers of a mattress that comes in a box, and lets "
          "you sleep on it for one hundred nights before you decide.",
          "The link is in the show notes."),
        H("And we're back.",
          "Thanks to our sponsor for supporting this episode.",
          "We got a lot of questions about flights, by the way, probably a third of all the questions "
          "you sent in.",
          "So the other big cost, obviously, is flights."),
        P("Here's the thing about cheap flights: the day you fly matters more than the day you book.",
          "Tuesday and Wednesday departures are often twenty to thirty percent cheaper than Fridays "
          "and Sundays.",
          "I set up price alerts on Google Flights with flexible dates, and I only book when the fare "
          "drops below what I've seen over the past month.",
          "On my last trip to Mexico City, that saved me one hundred ninety dollars on a single ticket.",
          "Be flexible on the day, and the airline will reward you for it."),
        H("One hundred ninety dollars on one ticket."),
        G("On one ticket, yeah.",
          "And that was, that was with a Wednesday flight and a slightly worse seat.",
          "Which, for a four hour flight, I really didn't mind."),
        H("I'll take a worse seat for that.",
          "I'd stand for that, honestly."),
        G("Where was I going with this?",
          "Oh, right, the alerts.",
          "You have to actually check them, though, I know people who set up alerts and then just "
          "ignore every email.",
          "It's like a gym membership, honestly, it only works if you show up."),
        H("Guilty.",
          "I have about forty unread fare alerts right now.",
          "So, okay, you've gone to a lot of places.",
          "What's a place people think is expensive but isn't?"),
        G("Oh, that's easy.",
          "Japan.",
          "Everyone laughs when I say that."),
        H("Really?",
          "Japan?",
          "I always hear it's one of the most expensive places to go."),
        P("I spent forty two days in Japan on under three thousand dollars, not counting flights.",
          "The biggest savings came from food, because convenience stores and lunch sets at local "
          "restaurants cost about six to eight dollars a meal.",
          "I used regional rail passes instead of the national pass, which saved about three hundred "
          "dollars, and I stayed in business hotels for around forty five dollars a night.",
          "The expensive part of Japan is mostly the myth that it's expensive.",
          "Plan around local food and regional transport, and your budget stretches twice as far."),
        H("Forty two days, wow.",
          "I don't think I've ever taken forty two days off in a row, in my whole life.",
          "Thank you, this was so much fun."),
        G("Thank you, happy travels to everyone listening.",
          "And go in the shoulder season!"),
        H("My guest's new book on budget travel comes out in October, and there's a link in the show "
          "notes.",
          "And that's it for this season of Working Notes.",
          "We'll be back in September with episode one hundred, and a few changes to the show.",
          "If you want to help the show over the break, the best thing you can do is tell one friend "
          "about it.",
          *CREDITS,
          "Have a great summer.",
          "See you in September."),
    )),
    # ---- held out: written fresh, without looking at how the miner scores ----
    Script("ep07", "starting a community garden", (
        H("Good morning, or afternoon, or whenever you're hearing this, this is Working Notes.",
          "I'm your host, and I'm recording from a slightly chilly spare room today, so forgive the "
          "sweater noise.",
          "My guest started a community garden on an empty lot behind a bus depot, about six years ago."),
        G("Seven, actually, this spring.",
          "Hello, and thanks for inviting me."),
        H("Seven, sorry, I'll fix that in the show notes.",
          "And how big is it now?"),
        G("It's about forty plots, plus a tool shed that leans a little to the left.",
          "We keep saying we'll fix the shed, and we never do."),
        H("Every garden I've ever seen has a shed like that.",
          "Is there a waiting list for the plots?"),
        G("There is, about thirty names right now, which still surprises me.",
          "When we started, I couldn't give a plot away."),
        H("A bit of housekeeping first, the listener survey is open until the end of the month, and it "
          "takes about four minutes.",
          "So, let's go back to the start, the lot was just empty?"),
        G("Empty of anything useful, anyway.",
          "There were old tires, a shopping cart, and a lot of broken glass.",
          "I walked past it every morning for about two years before I did anything about it."),
        H("So what finally made you do something?",
          "And how did the first year go?"),
        P("The first spring, I planted the whole lot by myself and watched almost all of it die.",
          "I had bought seeds for twenty beds, and I assumed the neighbors would just show up and help "
          "once they saw green things growing.",
          "Nobody came, the hose didn't reach the back row, and by July only three beds were still alive.",
          "The next year I did it the other way around, and knocked on doors until I found twelve "
          "neighbors who each promised one hour every Saturday morning.",
          "That season we grew food in every single bed.",
          "A garden doesn't run on seeds, it runs on a short list of people who have promised to show up."),
        H("Twelve neighbors, one hour each.",
          "That's, I mean, that's not a lot to ask, really."),
        G("It isn't, and that was the point.",
          "If you ask for a whole weekend, people say no.",
          "If you ask for one hour, they say sure, why not, and then they stay for three."),
        H("Ha, that's how they get you.",
          "Was it hard, knocking on doors like that?"),
        G("Oh, I hated it.",
          "I'm not a door knocker, I'm more of a, you know, send an email and hope for the best person.",
          "But email just didn't work, I think I sent about sixty and got two replies."),
        H("Let's take a short break there.",
          "This episode is brought to you by our sponsor, a bookkeeping service for small nonprofits and "
          "community groups.",
          "They'll sort out your receipts and your year end reports, and the link in the show notes gets "
          "you two months free."),
        H("And we're back.",
          "So, okay, you've got your twelve people.",
          "What about the land itself, because I assume you didn't own it?"),
        P("Before you dig anything, find out who owns the dirt.",
          "Our lot looked abandoned, but the county records showed it belonged to the transit authority, "
          "which was holding it for a future bus lane.",
          "So instead of asking to own it, we asked to borrow it, with a written promise that we would "
          "clear out quickly if they ever needed the space.",
          "That promise made it easy for them to say yes, because it cost them nothing and solved their "
          "problem with the litter.",
          "The lease renews by itself every five years, and it costs the garden exactly one dollar a year."),
        H("One dollar, okay, that's a good deal.",
          "Do they actually send you a bill for it?"),
        G("They do, every January, a printed invoice for one dollar.",
          "I have them all pinned to the inside of the shed door.",
          "Someone reads the new one out loud at the first work day of the year, it's become a tradition."),
        H("I love that.",
          "Wait, so did the bus lane ever get built?"),
        G("Not yet, it's been on a plan somewhere for, I think, eleven years.",
          "I try not to think about it too much.",
          "Every few years someone from the county comes by with a clipboard, looks around, and leaves."),
        H("Fair enough.",
          "My grandmother had an allotment when I was a kid, and what I remember most is the slugs.",
          "She grew tomatoes and, as far as I can remember, nothing else."),
        G("Oh, the slugs never leave.",
          "Honestly, compost is ninety percent of gardening, but that's a whole other episode."),
        H("Where was I going?",
          "Right, money.",
          "Because somebody has to pay for the water, and the hoses, and that leaning shed."),
        G("Somebody does, yes."),
        H("So how do you keep the lights on, so to speak, without a big grant?"),
        P("Do you know what actually costs the most in a community garden?",
          "It isn't seeds or tools, it's water, and our first full summer the bill came to nine hundred "
          "dollars.",
          "So now every plot holder pays thirty five dollars a season, and anyone who can't afford it "
          "works four extra hours instead.",
          "We also put two rain barrels under the shed roof, which cut the water bill by about a third.",
          "With forty plots, the fees cover the water, the repairs, and new hoses, with a little left over "
          "for the harvest party.",
          "Charge a small fee from day one, and the garden never has to beg for money."),
        H("Thirty five dollars, that's less than I spend on coffee in a week, honestly.",
          "Thank you so much for coming on, this was lovely."),
        G("Thank you, and if you walk past an empty lot every day, go knock on a few doors."),
        H("And what's growing in there right now, this week?"),
        G("Garlic, mostly, and a lot of very optimistic lettuce.",
          "Come by in June, and you'll see the whole thing at its best."),
        H("We'll put the garden's volunteer page in the show notes.",
          "And if you have a garden story of your own, send it in, we'd love to hear it.",
          "Next week, we're talking about learning a second language as an adult, which I have failed "
          "at, let me think, three times.",
          *CREDITS,
          "Go get your hands dirty, and talk soon."),
    ), held_out=True),
    Script("ep08", "learning a second language as an adult", (
        H("This is Working Notes, and I'm your host.",
          "Full confession before we start, I have downloaded a language app four times, and deleted it "
          "four times."),
        G("Only four?",
          "That's honestly better than most people I meet."),
        H("Ha, thank you, I think.",
          "My guest didn't speak a word of Spanish until she was thirty eight, and now she works as a "
          "medical interpreter and teaches evening classes for adults."),
        G("That's right, although my first words were mostly about ordering bread.",
          "Hello, everyone."),
        H("And where were you living when you started?"),
        G("In a small town about an hour from the coast, I'd moved there for my partner's job.",
          "And I couldn't even buy a bus ticket without pointing at things."),
        H("Oh, that sounds stressful.",
          "Did you take classes, or did you just sort of throw yourself in?"),
        G("A bit of both, badly at first.",
          "I bought three grammar books in my first month and finished none of them.",
          "One of them is still holding up a wobbly table in my kitchen."),
        H("A quick note before we dive in, the sleep episode got a lot of replies, so thank you, we read "
          "every one of them.",
          "Okay, so, most people listening probably tried a language in school and forgot all of it.",
          "Is it actually harder to learn as an adult?"),
        P("Adults are actually faster language learners than children, at least in the first year.",
          "A ten year old needs months to pick up what a motivated adult can learn in a few weeks, "
          "because adults already understand how grammar works and know how to study.",
          "Where children win is the accent, and honestly, nobody at the pharmacy cares about your accent.",
          "In my evening class, adults who practice thirty minutes a day can hold a basic conversation in "
          "about four months.",
          "So stop telling yourself you missed the window.",
          "You didn't miss anything, you just need a different plan than a child would use."),
        H("Four months, okay.",
          "That's, that's less than I expected, honestly."),
        G("For basic conversation, I mean, not for reading novels.",
          "Novels took me closer to three years, and I still look up words."),
        H("What was the first novel you read?"),
        G("A detective story, a very thin one, I picked it because the chapters were short.",
          "I think I understood maybe half of it, and I was so proud anyway."),
        H("That's lovely.",
          "Do you remember how it ended?"),
        G("Not at all, honestly.",
          "I think the gardener did it, but I might have that completely backwards."),
        H("Quick break, and then I want to talk about how you actually study.",
          "This episode is supported by our sponsor, a company that makes noise cancelling headphones "
          "for open offices.",
          "The link in the show notes gets you ten percent off your first pair."),
        H("We're back.",
          "So, I have tried flashcards, and I have tried the app with the little streak counter."),
        G("And the streak counter made you feel guilty, didn't it?"),
        H("Extremely guilty.",
          "So what do you actually tell your students to do every day?"),
        P("In my second year there, a pharmacist handed me the wrong medicine, and I couldn't explain "
          "the mistake.",
          "I had studied for hundreds of hours, but almost all of it was reading and grammar drills, and "
          "I had barely spoken out loud.",
          "That same afternoon I changed my routine, and booked two short conversation sessions a week "
          "with a local tutor, twenty minutes each.",
          "I also started describing my day to myself in the car, every single thing I did.",
          "Within three months, I was speaking more in a week than I had in the whole first year.",
          "If you want to speak, you have to practice speaking, not just studying."),
        H("Talking to yourself in the car, I like that.",
          "Do people look at you funny at traffic lights?"),
        G("All the time, yes, but they probably think I'm on the phone.",
          "Once a man in the next car waved at me, and I waved back, and I still don't know why."),
        H("Ha.",
          "And the pharmacy thing, was that, I mean, was that dangerous?"),
        G("Not really, thankfully, it was the wrong cream, not the wrong pills.",
          "But it scared me enough to change."),
        H("Did you ever go back to that pharmacy?"),
        G("Every week for six years, and the pharmacist and I became good friends.",
          "She still corrects my grammar, very politely."),
        H("Where was I going with this?",
          "Oh, right.",
          "A lot of our listeners are busy, they run businesses, they have kids, they have maybe ten "
          "spare minutes on a good day."),
        G("That's most of my students, honestly.",
          "Nurses, shop owners, and one retired bus driver who is my best student."),
        H("So is ten minutes a day even worth it, or is that just kidding yourself?"),
        P("The secret weapon of every busy learner I know is a boring little list.",
          "Every time you need a word and don't have it, you write it down, whether you're at the bank, on "
          "the phone, or in a meeting.",
          "Those are the words your real life is asking for, so they stick far better than any textbook "
          "list.",
          "Once a week, you go over the list with your coffee, and you use each new word out loud at "
          "least once.",
          "My students who keep that list for a year end up with about five hundred words they actually "
          "use."),
        H("Five hundred words, from a list in your pocket.",
          "Thank you, this has been genuinely motivating, and I might reinstall that app."),
        G("Do it, and this time, turn off the streak counter."),
        H("Deal.",
          "Last question, is there a word you still can't pronounce?"),
        G("Oh, there's a word for a kind of railway crossing that I have never once said correctly.",
          "My students love it, they make me try it at the end of every term."),
        H("If you've started learning a language this year, tell us which one, we're curious.",
          "My guest's evening classes are online now too, and we'll put a link in the show notes.",
          "Next week, we're talking about customer support for small online shops, which is a lot of you, "
          "judging by the emails.",
          *CREDITS,
          "Until next time, take care."),
    ), held_out=True),
    Script("ep09", "running a small online shop's customer support", (
        H("Welcome back to Working Notes, I'm your host, and it's a busy week here, so let's get straight "
          "to it.",
          "Today's topic came from your emails, well over a hundred of them, which is kind of fitting."),
        G("Is it because everyone is drowning in customer emails?"),
        H("Pretty much, yes.",
          "My guest runs an online shop selling handmade ceramic mugs and bowls, with a team of, is it "
          "two?"),
        G("Two and a half, my sister helps on weekends.",
          "Thanks for having me on, I've been listening for a couple of years."),
        H("Oh, thank you.",
          "And how many orders are we talking about, roughly?"),
        G("On a normal week, maybe a hundred and fifty.",
          "In December it's closer to six hundred, and I basically stop sleeping."),
        H("Ha, we did an episode on sleep, so, you know, maybe go back and listen.",
          "Before we start, a quick correction, last week I said the listener survey closes on the "
          "fifteenth, it's actually the thirtieth.",
          "And where do you actually pack all those orders?"),
        G("In what used to be our spare bedroom, and in December, also the hallway.",
          "You have to turn sideways to get to the bathroom."),
        H("Okay, so, customer support.",
          "When you started, who answered the emails?"),
        G("Me, at midnight, from my phone, usually in bed.",
          "Which is exactly the wrong way to do it."),
        H("So what was the first thing you changed?"),
        P("Sixty percent of our support emails used to be the same question: where is my order?",
          "So I put a tracking link right at the top of the shipping confirmation, with a line saying it "
          "usually takes four to six working days, and what to do if it's late.",
          "That one change took us from about ninety emails a week down to thirty five.",
          "Then I wrote saved replies for the next five most common questions, breakage, returns, gift "
          "notes, address changes, and care instructions.",
          "Now a typical email takes me about a minute instead of ten.",
          "Before you hire help, fix the questions your shop keeps causing."),
        H("Ninety down to thirty five, wow.",
          "So people really do just want to know where the box is."),
        G("They really do, and I get it, I'm the same when I order something.",
          "I check the tracking page about four times a day, like that will make it move faster."),
        H("Guilty, I do that too.",
          "Last week I refreshed one about twenty times.",
          "Do you use one of those helpdesk tools, or is it just a regular inbox?"),
        G("Just a shared inbox, honestly, with labels.",
          "We tried a proper helpdesk for a month, and it was far more than we needed."),
        H("What was wrong with it?"),
        G("Nothing, really, it was just built for a team of fifty, not two and a half.",
          "I spent more time setting up rules than answering customers."),
        H("Let's take a quick break.",
          "This episode is brought to you by our sponsor, a shipping label service for small online "
          "stores.",
          "It compares carrier rates and prints the label in one click, and the link in the show notes "
          "gets you a month free."),
        H("Okay, and we're back.",
          "So, the scary emails, the angry ones.",
          "How do you handle a customer who's furious?"),
        P("An angry customer is one of the best chances you'll ever get to win a fan for life.",
          "One December, a woman wrote to us in all capital letters because the mug she'd bought for her "
          "father arrived in pieces.",
          "I didn't ask for photos or a receipt, I apologized in the very first line, and we shipped a "
          "new one that same afternoon with a handwritten note.",
          "She wrote back to say sorry for shouting, and then she left us a glowing review.",
          "Since then she has bought gifts from us for her whole family, and she has spent about eleven "
          "hundred dollars in the shop."),
        H("Eleven hundred dollars, from one broken mug."),
        G("From one broken mug, yes, which cost me about eighteen dollars to replace.",
          "I think about that every time I'm tempted to argue with someone."),
        H("But, I mean, some people must be trying to scam you, right?"),
        G("A few, sure, maybe two or three a year.",
          "But if I treat everyone like a scammer to catch those three, I lose far more than a few mugs.",
          "For the big orders we ask for a photo of the damage, and that stops most of it."),
        H("That's fair.",
          "My partner broke one of your bowls last week, by the way, and no, I'm not asking for a "
          "replacement."),
        G("Oh no, which one?",
          "Was it the blue one?"),
        H("The blue one, yes, it slipped out of her hands in the sink.",
          "It was a very nice bowl.",
          "Where was I?",
          "Right, so you've got the saved replies, and you've got the shared inbox.",
          "But you're still answering everything yourself, at midnight?"),
        G("Not anymore, no."),
        H("So what does your week look like now?"),
        P("Customers don't need an instant reply, they need an honest promise about when the reply is "
          "coming.",
          "We answer emails twice a day, at nine in the morning and at four in the afternoon, and never "
          "after dinner.",
          "Every email gets an automatic reply that says exactly that, and that a real person will write "
          "back within one working day.",
          "The complaints about slow answers stopped almost completely, even though our average reply "
          "actually got slower.",
          "And I got my evenings back, which for a two person shop is the difference between loving the "
          "work and quitting it."),
        H("Twice a day, and never after dinner, I'm writing that on a sticky note.",
          "Thank you so much, this was really practical."),
        G("Thanks for having me, and to anyone answering emails in bed tonight, put the phone down."),
        H("One last thing, what's the most common email you get in December?"),
        G("Will it arrive before Christmas, and the honest answer is usually yes, if you order by the "
          "tenth."),
        H("Noted, order by the tenth, everybody.",
          "And if you run a small shop and have a support trick of your own, send it in.",
          "We'll link my guest's shop in the show notes, and yes, the blue bowl is back in stock.",
          "Next week, we're talking about the first year of running a small bakery.",
          *CREDITS,
          "That's it from us, bye for now."),
    ), held_out=True),
)


@dataclass(frozen=True)
class Line:
    """One sentence to synthesise, with its place in the conversation."""
    speaker: str
    text: str
    turn: int
    planted: bool
    language: str = "en"


def multilingual_scripts() -> tuple[Script, ...]:
    """The Indonesian and code-switched episodes (their text is in eval_scripts_multilingual.py)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "eval_scripts_multilingual.py")
    spec = importlib.util.spec_from_file_location("castmill_eval_scripts_multilingual", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return tuple(Script(e["episode"], e["topic"], tuple(Turn(speaker, tuple(sentences), planted, language)
                                                        for speaker, language, planted, sentences in e["turns"]),
                        e["held_out"], e["language"]) for e in module.EPISODES)


# --------------------------------------------------------------------------- script


def _lines(script: Script, short: bool = False) -> list[Line]:
    """Flatten a script to sentences.  short=True keeps every planted moment but only the
    first SHORT_KEEP sentences of each stretch of filler (a quick episode for tests)."""
    lines = [Line(t.speaker, s, i, t.planted, t.language) for i, t in enumerate(script.turns) for s in t.sentences]
    if not short:
        return lines
    kept, run = [], 0
    for line in lines:
        run = 0 if line.planted else run + 1
        if line.planted or run <= SHORT_KEEP:
            kept.append(line)
    return kept


def _filler_runs(lines: list[Line]) -> list[int]:
    """Number of filler sentences before the first moment, between moments, after the last."""
    runs, count = [], 0
    for prev, line in zip([None, *lines], lines):
        if line.planted:
            if prev is None or not prev.planted:
                runs.append(count)
            count = 0
        else:
            count += 1
    runs.append(count)
    return runs


def check_script(script: Script, rules: SetRules = ENGLISH_RULES) -> None:
    """Raise ValueError when a script breaks the rules of the evaluation set."""
    where = f"{script.episode} ({script.topic})"
    planted = [t for t in script.turns if t.planted]
    if len(planted) != MOMENTS_PER_EPISODE:
        raise ValueError(f"{where}: {len(planted)} planted moments, expected {MOMENTS_PER_EPISODE}")
    for turn in script.turns:
        if turn.speaker not in VOICES_BY_LANGUAGE.get(turn.language, {}):
            raise ValueError(f"{where}: no voice for {turn.speaker!r} in language {turn.language!r}")
        if turn.planted and turn.speaker != "guest":
            raise ValueError(f"{where}: planted moments must be spoken by the guest")
        for sentence in turn.sentences:
            if not sentence.strip() or sentence.rstrip()[-1] not in ".?!":
                raise ValueError(f"{where}: sentence must end with . ? or !: {sentence!r}")
    for a, b in zip(script.turns, script.turns[1:]):
        if a.planted and b.planted:
            raise ValueError(f"{where}: two planted moments in a row")
    runs = _filler_runs(_lines(script))
    lo, hi = rules.filler_between
    if runs[0] < 1 or runs[-1] < 1:
        raise ValueError(f"{where}: needs filler before the first and after the last moment, got {runs}")
    for n in runs[1:-1]:
        if not lo <= n <= hi:
            raise ValueError(f"{where}: {n} filler sentences between moments, expected {lo}-{hi} ({runs})")


def generator_version(scripts: tuple[Script, ...] = SCRIPTS) -> str:
    """GENERATOR_REVISION plus a hash of all text and synthesis settings."""
    payload = json.dumps({
        "scripts": [asdict(s) for s in scripts],
        "settings": [SAMPLE_RATE, BITRATE, VOICES_BY_LANGUAGE, FILLER_STYLE, PLANTED_STYLE, GAP_SAME_TURN,
                     GAP_NEW_TURN, GAP_AROUND_MOMENT, EDGE_SILENCE, TRIM_FRACTION, SHORT_KEEP],
    }, sort_keys=True)
    return f"{GENERATOR_REVISION}+{hashlib.sha256(payload.encode()).hexdigest()[:12]}"


# --------------------------------------------------------------------------- audio


def _write_json(path: str, data: dict) -> None:
    """Write through a temporary file so an interrupted run never leaves half a file."""
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
        fh.write("\n")
    os.replace(tmp, path)


def _read_wav(path: str) -> np.ndarray:
    with wave.open(path, "rb") as w:
        if (w.getnchannels(), w.getsampwidth(), w.getframerate()) != (1, 2, SAMPLE_RATE):
            raise ValueError("unexpected WAV format")
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").copy()


def _write_wav(path: str, samples: np.ndarray) -> None:
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(samples.astype("<i2").tobytes())


def _wav_seconds(path: str) -> tuple[int, float]:
    """(frames, seconds) from the WAV header."""
    with wave.open(path, "rb") as w:
        return w.getnframes(), w.getnframes() / w.getframerate()


def _trim(samples: np.ndarray) -> np.ndarray:
    """Cut leading and trailing silence: keep from the first to the last sample whose
    magnitude reaches TRIM_FRACTION of the clip's peak."""
    mag = np.abs(samples.astype(np.int32))
    peak = int(mag.max()) if mag.size else 0
    if peak == 0:
        return samples[:0]
    loud = np.flatnonzero(mag >= max(1, int(peak * TRIM_FRACTION)))
    return samples[loud[0]:loud[-1] + 1]


def espeak_trimmed(text: str, espeak_args: list[str], tmp: str) -> np.ndarray:
    """TEXT spoken by espeak-ng with ESPEAK_ARGS (voice, pitch …), trimmed, mono 16-bit SAMPLE_RATE."""
    text_file = os.path.join(tmp, "sentence.txt")
    with open(text_file, "w", encoding="utf-8") as fh:
        fh.write(text)
    raw = os.path.join(tmp, "raw.wav")
    _run(["espeak-ng", *espeak_args, "-f", text_file, "-w", raw])
    try:
        samples = _read_wav(raw)
    except (ValueError, wave.Error):
        # another espeak-ng build may use another rate: bring it to ours first
        conv = os.path.join(tmp, "conv.wav")
        _run(["ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y", "-i", raw,
              "-ar", str(SAMPLE_RATE), "-ac", "1", "-c:a", "pcm_s16le", conv])
        samples = _read_wav(conv)
    trimmed = _trim(samples)
    if trimmed.size == 0:
        sys.exit(f"error: espeak-ng produced silence for {text!r}")
    return trimmed


def _speak(line: Line, path: str, tmp: str) -> int:
    """Synthesise one sentence to PATH (trimmed, mono 16-bit SAMPLE_RATE); return its frame count."""
    style = PLANTED_STYLE if line.planted else FILLER_STYLE
    args = ["-v", VOICES_BY_LANGUAGE[line.language][line.speaker], "-a", str(style["amplitude"]),
            "-p", str(style["pitch"]), "-s", str(style["speed"])]
    _write_wav(path, espeak_trimmed(line.text, args, tmp))
    frames, _ = _wav_seconds(path)
    return frames


def _gap(prev: Line | None, line: Line | None) -> float:
    if prev is None or line is None:
        return EDGE_SILENCE
    if prev.planted != line.planted:
        return GAP_AROUND_MOMENT
    return GAP_SAME_TURN if prev.turn == line.turn else GAP_NEW_TURN


def build_episode(script: Script, out_dir: str, short: bool = False, rules: SetRules = ENGLISH_RULES) -> dict:
    """Synthesise one episode; write epNN.mp3 and epNN.truth.json; return the truth dict."""
    lines = _lines(script, short)
    mp3_path = os.path.join(out_dir, f"{script.episode}.mp3")
    truth_path = os.path.join(out_dir, f"{script.episode}.truth.json")
    with tempfile.TemporaryDirectory(prefix="castmill-eval-") as tmp:
        chunks: list[np.ndarray] = []
        sentences = []
        cursor = 0  # in samples: every time below is an exact sample position
        for i, (prev, line) in enumerate(zip([None, *lines], lines)):
            silence = round(_gap(prev, line) * SAMPLE_RATE)
            chunks.append(np.zeros(silence, dtype=np.int16))
            cursor += silence
            clip = os.path.join(tmp, f"s{i:03d}.wav")
            frames = _speak(line, clip, tmp)
            chunks.append(_read_wav(clip))
            sentences.append({
                "speaker": line.speaker, "text": line.text,
                "start": round(cursor / SAMPLE_RATE, 3),
                "end": round((cursor + frames) / SAMPLE_RATE, 3),
                "planted": line.planted,
                "language": line.language,
            })
            cursor += frames
        tail = round(EDGE_SILENCE * SAMPLE_RATE)
        chunks.append(np.zeros(tail, dtype=np.int16))
        cursor += tail

        wav_path = os.path.join(tmp, "episode.wav")
        _write_wav(wav_path, np.concatenate(chunks))
        tmp_mp3 = os.path.join(tmp, "out.mp3")
        _run([
            "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-i", wav_path, "-map_metadata", "-1",
            "-ac", "1", "-ar", str(SAMPLE_RATE),
            "-c:a", "libmp3lame", "-b:a", BITRATE,
            "-fflags", "+bitexact", "-flags:a", "+bitexact",
            "-id3v2_version", "3",
            "-metadata", f"title={SHOW} {script.episode}: {script.topic}",
            tmp_mp3,
        ])
        shutil.move(tmp_mp3, mp3_path)

    moments = []
    for line_idx, line in enumerate(lines):
        if line.planted and (line_idx == 0 or not lines[line_idx - 1].planted):
            group = [s for s, ln in zip(sentences, lines) if ln.turn == line.turn]
            moments.append({"start": group[0]["start"], "end": group[-1]["end"],
                            "text": " ".join(s["text"] for s in group)})
    truth = {
        "episode": script.episode,
        "topic": script.topic,
        "held_out": script.held_out,
        "duration": round(cursor / SAMPLE_RATE, 3),
        "language": script.language,
        "moments": moments,
        "sentences": sentences,
    }
    if not short:
        lo, hi = rules.moment_seconds
        for m in moments:
            length = m["end"] - m["start"]
            if not lo <= length <= hi:
                sys.exit(f"error: {script.episode}: moment at {m['start']:.1f}s lasts {length:.1f}s, "
                         f"expected {lo:.0f}-{hi:.0f}s (edit its text in {__file__})")
        lo, hi = rules.episode_seconds
        if not lo <= truth["duration"] <= hi:
            print(f"warning: {script.episode} lasts {truth['duration']:.0f}s, target {lo:.0f}-{hi:.0f}s",
                  file=sys.stderr)
    _write_json(truth_path, truth)
    return truth


# --------------------------------------------------------------------------- set


def _load_manifest(path: str) -> dict | None:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        return data if isinstance(data, dict) else None
    except (OSError, ValueError):
        return None


def build(out_dir: str, episodes: int | None = None, short: bool = False, force: bool = False,
          log=print, multilingual: bool = False) -> dict:
    """Build (or reuse) the first EPISODES episodes of the English set (or the multilingual one);
    write and return the manifest."""
    _need("espeak-ng")
    _need("ffmpeg")
    every, rules = (multilingual_scripts(), MULTILINGUAL_RULES) if multilingual else (SCRIPTS, ENGLISH_RULES)
    scripts = every[: len(every) if episodes is None else episodes]
    for script in scripts:
        check_script(script, rules)
    os.makedirs(out_dir, exist_ok=True)
    version = generator_version(every)
    variant = "short" if short else "full"
    manifest_path = os.path.join(out_dir, "manifest.json")
    old = _load_manifest(manifest_path) or {}
    current = old.get("generator_version") == version and old.get("variant") == variant
    entries = {e["episode"]: e for e in old.get("episodes", [])
               if isinstance(e, dict) and "episode" in e} if current else {}

    for script in scripts:
        entry = entries.get(script.episode)
        files = [os.path.join(out_dir, f"{script.episode}{ext}") for ext in (".mp3", ".truth.json")]
        if not force and entry and all(os.path.isfile(f) for f in files):
            log(f"{script.episode}: up to date ({entry['duration']:.1f}s), skipped")
            continue
        started = time.monotonic()
        truth = build_episode(script, out_dir, short=short, rules=rules)
        entries[script.episode] = {
            "episode": script.episode,
            "topic": script.topic,
            "held_out": script.held_out,
            "language": script.language,
            "audio": f"{script.episode}.mp3",
            "truth": f"{script.episode}.truth.json",
            "duration": truth["duration"],
            "moments": len(truth["moments"]),
            "sentences": len(truth["sentences"]),
        }
        log(f"{script.episode}: built {truth['duration']:.1f}s, {len(truth['moments'])} moments "
            f"in {time.monotonic() - started:.1f}s")
    # keep entries from earlier runs whose files are still there
    listed = [e for _, e in sorted(entries.items())
              if all(os.path.isfile(os.path.join(out_dir, e[k])) for k in ("audio", "truth"))]
    manifest = {
        "generator_version": version,
        "variant": variant,
        "show": SHOW,
        "language": "en, id and mixed" if multilingual else LANGUAGE,
        "sample_rate": SAMPLE_RATE,
        "bitrate": BITRATE,
        "episodes": listed,
    }
    _write_json(manifest_path, manifest)
    return manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out-dir", default="eval-data", help="output folder (default: eval-data)")
    ap.add_argument("--episodes", type=int, default=len(SCRIPTS),
                    help=f"build the first N episodes (1-{len(SCRIPTS)}, default: {len(SCRIPTS)})")
    ap.add_argument("--force", action="store_true", help="rebuild even when the files are up to date")
    # tests only: every planted moment, but at most SHORT_KEEP filler sentences per stretch
    ap.add_argument("--short", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if not 1 <= args.episodes <= len(SCRIPTS):
        ap.error(f"--episodes must be between 1 and {len(SCRIPTS)}")
    started = time.monotonic()
    try:
        manifest = build(args.out_dir, args.episodes, short=args.short, force=args.force)
    except ValueError as exc:
        sys.exit(f"error: {exc}")
    total = sum(e["duration"] for e in manifest["episodes"])
    print(f"wrote {os.path.join(args.out_dir, 'manifest.json')}: {len(manifest['episodes'])} episodes, "
          f"{total / 60:.1f} min of audio, version {manifest['generator_version']} "
          f"({time.monotonic() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
