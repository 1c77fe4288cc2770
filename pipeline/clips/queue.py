"""The render queue: clip jobs in a process pool bounded by cores and memory, with progress.

Each ffmpeg render already uses several threads, so more workers than cores only
adds memory. The memory bound comes from the peak RSS measured in `make bench`
(BENCHMARKS.md, clip rendering): ~0.4 GiB for the ffmpeg engine and ~0.6 GiB
for moviepy on a 30 s 1080×1920 clip; 1 GiB per worker leaves room for 90 s clips.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

import psutil

from pipeline.clips.jobs import RenderJob, RenderOutput, run_job

BYTES_PER_WORKER = 1024**3


def render_workers(jobs: int, requested: int | None = None) -> int:
    """Workers that fit in the cores and the available memory (at least 1, at most ``jobs``)."""
    by_memory = int(psutil.virtual_memory().available * 0.8 // BYTES_PER_WORKER)
    cap = requested or os.cpu_count() or 1
    return max(1, min(cap, os.cpu_count() or 1, by_memory, jobs))


def run_jobs(jobs: list[RenderJob], workers: int | None = None) -> Iterator[RenderOutput]:
    """Yield each job's output as it finishes (not in submission order)."""
    count = render_workers(len(jobs), workers)
    if count <= 1:
        for job in jobs:
            yield run_job(job)
        return
    # spawn: the parent holds database connections and a progress thread, which fork would copy.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(count, mp_context=context) as pool:
        futures = {pool.submit(run_job, job): job for job in jobs}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield _output(future, futures[future])


def _output(future, job: RenderJob) -> RenderOutput:
    try:
        return future.result()
    except Exception as exc:  # a worker that died (OOM kill, signal) fails its clip, not the batch
        return RenderOutput(job, error=f"render worker failed: {type(exc).__name__}: {exc}")
