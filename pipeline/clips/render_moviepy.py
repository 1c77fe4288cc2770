"""The second clip engine: moviepy compositing, frame by frame in Python.

It renders the same ``ClipSpec`` as ``render_ffmpeg`` with the same geometry:
audiogram = background (cover art scaled to fill, or the title card colour) + a
waveform of the clip's audio + title + progress bar + karaoke captions; video =
the cut reframed as its ``FramePlan`` says (the same crop path, evaluated per frame;
two faces stacked; fitted on a blurred copy; or a centre crop) + captions. Captions
are drawn with PIL from ``paginate`` (the ASS file is not used), one RGBA image per
spoken word, centred at ``caption_centre(style)``.

The waveform's samples are decoded with ffmpeg directly: moviepy's
``AudioClip.to_soundarray`` returned constant arrays on this setup.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from pipeline.clips.captions import CaptionPage, _burnable, caption_centre, font_file, paginate
from pipeline.clips.reframe import FramePlan, static_plan
from pipeline.clips.reframe_data import CropKey, crop_start, path_x
from pipeline.clips.spec import EDGE_FADE_SECONDS, SAFE_ZONE, CaptionStyle, ClipSpec
from pipeline.core.errors import MediaError
from pipeline.media.probe import last_stderr_line, require_binary

TITLE_CARD_RGB = (0x1B, 0x1F, 0x3A)  # render_ffmpeg.TITLE_CARD_COLOUR
BAR_HEIGHT = 10
TEXT_PAD = 2  # transparent pixels around rendered text


def render(spec: ClipSpec, out: Path, captions_ass: Path | None = None, *, fit: str = "crop",
           frame: FramePlan | None = None) -> Path:
    """Render ``spec`` to ``out`` (mp4) with moviepy; a failed render leaves no file behind.

    ``captions_ass`` is accepted for signature parity with ``render_ffmpeg.render`` and ignored:
    the captions are drawn from ``spec.words``. A video is framed as ``frame`` says, else as ``fit`` says.
    """
    from moviepy import AudioFileClip, CompositeVideoClip
    from moviepy.audio import fx as afx

    width, height = spec.size
    partial = out.with_name(out.stem + ".part.mp4")
    temp_audio = out.with_name(out.stem + ".part.m4a")
    opened: list = []
    if not Path(spec.source).is_file():
        raise MediaError("rendering failed: the media file does not exist", source=spec.source)
    try:
        audio = AudioFileClip(str(spec.source))
        opened.append(audio)
        audio = audio.subclipped(spec.start, min(spec.end, audio.duration))
        fade = min(EDGE_FADE_SECONDS, spec.seconds / 4)
        audio = audio.with_effects([afx.AudioFadeIn(fade), afx.AudioFadeOut(fade)])
        layers = (_audiogram_layers(spec) if spec.kind == "audiogram"
                  else _video_layers(spec, frame or static_plan(fit), opened))
        layers += _caption_layers(spec)
        # moviepy needs a layer above the background clip; a video without captions has none.
        clip = CompositeVideoClip(layers, size=(width, height), bg_color=(0, 0, 0), use_bgclip=len(layers) > 1)
        clip = clip.with_duration(spec.seconds).with_audio(audio)
        opened.append(clip)
        clip.write_videofile(
            str(partial), fps=spec.fps, codec="libx264", audio_codec="aac", preset="veryfast",
            audio_fps=44100, temp_audiofile=str(temp_audio),
            ffmpeg_params=["-pix_fmt", "yuv420p", "-movflags", "+faststart"], logger=None)
    except MediaError:
        partial.unlink(missing_ok=True)
        raise
    except Exception as exc:  # moviepy raises OSError, IOError, ValueError … from deep inside
        partial.unlink(missing_ok=True)
        reason = next((line for line in reversed(str(exc).splitlines()) if line.strip()), type(exc).__name__)
        raise MediaError(f"rendering failed: {reason.strip()}", source=spec.source) from exc
    finally:
        temp_audio.unlink(missing_ok=True)
        for c in reversed(opened):
            try:
                c.close()
            except Exception:  # noqa: BLE001 - closing must not hide the real outcome
                pass
    partial.replace(out)
    return out


# --- audiogram ------------------------------------------------------------------------------------

def _audiogram_layers(spec: ClipSpec) -> list:
    """Background, waveform, title and progress bar.

    The background is static, so the layers above it are drawn onto their own patch of it and
    composited opaquely: moviepy's alpha compositing costs a full-frame RGBA blend per masked
    layer and frame, which would triple the render time. Only the captions use masks.
    """
    from moviepy import ImageClip, VideoClip

    width, height = spec.size
    seconds = spec.seconds
    if spec.cover:
        backdrop = _cover_image(Path(spec.cover), width, height)
    else:
        backdrop = np.empty((height, width, 3), dtype=np.uint8)
        backdrop[:] = TITLE_CARD_RGB
    layers = [ImageClip(backdrop).with_duration(seconds)]

    wave_w, wave_h = int(width * (1 - 2 * SAFE_ZONE["side"])), int(height * 0.12)
    wave_x, wave_y = (width - wave_w) // 2, int(height * 0.40)
    samples = decode_audio(spec, rate=wave_w * spec.fps)  # one sample per waveform column per frame
    wave_mask = _waveform_mask(samples, wave_w, wave_h, spec.fps)
    wave_bg = backdrop[wave_y:wave_y + wave_h, wave_x:wave_x + wave_w]
    layers.append(VideoClip(lambda t: _paint(wave_bg, wave_mask(t)), duration=seconds)
                  .with_position((wave_x, wave_y)))

    if spec.title:
        title = _text_image(spec.title, font_file(spec.style.font), int(height * 0.035), stroke=3)
        title_x = max(0, (width - title.shape[1]) // 2)
        title_y = int(height * (SAFE_ZONE["top"] + 0.04)) - 3 - TEXT_PAD
        title = title[:, :width - title_x]
        patch = backdrop[title_y:title_y + title.shape[0], title_x:title_x + title.shape[1]].astype(float)
        alpha = title[..., 3:] / 255.0
        blended = (title[..., :3] * alpha + patch * (1 - alpha)).round().astype(np.uint8)
        layers.append(ImageClip(blended).with_duration(seconds).with_position((title_x, title_y)))

    bar_y = int(height * (1 - SAFE_ZONE["bottom"])) - 24
    bar_bg = backdrop[bar_y:bar_y + BAR_HEIGHT]

    def bar(t: float) -> np.ndarray:
        mask = np.zeros((BAR_HEIGHT, width), dtype=bool)
        mask[:, :max(0, min(width, int(round(width * t / seconds))))] = True  # grows left to right
        return _paint(bar_bg, mask)

    layers.append(VideoClip(bar, duration=seconds).with_position((0, bar_y)))
    return layers


def _paint(patch: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """White where ``mask`` is set, the background patch elsewhere."""
    frame = patch.copy()
    frame[mask] = 255
    return frame


def decode_audio(spec: ClipSpec, rate: int) -> np.ndarray:
    """The cut's audio as mono float32 samples at ``rate`` Hz, decoded by ffmpeg."""
    cmd = [require_binary("ffmpeg"), "-nostdin", "-v", "error", "-ss", f"{spec.start:.3f}", "-t",
           f"{spec.seconds:.3f}", "-i", str(spec.source), "-vn", "-ac", "1", "-ar", str(rate), "-f", "f32le", "-"]
    result = subprocess.run(cmd, capture_output=True)
    if result.returncode != 0:
        reason = last_stderr_line(result.stderr.decode(errors="replace"))
        raise MediaError(f"could not decode the audio: {reason}", source=spec.source)
    return np.frombuffer(result.stdout, dtype="<f4")


def _waveform_mask(samples: np.ndarray, wave_w: int, wave_h: int, fps: int):
    """A frame function like ffmpeg's ``showwaves=mode=cline:scale=sqrt``: a centred line per sample."""
    heights = np.sqrt(np.clip(np.abs(samples), 0.0, 1.0)) * wave_h
    distance = np.abs(np.arange(wave_h, dtype=float) + 0.5 - wave_h / 2)[:, None]

    def frame(t: float) -> np.ndarray:
        first = int(round(t * fps)) * wave_w
        column = np.zeros(wave_w)
        window = heights[first:first + wave_w]
        column[:window.size] = window
        return distance <= column[None, :] / 2

    return frame


def _cover_image(path: Path, width: int, height: int) -> np.ndarray:
    try:
        with Image.open(path) as img:
            img = img.convert("RGB")
    except OSError as exc:
        raise MediaError(f"cannot read the cover image: {exc}", source=path) from exc
    scale = max(width / img.width, height / img.height)
    size = (max(width, round(img.width * scale)), max(height, round(img.height * scale)))
    img = img.resize(size, Image.LANCZOS)
    left, top = (size[0] - width) // 2, (size[1] - height) // 2
    return np.asarray(img.crop((left, top, left + width, top + height)))


# --- video ----------------------------------------------------------------------------------------

def _video_layers(spec: ClipSpec, plan: FramePlan, opened: list) -> list:
    from moviepy import VideoFileClip

    width, height = spec.size
    source = VideoFileClip(str(spec.source), audio=False)
    opened.append(source)
    cut = source.subclipped(spec.start, min(spec.end, source.duration))
    src_w, src_h = cut.size
    if plan.layout == "tracked":
        return [cut.transform(lambda get_frame, t: _tracked_frame(get_frame(t), t, plan, (width, height)))]
    if plan.layout == "split":
        return [cut.transform(lambda get_frame, t: _split_frame(get_frame(t), t, plan, (width, height)))]
    fit = "blur" if plan.layout == "fit" else "crop"
    # Centre crop to the target aspect in source pixels, then scale: the same picture as scale-up-then-crop.
    crop_w, crop_h = min(src_w, src_h * width / height), min(src_h, src_w * height / width)
    cover = cut.cropped(x_center=src_w / 2, y_center=src_h / 2, width=round(crop_w), height=round(crop_h))
    if fit != "blur":
        # Bicubic like ffmpeg's scale (and ~2x faster than moviepy's Lanczos ``resized``).
        return [cover.image_transform(lambda f: _resize(f, (width, height), Image.BICUBIC))]
    small = (max(2, width // 8), max(2, height // 8))

    def blurred(frame: np.ndarray) -> np.ndarray:
        img = Image.fromarray(frame).resize(small, Image.BILINEAR).filter(ImageFilter.GaussianBlur(2.5))
        return np.asarray(img.resize((width, height), Image.BILINEAR))

    scale = min(width / src_w, height / src_h)
    fitted_size = (round(src_w * scale) // 2 * 2, round(src_h * scale) // 2 * 2)
    fitted = cut.image_transform(lambda f: _resize(f, fitted_size, Image.BICUBIC))
    return [cover.image_transform(blurred), fitted.with_position("center")]


def _tracked_frame(frame: np.ndarray, t: float, plan: FramePlan, size: tuple[int, int]) -> np.ndarray:
    """The crop at the plan's x for ``t``, placed on the pixel column ffmpeg's crop filter would use."""
    crop_w, crop_h = plan.crop
    left = crop_start(plan.x_at(t), frame.shape[1], crop_w)
    return _resize(frame[:crop_h, left:left + crop_w], size, Image.BICUBIC)


def _split_frame(frame: np.ndarray, t: float, plan: FramePlan, size: tuple[int, int]) -> np.ndarray:
    """The two faces' windows of the shot at ``t``, stacked top and bottom."""
    width, height = size
    crop_w, crop_h = plan.crop
    halves = []
    for corner in ("top", "bottom"):
        xs = tuple(CropKey(shot.start, getattr(shot, corner)[0], jump=True) for shot in plan.split)
        ys = tuple(CropKey(shot.start, getattr(shot, corner)[1], jump=True) for shot in plan.split)
        left = crop_start(path_x(xs, t), frame.shape[1], crop_w)
        top = crop_start(path_x(ys, t), frame.shape[0], crop_h)
        halves.append(_resize(frame[top:top + crop_h, left:left + crop_w], (width, height // 2), Image.BICUBIC))
    return np.vstack(halves)


def _resize(frame: np.ndarray, size: tuple[int, int], method) -> np.ndarray:
    return np.asarray(Image.fromarray(frame).resize(size, method))


# --- text -----------------------------------------------------------------------------------------

def _text_image(text: str, font_path: str, size: int, *, stroke: int) -> np.ndarray:
    """White text with a black outline on a transparent RGBA image, like ffmpeg's drawtext.

    The glyphs' top edge (without outline) sits ``stroke + TEXT_PAD`` pixels below the image's top
    edge, as drawtext places ``y`` at the top of the text; descenders are kept.
    """
    font = ImageFont.truetype(font_path, size)
    left, top, right, bottom = font.getbbox(text)
    pad = stroke + TEXT_PAD
    img = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0, 0, 0))
    ImageDraw.Draw(img).text((pad - left, pad - top), text, font=font, fill="white",
                             stroke_width=stroke, stroke_fill="black")
    return np.asarray(img)


def _caption_layers(spec: ClipSpec) -> list:
    """One ImageClip per spoken word: its page with that word in the highlight colour."""
    from moviepy import ImageClip

    pages = paginate(spec.words, spec.style, spec.size)
    if not pages:
        return []
    width, height = spec.size
    centre_y = caption_centre(spec.style) * height
    layers = []
    for start, end, image in caption_images(pages, spec.style, spec.size):
        start, end = max(0.0, start), min(end, spec.seconds)
        if end <= start:
            continue
        h, w = image.shape[:2]
        layers.append(ImageClip(image).with_start(start).with_end(end)
                      .with_position(((width - w) // 2, round(centre_y - h / 2))))
    return layers


def caption_images(pages: list[CaptionPage], style: CaptionStyle, size: tuple[int, int]):
    """``(start, end, rgba)`` per word: the same timing as the ASS events of ``captions._word_events``."""
    _, height = size
    font = _ass_sized_font(_bold_font(style.font), max(1, round(style.size * height)))
    outline = max(1, round(style.outline_width * height))
    ascent, descent = font.getmetrics()
    line_h = ascent + descent
    space = font.getlength(" ")
    for page in pages:
        words = page.words
        texts = {id(w): _burnable(w.text, style) for w in words}
        line_widths = [sum(font.getlength(texts[id(w)]) for w in line) + space * (len(line) - 1)
                       for line in page.lines]
        img_w = int(np.ceil(max(line_widths))) + 2 * outline + 4
        img_h = line_h * len(page.lines) + 2 * outline + 4
        for k, current in enumerate(words):
            start = page.start if k == 0 else current.start
            end = words[k + 1].start if k + 1 < len(words) else page.end
            if end <= start:
                continue
            img = Image.new("RGBA", (img_w, img_h), (0, 0, 0, 0))
            draw = ImageDraw.Draw(img)
            for row, (line, line_w) in enumerate(zip(page.lines, line_widths)):
                x = (img_w - line_w) / 2
                y = outline + 2 + row * line_h
                for word in line:
                    text = texts[id(word)]
                    fill = style.highlight if word is current else style.word_colour(word.speaker)
                    draw.text((x, y), text, font=font, fill=fill, stroke_width=outline, stroke_fill=style.outline)
                    x += font.getlength(text) + space
            yield start, end, np.asarray(img)


def _ass_sized_font(path: str, ass_size: int) -> ImageFont.FreeTypeFont:
    """The font at the size libass draws ``Fontsize: ass_size``: there the size is the line height
    (ascent + descent), not the em size PIL and drawtext use."""
    probe = ImageFont.truetype(path, 1000)
    ascent, descent = probe.getmetrics()
    return ImageFont.truetype(path, max(1, round(ass_size * 1000 / (ascent + descent))))


def _bold_font(family: str) -> str:
    """The bold face of ``family`` (the ASS style is bold), else its regular face."""
    regular = font_file(family)
    fc_match = shutil.which("fc-match")
    if fc_match:
        result = subprocess.run([fc_match, "--format=%{family}\n%{file}", f"{family}:bold"],
                                capture_output=True, text=True)
        found, _, path = result.stdout.partition("\n")
        if result.returncode == 0 and family.lower() in found.lower() and path.strip():
            return path.strip()
    return regular
