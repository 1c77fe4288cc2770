#!/usr/bin/env python3
"""Clip rendering: the ffmpeg engine vs the moviepy engine on the same two clips, in one run.

    .venv/bin/python benchmarks/bench_clips.py                    # 2 runs per engine per case
    .venv/bin/python benchmarks/bench_clips.py --quick            # 1 run each
    .venv/bin/python benchmarks/bench_clips.py --engines ffmpeg   # one engine only (no ratio)

Cases (both 30 s, 1080×1920, 30 fps, word-synced captions from the sample's transcript):

- audiogram: samples/sample_episode.mp3 from 40.0 to 70.0 s, title card + waveform +
  title + progress bar + captions;
- vertical cut: a generated 1920×1080 30 fps, 40 s test video (ffmpeg lavfi testsrc2,
  with the sample's audio from 40 s on; built once into bench-data/) cut from 5 to 35 s,
  centre-cropped to 9:16, with the words spoken in that window as captions.

Each render runs alone in a fresh Python subprocess (this script with ``--child``), so
imports and peak memory belong to one engine: peak RSS is the largest sum over that
process and all its children (ffmpeg included), sampled every 0.1 s
(``_common.measure_tree``). Timed inside the child: the engine's ``render()`` call,
plus, for the ffmpeg engine, paginating the words and writing the ASS file it burns in
(the moviepy engine draws captions from ``spec.words`` itself). Runs alternate which
engine goes first; the median is reported. A run with more than 0.3 cores of other load
is repeated once (not with ``--quick``); the other load is recorded either way.
Ratio = moviepy median / ffmpeg median; the target is ≥ 2.5× for both cases.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    DATA_DIR, MB, ROOT, SAMPLE_MP3, git_state, log, machine_info, measure_tree, rel, save_result,
    wait_for_quiet,
)

ENGINES = ("ffmpeg", "moviepy")
RUNS = 2
TARGET_RATIO = 2.5
MAX_OTHER_CORES = 0.3
TRANSCRIPT_CACHE = DATA_DIR / "sample_episode.transcript.json"  # written by bench_highlights.sample_transcript
TEST_VIDEO = DATA_DIR / "test_1080p_30fps_40s.mp4"
VIDEO_AUDIO_OFFSET = 40.0  # the test video's audio is the sample from this point on
OUT_DIR = DATA_DIR / "clips"  # the last render of each case and engine, kept for a look

CASES = {
    "audiogram": {"label": "audiogram", "kind": "audiogram", "source": SAMPLE_MP3, "start": 40.0, "end": 70.0,
                  "title": "Castmill Sample Episode", "words_from": 40.0},
    "vertical_cut": {"label": "vertical cut", "kind": "video", "source": TEST_VIDEO, "start": 5.0, "end": 35.0,
                     "title": "", "words_from": VIDEO_AUDIO_OFFSET + 5.0},
}


# --- inputs (built once, in subprocesses so this process stays small) --------------------------------

def ensure_transcript() -> None:
    if TRANSCRIPT_CACHE.is_file():
        return
    log(f"transcribing {rel(SAMPLE_MP3)} once (faster-whisper; cached in {rel(TRANSCRIPT_CACHE)})")
    subprocess.run([sys.executable, "-c", "import bench_highlights; bench_highlights.sample_transcript()"],
                   cwd=Path(__file__).resolve().parent, check=True)


def ensure_test_video() -> None:
    if TEST_VIDEO.is_file():
        return
    log(f"building {rel(TEST_VIDEO)} (lavfi testsrc2 1920x1080 30 fps 40 s + the sample's audio)")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    partial = TEST_VIDEO.with_name(TEST_VIDEO.stem + ".part.mp4")
    subprocess.run(["ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-y",
                    "-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=30:d=40",
                    "-ss", f"{VIDEO_AUDIO_OFFSET:.1f}", "-t", "40", "-i", str(SAMPLE_MP3),
                    "-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "veryfast", "-crf", "23",
                    "-pix_fmt", "yuv420p", "-g", "60", "-c:a", "aac", "-b:a", "128k", "-ar", "44100",
                    "-movflags", "+faststart", "-t", "40", str(partial)], check=True)
    partial.replace(TEST_VIDEO)


def probe_output(path: Path) -> dict:
    from pipeline.clips.preflight import probe_clip

    p = probe_clip(path)
    return {k: getattr(p, k) for k in ("width", "height", "fps", "seconds", "video_codec", "audio_codec",
                                        "pixel_format", "faststart")}


# --- the child: one render in a fresh process ---------------------------------------------------------

def child(engine: str, case: str, out: Path) -> int:
    import resource

    started = time.perf_counter()
    from pipeline.clips.captions import clip_words, paginate, write_captions
    from pipeline.clips.spec import ClipSpec
    from pipeline.transcribe.base import TranscriptResult

    if engine == "ffmpeg":
        from pipeline.clips import render_ffmpeg as module
    else:
        from pipeline.clips import render_moviepy as module
    import_s = time.perf_counter() - started
    rss_after_imports = _rss()

    c = CASES[case]
    transcript = TranscriptResult.from_dict(json.loads(TRANSCRIPT_CACHE.read_text()))
    seconds = c["end"] - c["start"]
    words = clip_words(transcript.words, c["words_from"], c["words_from"] + seconds)
    spec = ClipSpec(source=Path(c["source"]), start=c["start"], end=c["end"], kind=c["kind"], aspect="9:16",
                    title=c["title"], words=words)

    began = time.perf_counter()
    captions = None
    if engine == "ffmpeg":
        pages = paginate(spec.words, spec.style, spec.size)
        captions = write_captions(pages, spec.style, spec.size, out.with_suffix(""))["ass"] if pages else None
    module.render(spec, out, captions, fit="crop")
    render_s = time.perf_counter() - began
    print(json.dumps({"engine": engine, "case": case, "render_s": render_s, "import_s": import_s,
                      "rss_after_imports": rss_after_imports, "words": len(words),
                      "self_maxrss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
    return 0


def _rss() -> int:
    import psutil

    return psutil.Process().memory_info().rss


# --- the parent -----------------------------------------------------------------------------------------

def run_once(engine: str, case: str, quiet_wait: float = 60.0) -> dict:
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    out = OUT_DIR / f"{case}-{engine}.mp4"
    out.unlink(missing_ok=True)
    wait_for_quiet(max_wait=quiet_wait)
    m = measure_tree([sys.executable, str(Path(__file__).resolve()), "--child", engine, case, str(out)],
                     interval=0.1, cwd=ROOT)
    if m.returncode != 0 or not out.is_file():
        tail = (m.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{engine} on {case} failed (exit {m.returncode}): {tail}")
    reported = json.loads(m.stdout.strip().splitlines()[-1])
    return {"render_s": reported["render_s"], "process_wall_s": m.wall_s, "import_s": reported["import_s"],
            "rss_after_imports": reported["rss_after_imports"], "words": reported["words"],
            "peak_tree_rss": m.peak_tree_rss, "peak_procs": m.peak_procs, "ru_maxrss": m.ru_maxrss,
            "parent_maxrss": m.parent_maxrss, "cpu_s": m.cpu_s, "other_cores": m.other_cores,
            "output": {"path": rel(out), "bytes": out.stat().st_size}}


def summarise(runs: list[dict], clip_seconds: float) -> dict:
    median = statistics.median(r["render_s"] for r in runs)
    return {
        "runs": len(runs),
        "seconds": [r["render_s"] for r in runs],
        "median_s": median,
        "s_per_clip_second": median / clip_seconds,
        "process_wall_s": [r["process_wall_s"] for r in runs],
        "median_process_wall_s": statistics.median(r["process_wall_s"] for r in runs),
        "import_s": statistics.median(r["import_s"] for r in runs),
        "peak_tree_rss": max(r["peak_tree_rss"] for r in runs),
        "peak_procs": max(runs, key=lambda r: r["peak_tree_rss"])["peak_procs"],
        "rss_after_imports": statistics.median(r["rss_after_imports"] for r in runs),
        "cpu_s": statistics.median(r["cpu_s"] for r in runs),
        "other_cores": [r["other_cores"] for r in runs],
        "words": runs[0]["words"],
        "output": runs[-1]["output"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one run per engine per case")
    parser.add_argument("--engines", default=",".join(ENGINES),
                        help="comma-separated subset of: " + ", ".join(ENGINES))
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated subset of: " + ", ".join(CASES))
    parser.add_argument("--child", nargs=3, metavar=("ENGINE", "CASE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        engine, case, out = args.child
        return child(engine, case, Path(out))

    engines = [e for e in args.engines.split(",") if e]
    cases = [c for c in args.cases.split(",") if c]
    unknown = [e for e in engines if e not in ENGINES] + [c for c in cases if c not in CASES]
    if unknown:
        parser.error(f"unknown engine or case: {', '.join(unknown)}")
    runs = 1 if args.quick else RUNS
    quiet_wait = 20.0 if args.quick else 60.0
    started = time.perf_counter()
    git_start = git_state()
    ensure_transcript()
    if "vertical_cut" in cases:
        ensure_test_video()

    results, discarded = [], []
    for case in cases:
        c = CASES[case]
        clip_seconds = c["end"] - c["start"]
        per_engine: dict[str, list[dict]] = {e: [] for e in engines}
        for k in range(runs):
            order = engines if k % 2 == 0 else engines[::-1]
            for engine in order:
                run = run_once(engine, case, quiet_wait)
                if run["other_cores"] > MAX_OTHER_CORES and not args.quick:
                    log(f"{case} {engine}: other load {run['other_cores']:.2f} cores; repeating once")
                    discarded.append({"case": case, "engine": engine, "seconds": run["render_s"],
                                      "other_cores": run["other_cores"]})
                    run = run_once(engine, case, quiet_wait)
                log(f"{case} {engine} run {k + 1}/{runs}: render {run['render_s']:.1f} s "
                    f"(process {run['process_wall_s']:.1f} s), peak tree RSS {run['peak_tree_rss'] / MB:.0f} MiB, "
                    f"other load {run['other_cores']:.2f}")
                per_engine[engine].append(run)
        row = {"case": case, "label": c["label"], "kind": c["kind"], "source": rel(c["source"]),
               "start": c["start"], "end": c["end"], "clip_seconds": clip_seconds, "size": [1080, 1920],
               "engines": {e: summarise(rs, clip_seconds) for e, rs in per_engine.items()}}
        for e in engines:
            row["engines"][e]["probe"] = probe_output(ROOT / row["engines"][e]["output"]["path"])
        if "ffmpeg" in engines and "moviepy" in engines:
            row["ratio"] = row["engines"]["moviepy"]["median_s"] / row["engines"]["ffmpeg"]["median_s"]
            row["process_ratio"] = (row["engines"]["moviepy"]["median_process_wall_s"]
                                    / row["engines"]["ffmpeg"]["median_process_wall_s"])
            row["target_met"] = row["ratio"] >= TARGET_RATIO
        results.append(row)

    both = all("ratio" in r for r in results) and {r["case"] for r in results} == set(CASES)
    data = {
        "machine": machine_info(), "git_at_start": git_start, "git_at_end": git_state(),
        "elapsed_s": time.perf_counter() - started, "quick": args.quick, "runs": runs, "engines": engines,
        "max_other_cores": MAX_OTHER_CORES, "discarded_runs": discarded,
        "spec": {"aspect": "9:16", "size": [1080, 1920], "fps": 30, "fit": "crop",
                 "test_video": {"path": rel(TEST_VIDEO), "size": [1920, 1080], "fps": 30, "seconds": 40,
                                "audio": f"{rel(SAMPLE_MP3)} from {VIDEO_AUDIO_OFFSET:.0f} s"},
                 "transcript": rel(TRANSCRIPT_CACHE)},
        "results": results,
        "target_ratio": TARGET_RATIO,
        "target_met": both and all(r["target_met"] for r in results),
    }
    save_result("clips", data, quick=args.quick)
    print(f"{'case':<14}{'engine':<9}{'runs':>5}{'median s':>10}{'s/clip-s':>10}{'process s':>11}"
          f"{'peak MiB':>10}{'other':>7}")
    for r in results:
        for e, s in r["engines"].items():
            print(f"{r['label']:<14}{e:<9}{s['runs']:>5}{s['median_s']:>10.2f}{s['s_per_clip_second']:>10.3f}"
                  f"{s['median_process_wall_s']:>11.2f}{s['peak_tree_rss'] / MB:>10.0f}"
                  f"{max(s['other_cores']):>7.2f}")
        if "ratio" in r:
            print(f"{r['label']:<14}ratio moviepy/ffmpeg {r['ratio']:.2f}× (target ≥ {TARGET_RATIO}×: "
                  f"{'met' if r['target_met'] else 'MISSED'})")
    return 0 if data["target_met"] or not both else 1


if __name__ == "__main__":
    sys.exit(main())
