#!/usr/bin/env python3
"""Generate the bundled two-voice sample podcast episode.

Uses espeak-ng for the two voices and ffmpeg to add pauses, concatenate and
encode a small mono MP3.  Output is deterministic for a given espeak-ng and
ffmpeg version.

    python scripts/make_sample.py [--out-dir samples] [--repeat N]

Without --repeat (or with N=1) it writes:
    sample_episode.mp3   mono 22.05 kHz, 64 kbit/s, title "Castmill Sample Episode"
    sample_episode.txt   the spoken text, one turn per line (WER reference)
    sample_episode.json  [{"speaker": "host"|"guest", "text": ...}, ...]

With --topics it writes the longer sample the demo makes chapters and show notes of (three
topics, about six minutes, 32 kbit/s): sample_topics.mp3, .txt and .json (whose turns also
say which topic each belongs to).

With --repeat N (N > 1) it writes a longer benchmark episode that repeats all
turns N times: sample_long_xN.mp3 and sample_long_xN.txt.

Requires: espeak-ng, ffmpeg (apt-get install espeak-ng ffmpeg).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

TITLE = "Castmill Sample Episode"
SAMPLE_RATE = 22050
BITRATE = "64k"
SPEED_WPM = 155
PAUSE_SECONDS = 0.5
EDGE_SILENCE_SECONDS = 0.3
VOICES = {
    "host": "en-us+m3",
    "guest": "en-us+f3",
}

TURNS = [
    ("host", "Welcome back to the show. Today my guest helps podcasters turn long "
             "episodes into short video clips for social media."),
    ("guest", "Thanks for having me. I love this topic, because most shows are "
              "sitting on hours of great material that most people never hear."),
    ("host", "So let's start simple. Why should podcasters care about clips?"),
    ("guest", "Because people find new shows on social media now. One strong minute "
              "can bring in more new listeners than a month of posting links."),
    ("host", "That sounds like a bold claim. Can you back it up?"),
    ("guest", "Sure. One of our clients posted three clips a week for two months, "
              "and after that, their show had forty percent more listeners."),
    ("host", "Forty percent. That is a big number. So what does a good clip look like?"),
    ("guest", "It needs a clear hook in the first few seconds, captions on the "
              "screen, and one simple idea that makes sense on its own."),
    ("host", "And how long should it be?"),
    ("guest", "Somewhere between thirty and ninety seconds. Shorter clips usually work best."),
    ("host", "Let's talk about money. What does this cost a small show?"),
    ("guest", "Doing it by hand with an editor can cost three hundred dollars for "
              "every episode. With an automatic tool, it is closer to twenty dollars "
              "a month."),
    ("host", "Here is the question everyone asks me. Will the machine pick the "
             "right moments?"),
    ("guest", "Most of the time, yes. But always check the clips before you post "
              "them. The tool finds the moments, and you keep the voice of the show."),
    ("host", "Great advice. Thanks for joining us, and thanks to everyone for listening."),
    ("guest", "Thank you. Now go and make some clips."),
]


TOPICS_TITLE = "Castmill Sample Episode: Three Topics"
# Three topics with words of their own, so their chapters can be told apart: the recording setup,
# pricing a VA's services, and a newsletter.
TOPIC_TURNS = [
    ("setup", "host", "Welcome back. Today we talk about three things every small show needs: a good "
                      "recording setup, fair prices, and a newsletter."),
    ("setup", "guest", "Happy to be here. Let's start with sound, because a listener forgives a boring "
                       "topic sooner than a bad microphone."),
    ("setup", "host", "So which microphone should a new podcaster buy?"),
    ("setup", "guest", "A dynamic microphone with a USB plug. It hears your voice and ignores the room, "
                       "the fridge and the traffic outside."),
    ("setup", "host", "And where should people record? Most of us do not have a studio."),
    ("setup", "guest", "Record in a small room with soft things in it. A wardrobe full of clothes is the "
                       "best studio I know. Hard walls make echo."),
    ("setup", "host", "What about headphones during the recording?"),
    ("setup", "guest", "Always wear closed headphones. You hear the echo and the noise while you can "
                       "still fix them, not later in the edit."),
    ("setup", "host", "Should we record both voices on one microphone?"),
    ("setup", "guest", "No. Give every speaker a microphone and a track of their own. Then the editor can "
                       "lower one voice without touching the other."),
    ("setup", "host", "And the recording software?"),
    ("setup", "guest", "Any free recorder works. Record at forty eight kilohertz, keep the levels below "
                       "the red, and always record a backup track."),
    ("setup", "host", "How close should I sit to the microphone?"),
    ("setup", "guest", "About a hand's width away, and speak across the microphone, not straight into it. "
                       "That keeps the hard sounds soft."),
    ("setup", "host", "Do I need a pop filter or a foam cover?"),
    ("setup", "guest", "A cheap foam cover is enough for a dynamic microphone. Spend the money on a stand "
                       "that keeps the microphone still instead."),
    ("setup", "host", "And a remote guest who only has a laptop?"),
    ("setup", "guest", "Send them a microphone before the interview. A forty dollar microphone in the post "
                       "saves hours of cleaning noise in the edit."),
    ("pricing", "host", "Let's move on to money. How should a virtual assistant price podcast work for "
                        "a client?"),
    ("pricing", "guest", "Never sell hours. Sell a package: one episode edited, five clips, show notes and "
                         "the posts, for one fixed monthly price."),
    ("pricing", "host", "Why is a package better than an hourly rate?"),
    ("pricing", "guest", "Because the client pays for the result. When you get faster, your income grows "
                         "instead of shrinking with every saved hour."),
    ("pricing", "host", "How much should a package cost at the start?"),
    ("pricing", "guest", "Start around four hundred dollars a month for weekly episodes, then raise the "
                         "price by ten percent for every new client."),
    ("pricing", "host", "And what if a client asks for a discount?"),
    ("pricing", "guest", "Remove something from the package instead of cutting the price. Fewer clips "
                         "for less money keeps your rate honest."),
    ("pricing", "host", "Should the client pay before the work starts?"),
    ("pricing", "guest", "Yes. Send the invoice on the first day of the month and start the work when it "
                         "is paid. A contract protects both sides."),
    ("pricing", "host", "How often should the price change?"),
    ("pricing", "guest", "Review your prices every six months. Tell clients a month before a new rate starts, "
                         "and show them what the package delivered."),
    ("pricing", "host", "What should the invoice say?"),
    ("pricing", "guest", "List every item of the package with its quantity: four episodes, twenty clips, four "
                         "sets of show notes. Clients renew what they can see."),
    ("pricing", "host", "Is it fair to charge for extra revisions?"),
    ("pricing", "guest", "Yes. Include two rounds of changes in the price, and quote anything beyond that "
                         "as a separate small fee before you do it."),
    ("pricing", "host", "How do you find the first paying client?"),
    ("pricing", "guest", "Offer one show a free trial month with a clear end date, then send the package "
                         "price on the last day, with the results."),
    ("newsletter", "host", "Last topic: email. Does a podcast still need a newsletter?"),
    ("newsletter", "guest", "Yes. Social platforms change the rules every month, but an email list belongs "
                            "to you. Nobody can take your subscribers away."),
    ("newsletter", "host", "What goes into a good weekly newsletter?"),
    ("newsletter", "guest", "One short story from the episode, three takeaways, one quote, and a single "
                            "link to listen. Keep the subject line under fifty characters."),
    ("newsletter", "host", "How do listeners sign up for yours?"),
    ("newsletter", "guest", "They go to acmepodcast.com/newsletter and leave their email address. We send "
                            "one email every Friday morning."),
    ("newsletter", "host", "Which email service do you use for the list?"),
    ("newsletter", "guest", "Any service that lets subscribers leave with one click and exports the list. "
                            "Your readers and their addresses must stay yours."),
    ("newsletter", "host", "How many people open it?"),
    ("newsletter", "guest", "About half of the list opens every issue. Readers who open the email listen to "
                            "the episode far more often than followers on social media."),
    ("newsletter", "host", "Should the newsletter have pictures?"),
    ("newsletter", "guest", "One image with the quote of the week is plenty. Many inboxes hide images at "
                            "first, so the words must work without them."),
    ("newsletter", "host", "How do you grow the list?"),
    ("newsletter", "guest", "Mention the newsletter at the end of every episode, and put the sign up link in "
                            "the show notes and in every blog post."),
    ("newsletter", "host", "And when should a subscriber get the first email?"),
    ("newsletter", "guest", "Right away. Send a short welcome with your three best episodes, while the new "
                            "reader still remembers why they signed up."),
    ("newsletter", "host", "Thank you for the great advice on sound, prices and newsletters."),
    ("newsletter", "guest", "Thank you. Now go and write that first newsletter."),
]
TOPICS_BITRATE = "32k"  # speech only: keeps the six-minute file under 2 MB
TOPICS_WPM = 135  # a little slower than the short sample


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        sys.exit(f"error: {tool} not found; run: apt-get install espeak-ng ffmpeg")
    return path


def _run(cmd: list[str]) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"error: {' '.join(cmd[:3])} ... failed:\n{proc.stderr.strip()}")


def _silence(path: str, seconds: float) -> None:
    _run([
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-f", "lavfi", "-i", f"anullsrc=r={SAMPLE_RATE}:cl=mono",
        "-t", f"{seconds:.3f}", "-c:a", "pcm_s16le", path,
    ])


def _speak(path: str, speaker: str, text: str, tmp: str, wpm: int = SPEED_WPM) -> None:
    text_file = os.path.join(tmp, "turn.txt")
    with open(text_file, "w", encoding="utf-8") as fh:
        fh.write(text)
    raw = path + ".raw.wav"
    _run(["espeak-ng", "-v", VOICES[speaker], "-s", str(wpm),
          "-f", text_file, "-w", raw])
    # normalise every clip to the same PCM format so the concat demuxer can join them
    _run([
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-i", raw, "-ar", str(SAMPLE_RATE), "-ac", "1", "-c:a", "pcm_s16le", path,
    ])


def build(out_dir: str, repeat: int = 1) -> dict[str, str]:
    stem = "sample_episode" if repeat <= 1 else f"sample_long_x{repeat}"
    title = TITLE + ("" if repeat <= 1 else f" (x{repeat})")
    written = _episode(out_dir, stem, TURNS, repeat, title, BITRATE, SPEED_WPM)
    if repeat <= 1:
        written["json"] = _write_json(out_dir, stem, [{"speaker": s, "text": t} for s, t in TURNS])
    return written


def build_topics(out_dir: str) -> dict[str, str]:
    turns = [(speaker, text) for _, speaker, text in TOPIC_TURNS]
    written = _episode(out_dir, "sample_topics", turns, 1, TOPICS_TITLE, TOPICS_BITRATE, TOPICS_WPM)
    written["json"] = _write_json(out_dir, "sample_topics",
                                  [{"topic": topic, "speaker": s, "text": t} for topic, s, t in TOPIC_TURNS])
    return written


def _write_json(out_dir: str, stem: str, rows: list[dict]) -> str:
    json_path = os.path.join(out_dir, stem + ".json")
    with open(json_path, "w", encoding="utf-8") as fh:
        json.dump(rows, fh, indent=2)
        fh.write("\n")
    return json_path


def _episode(out_dir: str, stem: str, unique_turns: list[tuple[str, str]], repeat: int, title: str,
             bitrate: str, wpm: int) -> dict[str, str]:
    _need("espeak-ng")
    _need("ffmpeg")
    os.makedirs(out_dir, exist_ok=True)
    mp3_path = os.path.join(out_dir, stem + ".mp3")
    txt_path = os.path.join(out_dir, stem + ".txt")
    turns = unique_turns * max(1, repeat)

    with tempfile.TemporaryDirectory(prefix="castmill-sample-") as tmp:
        pause = os.path.join(tmp, "pause.wav")
        edge = os.path.join(tmp, "edge.wav")
        _silence(pause, PAUSE_SECONDS)
        _silence(edge, EDGE_SILENCE_SECONDS)
        clips = []
        for i, (speaker, text) in enumerate(unique_turns):
            clip = os.path.join(tmp, f"turn{i:02d}.wav")
            _speak(clip, speaker, text, tmp, wpm)
            clips.append(clip)

        parts = [edge]
        for n in range(len(turns)):
            if n:
                parts.append(pause)
            parts.append(clips[n % len(unique_turns)])
        parts.append(edge)
        list_file = os.path.join(tmp, "concat.txt")
        with open(list_file, "w", encoding="utf-8") as fh:
            for p in parts:
                fh.write(f"file '{p}'\n")

        tmp_mp3 = os.path.join(tmp, "out.mp3")
        _run([
            "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
            "-f", "concat", "-safe", "0", "-i", list_file,
            "-map_metadata", "-1",
            "-ac", "1", "-ar", str(SAMPLE_RATE),
            "-c:a", "libmp3lame", "-b:a", bitrate,
            "-fflags", "+bitexact", "-flags:a", "+bitexact",
            "-id3v2_version", "3",
            "-metadata", f"title={title}",
            tmp_mp3,
        ])
        shutil.move(tmp_mp3, mp3_path)

    with open(txt_path, "w", encoding="utf-8") as fh:
        for _, text in turns:
            fh.write(text + "\n")
    return {"mp3": mp3_path, "txt": txt_path}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out-dir", default="samples", help="output folder (default: samples)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="repeat all turns N times and write sample_long_xN.{mp3,txt}")
    ap.add_argument("--topics", action="store_true", help="write the three-topic sample_topics.{mp3,txt,json}")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")
    built = build_topics(args.out_dir) if args.topics else build(args.out_dir, args.repeat)
    for kind, path in built.items():
        print(f"wrote {kind}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
