"""The default clip engine: one ffmpeg process and one filter graph per clip.

Audiogram: background (cover art scaled to fill, or a title card) + a waveform of
the clip's audio + title + a progress bar + burned-in ASS captions. Video: the cut
reframed as its ``FramePlan`` says (a crop that follows the speaker, written as an
expression of ``t``; two faces stacked; a blurred-background fit; or a centre crop)
+ captions. Both are encoded H.264 yuv420p + AAC with the moov atom first
(faststart), at a constant frame rate.
"""

from __future__ import annotations

import subprocess
import textwrap
from pathlib import Path

from pipeline.clips.captions import font_file
from pipeline.clips.reframe import FramePlan, static_plan
from pipeline.clips.reframe_data import CropKey
from pipeline.clips.spec import EDGE_FADE_SECONDS, SAFE_ZONE, ClipSpec
from pipeline.core.errors import MediaError
from pipeline.media.probe import last_stderr_line, require_binary

TITLE_CARD_COLOUR = "0x1B1F3A"
# A 90-second 1080×1920 clip renders in ~45 s here; anything past this is stuck, not slow.
RENDER_TIMEOUT_SECONDS = 1800
# Linux refuses a single argument past 128 KiB; a long crop path's graph goes to ffmpeg in a file instead.
INLINE_GRAPH_CHARS = 100_000
ENCODE = ["-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-pix_fmt", "yuv420p",
          "-c:a", "aac", "-b:a", "128k", "-ar", "44100", "-movflags", "+faststart"]


def render(spec: ClipSpec, out: Path, captions_ass: Path | None, *, fit: str = "crop",
           frame: FramePlan | None = None) -> Path:
    """Render ``spec`` to ``out`` (mp4); a failed render leaves no file behind.

    A video is framed as ``frame`` says; without one, as the ``fit`` switch says (centre crop or blurred fit).
    """
    if spec.cover:
        check_cover(spec.cover)
    inputs, graph = (_audiogram(spec, captions_ass) if spec.kind == "audiogram"
                     else _video(spec, captions_ass, frame or static_plan(fit)))
    partial = out.with_name(out.stem + ".part.mp4")
    filters, script = ["-filter_complex", graph], out.with_name(out.stem + ".part.graph")
    if len(graph) > INLINE_GRAPH_CHARS:
        script.write_text(graph, encoding="utf-8")
        filters = ["-filter_complex_script", str(script)]
    cmd = [require_binary("ffmpeg"), "-nostdin", "-hide_banner", "-v", "error", "-y", *inputs,
           *filters, "-map", "[v]", "-map", "[a]", "-r", str(spec.fps), *ENCODE,
           "-t", f"{spec.seconds:.3f}", str(partial)]
    try:
        _run(cmd, partial, spec.source)
    finally:
        script.unlink(missing_ok=True)
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


def _video(spec: ClipSpec, captions: Path | None, plan: FramePlan) -> tuple[list[str], str]:
    width, height = spec.size
    inputs = ["-ss", f"{spec.start:.3f}", "-t", f"{spec.seconds:.3f}", "-i", str(spec.source)]
    if plan.layout == "tracked":
        crop_w, crop_h = plan.crop
        frame = (f"[0:v]fps={spec.fps},crop={crop_w}:{crop_h}:x='{crop_expression(plan.path)}':y=0,"
                 f"scale={width}:{height},setsar=1[v0]")
    elif plan.layout == "split":
        frame = _split_frame(spec, plan)
    elif plan.layout == "fit":
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


def crop_expression(keys: tuple[CropKey, ...]) -> str:
    """``reframe_data.path_x`` as an ffmpeg expression of ``t``: a sum of ramps and steps, nested in halves.

    Not a chain of ``if``\\ s, nor a flat sum: ffmpeg refuses an expression tree deeper than about 100, and
    either is as deep as the path has keys. Halves keep it as deep as the log of that.
    """
    terms = [f"{keys[0].x:.3f}"]
    for before, key in zip(keys, keys[1:]):
        change = key.x - before.x
        if abs(change) < 1e-9:
            continue
        if key.jump:
            terms.append(f"{change:.3f}*gte(t,{key.t:.6f})")
        else:
            terms.append(f"{change:.3f}*clip((t-{before.t:.6f})/{key.t - before.t:.6f},0,1)")
    return _sum_in_halves(terms)


def _sum_in_halves(terms: list[str]) -> str:
    if len(terms) <= 8:
        return "+".join(terms)
    middle = len(terms) // 2
    return f"({_sum_in_halves(terms[:middle])})+({_sum_in_halves(terms[middle:])})"


def _split_frame(spec: ClipSpec, plan: FramePlan) -> str:
    """Two crops of the source, one around each face, stacked top and bottom; the windows change at shot cuts."""
    width, height = spec.size
    crop_w, crop_h = plan.crop
    halves = []
    for name, corner in (("top", lambda s: s.top), ("bottom", lambda s: s.bottom)):
        xs = tuple(CropKey(shot.start, corner(shot)[0], jump=True) for shot in plan.split)
        ys = tuple(CropKey(shot.start, corner(shot)[1], jump=True) for shot in plan.split)
        halves.append(f"[{name}in]crop={crop_w}:{crop_h}:x='{crop_expression(xs)}':y='{crop_expression(ys)}',"
                      f"scale={width}:{height // 2},setsar=1[{name}]")
    return (f"[0:v]fps={spec.fps},split=2[topin][bottomin];{halves[0]};{halves[1]};"
            f"[top][bottom]vstack=inputs=2,setsar=1[v0]")


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
