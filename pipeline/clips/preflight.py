"""Preflight: will a rendered clip be accepted by a platform, checked before anything is uploaded.

``probe_clip`` reads what a file holds with ffprobe; ``faststart`` reads the
MP4 box order itself; ``preflight`` turns both into one-line ``Violation``\\ s.

Two kinds of rules apply:

* universal rules, for every platform, because every platform in
  ``pipeline.platforms`` plays them: an MP4/MOV container with the ``moov``
  index before the media data (faststart), H.264 video in ``yuv420p`` at
  23–60 fps, and an AAC audio track;
* platform rules, read from the ``Platform`` attributes (duration, file size,
  aspect ratio, minimum resolution) and worded exactly as ``Platform.validate``
  words them.

A file without a video stream (an mp3/m4a snippet; cover art does not count
as video) is checked only for having audio and for the platform taking audio
files at all.

Example:
    >>> from pipeline.clips.preflight import preflight
    >>> for v in preflight("clip.mp4", "tiktok"):          # doctest: +SKIP
    ...     print(v.rule, "-", v.message)
    faststart - the moov index comes after the media data; platforms need faststart (ffmpeg -movflags +faststart)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.errors import MediaError
from pipeline.media.probe import positive_seconds, run_ffprobe
from pipeline.platforms import MediaItem, Platform, PostContent, Violation, get_platform

# Universal requirements (see the module docstring).
VIDEO_CODEC = "h264"
AUDIO_CODEC = "aac"
PIXEL_FORMAT = "yuv420p"
MIN_FPS = 23.0  # 23.976 (film) is the lowest rate the platforms list
MAX_FPS = 60.0
# Cover art in mp3/m4a shows up as a one-frame "video" stream; it is not video.
_ATTACHED_PIC = "attached_pic"
# A box header is a 32-bit big-endian size and a four-character type; size 1 means a
# 64-bit "largesize" follows, size 0 means the box runs to the end of the file.
_BOX_HEADER = struct.Struct(">I4s")
_LARGESIZE = struct.Struct(">Q")


@dataclass(frozen=True)
class ClipProbe:
    path: Path
    container: str  # ffprobe's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    video_codec: str | None  # None: no video stream (audio-only file)
    audio_codec: str | None  # None: no audio stream
    pixel_format: str | None
    width: int  # as displayed: a 90°-rotated 1920×1080 recording is 1080×1920
    height: int
    fps: float  # average frame rate; 0.0 when unknown or no video
    seconds: float
    bytes: int
    faststart: bool  # MP4/MOV with 'moov' before 'mdat'; False for other containers
    audio_channels: int
    sample_rate: int

    @property
    def has_video(self) -> bool:
        return self.video_codec is not None

    @property
    def is_mp4(self) -> bool:
        return "mp4" in self.container.split(",")


# ------------------------------------------------------------------ probing


def probe_clip(path: str | Path) -> ClipProbe:
    """What ``path`` holds; raises ``MediaError`` ("<path>: <reason>", one line) when unreadable."""
    path = Path(path)
    if not path.exists():
        raise MediaError("no such file", source=path)
    if path.is_dir():
        raise MediaError("is a folder, not a clip", source=path)
    size = path.stat().st_size
    if size == 0:
        raise MediaError("file is empty", source=path)
    data = run_ffprobe(path)  # ffprobe -print_format json -show_format -show_streams
    streams = data.get("streams", [])
    video = next(
        (
            s
            for s in streams
            if s.get("codec_type") == "video" and not (s.get("disposition") or {}).get(_ATTACHED_PIC)
        ),
        None,
    )
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    if video is None and audio is None:
        raise MediaError("holds neither a video nor an audio stream", source=path)
    fmt = data["format"]
    container = str(fmt.get("format_name") or "")
    width, height = _display_size(video or {})
    return ClipProbe(
        path=path,
        container=container,
        video_codec=(video.get("codec_name") or "unknown") if video else None,
        audio_codec=(audio.get("codec_name") or "unknown") if audio else None,
        pixel_format=(video or {}).get("pix_fmt"),
        width=width,
        height=height,
        fps=_fps(video or {}),
        seconds=_seconds(fmt, [s for s in (video, audio) if s]),
        bytes=size,
        faststart="mp4" in container.split(",") and faststart(path),
        audio_channels=_int((audio or {}).get("channels")),
        sample_rate=_int((audio or {}).get("sample_rate")),
    )


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0


def _rate(value: object) -> float:
    """ffprobe's "30000/1001" (or "0/0" when unknown) as a float."""
    try:
        num, _, den = str(value).partition("/")
        return float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return 0.0


def _fps(stream: dict) -> float:
    for key in ("avg_frame_rate", "r_frame_rate"):
        if (rate := _rate(stream.get(key))) > 0:
            return rate
    return 0.0


def _seconds(fmt: dict, streams: list[dict]) -> float:
    return positive_seconds(fmt.get("duration"), *(s.get("duration") for s in streams))


def _rotation(stream: dict) -> int:
    """Display rotation in degrees: the display matrix side data, or the older "rotate" tag."""
    for side in stream.get("side_data_list") or []:
        if "rotation" in side:
            return _int(side["rotation"])
    return _int((stream.get("tags") or {}).get("rotate"))


def _display_size(stream: dict) -> tuple[int, int]:
    width, height = _int(stream.get("width")), _int(stream.get("height"))
    if _rotation(stream) % 180 == 90:  # -90 % 180 == 90 too
        return height, width
    return width, height


def faststart(path: str | Path) -> bool:
    """True when the MP4/MOV file at ``path`` has its ``moov`` box before its ``mdat`` box.

    Walks the top-level boxes by their headers (32-bit size and type; size 1
    = a 64-bit largesize follows; size 0 = the box runs to the end of the
    file) without reading their contents. False when ``mdat`` comes first,
    when either box is missing, or when the headers do not describe an MP4.
    """
    path = Path(path)
    end = path.stat().st_size
    offset = 0
    with path.open("rb") as fh:
        while offset + _BOX_HEADER.size <= end:
            fh.seek(offset)
            size, kind = _BOX_HEADER.unpack(fh.read(_BOX_HEADER.size))
            header = _BOX_HEADER.size
            if size == 1:
                raw = fh.read(_LARGESIZE.size)
                if len(raw) < _LARGESIZE.size:
                    return False
                (size,) = _LARGESIZE.unpack(raw)
                header += _LARGESIZE.size
            elif size == 0:
                size = end - offset
            if size < header:  # malformed: a box cannot be smaller than its header
                return False
            if kind == b"moov":
                return True
            if kind == b"mdat":
                return False
            offset += size
    return False


# ------------------------------------------------------------------ checking


def preflight(path: str | Path, platform: Platform | str) -> list[Violation]:
    """Every rule the clip at ``path`` breaks for ``platform`` (a ``Platform`` or its name); ``[]`` = ready.

    Raises ``MediaError`` when the file cannot be read at all, and
    ``UnknownPlatform`` for a name that is not in the registry.
    """
    return check_probe(probe_clip(path), platform)


def check_probe(probe: ClipProbe, platform: Platform | str) -> list[Violation]:
    """``preflight`` on an already probed clip."""
    if isinstance(platform, str):
        platform = get_platform(platform)
    if not probe.has_video:
        return _check_audio_only(probe, platform)
    return _check_universal(probe) + _check_platform(probe, platform)


def _check_audio_only(probe: ClipProbe, platform: Platform) -> list[Violation]:
    if probe.audio_codec is None:
        return [Violation("audio_missing", "file has neither a video nor an audio stream; it needs audio")]
    if not platform.audio_allowed:
        return [
            Violation(
                "audio",
                f"file is audio only ({probe.audio_codec}); {platform.label} does not take audio files,"
                " render an audiogram video instead",
            )
        ]
    return []


def _check_universal(probe: ClipProbe) -> list[Violation]:
    found: list[Violation] = []
    if not probe.is_mp4:
        found.append(Violation("container", f"container is {probe.container or 'unknown'}; it must be MP4 or MOV"))
    elif not probe.faststart:
        found.append(
            Violation(
                "faststart",
                "the moov index comes after the media data; platforms need faststart (ffmpeg -movflags +faststart)",
            )
        )
    if probe.video_codec != VIDEO_CODEC:
        found.append(Violation("video_codec", f"video codec is {probe.video_codec}; it must be H.264 ({VIDEO_CODEC})"))
    if probe.pixel_format != PIXEL_FORMAT:
        found.append(
            Violation("pixel_format", f"pixel format is {probe.pixel_format or 'unknown'}; it must be {PIXEL_FORMAT}")
        )
    if not MIN_FPS <= probe.fps <= MAX_FPS:
        shown = f"{probe.fps:.3g} fps" if probe.fps > 0 else "unknown"
        found.append(
            Violation("frame_rate", f"frame rate is {shown}; it must be between {MIN_FPS:g} and {MAX_FPS:g} fps")
        )
    if probe.audio_codec is None:
        found.append(Violation("audio_missing", f"video has no audio track; it needs an AAC ({AUDIO_CODEC}) track"))
    elif probe.audio_codec != AUDIO_CODEC:
        found.append(Violation("audio_codec", f"audio codec is {probe.audio_codec}; it must be AAC ({AUDIO_CODEC})"))
    return found


def _check_platform(probe: ClipProbe, platform: Platform) -> list[Violation]:
    """Duration, size, aspect and resolution limits, via ``Platform.validate`` so the wording is shared."""
    item = MediaItem(
        kind="video",
        path=str(probe.path),
        # Milliseconds: enough for any platform limit, and messages read "1.023 s", not 17 digits.
        seconds=round(probe.seconds, 3) if probe.seconds > 0 else None,
        width=probe.width or None,
        height=probe.height or None,
        bytes=probe.bytes,
    )
    # An empty text with one video attachment: only the media rules can fire.
    return platform.validate([PostContent(text="", media=(item,))])
