"""Chapters written out: a YouTube description block, Podcasting 2.0 JSON chapters, a Markdown list.

YouTube turns description lines "0:00 Title" into chapters only when the first is at 0:00, there are at
least three, and each lasts at least 10 seconds (https://support.google.com/youtube/answer/9884579);
a list breaking a rule is silently ignored, so ``youtube_description`` refuses it and says why.

The JSON follows the Podcast Namespace's JSON chapters format, version 1.2
(https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/examples/chapters/jsonChapters.md):
``version`` and ``chapters`` are required; each chapter requires ``startTime`` (seconds, a number) and
may carry ``title`` and ``endTime``; chapters are in ascending ``startTime``.
"""

from __future__ import annotations

import json

from pipeline.core.errors import LongFormError
from pipeline.longform.chapters import YOUTUBE_MIN_CHAPTER_SECONDS, Chapter, timestamp

YOUTUBE_MIN_CHAPTERS = 3
JSON_CHAPTERS_VERSION = "1.2.0"
# The Content-Type the JSON chapters spec asks a server to send with the file.
JSON_CHAPTERS_MEDIA_TYPE = "application/json+chapters"
FORMATS = ("youtube", "json", "md")


def youtube_description(chapters: list[Chapter]) -> str:
    """Lines "0:00 Title", "4:12 Title", "1:02:03 Title"; raises when YouTube would not show them as chapters."""
    starts = [int(c.start) for c in chapters]  # rounded down: a chapter never opens after its first word
    if len(chapters) < YOUTUBE_MIN_CHAPTERS:
        raise LongFormError(f"YouTube needs at least {YOUTUBE_MIN_CHAPTERS} chapters and this episode has "
                             f"{len(chapters)} ({timestamp(chapters[-1].end if chapters else 0)} long); "
                             "use --format md or json")
    ends = starts[1:] + [int(chapters[-1].end)]
    short = next((c for c, s, e in zip(chapters, starts, ends) if e - s < YOUTUBE_MIN_CHAPTER_SECONDS), None)
    if starts[0] != 0 or short is not None:
        raise LongFormError(f"chapter {short.index + 1 if short else 1} breaks YouTube's rules (first at 0:00, "
                             f"each at least {YOUTUBE_MIN_CHAPTER_SECONDS:.0f} s)")
    return "\n".join(f"{timestamp(s)} {c.title}" for c, s in zip(chapters, starts))


def json_chapters(chapters: list[Chapter], *, title: str | None = None) -> dict:
    """The Podcasting 2.0 chapters object; ``title`` is the episode's (optional in the spec)."""
    data: dict = {"version": JSON_CHAPTERS_VERSION}
    if title:
        data["title"] = title
    data["chapters"] = [{"startTime": _seconds(c.start), "endTime": _seconds(c.end), "title": c.title}
                        for c in chapters]
    return data


def json_chapters_text(chapters: list[Chapter], *, title: str | None = None) -> str:
    return json.dumps(json_chapters(chapters, title=title), indent=2, ensure_ascii=False)


def markdown_list(chapters: list[Chapter]) -> str:
    """"- 0:00 Title" lines, with the speaker's name when one named speaker carries the chapter."""
    return "\n".join(f"- {timestamp(c.start)} {c.title}" + (f" ({c.speaker})" if c.speaker else "") for c in chapters)


def export(chapters: list[Chapter], fmt: str, *, title: str | None = None) -> str:
    """The chapters in one of ``FORMATS``."""
    if fmt == "youtube":
        return youtube_description(chapters)
    if fmt == "json":
        return json_chapters_text(chapters, title=title)
    if fmt == "md":
        return markdown_list(chapters)
    raise LongFormError(f"unknown chapters format {fmt!r}; use one of: {', '.join(FORMATS)}")


def _seconds(value: float) -> int | float:
    """A whole number of seconds as an integer (the spec's examples), else to the millisecond."""
    rounded = round(value, 3)
    return int(rounded) if rounded == int(rounded) else rounded
