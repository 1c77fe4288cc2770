#!/usr/bin/env python3
"""Peak memory and wall time of ``castmill process`` on a 60-minute episode.

    .venv/bin/python benchmarks/bench_process_memory.py           # ~60-minute episode
    .venv/bin/python benchmarks/bench_process_memory.py --quick   # the 107 s sample instead
    .venv/bin/python benchmarks/bench_process_memory.py --multilingual --no-breakdown
        # a client whose show is in English and Indonesian: the multilingual base model, language per stretch

1. ``castmill client import`` of a one-line profile (languages ["en"], or ["en", "id"] with --multilingual), then
   ``castmill process --client bench FILE --json`` in a fresh CASTMILL_HOME (temp dir),
   sampling every 0.2 s the RSS summed over the process and all its children
   (ffmpeg included), plus the kernel's ``ru_maxrss`` for that command
   (``os.wait4``: what ``getrusage(RUSAGE_CHILDREN).ru_maxrss`` reports, for this
   command alone = the largest single process).
2. The peer: ``pydub.AudioSegment.from_file(FILE)`` in its own subprocess, against
   our streaming ``pipeline.media.audio.decode_audio`` in its own subprocess, same sampling;
   then both again on a 44.1 kHz stereo 128 kbit/s copy of FILE (typical podcast MP3).
3. A step breakdown (skip with --no-breakdown): the runner's steps done one by one
   in a subprocess (decode, levels, model load, VAD alone, transcribe), with the
   process's RSS and high-water mark after each, to show which step sets the peak.

Target: peak RSS of the whole ``castmill process`` tree below 1.5 GB (1.5e9 bytes).
Results go to bench-data/results/process_memory.json (read by benchmarks/run.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    DATA_DIR, MB, ROOT, SAMPLE_MP3, SAMPLE_TXT, git_state, log, long_episode, machine_info, measure_tree, media_seconds, rel,
    save_result, wait_for_quiet, wer,
)

TARGET_PEAK_BYTES = 1.5e9  # 1.5 GB, decimal (the stricter reading; = 1431 MiB)
LONG_REPEAT = 34  # make_sample.py --repeat 34 = 60.7 minutes

DECODE_CHILD = """
import json, os, sys, time
from pathlib import Path
from pipeline.media.audio import decode_audio
from pipeline.media.probe import probe
baseline = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
path = Path(sys.argv[1])
start = time.perf_counter()
audio = decode_audio(path, expected_seconds=probe(path).duration)
print(json.dumps({"seconds": time.perf_counter() - start, "result_bytes": audio.nbytes,
                  "audio_seconds": audio.size / 16000, "format": "16 kHz mono float32",
                  "rss_after_imports": baseline}))
"""

PYDUB_CHILD = """
import json, os, sys, time
from pydub import AudioSegment
baseline = int(open("/proc/self/statm").read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
start = time.perf_counter()
segment = AudioSegment.from_file(sys.argv[1])
print(json.dumps({"seconds": time.perf_counter() - start, "result_bytes": len(segment.raw_data),
                  "audio_seconds": segment.duration_seconds,
                  "format": f"{segment.frame_rate} Hz, {segment.channels} ch, {8 * segment.sample_width}-bit",
                  "rss_after_imports": baseline}))
"""

# The runner's transcribe_episode steps, one at a time (jobs=1 path, same defaults as the CLI).
BREAKDOWN_CHILD = """
import json, resource, sys, time
from pathlib import Path
import psutil
from pipeline.media.audio import decode_audio, measure_levels
from pipeline.core.settings import load_settings
from pipeline.media.probe import probe
from pipeline.transcribe import ModelStore, TranscribeOptions, get_transcriber

me = psutil.Process()
steps = []
def step(name, start):
    steps.append({"step": name, "seconds": time.perf_counter() - start, "rss_after": me.memory_info().rss,
                  "high_water": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024})
path = Path(sys.argv[1])
settings = load_settings(Path(sys.argv[2]))
t = settings.transcribe
try:  # exactly the options `castmill process` builds
    from pipeline.cli.support import transcribe_options as _transcribe_options
    options = _transcribe_options(settings, None, None, None, None, None)
except (ImportError, TypeError):
    options = TranscribeOptions(model=t.model, beam_size=t.beam_size, vad=t.vad, compute_type=t.compute_type)
steps.append({"step": "after imports (python, numpy, pipeline)", "seconds": None,
              "rss_after": me.memory_info().rss, "high_water": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024})
s = time.perf_counter(); info = probe(path); step("probe", s)
s = time.perf_counter(); audio = decode_audio(path, expected_seconds=info.duration); step("decode_audio", s)
s = time.perf_counter(); measure_levels(audio); step("measure_levels", s)
s = time.perf_counter(); transcriber = get_transcriber(t.engine, ModelStore(settings.models_dir, settings.models))
transcriber._model(options); step(f"load model ({t.engine} {t.model})", s)
if options.vad:
    try:  # the pipeline's own VAD pass, measured apart (transcribe() runs it again first)
        from pipeline.transcribe.vad import keep_speech
    except ImportError:
        keep_speech = None
    if keep_speech:
        s = time.perf_counter(); speech = keep_speech(audio)
        step(f"VAD alone: pipeline.transcribe.vad.keep_speech ({speech.audio.size / 16000 / 60:.1f} min kept)", s)
        del speech
s = time.perf_counter(); result = transcriber.transcribe(audio, options)
step(f"transcribe() ({t.engine}: VAD, features, decoding)", s)
print(json.dumps({"engine": t.engine, "words": len(result.words), "steps": steps}))
"""


DECODERS = (("decode_audio (ours, streaming)", DECODE_CHILD), ("pydub AudioSegment.from_file", PYDUB_CHILD))


def stereo_copy(episode: Path) -> Path:
    """The episode re-encoded as a typical podcast MP3 (44.1 kHz stereo, 128 kbit/s), cached in bench-data."""
    target = DATA_DIR / (Path(episode).stem + "_44k_stereo.mp3")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    if not target.is_file():
        log(f"encoding {rel(target)}")
        tmp = target.with_suffix(".tmp.mp3")
        subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y", "-i", str(episode),
                        "-ac", "2", "-ar", "44100", "-c:a", "libmp3lame", "-b:a", "128k", str(tmp)], check=True)
        tmp.rename(target)
    return target


def run_child(code: str, *args: str, env: dict | None = None) -> dict:
    measured = measure_tree([sys.executable, "-c", code, *args], env=env)
    data = measured.to_dict()
    if measured.returncode == 0:
        data["child"] = json.loads(measured.stdout.strip().splitlines()[-1])
    else:
        log(f"child failed ({measured.returncode}): {measured.stderr[-1500:]}")
    return data


def transcript_wer(home: Path, reference: str) -> dict:
    """WER of the transcript castmill stored, read back through the ORM."""
    try:
        from sqlalchemy import select

        from pipeline.store.db import Database
        from pipeline.store.models import Transcript

        db = Database(f"sqlite:///{home / 'castmill.db'}")
        with db.session() as session:
            row = session.scalars(select(Transcript)).first()
            text = " ".join(s["text"] for s in row.segments)
            words = sum(len(s.get("words", [])) for s in row.segments)
            return {"engine": row.engine, "model": row.model, "words": words, "wer": wer(reference, text)}
    except Exception as exc:  # reporting only: the benchmark stands without it
        return {"error": f"{type(exc).__name__}: {exc}"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="use the 107 s sample instead of the 60-minute episode")
    ap.add_argument("--repeat", type=int, default=LONG_REPEAT,
                    help=f"make_sample.py --repeat for the long episode (default {LONG_REPEAT} = 60.7 min)")
    ap.add_argument("--no-breakdown", action="store_true", help="skip the step-by-step breakdown run")
    ap.add_argument("--batch-size", type=int, help="[transcribe] batch_size for this run (default: the settings')")
    ap.add_argument("--multilingual", action="store_true",
                    help='the client speaks ["en", "id"]: base (multilingual) instead of tiny.en, language per stretch')
    args = ap.parse_args(argv)

    started = time.perf_counter()
    git_start = git_state()
    if args.quick:
        episode, reference_txt = SAMPLE_MP3, SAMPLE_TXT
    else:
        episode, reference_txt = long_episode(args.repeat)
    seconds = media_seconds(episode)
    log(f"episode {rel(episode)}: {seconds / 60:.1f} min")
    castmill = str(Path(sys.executable).with_name("castmill"))
    home = Path(tempfile.mkdtemp(prefix="castmill-bench-home-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASTMILL_")}
    env["CASTMILL_HOME"] = str(home)
    try:
        if args.batch_size:
            (home / "castmill.toml").write_text(f"[transcribe]\nbatch_size = {args.batch_size}\n")
        profile = home / "bench.toml"
        profile.write_text('slug = "bench"\nname = "Bench"\nlanguages = ' + ('["en", "id"]' if args.multilingual
                                                                          else '["en"]') + "\n")
        added = measure_tree([castmill, "client", "import", str(profile)], env=env, cwd=ROOT)
        if added.returncode != 0:
            raise SystemExit(f"castmill client import failed: {added.stderr}")
        waited = wait_for_quiet()
        log("castmill process --client bench ... --json (measuring)")
        proc = measure_tree([castmill, "process", "--client", "bench", str(episode), "--json"], env=env, cwd=ROOT)
        process = proc.to_dict()
        process["waited_for_quiet_s"] = waited
        process["cmd"] = ["castmill", "process", "--client", "bench", rel(episode), "--json"]
        try:
            process["report"] = json.loads(proc.stdout)
        except json.JSONDecodeError:
            process["report"] = None
        process["ok"] = proc.returncode == 0 and bool(process["report"] and process["report"].get("ok"))
        log(f"  wall {proc.wall_s:.1f} s, peak tree RSS {proc.peak_tree_rss / MB:.0f} MiB, "
            f"ru_maxrss {proc.ru_maxrss / MB:.0f} MiB, ok={process['ok']}")

        peers = run_decoders(episode, "peer")
        # The bench episode is light (mono, 22.05 kHz); typical podcast MP3s are 44.1 kHz stereo,
        # which is what pydub keeps in memory, while our decode is 16 kHz mono either way.
        stereo = stereo_copy(episode)
        peers_stereo = run_decoders(stereo, "peer on 44.1 kHz stereo copy")

        breakdown = None
        if not args.no_breakdown:
            wait_for_quiet()
            log("breakdown: runner steps one at a time")
            breakdown = run_child(BREAKDOWN_CHILD, str(episode), str(home), env=env)
            for s in (breakdown.get("child") or {}).get("steps", []):
                log(f"  {s['step']:<40} {s['seconds'] or 0:7.1f} s  rss {s['rss_after'] / MB:6.0f} MiB  "
                    f"high-water {s['high_water'] / MB:6.0f} MiB")
        # Last: it imports openai-whisper (torch) here, which would raise the ru_maxrss floor of later children.
        process["transcript"] = transcript_wer(home, Path(reference_txt).read_text())
    finally:
        shutil.rmtree(home, ignore_errors=True)

    ours = peers["decode_audio (ours, streaming)"]["peak_tree_rss"]
    theirs = peers["pydub AudioSegment.from_file"]["peak_tree_rss"]
    data = {
        "benchmark": "process_memory",
        "quick": args.quick,
        "multilingual": args.multilingual,
        "batch_size": args.batch_size,
        "command": "make bench  (or: .venv/bin/python benchmarks/bench_process_memory.py"
                   + (" --quick" if args.quick else "") + ")",
        "machine": machine_info(),
        "git_at_start": git_start,
        "git_at_end": git_state(),
        "episode": {"path": rel(episode), "seconds": seconds, "bytes": Path(episode).stat().st_size},
        "target_peak_bytes": TARGET_PEAK_BYTES,
        "process": process,
        "target_met": process["ok"] and process["peak_tree_rss"] < TARGET_PEAK_BYTES,
        "peers": peers,
        "pydub_vs_ours_peak_ratio": theirs / ours if ours else None,
        "peers_44k_stereo": {"path": rel(stereo), "bytes": stereo.stat().st_size, "decoders": peers_stereo},
        "breakdown": breakdown,
        "elapsed_s": time.perf_counter() - started,
    }
    print_summary(data)
    name = ("process_memory_base" if args.multilingual else "process_memory") + (
        f"_batch{args.batch_size}" if args.batch_size else "")
    save_result(name, data, quick=args.quick)
    return 0


def run_decoders(path: Path, label: str) -> dict:
    """Each decoder in DECODERS on ``path``, one at a time on a quiet machine."""
    results = {}
    for name, code in DECODERS:
        wait_for_quiet()
        log(f"{label}: {name}")
        results[name] = run_child(code, str(path))
        log(f"  peak tree RSS {results[name]['peak_tree_rss'] / MB:.0f} MiB, wall {results[name]['wall_s']:.1f} s")
    return results

def print_summary(data: dict) -> None:
    p = data["process"]
    print(f"castmill process on {data['episode']['seconds'] / 60:.1f} min: wall {p['wall_s']:.1f} s "
          f"(RTF {p['wall_s'] / data['episode']['seconds']:.3f}), peak tree RSS {p['peak_tree_rss'] / MB:.0f} MiB, "
          f"ru_maxrss {p['ru_maxrss'] / MB:.0f} MiB -> target < 1.5 GB "
          f"{'met' if data['target_met'] else 'MISSED'}")
    for name, peer in data["peers"].items():
        print(f"  {name:<32} peak {peer['peak_tree_rss'] / MB:7.0f} MiB  wall {peer['wall_s']:6.1f} s")
    if data["pydub_vs_ours_peak_ratio"]:
        print(f"  pydub / ours peak RSS: {data['pydub_vs_ours_peak_ratio']:.1f}x")


if __name__ == "__main__":
    raise SystemExit(main())
