"""Helpers shared by the benchmark scripts: paths, test audio, machine facts, RSS sampling.

Nothing here is imported by the product; the scripts run with the project venv
(``.venv/bin/python benchmarks/<script>.py``).
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "benchmarks"
DATA_DIR = ROOT / "bench-data"  # git-ignored scratch: generated episodes, model cache, results
RESULTS_DIR = DATA_DIR / "results"
SAMPLE_MP3 = ROOT / "samples" / "sample_episode.mp3"
SAMPLE_TXT = ROOT / "samples" / "sample_episode.txt"
MAKE_SAMPLE = ROOT / "scripts" / "make_sample.py"
MB = 1024**2


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def long_episode(repeat: int) -> tuple[Path, Path]:
    """``bench-data/sample_long_xN.{mp3,txt}``, built with scripts/make_sample.py when missing."""
    mp3 = DATA_DIR / f"sample_long_x{repeat}.mp3"
    txt = DATA_DIR / f"sample_long_x{repeat}.txt"
    if not (mp3.is_file() and txt.is_file()):
        log(f"building {mp3.relative_to(ROOT)} (make_sample.py --repeat {repeat})")
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, str(MAKE_SAMPLE), "--repeat", str(repeat), "--out-dir", str(DATA_DIR)],
                       check=True, stdout=subprocess.DEVNULL)
    return mp3, txt


def media_seconds(path: Path) -> float:
    from pipeline.media.probe import probe

    return float(probe(Path(path)).duration)


def rel(path: Path | str) -> str:
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def _version(dist: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def git_state() -> str:
    """Short commit, plus a marker when tracked files differ from it (the code measured)."""
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    changed = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],
                             capture_output=True, text=True).stdout.split("\n")
    changed = [line[3:] for line in changed if line.strip()]
    return commit + (f" + uncommitted changes in {', '.join(changed)}" if changed else "")


def machine_info() -> dict:
    cpu_model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ffmpeg = "not found"
    if shutil.which("ffmpeg"):
        out = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout
        ffmpeg = out.splitlines()[0].split(" Copyright")[0] if out else "unknown"
    return {
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "cpu_model": cpu_model,
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "git": git_state(),
        "versions": {name: _version(name) for name in
                     ("faster-whisper", "ctranslate2", "openai-whisper", "torch", "jiwer", "pydub", "psutil")},
        "ffmpeg": ffmpeg,
    }


def save_result(name: str, data: dict, quick: bool = False) -> Path:
    """Write bench-data/results/NAME[-quick].json and say where."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}{'-quick' if quick else ''}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    log(f"wrote {rel(path)}")
    return path


def load_result(name: str) -> dict | None:
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


# --- WER ---------------------------------------------------------------------------------------

_normalizer = None


def normalize(text: str) -> str:
    """openai-whisper's EnglishTextNormalizer ("three hundred dollars" -> "$300", no punctuation)."""
    global _normalizer
    if _normalizer is None:
        from whisper.normalizers import EnglishTextNormalizer

        _normalizer = EnglishTextNormalizer()
    return _normalizer(text)


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return float(jiwer.wer(normalize(reference), normalize(hypothesis)))


# --- other load on the machine ----------------------------------------------------------------

def busy_cpu_seconds() -> float:
    """CPU seconds spent busy by the whole machine since boot (incl. time stolen by the hypervisor)."""
    t = psutil.cpu_times()
    return sum(getattr(t, name, 0.0) for name in ("user", "nice", "system", "irq", "softirq", "steal"))


def wait_for_quiet(max_wait: float = 180.0, threshold: float = 0.25, window: float = 3.0) -> float:
    """Wait until other processes use less than ``threshold`` cores; returns seconds waited.

    Timings on a 2-core machine are meaningless while something else (a test run)
    holds a core: OpenMP barriers then stall for a whole scheduler slice.
    """
    waited, warned = 0.0, False
    while True:
        before = busy_cpu_seconds()
        time.sleep(window)
        load = (busy_cpu_seconds() - before) / window
        if load < threshold:
            return waited
        waited += window
        if not warned:
            log(f"machine busy ({load:.2f} cores used by other processes); waiting up to {max_wait:.0f} s")
            warned = True
        if waited >= max_wait:
            log(f"still busy after {waited:.0f} s ({load:.2f} cores); measuring anyway (recorded as other load)")
            return waited


# --- measuring a process tree -----------------------------------------------------------------

@dataclass
class TreeSample:
    t: float  # seconds since start
    total_rss: int  # bytes, summed over the process and all its descendants
    procs: list[tuple[str, int]] = field(default_factory=list)  # (name, rss) per process


@dataclass
class Measured:
    cmd: list[str]
    returncode: int
    wall_s: float
    peak_tree_rss: int  # max over samples of the summed RSS of the tree
    peak_at_s: float  # when that peak was sampled
    peak_procs: list[tuple[str, int]]  # the tree at the peak
    ru_maxrss: int  # bytes: the largest single process in the tree (kernel high-water mark)
    parent_maxrss: int  # this (measuring) process's high-water RSS at spawn: a floor under ru_maxrss
    cpu_s: float  # user + system CPU of the tree (from wait4)
    other_cores: float  # average cores used by processes outside the tree during the run
    samples: int
    timeline: list[tuple[float, int]]  # (t, summed RSS) every ~5 s, for the report
    stdout: str = ""
    stderr: str = ""

    def to_dict(self) -> dict:
        data = asdict(self)
        data["stdout"] = self.stdout[-4000:]
        data["stderr"] = self.stderr[-4000:]
        return data


def _proc_name(proc: psutil.Process) -> str:
    try:
        cmdline = proc.cmdline()
    except (psutil.Error, OSError):
        return "?"
    if not cmdline:
        return proc.name() if proc.is_running() else "?"
    head = Path(cmdline[0]).name
    if head.startswith("python") and len(cmdline) > 1:
        return f"{head} {Path(cmdline[1]).name if cmdline[1] != '-c' else '-c'}"
    return head


def measure_tree(cmd: list[str], *, env: dict | None = None, interval: float = 0.2,
                 cwd: Path | None = None) -> Measured:
    """Run ``cmd`` and sample the summed RSS of it and all its children every ``interval`` s.

    ``ru_maxrss`` comes from ``os.wait4`` on that child: the same number
    ``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` reports, but for this one
    command only (the largest single process among it and its waited-for
    descendants; Linux reports KiB, converted to bytes here). Linux carries the
    spawning process's own high-water RSS into the child's at exec, so ``ru_maxrss``
    never reads below ``parent_maxrss``: keep the measuring process small.
    """
    import resource

    import tempfile

    out = tempfile.TemporaryFile(mode="w+b")
    err = tempfile.TemporaryFile(mode="w+b")
    parent_maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    busy0 = busy_cpu_seconds()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=err)
    root = psutil.Process(proc.pid)
    stop = threading.Event()
    peak = TreeSample(0.0, 0)
    timeline: list[tuple[float, int]] = []
    count = 0
    names: dict[int, str] = {}

    def sample() -> None:
        nonlocal peak, count
        next_mark = 0.0
        while not stop.is_set():
            t = time.perf_counter() - start
            try:
                members = [root] + root.children(recursive=True)
            except psutil.Error:
                members = [root]
            procs: list[tuple[str, int]] = []
            for member in members:
                try:
                    rss = member.memory_info().rss
                    if member.pid not in names:
                        names[member.pid] = _proc_name(member)
                    procs.append((names[member.pid], rss))
                except psutil.Error:
                    continue
            total = sum(r for _, r in procs)
            if procs:
                count += 1
                if total > peak.total_rss:
                    peak = TreeSample(t, total, procs)
                if t >= next_mark:
                    timeline.append((round(t, 1), total))
                    next_mark = t + 5.0
            stop.wait(interval)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    busy = busy_cpu_seconds() - busy0
    stop.set()
    sampler.join()
    cpu = usage.ru_utime + usage.ru_stime
    proc.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    return Measured(
        cmd=[rel(c) if os.sep in c else c for c in cmd],
        returncode=proc.returncode,
        wall_s=wall,
        peak_tree_rss=peak.total_rss,
        peak_at_s=peak.t,
        peak_procs=peak.procs,
        ru_maxrss=usage.ru_maxrss * 1024,
        parent_maxrss=parent_maxrss,
        cpu_s=cpu,
        other_cores=max(0.0, busy - cpu) / wall if wall else 0.0,
        samples=count,
        timeline=timeline,
        stdout=out.read().decode(errors="replace"),
        stderr=err.read().decode(errors="replace"),
    )


def replace_section(path: Path, heading: str, text: str) -> None:
    """Put ``text`` in place of the section of ``path`` that starts with ``heading`` (appended when absent)."""
    current = path.read_text()
    if heading in current:
        start = current.index(heading)
        following = current.find("\n## ", start + len(heading))
        current = current[:start] + text.rstrip() + "\n" + (current[following:] if following != -1 else "")
    else:
        current = current.rstrip() + "\n\n" + text
    path.write_text(current.rstrip() + "\n")


def replace_lines(path: Path, prefixes: list[str], lines: list[str]) -> None:
    """Replace the lines of ``path`` that start with one of ``prefixes`` by ``lines``, where the first was."""
    kept, placed = [], False
    for line in path.read_text().splitlines():
        if any(line.startswith(p) for p in prefixes):
            if not placed:
                kept += lines
                placed = True
            continue
        kept.append(line)
    path.write_text("\n".join(kept) + "\n")


def write_own_section(path: Path, heading: str, text: str, prefix: str, rows: list[str]) -> None:
    """A benchmark's own section and its rows of the Targets table, rewritten in ``path``."""
    replace_section(path, heading, text)
    set_target_rows(path, prefix, rows)
    log(f"rewrote {heading!r} and its rows of the Targets table in {path.name}")


def set_target_rows(path: Path, prefix: str, rows: list[str]) -> None:
    """Put ``rows`` in the Targets table of ``path`` in place of those starting with ``prefix``; at the end of
    the table when there are none yet."""
    lines = path.read_text().splitlines()
    if any(line.startswith(prefix) for line in lines):
        replace_lines(path, [prefix], rows)
        return
    start = lines.index("## Targets")
    end = next(i for i in range(start + 4, len(lines)) if not lines[i].startswith("|"))
    path.write_text("\n".join(lines[:end] + rows + lines[end:]) + "\n")
