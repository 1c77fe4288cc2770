"""What a clip is, independent of the engine that renders it.

Both engines (``render_ffmpeg``: one ffmpeg filter graph; ``render_moviepy``:
moviepy compositing) take the same ``ClipSpec`` and must produce the same
duration, resolution, audio and caption placement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core.vocab import ASPECTS

# 30 fps: every platform in pipeline/platforms accepts it and it halves the work of 60 fps.
FPS = 30
# A clip's audio fades in and out over this long at its two edges: no click where the cut meets a
# waveform mid-swing, and far shorter than the pause kept around the words (lead 0.2 s, tail 0.3 s).
EDGE_FADE_SECONDS = 0.02
# Where platform buttons and captions of the app itself cover a vertical video: keep captions
# out of the bottom 20 % and the top 12 % (TikTok/Reels/Shorts overlays), and 6 % off each side.
SAFE_ZONE = {"top": 0.12, "bottom": 0.20, "side": 0.06}


@dataclass(frozen=True)
class CaptionStyle:
    font: str = "DejaVu Sans"
    # Font size as a share of the frame height (0.045 × 1920 ≈ 86 px on a 9:16 clip).
    size: float = 0.045
    colour: str = "#FFFFFF"
    highlight: str = "#FFD400"  # the word being spoken
    outline: str = "#000000"
    outline_width: float = 0.004  # share of the frame height
    # Vertical centre of the caption block as a share of the frame height (inside the safe zone).
    position: float = 0.68
    uppercase: bool = False
    max_lines: int = 2
    # One colour per speaker for the words that are not being spoken: S1 gets the first, S2 the second …
    # (cycling when there are more speakers than colours). Empty: every word in ``colour``.
    speaker_colours: tuple[str, ...] = ()

    def word_colour(self, speaker: str) -> str:
        """The colour of a word said by ``speaker`` while another word is highlighted."""
        if not self.speaker_colours or not speaker:
            return self.colour
        return self.speaker_colours[speaker_index(speaker) % len(self.speaker_colours)]


def speaker_index(label: str) -> int:
    """0 for "S1", 1 for "S2" …; a label without a number counts by its characters, so it still gets a fixed slot."""
    digits = "".join(c for c in label if c.isdigit())
    if digits:
        return max(0, int(digits) - 1)
    return sum(label.encode())


@dataclass(frozen=True)
class CaptionWord:
    text: str
    start: float  # seconds from the start of the clip
    end: float
    speaker: str = ""  # "S1", "S2" … when the transcript was diarized; "" when unknown


@dataclass(frozen=True)
class ClipSpec:
    source: Path  # the episode's media file
    start: float  # cut points in the episode, seconds
    end: float
    kind: str = "audiogram"  # video | audiogram | audio
    aspect: str = "9:16"
    title: str = ""
    subtitle: str = ""
    cover: Path | None = None  # cover art for audiograms; a generated title card when None
    words: tuple[CaptionWord, ...] = ()
    style: CaptionStyle = field(default_factory=CaptionStyle)
    fps: int = FPS

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def size(self) -> tuple[int, int]:
        return ASPECTS[self.aspect]
