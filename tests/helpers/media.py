"""Media files made on the spot with ffmpeg and espeak-ng, so tests ship no fixtures."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE_EPISODE = REPO / "samples" / "sample_episode.mp3"
SAMPLE_SCRIPT = REPO / "samples" / "sample_episode.txt"


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y", *args], check=True)


def speech_wav(path: Path, text: str, voice: str = "en-us") -> Path:
    subprocess.run(["espeak-ng", "-v", voice, "-s", "155", "-w", str(path), text], check=True)
    return path


def speech_mp3(path: Path, text: str, voice: str = "en-us") -> Path:
    wav = speech_wav(path.with_suffix(".tmp.wav"), text, voice)
    ffmpeg("-i", str(wav), "-ac", "1", "-ar", "22050", "-b:a", "64k", str(path))
    wav.unlink()
    return path


def silence(path: Path, seconds: float = 5.0) -> Path:
    ffmpeg("-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", str(seconds), str(path))
    return path


def video_without_audio(path: Path, seconds: float = 2.0) -> Path:
    ffmpeg("-f", "lavfi", "-i", f"testsrc=size=320x240:rate=25:duration={seconds}",
           "-pix_fmt", "yuv420p", "-c:v", "libx264", str(path))
    return path


def video_with_speech(path: Path, text: str) -> Path:
    wav = speech_wav(path.with_suffix(".tmp.wav"), text)
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-i", str(wav), "-shortest",
           "-pix_fmt", "yuv420p", "-c:v", "libx264", "-c:a", "aac", str(path))
    wav.unlink()
    return path


def truncated_copy(source: Path, path: Path, keep: float = 0.4) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    return path


def damaged_copy(source: Path, path: Path, every: int = 400, span: int = 40, seed: int = 1) -> Path:
    """``source`` with ``span`` bytes of noise every ``every`` bytes: ffmpeg complains about almost every frame."""
    import random

    data, noise = bytearray(source.read_bytes()), random.Random(seed)
    for start in range(2000, len(data), every):
        data[start : start + span] = bytes(noise.randrange(256) for _ in range(len(data[start : start + span])))
    path.write_bytes(bytes(data))
    return path


def empty_file(path: Path) -> Path:
    path.write_bytes(b"")
    return path


def text_as_media(path: Path) -> Path:
    path.write_text("this is a text file, not audio\n" * 50)
    return path
