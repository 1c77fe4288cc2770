#!/usr/bin/env python3
"""Review page render time with 1,000 drafts across 20 clients (target: < 1 s in AppTest).

    .venv/bin/python benchmarks/bench_dashboard.py            # 7 timed runs per case
    .venv/bin/python benchmarks/bench_dashboard.py --quick    # 3 runs per case

Data: a fresh CASTMILL_HOME under bench-data/dashboard-home (SQLite), 20 clients with one
episode each of 9 highlights, drafts on 5 platforms (x, linkedin, bluesky, mastodon, threads)
made by the drafts stage (``generate_drafts``): 20 × 10 subjects × 5 platforms = 1,000 drafts.
Half of the clients approve alone (one stage); the measured client is one of them, so its
50 drafts wait for it. Users: a VA and that client's user.

Measured, in this process, after one untimed warm-up render (imports, first migration check):
- the review page as a fresh session (a new ``AppTest`` and its first ``run()``), for the VA
  (default filters: the 1,000 drafts waiting for the VA, 20 shown per page) and for the client;
- a rerun of an open session (``run()`` again: what every click costs);
- the library call alone: ``review.queue`` for each viewer.
The median of the runs is compared with the target. Other load on the machine is recorded.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA_DIR, ROOT, busy_cpu_seconds, git_state, log, machine_info, save_result  # noqa: E402

sys.path.insert(0, str(ROOT))  # tests.dashboard.seed builds the data with library calls

HOME = DATA_DIR / "dashboard-home"
APP = ROOT / "dashboard" / "app.py"
CLIENTS = 20
HIGHLIGHTS = 9  # + the episode post = 10 subjects per episode
PLATFORMS = ("x", "linkedin", "bluesky", "mastodon", "threads")
TARGET_S = 1.0
RUNS, QUICK_RUNS = 7, 3


def seed() -> dict:
    """A fresh home with the 1,000 drafts; returns counts and how long seeding took."""
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)
    os.environ["CASTMILL_HOME"] = str(HOME)
    os.environ.pop("CASTMILL_DATABASE_URL", None)
    from pipeline.core.settings import load_settings
    from pipeline.store.db import Database
    from tests.dashboard.seed import add_staff, seed_client

    started = time.perf_counter()
    db = Database(load_settings().database_url)
    seeded = [seed_client(db, f"client{n:02d}", stages=1 if n % 2 else 2, highlights=HIGHLIGHTS, platforms=PLATFORMS,
                          with_user=(n == 1))
              for n in range(1, CLIENTS + 1)]
    add_staff(db)
    db.dispose()
    drafts = sum(len(c.draft_ids) for c in seeded)
    return {"clients": CLIENTS, "drafts": drafts, "measured_client": seeded[0].slug,
            "measured_client_drafts": len(seeded[0].draft_ids), "seed_s": round(time.perf_counter() - started, 1)}


def identities(client_slug: str):
    from pipeline.core.settings import load_settings
    from pipeline.store.db import Database
    from tests.dashboard.seed import sign_in

    db = Database(load_settings().database_url)
    try:
        return {"va": sign_in(db, "va@castmill.test"), "client": sign_in(db, f"owner@{client_slug}.test")}
    finally:
        db.dispose()


def render_fresh(identity) -> tuple[float, int]:
    """One new session's first render: seconds, and the draft cards it drew."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(APP), default_timeout=120)
    app.session_state["identity"] = identity
    started = time.perf_counter()
    app.run()
    seconds = time.perf_counter() - started
    if app.exception:
        raise SystemExit(f"the review page raised: {app.exception[0].value}")
    return seconds, sum(1 for t in app.text_area if t.key and t.key.startswith("text_"))


def render_rerun(identity) -> float:
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_file(str(APP), default_timeout=120)
    app.session_state["identity"] = identity
    app.run()
    started = time.perf_counter()
    app.run()
    return time.perf_counter() - started


def queue_call(identity) -> tuple[float, int]:
    from pipeline import review
    from pipeline.core.settings import load_settings
    from pipeline.store.db import Database

    db = Database(load_settings().database_url)
    try:
        with db.session() as session:
            started = time.perf_counter()
            cards = review.queue(session, identity)
            return time.perf_counter() - started, len(cards)
    finally:
        db.dispose()


def timed(label: str, runs: int, measure) -> dict:
    """``runs`` calls of ``measure`` (seconds, or (seconds, count)); the median and the machine's other load."""
    seconds, count = [], None
    busy0, own0, wall0 = busy_cpu_seconds(), time.process_time(), time.perf_counter()
    for _ in range(runs):
        result = measure()
        value, count = result if isinstance(result, tuple) else (result, count)
        seconds.append(value)
    wall = time.perf_counter() - wall0
    other = max(0.0, (busy_cpu_seconds() - busy0) - (time.process_time() - own0)) / wall
    median = statistics.median(seconds)
    log(f"{label}: median {median * 1000:.0f} ms over {runs} runs ({', '.join(f'{s * 1000:.0f}' for s in seconds)})")
    return {"runs": runs, "seconds": [round(s, 4) for s in seconds], "median_s": round(median, 4),
            "count": count, "other_cores": round(other, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} runs per case instead of {RUNS}")
    args = parser.parse_args()
    runs = QUICK_RUNS if args.quick else RUNS
    started, git_start = time.perf_counter(), git_state()
    log("seeding 1,000 drafts across 20 clients (drafts stage)")
    data = seed()
    log(f"seeded {data['drafts']} drafts in {data['seed_s']} s")
    who = identities(data["measured_client"])
    render_fresh(who["va"])  # warm-up: imports, caches of the dashboard process
    cases = {}
    for viewer in ("va", "client"):
        cases[viewer] = {
            "fresh": timed(f"{viewer}: fresh session render", runs, lambda: render_fresh(who[viewer])),
            "rerun": timed(f"{viewer}: rerun of an open session", runs, lambda: render_rerun(who[viewer])),
            "queue": timed(f"{viewer}: review.queue alone", runs, lambda: queue_call(who[viewer])),
        }
    data.update({
        "quick": args.quick, "target_s": TARGET_S, "page_size": 20, "cases": cases,
        "target_met": all(c["fresh"]["median_s"] < TARGET_S and c["rerun"]["median_s"] < TARGET_S
                          for c in cases.values()),
        "machine": machine_info(), "git_at_start": git_start, "git_at_end": git_state(),
        "elapsed_s": round(time.perf_counter() - started, 1),
    })
    save_result("dashboard", data, quick=args.quick)
    return 0 if data["target_met"] else 1


if __name__ == "__main__":
    sys.exit(main())
