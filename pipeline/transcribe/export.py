"""Transcript exports: JSON, SRT, VTT and plain text.

A diarized transcript names its speakers: a ``speaker_names`` field in JSON, WebVTT voice spans
(``<v Dinda>``), and a "Dinda: " prefix in SRT and text whenever the speaker changes. ``names`` maps
labels to the names the VA gave them ({"S1": "Dinda"}); an unnamed speaker keeps its label.
"""

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


def speaker_name(label: str, names: dict[str, str] | None) -> str:
    """The name the VA gave ``label``, else the label itself ("S1")."""
    return (names or {}).get(label) or label


def to_json(result: TranscriptResult, names: dict[str, str] | None = None) -> str:
    data = result.to_dict()
    if result.speakers:
        data["speaker_names"] = {label: speaker_name(label, names) for label in result.speakers}
    return json.dumps(data, ensure_ascii=False, indent=2)


def _prefixed_lines(result: TranscriptResult, names: dict[str, str] | None) -> list[str]:
    """Each segment's text, with "Name: " before it where the speaker changes."""
    lines, previous = [], None
    for s in result.segments:
        text = s.text.strip()
        if s.speaker and s.speaker != previous:
            text = f"{speaker_name(s.speaker, names)}: {text}"
        previous = s.speaker or previous
        lines.append(text)
    return lines


def to_srt(result: TranscriptResult, names: dict[str, str] | None = None) -> str:
    blocks = [
        f"{i}\n{_timestamp(s.start, ',')} --> {_timestamp(s.end, ',')}\n{text}\n"
        for i, (s, text) in enumerate(zip(result.segments, _prefixed_lines(result, names)), start=1)
    ]
    return "\n".join(blocks)


def vtt_voice(text: str, speaker: str, names: dict[str, str] | None) -> str:
    """WebVTT cue text in a voice span naming the speaker (``text`` unchanged when there is none)."""
    if not speaker:
        return text
    # A voice span's annotation ends at ">", and cue text may hold no raw "<" or "&".
    name = speaker_name(speaker, names).replace("<", "").replace(">", "").replace("&", "&amp;")
    return f"<v {name}>{text.replace('&', '&amp;').replace('<', '&lt;')}</v>"


def to_vtt(result: TranscriptResult, names: dict[str, str] | None = None) -> str:
    cues = [
        f"{_timestamp(s.start, '.')} --> {_timestamp(s.end, '.')}\n{vtt_voice(s.text.strip(), s.speaker, names)}\n"
        for s in result.segments
    ]
    label = translation_label(result)
    return "WEBVTT\n\n" + (f"NOTE {label}\n\n" if label else "") + "\n".join(cues)


def translation_label(result: TranscriptResult) -> str | None:
    """What a translated transcript says about itself (None for a transcription)."""
    if result.task != TRANSLATE:
        return None
    spoken = ", ".join(result.language_shares()) or result.language
    return f"English translation by Whisper of speech in {spoken}; not a transcript"


def to_txt(result: TranscriptResult, names: dict[str, str] | None = None) -> str:
    label = translation_label(result)
    return (f"[{label}]\n" if label else "") + "\n".join(_prefixed_lines(result, names)) + "\n"


def render(result: TranscriptResult, fmt: str, names: dict[str, str] | None = None) -> str:
    writers = {"json": to_json, "srt": to_srt, "vtt": to_vtt, "txt": to_txt}
    return writers[fmt](result, names)
