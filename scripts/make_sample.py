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


def _speak(path: str, speaker: str, text: str, tmp: str) -> None:
    text_file = os.path.join(tmp, "turn.txt")
    with open(text_file, "w", encoding="utf-8") as fh:
        fh.write(text)
    raw = path + ".raw.wav"
    _run(["espeak-ng", "-v", VOICES[speaker], "-s", str(SPEED_WPM),
          "-f", text_file, "-w", raw])
    # normalise every clip to the same PCM format so the concat demuxer can join them
    _run([
        "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-y",
        "-i", raw, "-ar", str(SAMPLE_RATE), "-ac", "1", "-c:a", "pcm_s16le", path,
    ])


def build(out_dir: str, repeat: int = 1) -> dict[str, str]:
    _need("espeak-ng")
    _need("ffmpeg")
    os.makedirs(out_dir, exist_ok=True)
    stem = "sample_episode" if repeat <= 1 else f"sample_long_x{repeat}"
    mp3_path = os.path.join(out_dir, stem + ".mp3")
    txt_path = os.path.join(out_dir, stem + ".txt")
    turns = TURNS * max(1, repeat)

    with tempfile.TemporaryDirectory(prefix="castmill-sample-") as tmp:
        pause = os.path.join(tmp, "pause.wav")
        edge = os.path.join(tmp, "edge.wav")
        _silence(pause, PAUSE_SECONDS)
        _silence(edge, EDGE_SILENCE_SECONDS)
        clips = []
        for i, (speaker, text) in enumerate(TURNS):
            clip = os.path.join(tmp, f"turn{i:02d}.wav")
            _speak(clip, speaker, text, tmp)
            clips.append(clip)

        parts = [edge]
        for n in range(len(turns)):
            if n:
                parts.append(pause)
            parts.append(clips[n % len(TURNS)])
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
            "-c:a", "libmp3lame", "-b:a", BITRATE,
            "-fflags", "+bitexact", "-flags:a", "+bitexact",
            "-id3v2_version", "3",
            "-metadata", f"title={TITLE}" + ("" if repeat <= 1 else f" (x{repeat})"),
            tmp_mp3,
        ])
        shutil.move(tmp_mp3, mp3_path)

    with open(txt_path, "w", encoding="utf-8") as fh:
        for _, text in turns:
            fh.write(text + "\n")
    written = {"mp3": mp3_path, "txt": txt_path}
    if repeat <= 1:
        json_path = os.path.join(out_dir, stem + ".json")
        with open(json_path, "w", encoding="utf-8") as fh:
            json.dump([{"speaker": s, "text": t} for s, t in turns], fh, indent=2)
            fh.write("\n")
        written["json"] = json_path
    return written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out-dir", default="samples", help="output folder (default: samples)")
    ap.add_argument("--repeat", type=int, default=1,
                    help="repeat all turns N times and write sample_long_xN.{mp3,txt}")
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be >= 1")
    for kind, path in build(args.out_dir, args.repeat).items():
        print(f"wrote {kind}: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
