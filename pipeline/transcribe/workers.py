"""Transcription of many episodes at once: a spawn process pool sized by cores and free memory.

Each worker opens its own database session and runs ``stage.run_stage``; progress comes back on a queue.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
import multiprocessing
import os
import queue as queue_module
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path

import psutil

from pipeline.core.settings import load_settings
from pipeline.store.db import Database
from pipeline.transcribe import ModelStore, get_transcriber
from pipeline.transcribe.stage import TranscribeJob, run_stage

# Resident memory of one worker beyond the audio itself: tiny/base models, CTranslate2 and
# torch runtimes (measured ~450 MB for openai-whisper tiny.en, ~250 MB for faster-whisper).
WORKER_BASE_BYTES = 600 * 1024**2
# Audio as float32 plus the mel features and decode buffers built from it (~3x the samples).
BYTES_PER_AUDIO_SECOND = 16_000 * 4 * 3


def effective_jobs(requested: int, durations: list[float]) -> int:
    """Parallel workers that fit in cores and in available memory (never below 1)."""
    if not durations:
        return 1
    per_worker = WORKER_BASE_BYTES + max(durations) * BYTES_PER_AUDIO_SECOND
    by_memory = int(psutil.virtual_memory().available * 0.8 // per_worker)
    return max(1, min(requested, os.cpu_count() or 1, by_memory, len(durations)))


# --- process pool ---------------------------------------------------------------------------

_worker_state: dict = {}


def _worker_init(database_url: str, home: str, engine: str, threads: int, events) -> None:
    settings = load_settings(Path(home))
    _worker_state.update(
        db=Database(database_url, auto_migrate=False),
        settings=settings,
        transcriber=get_transcriber(engine, ModelStore(settings.models_dir, settings.models)),
        events=events,
        threads=threads,
    )


def _worker_transcribe(episode_id: int, source: str, job: TranscribeJob) -> str | None:
    events = _worker_state["events"]
    options = dataclasses.replace(job.options, threads=_worker_state["threads"])
    progress = lambda seconds: events.put((source, seconds))
    return run_stage(_worker_state["db"], episode_id, TranscribeJob(job.engine, options), _worker_state["transcriber"], progress,
                     settings=_worker_state["settings"])


def transcribe_in_pool(db: Database, settings, todo: list[tuple[int, str]], job: TranscribeJob, workers: int, *,
                       advance: Callable[[str, float], None], finished: Callable[[int, str | None], None]) -> None:
    """Transcribe ``todo`` (episode id, source) in ``workers`` processes.

    ``advance(source, seconds)`` reports progress; ``finished(episode_id, error or None)`` each result.
    """
    threads = max(1, (os.cpu_count() or 1) // workers)
    context = multiprocessing.get_context("spawn")  # CTranslate2 and torch are not fork-safe
    with context.Manager() as manager:
        events = manager.Queue()
        init_args = (db.url, str(settings.home), job.engine, threads, events)
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init, initargs=init_args) as pool:
            futures = {pool.submit(_worker_transcribe, episode_id, source, job): episode_id for episode_id, source in todo}
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                _drain(events, advance)
                for future in done:
                    finished(futures[future], _result_or_error(future))
            _drain(events, advance)


def _result_or_error(future) -> str | None:
    try:
        return future.result()
    except Exception as exc:  # a worker that died (OOM, signal) must not lose the batch
        return f"transcription worker failed: {type(exc).__name__}: {exc}"


def _drain(events, advance: Callable[[str, float], None]) -> None:
    while True:
        try:
            source, seconds = events.get_nowait()
        except queue_module.Empty:
            return
        advance(source, seconds)
