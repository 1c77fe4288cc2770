"""Transcript exports: JSON, SRT, VTT and plain text."""

from __future__ import annotations

import json

from pipeline.transcribe.base import TRANSLATE, TranscriptResult

FORMATS = ("json", "srt", "vtt", "txt")


def _timestamp(seconds: float, separator: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def to_json(result: TranscriptResult) -> str:
    return json.dumps(result.to_dict(), ensure_ascii=False, indent=2)


def to_srt(result: TranscriptResult) -> str:
    blocks = [
        f"{i}\n{_timestamp(s.start, ',')} --> {_timestamp(s.end, ',')}\n{s.text.strip()}\n"
        for i, s in enumerate(result.segments, start=1)
    ]
    return "\n".join(blocks)


def to_vtt(result: TranscriptResult) -> str:
    cues = [
        f"{_timestamp(s.start, '.')} --> {_timestamp(s.end, '.')}\n{s.text.strip()}\n" for s in result.segments
    ]
    label = translation_label(result)
    return "WEBVTT\n\n" + (f"NOTE {label}\n\n" if label else "") + "\n".join(cues)


def translation_label(result: TranscriptResult) -> str | None:
    """What a translated transcript says about itself (None for a transcription)."""
    if result.task != TRANSLATE:
        return None
    spoken = ", ".join(result.language_shares()) or result.language
    return f"English translation by Whisper of speech in {spoken}; not a transcript"


def to_txt(result: TranscriptResult) -> str:
    label = translation_label(result)
    return (f"[{label}]\n" if label else "") + "\n".join(s.text.strip() for s in result.segments) + "\n"


def render(result: TranscriptResult, fmt: str) -> str:
    writers = {"json": to_json, "srt": to_srt, "vtt": to_vtt, "txt": to_txt}
    return writers[fmt](result)
