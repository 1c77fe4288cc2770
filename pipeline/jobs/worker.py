"""``castmill worker``: take jobs from the queue until stopped, on any machine that reaches the database.

Beside procrastinate's own loop, each worker runs a watch for dead workers: a job whose worker
stopped sending heartbeats (kill -9, power cut, lost network) goes back to the queue for another
worker, or is parked as failed once it has used its attempts, so a job that keeps crashing
workers stops taking them down. If the database goes away, the worker waits and reconnects.
SIGTERM (or Ctrl-C) stops taking new jobs and lets the running ones finish.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
from dataclasses import dataclass

import procrastinate
from procrastinate.jobs import Status
from procrastinate.worker import Worker

from pipeline.core.clock import utcnow
from pipeline.core.errors import CastmillError
from pipeline.core.settings import Settings
from pipeline.jobs.app import ensure_schema, queue_app
from pipeline.jobs.options import QueueOptions
from pipeline.jobs.tasks import WorkerContext, first_line, record_job_error, stage_of
from pipeline.store.db import Database

log = logging.getLogger("castmill.worker")

RECONNECT_WAIT = (1.0, 30.0)  # seconds before reconnecting to a lost database: first, longest


@dataclass(frozen=True)
class WorkerSpec:
    queues: tuple[str, ...] = ()  # empty: every queue
    name: str = ""  # host:pid by default
    stop_when_idle: bool = False  # for tests and one-off runs: stop once no job is waiting

    def worker_name(self) -> str:
        return self.name or f"{socket.gethostname()}:{os.getpid()}"


def run_worker(db: Database, settings: Settings, options: QueueOptions, spec: WorkerSpec) -> None:
    """Run until SIGTERM/SIGINT (or, with ``stop_when_idle``, until the queue is empty)."""
    asyncio.run(_run(db, settings, options, spec))


async def _run(db: Database, settings: Settings, options: QueueOptions, spec: WorkerSpec) -> None:
    app = queue_app(settings, options)
    context = WorkerContext(db, settings, spec.worker_name())
    stopping = asyncio.Event()
    wait = RECONNECT_WAIT[0]
    while not stopping.is_set():
        try:
            await asyncio.to_thread(ensure_schema, settings.database_url)
            async with app.open_async():
                await _work(app, context, options, spec)
            return  # a clean stop: signal, or idle with stop_when_idle
        except (CastmillError, OSError, procrastinate.exceptions.ConnectorException) as exc:
            log.warning("worker %s lost the database (%s); reconnecting in %.0f s", context.name, first_line(exc), wait)
            await _sleep_unless_stopped(wait, stopping)
            wait = min(wait * 2, RECONNECT_WAIT[1])


async def _work(app: procrastinate.App, context: WorkerContext, options: QueueOptions, spec: WorkerSpec) -> None:
    worker = Worker(
        app=app, queues=list(spec.queues) or None, name=context.name, concurrency=options.concurrency,
        wait=not spec.stop_when_idle, additional_context={"castmill": context},
        update_heartbeat_interval=options.heartbeat, stalled_worker_timeout=options.stalled_after,
        shutdown_graceful_timeout=options.graceful_timeout or None,
    )
    watch = asyncio.create_task(_watch(app, worker, context, options), name="stalled jobs")
    try:
        await worker.run()
    finally:
        watch.cancel()


async def _watch(app: procrastinate.App, worker: Worker, context: WorkerContext, options: QueueOptions) -> None:
    """Judge other workers only once they have had time to send a heartbeat: ``stalled_after`` after this
    worker starts, and after the database was away (or this loop stalled) for a while, ``stalled_after`` plus
    that while: every heartbeat is old by then, and the others' connection pools come back with a backoff as
    long as the outage at worst."""
    interval = max(options.heartbeat, options.stalled_after / 4)
    last_answer = time.monotonic()
    judge_after = last_answer + options.stalled_after
    lost: set[int] = set()
    while True:
        await asyncio.sleep(interval)
        try:
            await app.job_manager.check_connection_async()  # may wait for the pool to reconnect
        except Exception as exc:  # noqa: BLE001 - a lost database: wait until it is back
            log.debug("stalled-job check failed: %s", first_line(exc))
            continue
        now = time.monotonic()
        gap, last_answer = now - last_answer, now
        if gap > interval + options.heartbeat:
            judge_after = max(judge_after, now + options.stalled_after + gap)
        try:
            lost = await release_lost(app, worker, lost)
            if now >= judge_after:
                await release_stalled(app, context, options)
        except Exception as exc:  # noqa: BLE001 - tried again on the next round
            log.debug("stalled-job check failed: %s", first_line(exc))


async def release_stalled(app: procrastinate.App, context: WorkerContext, options: QueueOptions) -> list[int]:
    """Requeue or park the running jobs of dead workers; returns the ids of the jobs it handled."""
    handled = []
    for job in await app.job_manager.get_stalled_jobs(seconds_since_heartbeat=options.stalled_after):
        runs = job.attempts + 1
        try:
            if runs >= options.max_attempts:
                await app.job_manager.finish_job_by_id_async(job.id, status=Status.FAILED, delete_job=False)
                await asyncio.to_thread(_record_parked, context, job, runs)
                log.warning("job %s (%s) parked: its worker died on each of %d attempts", job.id, job.task_name, runs)
            else:
                await app.job_manager.retry_job_by_id_async(job.id, utcnow())  # no retry loop: another worker may win the race
                log.warning("job %s (%s) requeued: its worker stopped answering", job.id, job.task_name)
        except procrastinate.exceptions.ConnectorException as exc:  # another worker got there first
            log.debug("job %s already handled: %s", job.id, first_line(exc))
            continue
        handled.append(job.id)
    return handled


async def release_lost(app: procrastinate.App, worker: Worker, suspects: set[int]) -> set[int]:
    """Requeue jobs the database says this worker runs but it does not: an answer lost with the connection
    (a fetch, or the record of a job's end). A job is requeued when it is found so on two checks in a row,
    so a fetch whose answer is still on its way is not mistaken for one; returns this check's suspects."""
    if worker.worker_id is None:
        return set()
    doing = await app.job_manager.list_jobs_async(status="doing", worker_id=worker.worker_id)
    running = {ctx.job.id for ctx in worker._running_jobs.values()}  # noqa: SLF001 - no public view of it
    found = {job.id: job for job in doing if job.id not in running}
    for job_id in set(found) & suspects:
        await app.job_manager.retry_job_by_id_async(job_id, utcnow())
        log.warning("job %s (%s) requeued: this worker lost track of it with the database connection",
                    job_id, found[job_id].task_name)
    return set(found) - suspects


def parked_message(runs: int) -> str:
    return (f"parked after {runs} attempt(s): the worker running it stopped each time (killed, out of memory, "
            "or lost); `castmill jobs retry` runs it again")


def _record_parked(context: WorkerContext, job, runs: int) -> None:
    from pipeline.store.stages import mark_failed, mark_stage

    record_job_error(context.db, job.id, parked_message(runs))
    episode_id = job.task_kwargs.get("episode_id")
    if episode_id is not None:
        mark_stage(context.db, episode_id, stage_of(job.task_name), mark_failed, parked_message(runs))


async def _sleep_unless_stopped(seconds: float, stopping: asyncio.Event) -> None:
    """Between reconnections procrastinate's signal handlers are not installed: SIGTERM stops the wait."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    try:
        await asyncio.wait_for(stopping.wait(), timeout=seconds)
    except asyncio.TimeoutError:
        pass
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
