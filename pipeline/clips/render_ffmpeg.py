"""The default clip engine: one ffmpeg process and one filter graph per clip.

Audiogram: background (cover art scaled to fill, or a title card) + a waveform of
the clip's audio + title + a progress bar + burned-in ASS captions. Video: the cut
reframed (centre crop, or blurred-background fit) + captions. Both are encoded
H.264 yuv420p + AAC with the moov atom first (faststart), at a constant frame rate.
"""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

from pipeline.clips.captions import font_file
from pipeline.clips.spec import EDGE_FADE_SECONDS, SAFE_ZONE, ClipSpec
from pipeline.core.errors import MediaError
from pipeline.media.probe import last_stderr_line, require_binary

TITLE_CARD_COLOUR = "0x1B1F3A"
# A 90-second 1080×1920 clip renders in ~45 s here; anything past this is stuck, not slow.
RENDER_TIMEOUT_SECONDS = 1800
ENCODE = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
          "-c:a", "aac", "-b:a", "128k", "-ar", "44100", "-movflags", "+faststart"]


def render(spec: ClipSpec, out: Path, captions_ass: Path | None, *, fit: str = "crop") -> Path:
    """Render ``spec`` to ``out`` (mp4); a failed render leaves no file behind."""
    if spec.cover:
        check_cover(spec.cover)
    inputs, graph = (_audiogram(spec, captions_ass) if spec.kind == "audiogram"
                     else _video(spec, captions_ass, fit))
    partial = out.with_name(out.stem + ".part.mp4")
    cmd = [require_binary("ffmpeg"), "-nostdin", "-hide_banner", "-v", "error", "-y", *inputs,
           "-filter_complex", graph, "-map", "[v]", "-map", "[a]", "-r", str(spec.fps), *ENCODE,
           "-t", f"{spec.seconds:.3f}", str(partial)]
    _run(cmd, partial, spec.source)
    partial.replace(out)
    return out


def check_cover(cover: Path) -> None:
    """A looped cover that ffmpeg cannot decode makes it retry forever: refuse it up front."""
    from pipeline.media.probe import run_ffprobe

    try:
        streams = run_ffprobe(Path(cover)).get("streams", [])
    except MediaError as exc:
        raise MediaError(f"cover image is not readable ({exc.reason})", source=cover) from exc
    if not any(s.get("codec_type") == "video" and s.get("width") for s in streams):
        raise MediaError("cover image is not readable (no picture in it)", source=cover)


def thumbnail(clip: Path, out: Path, at: float) -> Path:
    """A JPEG of the frame at ``at`` seconds (the cover of the clip)."""
    partial = out.with_name(out.stem + ".part.jpg")
    _run([require_binary("ffmpeg"), "-nostdin", "-v", "error", "-y", "-ss", f"{at:.3f}", "-i", str(clip),
          "-frames:v", "1", "-q:v", "3", str(partial)], partial, clip)
    partial.replace(out)
    return out


def title_card(spec: ClipSpec, out: Path) -> Path:
    """A JPEG of the clip's size: the cover (or the title-card colour) with the title across the middle."""
    width, height = spec.size
    if spec.cover:
        check_cover(spec.cover)
        inputs = ["-i", str(spec.cover)]
        background = f"[0:v]scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height},setsar=1"
    else:
        inputs = ["-f", "lavfi", "-i", f"color=c={TITLE_CARD_COLOUR}:s={width}x{height}"]
        background = "[0:v]null"
    size = int(height * 0.05)
    lines = textwrap.wrap(spec.title or "", width=max(8, int(width * (1 - 2 * SAFE_ZONE["side"]) / (size * 0.55))))[:4]
    top = int(height * 0.45) - len(lines) * size * 6 // 10
    text = [_drawtext(line, font_file(spec.style.font), size, top + k * int(size * 1.25)) for k, line in enumerate(lines)]
    partial = out.with_name(out.stem + ".part.jpg")
    _run([require_binary("ffmpeg"), "-nostdin", "-v", "error", "-y", *inputs, "-filter_complex",
          ",".join([background, *text]) + "[v]", "-map", "[v]", "-frames:v", "1", "-q:v", "3", str(partial)],
         partial, spec.cover or spec.source)
    partial.replace(out)
    return out


def _audiogram(spec: ClipSpec, captions: Path | None) -> tuple[list[str], str]:
    width, height = spec.size
    inputs = ["-ss", f"{spec.start:.3f}", "-t", f"{spec.seconds:.3f}", "-i", str(spec.source)]
    if spec.cover:
        inputs += ["-loop", "1", "-framerate", str(spec.fps), "-i", str(spec.cover)]
        background = (f"[1:v]scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height},"
                      f"setsar=1,format=yuv420p[bg]")
    else:
        background = f"color=c={TITLE_CARD_COLOUR}:s={width}x{height}:r={spec.fps}[bg]"
    wave_w, wave_h = int(width * (1 - 2 * SAFE_ZONE["side"])), int(height * 0.12)
    bar_y = int(height * (1 - SAFE_ZONE["bottom"])) - 24
    font = font_file(spec.style.font)
    parts = [
        background,
        f"[0:a]{_edge_fades(spec)},asplit=2[a][wavein]",
        f"[wavein]showwaves=s={wave_w}x{wave_h}:mode=cline:scale=sqrt:colors=white:rate={spec.fps},format=rgba[wave]",
        f"[bg][wave]overlay=x=(W-w)/2:y={int(height * 0.40)}:shortest=1[v1]",
        f"[v1]{_drawtext(spec.title, font, int(height * 0.035), int(height * (SAFE_ZONE['top'] + 0.04)))}[v2]",
        f"color=c=white:s={width}x10:r={spec.fps}[bar]",
        f"[v2][bar]overlay=x='-w+w*t/{spec.seconds:.3f}':y={bar_y}:shortest=1[v3]",
        f"[v3]{_subtitles(captions)}[v]",
    ]
    return inputs, ";".join(parts)


def _video(spec: ClipSpec, captions: Path | None, fit: str) -> tuple[list[str], str]:
    width, height = spec.size
    inputs = ["-ss", f"{spec.start:.3f}", "-t", f"{spec.seconds:.3f}", "-i", str(spec.source)]
    if fit == "blur":
        frame = (f"[0:v]split=2[back][front];"
                 f"[back]scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height},"
                 f"boxblur=20:2[blurred];"
                 f"[front]scale={width}:{height}:force_original_aspect_ratio=decrease[fitted];"
                 f"[blurred][fitted]overlay=x=(W-w)/2:y=(H-h)/2,setsar=1[v0]")
    else:
        frame = (f"[0:v]scale={width}:{height}:force_original_aspect_ratio=increase,crop={width}:{height},"
                 f"setsar=1[v0]")
    graph = f"{frame};[v0]fps={spec.fps},format=yuv420p,{_subtitles(captions)}[v];[0:a]{_edge_fades(spec)}[a]"
    return inputs, graph


def _edge_fades(spec: ClipSpec) -> str:
    fade = min(EDGE_FADE_SECONDS, spec.seconds / 4)
    return f"afade=t=in:d={fade:.3f},afade=t=out:st={spec.seconds - fade:.3f}:d={fade:.3f}"


def _drawtext(text: str, font: str, size: int, y: int) -> str:
    if not text:
        return "null"
    safe = text.replace("\\", "\\\\").replace("'", "’").replace(":", "\\:").replace("%", "\\%")
    return (f"drawtext=fontfile='{font}':text='{safe}':fontsize={size}:fontcolor=white:"
            f"x=(w-text_w)/2:y={y}:borderw=3:bordercolor=black")


def _subtitles(captions: Path | None) -> str:
    if captions is None:
        return "null"
    escaped = str(captions).replace("\\", "\\\\").replace(":", "\\:").replace("'", "\\'")
    return f"subtitles='{escaped}'"


def _run(cmd: list[str], partial: Path, source) -> None:
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=RENDER_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as exc:
        partial.unlink(missing_ok=True)
        raise MediaError(f"rendering took longer than {RENDER_TIMEOUT_SECONDS} s and was stopped", source=source) from exc
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise MediaError(f"ffmpeg could not start: {exc}", source=source) from exc
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise MediaError(f"rendering failed: {last_stderr_line(result.stderr)}", source=source)
