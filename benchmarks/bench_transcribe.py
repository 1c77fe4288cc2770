#!/usr/bin/env python3
"""faster-whisper vs openai-whisper: speed (real-time factor) and WER on the same tiny.en weights.

    .venv/bin/python benchmarks/bench_transcribe.py           # sample (107 s) + 10-minute episode
    .venv/bin/python benchmarks/bench_transcribe.py --quick   # sample only

Both engines come from ``get_transcriber(engine, ModelStore(bench-data/models))``:
faster-whisper runs the bundled CTranslate2 tiny.en folder (int8 and the batch
size of the product defaults; when the default batches, sequential batch_size=1
is measured too), openai-whisper runs the checkpoint ``ModelStore`` converts from that same
folder (fp32 on CPU). Same audio, beam size 5, VAD on, threads = all cores.

Each engine lives in its own worker process (so torch and CTranslate2 never share
a process), loads its model (timed separately), transcribes 5 s as a warm-up, and
then transcribes on request; only ``transcribe()`` is timed. Runs alternate between
engines (rotating who goes first) so drift in machine speed hits both. WER is computed with jiwer
after normalising reference and hypothesis with openai-whisper's
``EnglishTextNormalizer``.

Results go to bench-data/results/transcribe.json (read by benchmarks/run.py).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    DATA_DIR, RESULTS_DIR, SAMPLE_MP3, SAMPLE_TXT, busy_cpu_seconds, git_state, log, long_episode, machine_info,
    media_seconds, rel, save_result, wait_for_quiet, wer,
)

ENGINES = ("faster-whisper", "openai-whisper")
MODEL = "tiny.en"
BEAM_SIZE = 5
VAD = True
WARMUP_SECONDS = 5.0
TARGET_SPEED_RATIO = 3.0  # openai RTF / faster RTF
TARGET_WER_POINTS = 1.0  # |WER difference| in percentage points
MODEL_DIR = DATA_DIR / "models"
# A run during which other processes used more than this many cores is repeated (kept in the JSON).
MAX_OTHER_CORES = 0.3


def options(threads: int, batch_size: int | None = None):
    """The product's TranscribeOptions with the benchmark's fixed settings (batch_size only if it exists)."""
    from pipeline.transcribe import TranscribeOptions

    extra = {"batch_size": batch_size} if batch_size is not None and has_option("batch_size") else {}
    return TranscribeOptions(model=MODEL, beam_size=BEAM_SIZE, vad=VAD, threads=threads, **extra)


def has_option(name: str) -> bool:
    from dataclasses import fields

    from pipeline.transcribe import TranscribeOptions

    return name in {f.name for f in fields(TranscribeOptions)}


def variants() -> list[tuple[str, str, int | None]]:
    """(label, engine, batch_size): the product defaults, plus sequential faster-whisper when batching exists."""
    found = [("faster-whisper", "faster-whisper", None), ("openai-whisper", "openai-whisper", None)]
    if has_option("batch_size"):
        from pipeline.transcribe import TranscribeOptions

        if TranscribeOptions().batch_size != 1:
            found.insert(1, ("faster-whisper batch_size=1", "faster-whisper", 1))
    return found


# --- worker (one per engine) ------------------------------------------------------------------

def worker(engine: str, threads: int, batch_size: int | None) -> int:
    # Replies go on a private copy of stdout; anything a library prints lands on stderr.
    reply_stream = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def reply(**data) -> None:
        reply_stream.write(json.dumps(data) + "\n")

    def cpu_seconds() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    from pipeline.media.audio import decode_audio
    from pipeline.media.probe import probe
    from pipeline.transcribe import ModelStore, get_transcriber

    opts = options(threads, batch_size)
    decoded: dict[str, object] = {}

    def audio_of(path: str):
        if path not in decoded:
            decoded[path] = decode_audio(Path(path), expected_seconds=probe(Path(path)).duration)
        return decoded[path]

    start = time.perf_counter()
    transcriber = get_transcriber(engine, ModelStore(MODEL_DIR))
    transcriber._model(opts)  # imports the runtime and loads the weights: timed apart from transcribe()
    load_s = time.perf_counter() - start

    warm = audio_of(str(SAMPLE_MP3))[: int(WARMUP_SECONDS * 16_000)]
    start = time.perf_counter()
    transcriber.transcribe(warm, opts)
    warmup_s = time.perf_counter() - start
    extra = {}
    if engine == "openai-whisper":
        import torch

        extra["torch_threads"] = torch.get_num_threads()
    extra["options"] = {k: v for k, v in opts.__dict__.items()}
    reply(event="ready", load_s=load_s, warmup_s=warmup_s, **extra)

    for line in sys.stdin:
        request = json.loads(line)
        audio = audio_of(request["audio"])
        if request.get("decode_only"):  # decode ahead so the timed runs hold no ffmpeg work
            reply(event="decoded", audio_seconds=audio.size / 16_000)
            continue
        cpu0, start = cpu_seconds(), time.perf_counter()
        result = transcriber.transcribe(audio, opts)
        seconds = time.perf_counter() - start
        cpu = cpu_seconds() - cpu0
        reply(
            event="result",
            seconds=seconds,
            cpu_seconds=cpu,
            audio_seconds=audio.size / 16_000,
            text=result.text,
            words=len(result.words),
            maxrss=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        )
    return 0


class Worker:
    def __init__(self, engine: str, threads: int, batch_size: int | None = None):
        self.engine = engine
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", engine, "--threads", str(threads)]
        if batch_size is not None:
            cmd += ["--batch-size", str(batch_size)]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.ready = self._read()
        if self.ready.get("event") != "ready":
            raise RuntimeError(f"{engine} worker did not start: {self.ready}")

    def _read(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.engine} worker exited (status {self.proc.wait()})")
        return json.loads(line)

    def decode(self, path: Path) -> dict:
        self.proc.stdin.write(json.dumps({"audio": str(path), "decode_only": True}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def transcribe(self, path: Path) -> dict:
        busy0 = busy_cpu_seconds()
        self.proc.stdin.write(json.dumps({"audio": str(path)}) + "\n")
        self.proc.stdin.flush()
        out = self._read()
        # Cores used by anything but the worker while it ran.
        other = busy_cpu_seconds() - busy0 - out["cpu_seconds"]
        out["other_cores"] = max(0.0, other) / out["seconds"]
        return out

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


# --- driver -----------------------------------------------------------------------------------

def prepare_openai_checkpoint() -> dict:
    """Convert the bundled CT2 tiny.en to an openai-whisper checkpoint once (timed, cached).

    In a subprocess, so this process stays small (its RSS would leak into the workers' ru_maxrss).
    """
    code = ("import sys, time; from pathlib import Path; from pipeline.transcribe import ModelStore; "
            "s = time.perf_counter(); p = ModelStore(Path(sys.argv[1])).openai_checkpoint(sys.argv[2]); "
            "print(time.perf_counter() - s); print(p)")
    existed = any((MODEL_DIR / "openai").glob(f"{MODEL}-*.pt"))
    out = subprocess.run([sys.executable, "-c", code, str(MODEL_DIR), MODEL], check=True, capture_output=True,
                         text=True).stdout.split("\n")
    return {"path": rel(out[1].strip()), "cached": existed, "seconds": float(out[0])}


def summarize(runs: list[dict], reference: str) -> dict:
    seconds = [r["seconds"] for r in runs]
    audio_s = runs[0]["audio_seconds"]
    median = statistics.median(seconds)
    wers = [wer(reference, r["text"]) for r in runs]
    return {
        "runs": len(runs),
        "seconds": seconds,
        "median_s": median,
        "min_s": min(seconds),
        "audio_seconds": audio_s,
        "rtf": median / audio_s,
        "cpu_utilisation": statistics.median(r["cpu_seconds"] / r["seconds"] for r in runs),
        "wer": wers[0],
        "wer_all_runs": wers,
        "same_text_every_run": len({r["text"] for r in runs}) == 1,
        "words": runs[0]["words"],
        "worker_maxrss": max(r["maxrss"] for r in runs),
        "other_cores": [r["other_cores"] for r in runs],
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="sample episode only (skip the 10-minute episode)")
    ap.add_argument("--runs", type=int, default=3, help="runs per engine on the sample (default 3)")
    ap.add_argument("--long-repeat", type=int, default=6,
                    help="make_sample.py --repeat for the long episode (default 6 = 10.7 min)")
    ap.add_argument("--long-runs", type=int, default=1, help="runs per engine on the long episode (default 1)")
    ap.add_argument("--sample-retries", type=int, default=2,
                    help="re-runs of a sample run disturbed by other load (default 2)")
    ap.add_argument("--long-retries", type=int, default=1,
                    help="re-runs of a long-episode run disturbed by other load (default 1)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="threads per engine (default: all cores)")
    ap.add_argument("--worker", choices=ENGINES, help=argparse.SUPPRESS)
    ap.add_argument("--batch-size", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        return worker(args.worker, args.threads, args.batch_size)

    started = time.perf_counter()
    audios = [("sample", SAMPLE_MP3, SAMPLE_TXT, args.runs)]
    if not args.quick:
        mp3, txt = long_episode(args.long_repeat)
        audios.append((f"{media_seconds(mp3) / 60:.1f}-min episode", mp3, txt, args.long_runs))

    conversion = prepare_openai_checkpoint()
    log(f"openai checkpoint {'cached' if conversion['cached'] else 'converted'} in {conversion['seconds']:.1f} s")
    git_start = git_state()
    labels = [label for label, _e, _b in variants()]
    workers = {}
    wait_for_quiet()
    for label, engine, batch in variants():  # start one at a time so load times are not contended
        log(f"starting {label} worker ({args.threads} threads): load + {WARMUP_SECONDS:.0f} s warm-up")
        workers[label] = Worker(engine, args.threads, batch)
        log(f"  loaded in {workers[label].ready['load_s']:.2f} s, warm-up {workers[label].ready['warmup_s']:.2f} s")
        for _audio_label, mp3, _txt, _runs in audios:
            workers[label].decode(mp3)

    results, discarded = [], []
    try:
        for audio_label, mp3, txt, runs in audios:
            reference = Path(txt).read_text()
            retries = args.sample_retries if audio_label == "sample" else args.long_retries
            raw: dict[str, list[dict]] = {v: [] for v in labels}
            for i in range(runs):
                order = labels[i % len(labels):] + labels[: i % len(labels)]  # rotate who goes first
                for label in order:
                    for attempt in range(1 + retries):
                        waited = wait_for_quiet()
                        log(f"{audio_label}: {label} run {i + 1}/{runs}" + (f" (retry {attempt})" if attempt else ""))
                        out = workers[label].transcribe(mp3)
                        out["waited_for_quiet_s"] = waited
                        log(f"  {out['seconds']:.1f} s (RTF {out['seconds'] / out['audio_seconds']:.3f}, "
                            f"other load {out['other_cores']:.2f} cores)")
                        time.sleep(1.0)  # let the other runtime's spinning threads go idle
                        if out["other_cores"] <= MAX_OTHER_CORES or attempt == retries:
                            break
                        log(f"  discarded: other processes used {out['other_cores']:.2f} cores during the run")
                        out.pop("text")
                        discarded.append({"audio": audio_label, "engine": label, **out})
                    raw[label].append(out)
            per_engine = {v: summarize(raw[v], reference) for v in labels}
            fw, ow = per_engine["faster-whisper"], per_engine["openai-whisper"]
            ratio = ow["rtf"] / fw["rtf"]
            wer_diff = (ow["wer"] - fw["wer"]) * 100
            transcripts = RESULTS_DIR / "transcripts"
            transcripts.mkdir(parents=True, exist_ok=True)
            for v in labels:
                name = v.replace(" ", "_").replace("=", "")
                (transcripts / f"{Path(mp3).stem}.{name}.txt").write_text(raw[v][0]["text"] + "\n")
            extra_ratios = {v: ow["rtf"] / per_engine[v]["rtf"] for v in labels if v not in ("faster-whisper", "openai-whisper")}
            results.append({
                "label": audio_label,
                "audio": rel(mp3),
                "reference": rel(txt),
                "audio_seconds": fw["audio_seconds"],
                "engines": per_engine,
                "speed_ratio": ratio,
                "other_speed_ratios": extra_ratios,
                "wer_diff_points": wer_diff,
                "speed_target_met": ratio >= TARGET_SPEED_RATIO,
                "wer_target_met": abs(wer_diff) <= TARGET_WER_POINTS,
            })
    finally:
        for w in workers.values():
            w.close()

    data = {
        "benchmark": "transcribe",
        "quick": args.quick,
        "command": "make bench  (or: .venv/bin/python benchmarks/bench_transcribe.py" + (" --quick" if args.quick else "") + ")",
        "machine": machine_info(),
        "git_at_start": git_start,
        "git_at_end": git_state(),
        "settings": {"model": MODEL, "beam_size": BEAM_SIZE, "vad": VAD, "threads": args.threads,
                     "faster_whisper_compute_type": options(args.threads).compute_type,
                     "faster_whisper_batch_size": getattr(options(args.threads), "batch_size", None),
                     "openai_whisper_precision": "fp32 (fp16=False on CPU)",
                     "warmup_seconds": WARMUP_SECONDS},
        "targets": {"speed_ratio_min": TARGET_SPEED_RATIO, "wer_diff_points_max": TARGET_WER_POINTS},
        "openai_checkpoint": conversion,
        "load": {v: {k: x for k, x in workers[v].ready.items() if k != "event"} for v in labels},
        "results": results,
        "discarded_runs": discarded,
        "max_other_cores": MAX_OTHER_CORES,
        "elapsed_s": time.perf_counter() - started,
    }
    print_summary(data)
    save_result("transcribe", data, quick=args.quick)
    return 0


def print_summary(data: dict) -> None:
    print(f"{'audio':<22} {'engine':<28} {'median s':>9} {'RTF':>7} {'WER %':>7}")
    for r in data["results"]:
        for engine, e in r["engines"].items():
            print(f"{r['label']:<22} {engine:<28} {e['median_s']:>9.2f} {e['rtf']:>7.3f} {e['wer'] * 100:>7.2f}")
        print(f"{'':<22} speed ratio {r['speed_ratio']:.2f}x (target >= {TARGET_SPEED_RATIO:.0f}x: "
              f"{'met' if r['speed_target_met'] else 'MISSED'}), WER diff {r['wer_diff_points']:+.2f} pts "
              f"(target within {TARGET_WER_POINTS:.0f}: {'met' if r['wer_target_met'] else 'MISSED'})")


if __name__ == "__main__":
    raise SystemExit(main())
