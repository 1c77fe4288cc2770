"""A worker that rides out a lost database instead of stopping with jobs still running.

procrastinate stops a worker when its heartbeat or its listener fails, and it cannot record a job's
end while the database is away. Stopping would leave the jobs still running in threads without
heartbeats, so a live worker's job would look dead to the others and run twice. This job manager
keeps every worker-side call going through an outage: the heartbeat and the job fetch skip a beat,
the listener reconnects, and a job's end is recorded as soon as the database answers again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable, TypeVar

import psycopg
import psycopg_pool
from procrastinate import manager
from procrastinate.exceptions import ConnectorException

log = logging.getLogger("castmill.worker")

RETRY_EVERY = 1.0  # seconds between tries while the database is away
T = TypeVar("T")


def is_connection_loss(exc: BaseException) -> bool:
    """The database is unreachable (not: the query was wrong, or a job changed state meanwhile)."""
    cause = exc.__cause__ if isinstance(exc, ConnectorException) else exc
    return isinstance(cause, (psycopg.OperationalError, psycopg_pool.PoolTimeout, OSError))


class ResilientJobManager(manager.JobManager):
    async def finish_job(self, job, status, delete_job: bool) -> None:
        await self._until_reachable(f"recording the end of job {job.id}",
                                    lambda: super(ResilientJobManager, self).finish_job(job, status, delete_job))

    async def retry_job(self, job, retry_at=None, priority=None, queue=None, lock=None) -> None:
        await self._until_reachable(f"scheduling the retry of job {job.id}",
                                    lambda: super(ResilientJobManager, self).retry_job(job, retry_at, priority, queue,
                                                                                       lock))

    async def update_heartbeat(self, worker_id: int) -> None:
        try:
            await super().update_heartbeat(worker_id)
        except ConnectorException as exc:
            if not is_connection_loss(exc):
                raise
            log.warning("heartbeat skipped: the database is unreachable")

    async def fetch_job(self, queues, worker_id: int):
        try:
            return await super().fetch_job(queues, worker_id)
        except ConnectorException as exc:
            if not is_connection_loss(exc):
                raise
            await asyncio.sleep(RETRY_EVERY)
            return None

    async def list_jobs_to_abort_async(self, queue: str | None = None):
        try:
            return await super().list_jobs_to_abort_async(queue)
        except ConnectorException as exc:
            if not is_connection_loss(exc):
                raise
            return []

    async def listen_for_jobs(self, *, on_notification, queues=None) -> None:
        while True:
            try:
                return await super().listen_for_jobs(on_notification=on_notification, queues=queues)
            except ConnectorException as exc:
                if not is_connection_loss(exc):
                    raise
                await asyncio.sleep(RETRY_EVERY)  # meanwhile the worker polls for jobs

    async def unregister_worker(self, worker_id: int) -> None:
        try:
            await super().unregister_worker(worker_id)
        except ConnectorException as exc:
            if not is_connection_loss(exc):
                raise
            log.warning("could not unregister worker %s: the database is unreachable", worker_id)

    async def _until_reachable(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        warned = False
        while True:
            try:
                return await call()
            except ConnectorException as exc:
                if not is_connection_loss(exc):
                    log.warning("%s failed: %s", what, str(exc.__cause__ or exc).strip().splitlines()[0])
                    raise
                if not warned:
                    log.warning("%s: the database is unreachable; trying every %.0f s", what, RETRY_EVERY)
                    warned = True
                await asyncio.sleep(RETRY_EVERY)
