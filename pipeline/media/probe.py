"""Media probing with ffprobe: what a file holds, or a one-line reason it is unusable."""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.core.errors import MediaError

PROBE_TIMEOUT_S = 60
# Cover art in mp3/m4a shows up as a one-frame "video" stream; it is not video.
_ATTACHED_PIC = "attached_pic"


@dataclass(frozen=True)
class MediaInfo:
    path: Path
    duration: float
    format_name: str
    has_audio: bool
    has_video: bool
    title: str = ""
    sample_rate: int = 0
    channels: int = 0
    width: int = 0
    height: int = 0
    raw: dict = field(default_factory=dict, repr=False, compare=False)


def require_binary(name: str) -> str:
    """The path of an ffmpeg-suite binary, or a clear error saying how to install it."""
    found = shutil.which(name)
    if not found:
        raise MediaError(f"{name} is not installed: run `make setup` or `apt-get install ffmpeg`")
    return found


def probe(path: Path) -> MediaInfo:
    """Probe ``path``; raises MediaError naming the file for anything unusable."""
    path = Path(path)
    if not path.exists():
        raise MediaError("no such file", source=path)
    if path.is_dir():
        raise MediaError("is a folder, not a media file", source=path)
    if path.stat().st_size == 0:
        raise MediaError("file is empty", source=path)
    data = run_ffprobe(path)
    return _media_info(path, data)


def run_ffprobe(path: Path) -> dict:
    cmd = [
        require_binary("ffprobe"), "-v", "error", "-print_format", "json",
        "-show_format", "-show_streams", str(path),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=PROBE_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise MediaError(f"ffprobe gave no answer within {PROBE_TIMEOUT_S} s", source=path) from exc
    data = json.loads(done.stdout or "{}") if done.stdout.strip() else {}
    if done.returncode != 0 or "format" not in data:
        raise MediaError(f"not a readable audio or video file ({_last_line(done.stderr)})", source=path)
    return data


def last_stderr_line(stderr: str, default: str = "unknown error") -> str:
    """The last non-empty line an ffmpeg-suite tool printed: the one that says what went wrong."""
    return next((line.strip() for line in reversed(stderr.splitlines()) if line.strip()), default)


def _last_line(stderr: str) -> str:
    # ffprobe prefixes the path; the user already sees it.
    return last_stderr_line(stderr, "ffprobe found no media").split(": ", 1)[-1]


def _media_info(path: Path, data: dict) -> MediaInfo:
    streams = data.get("streams", [])
    audio = [s for s in streams if s.get("codec_type") == "audio"]
    video = [
        s for s in streams
        if s.get("codec_type") == "video" and not s.get("disposition", {}).get(_ATTACHED_PIC)
    ]
    if not audio:
        kind = "video" if video else "file"
        raise MediaError(f"{kind} has no audio stream, so there is nothing to transcribe", source=path)
    fmt = data["format"]
    duration = _duration(fmt, audio[0])
    if duration <= 0:
        raise MediaError("has no measurable duration", source=path)
    first_video = video[0] if video else {}
    return MediaInfo(
        path=path,
        duration=duration,
        format_name=fmt.get("format_name", ""),
        has_audio=True,
        has_video=bool(video),
        title=(fmt.get("tags") or {}).get("title", "") or (fmt.get("tags") or {}).get("TITLE", ""),
        sample_rate=int(audio[0].get("sample_rate") or 0),
        channels=int(audio[0].get("channels") or 0),
        width=int(first_video.get("width") or 0),
        height=int(first_video.get("height") or 0),
        raw=data,
    )


def _duration(fmt: dict, audio_stream: dict) -> float:
    return positive_seconds(audio_stream.get("duration"), fmt.get("duration"))


def positive_seconds(*values) -> float:
    """The first ffprobe duration among ``values`` that is a positive number (they come as strings)."""
    for value in values:
        try:
            if value is not None and float(value) > 0:
                return float(value)
        except ValueError:
            continue
    return 0.0
