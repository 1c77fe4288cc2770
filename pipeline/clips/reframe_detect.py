"""Looking at a clip's frames: shot changes in every frame; faces and mouth movement a few times a second.

One ffmpeg run decodes the cut once and writes two grey streams: 64x36 thumbnails of
every output frame (for shot changes) and every ``step``-th frame at the analysis
height (for faces). Faces are found with OpenCV's Haar cascades, which ship inside the
opencv-python-headless wheel: the frontal one first, the profile one (both ways) on
frames where it finds nothing.
"""

from __future__ import annotations

import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from pipeline.clips.reframe_data import MIN_DETECTABLE_PX, Face, FaceSample, ReframeOptions, VideoAnalysis, even
from pipeline.clips.spec import FPS
from pipeline.core.errors import MediaError
from pipeline.media.probe import last_stderr_line, require_binary

THUMB_SIZE = (64, 36)
# Haar search: each scale 15 % larger than the last, a face needs 4 overlapping hits (fewer false faces).
SCALE_STEP = 1.15
MIN_NEIGHBOURS = 4
# Two boxes overlapping more than this (intersection over union) are one face.
SAME_FACE_OVERLAP = 0.3
# The mouth inside a Haar face box, as shares of the box: rows, then columns.
MOUTH_ROWS = (0.62, 0.95)
MOUTH_COLS = (0.22, 0.78)
# The eyes and brow, which stay still while the mouth talks: rows as shares of the box.
UPPER_ROWS = (0.15, 0.55)
# A head moves at most this share of its height between two sampled frames (the search for where it went).
MAX_HEAD_SHIFT = 0.12
ANALYSIS_TIMEOUT_SECONDS = 900


def analyse_video(source: Path, start: float, seconds: float, *, fps: int = FPS,
                  options: ReframeOptions | None = None) -> VideoAnalysis:
    """Faces in sampled frames and the shot changes of ``seconds`` of ``source`` from ``start``."""
    options = options or ReframeOptions()
    width, height = _display_size(Path(source))
    analysis_h = min(even(options.analysis_height), even(height))
    analysis_w = even(analysis_h * width / height)
    step = max(1, round(fps / options.sample_fps))
    thumbs, frames = _decode(Path(source), start, seconds, fps, step, (analysis_w, analysis_h))
    cuts = shot_cuts(thumbs, fps, options)
    samples = face_samples(frames, [k * step / fps for k in range(len(frames))], cuts, height / analysis_h)
    return VideoAnalysis(width, height, seconds, samples, cuts)


def shot_cuts(thumbs: np.ndarray, fps: int, options: ReframeOptions) -> tuple[float, ...]:
    """Where new shots start, half a frame before their first frame, from grey thumbnails of every frame.

    The score is ffmpeg's scene score: the smaller of the mean change from the frame before and how much
    that change differs from the one before it, so a steady pan scores low and a cut high.
    """
    if len(thumbs) < 2:
        return ()
    change = np.abs(np.diff(thumbs.astype(np.int16), axis=0)).mean(axis=(1, 2)) / 255.0
    before = np.concatenate([change[:1], change[:-1]])  # the first change has nothing to stand out from
    score = np.minimum(change, np.abs(change - before))
    cuts: list[float] = []
    last = -np.inf
    for frame in np.flatnonzero(score > options.cut_threshold) + 1:  # ``frame`` opens the new shot
        if frame - last >= options.min_shot_seconds * fps:
            cuts.append(round((int(frame) - 0.5) / fps, 6))
            last = int(frame)
    return tuple(cuts)


def face_samples(frames: np.ndarray, times: list[float], cuts: tuple[float, ...],
                 scale: float) -> tuple[FaceSample, ...]:
    """Faces in each grey frame, in source pixels (``scale`` = source / analysis height), with mouth movement
    measured against the previous frame of the same shot."""
    samples = []
    for k, (frame, t) in enumerate(zip(frames, times)):
        same_shot = k > 0 and not any(times[k - 1] < cut <= t for cut in cuts)
        previous = frames[k - 1] if same_shot else None
        faces = tuple(_face(box, frame, previous, scale) for box in detect_faces(frame))
        samples.append(FaceSample(round(t, 6), faces))
    return tuple(samples)


def detect_faces(grey: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Face boxes (x, y, w, h) in a grey frame, left to right: frontal faces, else profiles facing either way."""
    import cv2

    frame = np.ascontiguousarray(grey)  # not equalised: on a flat backdrop that hides faces more than it shows
    boxes = _cascade("haarcascade_frontalface_alt2.xml").detectMultiScale(
        frame, scaleFactor=SCALE_STEP, minNeighbors=MIN_NEIGHBOURS, minSize=(MIN_DETECTABLE_PX, MIN_DETECTABLE_PX))
    found = [tuple(int(v) for v in box) for box in boxes]
    if not found:
        profile = _cascade("haarcascade_profileface.xml")
        width = frame.shape[1]
        for mirrored in (False, True):
            image = frame[:, ::-1].copy() if mirrored else frame
            for x, y, w, h in profile.detectMultiScale(image, scaleFactor=SCALE_STEP, minNeighbors=MIN_NEIGHBOURS,
                                                       minSize=(MIN_DETECTABLE_PX, MIN_DETECTABLE_PX)):
                found.append((int(width - x - w) if mirrored else int(x), int(y), int(w), int(h)))
    return _one_box_per_face(sorted(found, key=lambda b: (-b[2] * b[3], b[0], b[1])))


@lru_cache(maxsize=4)
def _cascade(name: str):
    import cv2

    cascade = cv2.CascadeClassifier(str(Path(cv2.data.haarcascades) / name))
    if cascade.empty():
        raise MediaError(f"OpenCV's face model {name} is missing from the opencv-python-headless install")
    return cascade


def _one_box_per_face(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    kept: list[tuple[int, int, int, int]] = []
    for box in boxes:  # biggest first
        if all(_overlap(box, other) <= SAME_FACE_OVERLAP for other in kept):
            kept.append(box)
    return sorted(kept, key=lambda b: (b[0], b[1]))


def _overlap(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    across = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    down = max(0, min(ay + ah, by + bh) - max(ay, by))
    shared = across * down
    return shared / (aw * ah + bw * bh - shared)


def _face(box, frame: np.ndarray, previous: np.ndarray | None, scale: float) -> Face:
    x, y, w, h = box
    activity = mouth_movement(frame, previous, box) if previous is not None else 0.0
    return Face(round((x + w / 2) * scale, 2), round((y + h / 2) * scale, 2), round(h * scale, 2), round(activity, 6))


def mouth_movement(frame: np.ndarray, previous: np.ndarray, box: tuple[int, int, int, int]) -> float:
    """How much the mouth changed since ``previous`` beyond the rest of the face (grey level, 0-1).

    The face is first lined up with where it was (the shift that best matches its upper half), so a
    head that moves or leans does not read as talking; what the upper half still differs by (noise,
    light) is taken off the mouth's difference.
    """
    import cv2

    x, y, w, h = box
    reach = max(2, int(MAX_HEAD_SHIFT * h))
    upper = (slice(y + int(UPPER_ROWS[0] * h), y + int(UPPER_ROWS[1] * h)), slice(x + int(0.2 * w), x + int(0.8 * w)))
    mouth = (slice(y + int(MOUTH_ROWS[0] * h), y + int(MOUTH_ROWS[1] * h)),
             slice(x + int(MOUTH_COLS[0] * w), x + int(MOUTH_COLS[1] * w)))
    now = frame.astype(np.float32)
    before = np.pad(previous, reach, mode="edge").astype(np.float32)  # before[r + reach, c + reach] = previous[r, c]
    if now[upper].size == 0 or now[mouth].size == 0:
        return 0.0
    rows, cols = upper
    around = before[rows.start:rows.stop + 2 * reach, cols.start:cols.stop + 2 * reach]
    mismatch = cv2.matchTemplate(around, now[upper], cv2.TM_SQDIFF)  # (2 reach + 1) squared shifts
    dy, dx = (int(v) - reach for v in np.unravel_index(int(np.argmin(mismatch)), mismatch.shape))

    def change(region) -> float:
        rows, cols = region
        moved = before[rows.start + reach + dy:rows.stop + reach + dy, cols.start + reach + dx:cols.stop + reach + dx]
        return float(np.abs(now[region] - moved).mean())

    return max(0.0, change(mouth) - change(upper)) / 255.0


def _display_size(source: Path) -> tuple[int, int]:
    from pipeline.clips.preflight import probe_clip

    probe = probe_clip(source)
    if not probe.has_video or not probe.width or not probe.height:
        raise MediaError("has no video picture to reframe", source=source)
    return probe.width, probe.height


def _decode(source: Path, start: float, seconds: float, fps: int, step: int,
            size: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(grey thumbnails of every frame at ``fps``, grey frames at ``size`` of every ``step``-th one)."""
    thumb_w, thumb_h = THUMB_SIZE
    width, height = size
    graph = (f"[0:v]fps={fps},split=2[a][b];[a]scale={thumb_w}:{thumb_h}:flags=area,format=gray[thumbs];"
             f"[b]select='not(mod(n,{step}))',scale={width}:{height}:flags=area,format=gray[faces]")
    with tempfile.TemporaryDirectory(prefix="castmill-reframe-") as folder:
        thumbs_file, faces_file = Path(folder) / "thumbs.gray", Path(folder) / "faces.gray"
        cmd = [require_binary("ffmpeg"), "-nostdin", "-hide_banner", "-v", "error", "-ss", f"{start:.3f}",
               "-t", f"{seconds:.3f}", "-i", str(source), "-an", "-filter_complex", graph,
               "-map", "[thumbs]", "-fps_mode", "passthrough", "-f", "rawvideo", str(thumbs_file),
               "-map", "[faces]", "-fps_mode", "passthrough", "-f", "rawvideo", str(faces_file)]
        try:
            result = subprocess.run(cmd, capture_output=True, text=True, timeout=ANALYSIS_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired as exc:
            raise MediaError(f"looking for faces took longer than {ANALYSIS_TIMEOUT_SECONDS} s", source=source) from exc
        if result.returncode != 0:
            raise MediaError(f"could not decode the video to look for faces: {last_stderr_line(result.stderr)}",
                             source=source)
        thumbs = np.fromfile(thumbs_file, dtype=np.uint8)
        frames = np.fromfile(faces_file, dtype=np.uint8)
    return (thumbs[: thumbs.size // (thumb_w * thumb_h) * thumb_w * thumb_h].reshape(-1, thumb_h, thumb_w),
            frames[: frames.size // (width * height) * width * height].reshape(-1, height, width))
