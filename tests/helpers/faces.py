"""Videos of real faces taking turns, made on the spot, with the truth the tests check against.

The face is scikit-image's astronaut photograph (bundled in the wheel, no download). Speaker
S1 is the photograph as it is, S2 the photograph mirrored with red and blue swapped, so a
test tells them apart by the colour of the skin. Whoever is talking opens and closes their
mouth; the voices are espeak-ng's. A band of vertical stripes runs along the top of the
picture so a test can find where a crop was taken from (``crop_offset``).
"""

from __future__ import annotations

import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pipeline.clips.spec import CaptionWord

FPS = 30
# The astronaut's head and shoulders, and inside that crop her face box and mouth (photograph pixels).
PATCH_ROWS, PATCH_COLS = slice(20, 250), slice(130, 320)
FACE_BOX = 95  # the height OpenCV's frontal cascade gives her face
MOUTH = (125, 92)  # row, column in the patch
STRIPE_BAND = 0.13  # the top 13 % of the picture carries the stripes
VOICES = {"S1": "en-us+m3", "S2": "en-us+f3"}
RATE = 22050


@dataclass(frozen=True)
class ShotPlan:
    start: float
    left: str  # the speaker on the left: "S1" or "S2" ("" = no faces in this shot)
    background: tuple[int, int, int]
    seed: int  # of the stripes


@dataclass(frozen=True)
class Scene:
    """A generated clip and what is true about it."""

    path: Path
    size: tuple[int, int]
    seconds: float
    shots: tuple[ShotPlan, ...]
    turns: tuple[tuple[str, float, float], ...]  # (speaker, start, end) of each spoken turn
    words: tuple[CaptionWord, ...]
    face_size: int  # face box height in pixels
    drift: float  # pixels a second that the left face moves right (a person leaning in)

    def shot_at(self, t: float) -> ShotPlan:
        return [s for s in self.shots if s.start <= t][-1]

    def face_x(self, speaker: str, t: float) -> float:
        """The centre of ``speaker``'s face at ``t``, pixels from the left."""
        shot = self.shot_at(t)
        width = self.size[0]
        if shot.left == speaker:
            return 0.27 * width + self.drift * (t - shot.start)
        return 0.73 * width

    def speaker_at(self, t: float) -> str:
        return next((s for s, a, b in self.turns if a <= t <= b), "")

    def stripes(self, t: float) -> np.ndarray:
        """The grey level of the stripe band, column by column, in the shot at ``t``."""
        return _stripes(self.size[0], self.shot_at(t))


def astronaut_patch(face_size: int, recoloured: bool) -> np.ndarray:
    """The astronaut's head and shoulders scaled so her face box is ``face_size`` pixels high."""
    from PIL import Image
    from skimage import data

    patch = data.astronaut()[PATCH_ROWS, PATCH_COLS]
    scale = face_size / FACE_BOX
    size = (round(patch.shape[1] * scale), round(patch.shape[0] * scale))
    patch = np.asarray(Image.fromarray(patch).resize(size, Image.BICUBIC))
    return patch[:, ::-1, ::-1].copy() if recoloured else patch


def make_scene(path: Path, texts: list[tuple[str, str]], *, size: tuple[int, int] = (960, 540),
               face_share: float = 0.2, swap_at: float | None = None, faces: bool = True, drift: float = 0.0,
               gap: float = 0.6, tail: float = 0.5) -> Scene:
    """An mp4 of two faces (or none) while ``texts`` are spoken in turn: [(speaker, text), …].

    ``swap_at``: a shot change there, after which the faces have swapped sides in front of another backdrop.
    """
    turns, audio = _speech(texts, path.parent, gap)
    seconds = turns[-1][2] + tail
    shots = [ShotPlan(0.0, "S1" if faces else "", (64, 84, 96), 1)]
    if swap_at is not None:
        shots.append(ShotPlan(swap_at, "S2" if faces else "", (112, 140, 112), 2))
    scene = Scene(path, size, seconds, tuple(shots), tuple(turns), _words(texts, turns), round(face_share * size[1]),
                  drift)
    wav = path.with_suffix(".voices.wav")
    _write_wav(wav, audio, seconds)
    _encode(scene, wav)
    wav.unlink()
    return scene


def _speech(texts, folder: Path, gap: float) -> tuple[list[tuple[str, float, float]], list[tuple[float, np.ndarray]]]:
    turns, audio, at = [], [], 0.4
    for k, (speaker, text) in enumerate(texts):
        wav = folder / f"turn-{k}.wav"
        subprocess.run(["espeak-ng", "-v", VOICES.get(speaker, "en-us"), "-s", "175", "-w", str(wav), text], check=True)
        with wave.open(str(wav)) as handle:
            samples = np.frombuffer(handle.readframes(handle.getnframes()), dtype="<i2")
            rate = handle.getframerate()
        wav.unlink()
        voiced = np.flatnonzero(np.abs(samples) > 300)
        samples = samples[voiced[0]:voiced[-1] + 1] if voiced.size else samples
        if rate != RATE:
            samples = np.interp(np.arange(0, len(samples), rate / RATE), np.arange(len(samples)), samples).astype("<i2")
        seconds = len(samples) / RATE
        turns.append((speaker, round(at, 3), round(at + seconds, 3)))
        audio.append((at, samples))
        at += seconds + gap
    return turns, audio


def _words(texts, turns) -> tuple[CaptionWord, ...]:
    """Words spread over each turn by their length (espeak-ng gives no word times)."""
    words = []
    for (speaker, text), (_s, start, end) in zip(texts, turns):
        parts = text.split()
        weights = np.cumsum([0] + [len(p) + 1 for p in parts], dtype=float)
        bounds = start + (end - start) * weights / weights[-1]
        words += [CaptionWord(p, round(a, 3), round(b - 0.04, 3), speaker)
                  for p, a, b in zip(parts, bounds, bounds[1:])]
    return tuple(words)


def _write_wav(path: Path, audio, seconds: float) -> None:
    track = np.zeros(int(seconds * RATE) + 1, dtype=np.int32)
    for at, samples in audio:
        first = int(at * RATE)
        track[first:first + len(samples)] += samples[: len(track) - first]
    with wave.open(str(path), "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        handle.writeframes(np.clip(track, -32768, 32767).astype("<i2").tobytes())


def _encode(scene: Scene, wav: Path) -> None:
    width, height = scene.size
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
           "-r", str(FPS), "-i", "-", "-i", str(wav), "-c:v", "libx264", "-preset", "ultrafast", "-crf", "18",
           "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", str(scene.path)]
    process = subprocess.Popen(cmd, stdin=subprocess.PIPE)
    painter = _Painter(scene)
    for k in range(int(np.ceil(scene.seconds * FPS)) + 1):
        process.stdin.write(painter.frame(k / FPS).tobytes())
    process.stdin.close()
    assert process.wait() == 0, "ffmpeg could not write the test video"


class _Painter:
    def __init__(self, scene: Scene):
        self.scene = scene
        self.patches = {"S1": astronaut_patch(scene.face_size, False), "S2": astronaut_patch(scene.face_size, True)}
        self.backdrops = {shot.start: _backdrop(scene.size, shot) for shot in scene.shots}

    def frame(self, t: float) -> np.ndarray:
        scene, shot = self.scene, self.scene.shot_at(t)
        frame = self.backdrops[shot.start].copy()
        if not shot.left:
            return frame
        talking = scene.speaker_at(t)
        for speaker in ("S1", "S2"):
            patch = self.patches[speaker].copy()
            if speaker == talking:
                _open_mouth(patch, scene.face_size, t, mirrored=speaker == "S2")
            _paste(frame, patch, scene.face_x(speaker, t), scene.size[1] / 2)
        return frame


def _backdrop(size: tuple[int, int], shot: ShotPlan) -> np.ndarray:
    width, height = size
    frame = np.empty((height, width, 3), dtype=np.uint8)
    frame[:] = shot.background
    band = int(STRIPE_BAND * height)
    frame[:band] = _stripes(width, shot)[None, :, None]
    return frame


def _stripes(width: int, shot: ShotPlan) -> np.ndarray:
    noise = np.random.default_rng(shot.seed).uniform(0, 255, width + 8)
    smooth = np.convolve(noise, np.ones(8) / 8, mode="valid")[:width]
    return np.clip((smooth - smooth.mean()) * 3 + 128, 0, 255).astype(np.uint8)


def _open_mouth(patch: np.ndarray, face_size: int, t: float, mirrored: bool) -> None:
    """A dark open mouth whose height follows the syllables (an uneven beat, so no sampling rate aliases it)."""
    scale = face_size / FACE_BOX
    row, col = MOUTH[0] * scale, MOUTH[1] * scale
    if mirrored:
        col = patch.shape[1] - 1 - col
    openness = 0.5 + 0.5 * np.sin(2 * np.pi * 3.7 * t) * np.sin(2 * np.pi * 1.3 * t + 1.0)
    half_h, half_w = max(1.0, 0.14 * face_size * openness), 0.2 * face_size
    rows, cols = np.ogrid[: patch.shape[0], : patch.shape[1]]
    inside = ((rows - row) / half_h) ** 2 + ((cols - col) / half_w) ** 2 <= 1
    patch[inside] = (70, 20, 25)


def _paste(frame: np.ndarray, patch: np.ndarray, centre_x: float, centre_y: float) -> None:
    h, w = patch.shape[:2]
    top, left = int(round(centre_y - h / 2)), int(round(centre_x - w / 2))
    rows = slice(max(0, top), min(frame.shape[0], top + h))
    cols = slice(max(0, left), min(frame.shape[1], left + w))
    frame[rows, cols] = patch[rows.start - top:rows.stop - top, cols.start - left:cols.stop - left]


# --- reading rendered clips -----------------------------------------------------------------------

def decode_frames(path: Path, size: tuple[int, int], *, at: float | None = None,
                  fps: float | None = None) -> np.ndarray:
    """RGB frames of a clip scaled to ``size``: the one at ``at``, or all (at ``fps`` when given)."""
    width, height = size
    cmd = ["ffmpeg", "-nostdin", "-v", "error"]
    if at is not None:
        cmd += ["-ss", f"{at:.3f}"]
    cmd += ["-i", str(path)]
    if at is not None:
        cmd += ["-frames:v", "1"]
    scale = f"scale={width}:{height}:flags=area" + (f",fps={fps}" if fps else "")
    cmd += ["-vf", scale, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    raw = subprocess.run(cmd, capture_output=True, check=True).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(-1, height, width, 3)


def who_is_shown(region: np.ndarray) -> str:
    """"S1" or "S2" by the skin: S1's face is red over blue, S2's (red and blue swapped) blue over red."""
    pixels = region.reshape(-1, 3).astype(int)
    skin = pixels[(np.abs(pixels[:, 0] - pixels[:, 2]) > 40) & (pixels[:, 1] > 60)]
    if len(skin) < 50:
        return ""
    redder = int(np.sum(skin[:, 0] > skin[:, 2]))
    return "S1" if redder > len(skin) - redder else "S2"


def crop_offset(frame: np.ndarray, scene: Scene, t: float, crop_width: int) -> float:
    """Where in the source a full-height crop starts, found by matching the stripe band of a rendered frame."""
    height, width = frame.shape[:2]
    band = frame[int(0.02 * height):int(STRIPE_BAND * height * 0.8)].mean(axis=(0, 2))
    seen = np.interp(np.linspace(0, width - 1, crop_width), np.arange(width), band)
    truth = scene.stripes(t).astype(float)
    shifts = np.arange(0, len(truth) - crop_width + 1)
    windows = np.lib.stride_tricks.sliding_window_view(truth, crop_width)[shifts]
    seen = (seen - seen.mean()) / (seen.std() + 1e-6)
    windows = (windows - windows.mean(axis=1, keepdims=True)) / (windows.std(axis=1, keepdims=True) + 1e-6)
    return float(shifts[int(np.argmax(windows @ seen))])
