#!/usr/bin/env python3
"""The scheduler's claim loop: throughput and proof of zero double claims, SQLite and PostgreSQL.

    .venv/bin/python benchmarks/bench_scheduler.py              # 10,000 due posts per run
    .venv/bin/python benchmarks/bench_scheduler.py --quick      # 1,000 due posts per run
    .venv/bin/python benchmarks/bench_scheduler.py --databases sqlite --workers 2

Each run starts from an empty database (a fresh SQLite file in a temp CASTMILL_HOME, or a fresh
database on a private PostgreSQL server from tests/helpers/pg_server.py) holding N scheduled posts, all due
a minute ago, each with its own draft and approved version, no account: they go to the outbox
publisher (one JSON file per idempotency key under $CASTMILL_HOME/outbox/<client>/).

Then 1 or 2 worker processes start together, each running
``python -m pipeline.cli scheduler run --once --batch-size 20`` (the default batch): one
pass that claims batch after batch (one atomic UPDATE … RETURNING each) and publishes every claimed
post (a "started" attempt committed before the call, the outcome after) until nothing is due.

Throughput = N / the span from the first attempt's start to the last attempt's finish, read from
the publish_attempts table (process start-up and imports excluded); the process wall time is
recorded too. Proof of exactly once, checked after every run: every post has exactly one attempt
row and it is "published", ``attempts`` (claims) is 1 on every post, the outbox holds exactly N
files named by the N idempotency keys, and the workers' attempt sets are disjoint.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, busy_cpu_seconds, git_state, log, machine_info, save_result, wait_for_quiet  # noqa: E402

sys.path.insert(0, str(ROOT))
POSTS = 10_000
QUICK_POSTS = 1_000
BATCH_SIZE = 20  # `castmill scheduler run`'s default
DATABASES = ("sqlite", "postgresql")
WORKER_COUNTS = (1, 2)


# --- setting up one run --------------------------------------------------------------------------------

def seed(url: str, count: int) -> None:
    """``count`` due posts with their client, episode, drafts and versions, inserted in bulk."""
    from sqlalchemy import insert

    from pipeline.store.db import Database
    from pipeline.store.models import Client, Draft, DraftVersion, Episode, ScheduledPost

    now = datetime.now(timezone.utc)
    db = Database(url)
    with db.session() as session:
        session.execute(insert(Client), [{"id": 1, "slug": "bench", "name": "Bench"}])
        session.execute(insert(Episode), [{"id": 1, "client_id": 1, "source_uri": "/bench.mp3",
                                           "media_path": "/bench.mp3", "sha256": "0" * 64, "title": "Bench"}])
        session.execute(insert(Draft), [{"id": n, "client_id": 1, "episode_id": 1, "highlight_key": f"{n}.0-{n}.5",
                                         "platform": "outbox", "language": "en", "status": "approved"}
                                        for n in range(1, count + 1)])
        session.execute(insert(DraftVersion), [{"id": n, "draft_id": n, "number": 1, "parts": [f"Bench post {n}"],
                                                "author": "bench", "source": "edit"} for n in range(1, count + 1)])
        session.execute(insert(ScheduledPost), [
            {"id": n, "client_id": 1, "draft_id": n, "version_id": n, "platform": "outbox",
             "due_at": now - timedelta(minutes=1), "idempotency_key": f"bench-{n:05d}-{uuid.uuid4().hex[:8]}"}
            for n in range(1, count + 1)])
    if url.startswith("postgresql"):
        with db.engine.connect() as connection:  # fresh statistics, as a live database would have
            connection.exec_driver_sql("ANALYZE")
    db.dispose()


def run_workers(home: Path, url: str, workers: int) -> dict:
    import resource

    env = dict(os.environ, CASTMILL_HOME=str(home), CASTMILL_DATABASE_URL=url)
    busy0 = busy_cpu_seconds()
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-m", "pipeline.cli", "scheduler", "run", "--once",
                               "--json", "--worker-id", f"w{k + 1}", "--batch-size", str(BATCH_SIZE)],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for k in range(workers)]
    outputs = [p.communicate() for p in procs]
    wall = time.perf_counter() - started
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    workers_cpu = (children.ru_utime - children0.ru_utime) + (children.ru_stime - children0.ru_stime)
    # PostgreSQL's own backends count as "other" here; they serve the workers.
    other = max(0.0, busy_cpu_seconds() - busy0 - workers_cpu) / wall
    for proc, (_out, err) in zip(procs, outputs):
        if proc.returncode != 0:
            raise RuntimeError(f"worker exited {proc.returncode}: {err.strip().splitlines()[-1:]}")
    reports = [json.loads(out) for out, _err in outputs]
    return {"process_wall_s": wall, "workers_cpu_s": workers_cpu, "other_cores": other,
            "published_per_worker": [r["published"] for r in reports]}


def verify(url: str, home: Path, count: int) -> dict:
    """The exactly-once evidence, from the database and the outbox folder."""
    from sqlalchemy import func, select

    from pipeline.store.db import Database
    from pipeline.store.models import PublishAttempt, ScheduledPost

    db = Database(url)
    with db.session() as session:
        statuses = Counter(dict(session.execute(select(ScheduledPost.status, func.count())
                                                .group_by(ScheduledPost.status)).all()))
        claims = Counter(dict(session.execute(select(ScheduledPost.attempts, func.count())
                                              .group_by(ScheduledPost.attempts)).all()))
        attempts = session.execute(select(PublishAttempt.post_id, PublishAttempt.worker, PublishAttempt.outcome,
                                          PublishAttempt.started_at, PublishAttempt.finished_at)).all()
        keys = set(session.scalars(select(ScheduledPost.idempotency_key)))
    db.dispose()
    per_post = Counter(a.post_id for a in attempts)
    by_worker: dict[str, set] = {}
    for a in attempts:
        by_worker.setdefault(a.worker, set()).add(a.post_id)
    files = {p.stem for p in (home / "outbox" / "bench").glob("*.json")}
    first = min(_aware(a.started_at) for a in attempts)
    last = max(_aware(a.finished_at) for a in attempts)
    worker_sets = list(by_worker.values())
    overlap = len(set.intersection(*worker_sets)) if len(worker_sets) > 1 else 0
    evidence = {
        "posts": count,
        "statuses": dict(statuses),
        "claims_per_post": {str(k): v for k, v in sorted(claims.items())},
        "attempt_rows": len(attempts),
        "attempts_per_post": {str(k): v for k, v in sorted(Counter(per_post.values()).items())},
        "outcomes": dict(Counter(a.outcome for a in attempts)),
        "posts_per_worker": {w: len(s) for w, s in sorted(by_worker.items())},
        "posts_claimed_by_two_workers": overlap,
        "outbox_files": len(files),
        "outbox_files_match_keys": files == keys,
        "span_s": (last - first).total_seconds(),
    }
    evidence["exactly_once"] = (statuses == Counter(published=count) and claims == Counter({1: count})
                                and len(attempts) == count and set(per_post.values()) == {1}
                                and evidence["outcomes"] == {"published": count} and overlap == 0
                                and len(files) == count and files == keys)
    return evidence


def _aware(value: datetime) -> datetime:
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


def one_run(database: str, workers: int, count: int, pg) -> dict:
    home = Path(tempfile.mkdtemp(prefix="castmill-bench-sched-"))
    if database == "sqlite":
        url = f"sqlite:///{home / 'castmill.db'}"
    else:
        url = pg.create_database()
    log(f"{database}, {workers} worker(s): seeding {count:,} due posts")
    seed(url, count)
    wait_for_quiet(max_wait=30.0)
    timing = run_workers(home, url, workers)
    evidence = verify(url, home, count)
    throughput = count / evidence["span_s"] if evidence["span_s"] else float("inf")
    log(f"{database}, {workers} worker(s): {throughput:,.0f} posts/s over {evidence['span_s']:.1f} s "
        f"(process wall {timing['process_wall_s']:.1f} s, other load {timing['other_cores']:.2f} cores); "
        f"exactly once: {evidence['exactly_once']}; per worker {evidence['posts_per_worker']}")
    if database == "postgresql":
        pg.drop_database(url)
    import shutil

    shutil.rmtree(home, ignore_errors=True)
    return {"database": database, "workers": workers, "posts_per_s": throughput, **timing, **evidence}


class _Postgres:
    """A private PostgreSQL server (tests/helpers/pg_server.py) with one fresh database per run."""

    def __init__(self):
        from tests.helpers.pg_server import PostgresServer

        self.server = PostgresServer().start()

    def create_database(self) -> str:
        from sqlalchemy import create_engine, text

        name = f"bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(self.server.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        return self.server.url.rsplit("/", 1)[0] + f"/{name}"

    def drop_database(self, url: str) -> None:
        from sqlalchemy import create_engine, text

        admin = create_engine(self.server.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE "{url.rsplit("/", 1)[1]}" WITH (FORCE)'))
        admin.dispose()

    def version(self) -> str:
        from sqlalchemy import create_engine

        engine = create_engine(self.server.url)
        with engine.connect() as connection:
            value = connection.exec_driver_sql("SHOW server_version").scalar().split()[0]
        engine.dispose()
        return value

    def stop(self) -> None:
        self.server.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_POSTS:,} posts per run instead of {POSTS:,}")
    parser.add_argument("--posts", type=int, help="posts per run (overrides --quick)")
    parser.add_argument("--databases", default=",".join(DATABASES), help="comma-separated: sqlite,postgresql")
    parser.add_argument("--workers", default=",".join(map(str, WORKER_COUNTS)), help="comma-separated: 1,2")
    args = parser.parse_args()
    count = args.posts or (QUICK_POSTS if args.quick else POSTS)
    databases = [d for d in args.databases.split(",") if d]
    worker_counts = [int(w) for w in args.workers.split(",") if w]
    if unknown := [d for d in databases if d not in DATABASES]:
        parser.error(f"unknown database: {', '.join(unknown)}")

    started = time.perf_counter()
    git_start = git_state()
    pg = _Postgres() if "postgresql" in databases else None
    results = []
    try:
        for database in databases:
            for workers in worker_counts:
                results.append(one_run(database, workers, count, pg))
        pg_version = pg.version() if pg else None
    finally:
        if pg:
            pg.stop()
    import sqlite3

    data = {
        "machine": machine_info(), "git_at_start": git_start, "git_at_end": git_state(),
        "elapsed_s": time.perf_counter() - started, "quick": args.quick and not args.posts, "posts": count,
        "batch_size": BATCH_SIZE, "sqlite_version": sqlite3.sqlite_version, "postgresql_version": pg_version,
        "results": results,
        "exactly_once": all(r["exactly_once"] for r in results),
    }
    save_result("scheduler", data, quick=data["quick"])
    print(f"{'database':<12}{'workers':>8}{'posts/s':>10}{'span s':>9}{'wall s':>9}  exactly once  per worker")
    for r in results:
        print(f"{r['database']:<12}{r['workers']:>8}{r['posts_per_s']:>10,.0f}{r['span_s']:>9.1f}"
              f"{r['process_wall_s']:>9.1f}  {str(r['exactly_once']):<12}  {r['posts_per_worker']}")
    return 0 if data["exactly_once"] else 1


if __name__ == "__main__":
    sys.exit(main())
