"""Audio-only snippets of a highlight: cut and faded with pydub, brought to -14 LUFS, saved as mp3 and m4a.

Steps for one highlight:

1. pydub decodes only ``start``…``end`` (``AudioSegment.from_file(start_second=, duration=)``
   has ffmpeg seek and stop, so memory holds the highlight, not the episode) and applies
   short fades; mono stays mono, stereo stays stereo.
2. The faded cut is measured (ffmpeg ``ebur128``, integrated loudness and true peak).
3. Gain to reach ``TARGET_LUFS`` is applied with a true-peak limiter behind it. Speech has
   a peak-to-loudness ratio of 15-20 dB, so -14 LUFS puts raw peaks well above 0 dBFS:
   ffmpeg ``loudnorm`` in linear mode refuses that gain and falls back to its dynamic mode,
   which on the sample episode lands at -15.4 LUFS (outside ±1 LU). Instead the gain is
   found in a few measured passes (secant steps, each pass measuring what the limiter
   really leaves) until the result is within ``LUFS_TOLERANCE``.
4. One ffmpeg run encodes every format from the same filter chain, each into a hidden
   temporary name in ``out_dir``; only when all have been written are they renamed to
   ``<stem>.<format>``. On any failure every file this call made is removed and a
   one-line ``MediaError`` naming the source is raised.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.errors import MediaError
from pipeline.media.probe import last_stderr_line, probe, require_binary

# Spotify plays tracks at -14 LUFS integrated (ITU-R BS.1770) and tells creators to "target
# the loudness level of your master at -14dB integrated LUFS and keep it below -1dB TP
# (True Peak) max" because it is "best for lossy formats" (Spotify for Artists, "Loudness
# normalization": https://support.spotify.com/us/artists/article/loudness-normalization/).
# YouTube's playback reference is the same -14 LUFS, so a snippet at it is neither turned
# down nor (lacking headroom) left quiet by the platform.
TARGET_LUFS = -14.0
TRUE_PEAK_MAX_DBTP = -1.0
# Fade-in only removes the click of a cut mid-waveform, so it stays far below the 0.2 s of
# silence the highlight miner keeps before the first word (HighlightOptions.lead_min) and
# cannot eat a syllable. The fade-out is a little longer so the clip ends softly, still
# inside the 0.3 s kept after the last word (tail_min). Both shrink on very short clips.
FADE_IN_MS = 50
FADE_OUT_MS = 200
BITRATE = "128k"
# How close to TARGET_LUFS the pre-encode audio must get; lossy encoding moves it a further
# ±0.3 LU or so (an mp3 at 22.05 kHz loses some treble, which K-weighting counts).
LUFS_TOLERANCE = 0.1
MAX_GAIN_PASSES = 4
# The limiter works on 4× oversampled audio, so its sample peaks track true peak closely;
# its ceiling sits 1 dB under TRUE_PEAK_MAX_DBTP to leave room for encoder overshoot
# (measured: mp3 -2.4 dBTP, AAC -1.8 dBTP on the sample at this ceiling).
LIMITER_CEILING_DBFS = TRUE_PEAK_MAX_DBTP - 1.0
OVERSAMPLE = 4
LIMITER_ATTACK_MS = 1.0
LIMITER_RELEASE_MS = 60.0
# Below this the ebur128 gate has nothing to measure: the highlight is silence.
SILENCE_LUFS = -70.0
# A highlight may end this far past the probed duration: ffprobe estimates an MP3's duration from its bitrate,
# and the decoded audio the highlights were cut from can run a few hundred milliseconds longer.
END_TOLERANCE_S = 0.5
# pydub may decode a little less than asked at the very end of a file; more is truncation.
SHORT_DECODE_TOLERANCE_S = 0.25
FFMPEG_TIMEOUT_S = 600
# Sample rates both libmp3lame and the AAC encoder accept; the source's rate is kept when listed.
_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)
# Output arguments per format: codec, bitrate, muxer (``ipod`` is ffmpeg's .m4a muxer).
_ENCODERS: dict[str, list[str]] = {
    "mp3": ["-c:a", "libmp3lame", "-b:a", BITRATE, "-f", "mp3"],
    "m4a": ["-c:a", "aac", "-b:a", BITRATE, "-movflags", "+faststart", "-f", "ipod"],
}
_NUMBER = r"(-?(?:\d+(?:\.\d+)?|inf))"


@dataclass(frozen=True)
class Snippet:
    path: Path
    format: str  # "mp3" | "m4a"
    seconds: float  # decoded length of the written file (ffprobe's mp3 figure adds encoder padding)
    lufs: float  # integrated loudness of the written file


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS
    true_peak: float  # dBTP
    seconds: float  # decoded length of the audio that was measured


def render_snippets(
    source: Path,
    start: float,
    end: float,
    out_dir: Path,
    stem: str,
    *,
    formats: tuple[str, ...] = ("mp3", "m4a"),
) -> list[Snippet]:
    """Write ``out_dir/<stem>.<format>`` for each format; all of them or none (MediaError)."""
    source, out_dir = Path(source), Path(out_dir)
    formats = tuple(dict.fromkeys(formats))
    unknown = [f for f in formats if f not in _ENCODERS]
    if unknown or not formats:
        raise ValueError(f"snippet formats must be among {sorted(_ENCODERS)}, not {list(formats)}")
    if not stem or Path(stem).name != stem or stem.startswith("."):
        raise ValueError(f"stem must be a plain file name, not {stem!r}")
    require_binary("ffmpeg")
    require_binary("ffprobe")
    end = _check_range(source, start, end)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MediaError(f"cannot create snippet folder {out_dir} ({_os_reason(exc)})", source=source) from exc

    temps: list[Path] = []
    finished: list[Path] = []
    try:
        cut = _new_temp(out_dir, stem, "cut.wav", temps)
        rate, channels = _cut_and_fade(source, start, end, cut)
        gain = _solve_gain(cut, rate)
        parts = {fmt: _new_temp(out_dir, stem, fmt, temps) for fmt in formats}
        _encode(source, cut, gain, rate, channels, parts)
        snippets = []
        for fmt, part in parts.items():
            final = out_dir / f"{stem}.{fmt}"
            loudness = measure_loudness(part)
            snippets.append(Snippet(final, fmt, loudness.seconds, loudness.integrated))
        for fmt, part in parts.items():
            os.replace(part, out_dir / f"{stem}.{fmt}")
            finished.append(out_dir / f"{stem}.{fmt}")
        return snippets
    except MediaError as exc:
        _remove(finished)
        raise MediaError(f"cannot render snippet: {exc.reason}", source=source) from exc
    except Exception as exc:  # OSError, pydub's CouldntDecodeError …: still one line, no partial files
        _remove(finished)
        reason = _os_reason(exc) if isinstance(exc, OSError) else _one_line(str(exc)) or type(exc).__name__
        raise MediaError(f"cannot render snippet: {reason}", source=source) from exc
    finally:
        _remove(temps)


def measure_lufs(path: Path) -> float:
    """Integrated loudness (LUFS, ITU-R BS.1770 / EBU R128) of a media file's first audio stream."""
    return measure_loudness(path).integrated


def measure_loudness(path: Path, filters: str = "") -> Loudness:
    """Integrated loudness, true peak and decoded length via ffmpeg ``ebur128``.

    ``filters`` (an ffmpeg filter chain) run before the meter, so a candidate treatment can be
    measured without writing it out.
    """
    path = Path(path)
    chain = f"{filters}," if filters else ""
    cmd = [
        require_binary("ffmpeg"), "-nostdin", "-hide_banner", "-nostats", "-i", str(path),
        "-vn", "-map", "0:a:0", "-af", f"{chain}ebur128=peak=true:framelog=verbose", "-f", "null", "-",
    ]
    stderr = _run(cmd, path, "measure the loudness")
    summary = stderr[stderr.rfind("Summary:"):]
    integrated = re.search(rf"I:\s+{_NUMBER} LUFS", summary)
    peak = re.search(rf"Peak:\s+{_NUMBER} dBFS", summary)
    if "Summary:" not in stderr or not integrated or not peak:
        raise MediaError("ffmpeg ebur128 printed no loudness summary", source=path)
    # ffmpeg's closing progress line ("size=N/A time=00:00:15.00 …") is printed even with
    # -nostats and gives the length that was decoded, to 10 ms.
    times = re.findall(r"time=(\d+):(\d\d):(\d\d(?:\.\d+)?)", stderr)
    if times:
        hours, minutes, secs = times[-1]
        seconds = int(hours) * 3600 + int(minutes) * 60 + float(secs)
    else:
        seconds = probe(path).duration
    return Loudness(float(integrated.group(1)), float(peak.group(1)), seconds)


def _check_range(source: Path, start: float, end: float) -> float:
    if not (math.isfinite(start) and math.isfinite(end)) or start < 0 or end <= start:
        raise MediaError(f"highlight range {start:.2f}-{end:.2f} s is empty or negative", source=source)
    duration = probe(source).duration
    if end > duration + END_TOLERANCE_S:
        raise MediaError(
            f"highlight ends at {end:.1f} s but the media is only {duration:.1f} s long", source=source
        )
    return min(end, duration)


def _cut_and_fade(source: Path, start: float, end: float, cut: Path) -> tuple[int, int]:
    """Decode start…end with pydub, fade, write a wav; returns (sample rate, channels)."""
    from pydub import AudioSegment  # deferred: pydub probes for ffmpeg when imported

    wanted = end - start
    with tempfile.TemporaryDirectory(prefix="castmill-snippet-") as scratch:
        segment = AudioSegment.from_file(
            str(_decodable_name(source, Path(scratch))), start_second=start, duration=wanted
        )
    got = len(segment) / 1000.0
    if got < wanted - SHORT_DECODE_TOLERANCE_S:
        raise MediaError(f"decoded only {got:.1f} s of the {wanted:.1f} s highlight (file truncated?)")
    fade_in = min(FADE_IN_MS, len(segment) // 4)
    fade_out = min(FADE_OUT_MS, len(segment) // 4)
    if fade_in > 0:
        segment = segment.fade_in(fade_in)
    if fade_out > 0:
        segment = segment.fade_out(fade_out)
    segment.export(str(cut), format="wav")
    return segment.frame_rate, segment.channels


def _decodable_name(source: Path, scratch: Path) -> Path:
    """A name pydub will hand to ffmpeg with a seek.

    For a ``.wav`` name pydub skips ffmpeg and reads the *whole* file into memory before
    slicing (an hour of 44.1 kHz stereo is 635 MB); a symlink without the suffix makes it
    decode only the range like any other format.
    """
    if source.suffix.lower() != ".wav":
        return source
    link = scratch / "source.media"
    link.symlink_to(source.resolve())
    return link


def _limited(gain_db: float, rate: int, out_rate: int | None = None) -> str:
    """Gain, then a lookahead limiter on oversampled audio, then ``out_rate`` (default: ``rate``)."""
    ceiling = 10 ** (LIMITER_CEILING_DBFS / 20)
    return (
        f"volume={gain_db:.3f}dB:precision=float,aresample={rate * OVERSAMPLE},"
        f"alimiter=limit={ceiling:.5f}:attack={LIMITER_ATTACK_MS}:release={LIMITER_RELEASE_MS}"
        f":level=false:latency=true,aresample={out_rate or rate}"
    )


def _solve_gain(cut: Path, rate: int) -> float:
    """The gain (dB) that, with the limiter, brings the cut to TARGET_LUFS ± LUFS_TOLERANCE."""
    measured = measure_loudness(cut).integrated
    if measured <= SILENCE_LUFS:
        raise MediaError("the highlight is silent, so there is nothing to normalise")
    tried: list[tuple[float, float]] = []  # (gain, resulting loudness)
    gain = TARGET_LUFS - measured
    for _ in range(MAX_GAIN_PASSES):
        result = measure_loudness(cut, _limited(gain, rate)).integrated
        tried.append((gain, result))
        error = TARGET_LUFS - result
        if abs(error) <= LUFS_TOLERANCE:
            break
        slope = 1.0
        if len(tried) >= 2:
            (g0, r0), (g1, r1) = tried[-2], tried[-1]
            if g1 != g0:
                # The limiter gives back less than each added dB; never assume < 0.1 dB per dB.
                slope = min(1.0, max(0.1, (r1 - r0) / (g1 - g0)))
        gain += error / slope
    return min(tried, key=lambda pair: abs(TARGET_LUFS - pair[1]))[0]


def _encode(source: Path, cut: Path, gain: float, rate: int, channels: int, parts: dict[str, Path]) -> None:
    out_rate = next((r for r in _RATES if r >= rate), _RATES[-1])
    labels = [f"[o{i}]" for i in range(len(parts))]
    graph = f"[0:a]{_limited(gain, rate, out_rate)},asplit={len(parts)}{''.join(labels)}"
    cmd = [require_binary("ffmpeg"), "-nostdin", "-hide_banner", "-v", "error", "-y",
           "-i", str(cut), "-filter_complex", graph]
    for label, (fmt, part) in zip(labels, parts.items()):
        cmd += ["-map", label, *(["-ac", "2"] if channels > 2 else []), *_ENCODERS[fmt], str(part)]
    _run(cmd, source, "encode the snippet")


def _run(cmd: list[str], path: Path, doing: str) -> str:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=FFMPEG_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        raise MediaError(f"ffmpeg did not {doing} within {FFMPEG_TIMEOUT_S} s", source=path) from exc
    if done.returncode != 0:
        raise MediaError(f"ffmpeg could not {doing} ({last_stderr_line(done.stderr, 'no error message')})", source=path)
    return done.stderr


def _new_temp(out_dir: Path, stem: str, suffix: str, temps: list[Path]) -> Path:
    handle, name = tempfile.mkstemp(prefix=f".{stem}.", suffix=f".{suffix}.part", dir=out_dir)
    os.close(handle)
    temps.append(Path(name))
    return Path(name)


def _remove(paths: list[Path]) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError:
            pass


def _one_line(text: str) -> str:
    """First and last line of a multi-line message (pydub's decode errors append all of stderr)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > 1:
        return f"{lines[0].rstrip('.')} ({lines[-1]})"[:300]
    return lines[0][:300] if lines else ""


def _os_reason(exc: OSError) -> str:
    return exc.strerror or _one_line(str(exc)) or type(exc).__name__
