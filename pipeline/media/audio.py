"""Streaming audio decode to 16 kHz mono float32 through ffmpeg, plus level checks.

A 60-minute episode is 57.6 M samples = 230 MB as float32; we decode straight into
one preallocated array instead of building a pydub ``AudioSegment``: on a 60-minute
44.1 kHz stereo mp3 pydub peaked at 1,851 MiB against 305 MiB here (BENCHMARKS.md).
"""

from __future__ import annotations

import subprocess
import threading
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np

from pipeline.core.errors import MediaError
from pipeline.media.probe import last_stderr_line, require_binary

SAMPLE_RATE = 16_000
_BYTES_PER_SAMPLE = 4
_READ_CHUNK = 1 << 20  # 1 MiB pipe reads keep the syscall count low
# Below this RMS (dBFS) over the whole file we call it silence; speech sits near -20..-30.
SILENCE_RMS_DBFS = -60.0
# A decode shorter than the declared duration by more than this is a truncated file.
TRUNCATION_TOLERANCE_S = 2.0
TRUNCATION_TOLERANCE_RATIO = 0.05
# ffmpeg's messages kept for the error: the last ones say why it stopped.
_STDERR_LINES_KEPT = 50


@dataclass(frozen=True)
class AudioLevels:
    rms_dbfs: float
    peak_dbfs: float
    seconds: float

    @property
    def is_silent(self) -> bool:
        return self.rms_dbfs < SILENCE_RMS_DBFS


def _ffmpeg_cmd(path: Path, start: float | None = None, duration: float | None = None) -> list[str]:
    cmd = [require_binary("ffmpeg"), "-nostdin", "-hide_banner", "-v", "error"]
    if start:
        cmd += ["-ss", f"{start:.3f}"]
    cmd += ["-i", str(path)]
    if duration:
        cmd += ["-t", f"{duration:.3f}"]
    cmd += ["-vn", "-map", "0:a:0", "-ac", "1", "-ar", str(SAMPLE_RATE), "-f", "f32le", "-"]
    return cmd


def iter_audio(path: Path, chunk_seconds: float = 30.0) -> Iterator[np.ndarray]:
    """Yield 16 kHz mono float32 chunks; memory stays at one chunk."""
    chunk_bytes = int(chunk_seconds * SAMPLE_RATE) * _BYTES_PER_SAMPLE
    with _ffmpeg_decoding(Path(path)) as (proc, stderr):
        while block := proc.stdout.read(chunk_bytes):
            usable = len(block) - len(block) % _BYTES_PER_SAMPLE
            yield np.frombuffer(block[:usable], dtype=np.float32)
    _check_exit(path, proc.returncode, "".join(stderr))


def decode_audio(path: Path, *, expected_seconds: float | None = None) -> np.ndarray:
    """Decode the whole file into one float32 array, preallocated from the expected length.

    Raises MediaError when ffmpeg fails or the file is clearly truncated
    (decoded length well short of ``expected_seconds``).
    """
    path = Path(path)
    capacity = int(((expected_seconds or 60.0) + 1.0) * SAMPLE_RATE) * _BYTES_PER_SAMPLE
    buffer = bytearray(capacity)
    filled = 0
    with _ffmpeg_decoding(path) as (proc, stderr):
        while True:
            if filled + _READ_CHUNK > len(buffer):
                buffer.extend(bytes(max(_READ_CHUNK, len(buffer) // 4)))
            view = memoryview(buffer)[filled : filled + _READ_CHUNK]
            count = proc.stdout.readinto(view)
            view.release()
            if not count:
                break
            filled += count
    _check_exit(path, proc.returncode, "".join(stderr))
    samples = filled // _BYTES_PER_SAMPLE
    del buffer[samples * _BYTES_PER_SAMPLE :]
    audio = np.frombuffer(buffer, dtype=np.float32)
    _check_complete(path, samples / SAMPLE_RATE, expected_seconds)
    return audio


@contextmanager
def _ffmpeg_decoding(path: Path) -> Iterator[tuple[subprocess.Popen, deque[str]]]:
    """Run ffmpeg decoding ``path`` to stdout, its messages drained by a thread into the last lines kept.

    A damaged file makes ffmpeg print an error per frame (megabytes for an episode); left in the pipe,
    they fill it and ffmpeg stops writing audio, so the reader would wait for ever.
    """
    stderr: deque[str] = deque(maxlen=_STDERR_LINES_KEPT)
    with subprocess.Popen(_ffmpeg_cmd(path), stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        drain = threading.Thread(target=_keep_lines, args=(proc.stderr, stderr), daemon=True, name="ffmpeg-stderr")
        drain.start()
        try:
            yield proc, stderr
        finally:
            proc.stdout.close()
            proc.wait()
            drain.join()


def _keep_lines(stream, lines: deque[str]) -> None:
    for line in stream:
        lines.append(line.decode(errors="replace"))


def decode_span(path: Path, start: float, end: float) -> np.ndarray:
    """Decode ``start``–``end`` seconds of the file (ffmpeg seeks; a highlight needs no whole-episode decode)."""
    path = Path(path)
    proc = subprocess.run(_ffmpeg_cmd(path, max(start, 0.0), max(end - start, 0.0)), capture_output=True)
    _check_exit(path, proc.returncode, proc.stderr.decode(errors="replace"))
    usable = len(proc.stdout) - len(proc.stdout) % _BYTES_PER_SAMPLE
    return np.frombuffer(proc.stdout[:usable], dtype=np.float32)


def _check_exit(path: Path, returncode: int, stderr: str) -> None:
    if returncode != 0:
        raise MediaError(f"ffmpeg could not decode the audio ({last_stderr_line(stderr)})", source=path)


def _check_complete(path: Path, decoded: float, expected: float | None) -> None:
    if not expected:
        if decoded == 0:
            raise MediaError("decoded no audio samples", source=path)
        return
    missing = expected - decoded
    if missing > max(TRUNCATION_TOLERANCE_S, expected * TRUNCATION_TOLERANCE_RATIO):
        raise MediaError(
            f"file is truncated: decoded {decoded:.1f} s of the {expected:.1f} s its header declares",
            source=path,
        )


def measure_levels(audio: np.ndarray) -> AudioLevels:
    """RMS and peak in dBFS, computed in blocks so no float64 copy of the episode is made."""
    if audio.size == 0:
        return AudioLevels(float("-inf"), float("-inf"), 0.0)
    block = SAMPLE_RATE * 60
    blocks = [audio[i : i + block] for i in range(0, audio.size, block)]
    energy = sum(float(np.dot(b, b)) for b in blocks)
    peak = max(max(float(b.max()), -float(b.min())) for b in blocks)
    rms = (energy / audio.size) ** 0.5
    return AudioLevels(_dbfs(rms), _dbfs(peak), audio.size / SAMPLE_RATE)


def _dbfs(value: float) -> float:
    return 20.0 * np.log10(value) if value > 0 else float("-inf")
