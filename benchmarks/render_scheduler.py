"""BENCHMARKS.md section for the scheduler: claim-loop throughput and the exactly-once evidence."""

from __future__ import annotations

LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def _yes(flag: bool) -> str:
    return "**yes**" if flag else "**NO — missed**"


def _runs(data: dict, database: str) -> dict[int, dict]:
    return {r["workers"]: r for r in data["results"] if r["database"] == database}


def target_rows(w, data: dict | None) -> None:
    if not data:
        w("| scheduler: zero double claims with 2 workers; claim-loop throughput | not run | — |")
        return
    posts = data["posts"]
    for database, label in LABELS.items():
        runs = _runs(data, database)
        if 2 in runs:
            r = runs[2]
            w(f"| Scheduler: zero double claims, 2 workers on {label}, {posts:,} due posts | "
              f"{r['statuses'].get('published', 0):,} published, attempts per post "
              f"{_histogram(r['attempts_per_post'])}, claimed by both workers: {r['posts_claimed_by_two_workers']} | "
              f"{_yes(r['exactly_once'])} |")
        if runs:
            rates = ", ".join(f"{n} worker{'s' if n > 1 else ''} {r['posts_per_s']:,.0f} posts/s"
                              for n, r in sorted(runs.items()))
            w(f"| Scheduler claim-loop throughput on {label} (outbox publisher; no target) | {rates} | — |")


def _histogram(counts: dict) -> str:
    return ", ".join(f"{k}: {v:,}" for k, v in counts.items())


def render_section(w, data: dict, number: int) -> None:
    quick = " --quick" if data.get("quick") else ""
    w(f"## {number}. Scheduler: claim-loop throughput and exactly once")
    w("")
    start, end = data.get("git_at_start"), data.get("git_at_end")
    w(f"Command: `.venv/bin/python benchmarks/bench_scheduler.py{quick}` (took {data['elapsed_s'] / 60:.0f} min), "
      f"code git {start}" + ("" if start == end else f" (changed during the run, ended at {end}: re-run)") + ".")
    w("")
    versions = f"SQLite {data['sqlite_version']}"
    if data.get("postgresql_version"):
        versions += f", PostgreSQL {data['postgresql_version'].split()[0]} (tests/helpers/pg_server.py: local, fsync off)"
    w(f"Each run starts from an empty database ({versions}) holding {data['posts']:,} scheduled posts, all due a "
      "minute ago, each with its own draft and approved version and no account, so they go to the outbox publisher "
      "(one JSON file per idempotency key, written with fsync). 1 or 2 worker processes then run "
      f"`python -m pipeline.cli scheduler run --once --batch-size {data['batch_size']}` side by side: "
      "one pass each that claims batch after batch with one atomic `UPDATE … RETURNING` (PostgreSQL: "
      "`FOR UPDATE SKIP LOCKED` in a materialized CTE) and publishes every claimed post, committing a "
      "\"started\" attempt before the call and the outcome after it.")
    w("")
    w("Posts/s = posts / the span from the first attempt's start to the last attempt's finish (from "
      "`publish_attempts`; process start-up excluded). \"Other load\" is CPU used meanwhile by processes other "
      "than the workers (PostgreSQL's backends included), in cores.")
    w("")
    w("| Database | Workers | Posts/s | Span s | Process wall s | Posts per worker | Attempt rows | "
      "Attempts per post | Claims per post | Outbox files = keys | Other load | Exactly once |")
    w("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in data["results"]:
        per_worker = ", ".join(f"{k} {v:,}" for k, v in r["posts_per_worker"].items())
        files = f"{r['outbox_files']:,} ({'match' if r['outbox_files_match_keys'] else 'MISMATCH'})"
        w(f"| {LABELS[r['database']]} | {r['workers']} | **{r['posts_per_s']:,.0f}** | {r['span_s']:.1f} | "
          f"{r['process_wall_s']:.1f} | {per_worker} | {r['attempt_rows']:,} | {_histogram(r['attempts_per_post'])} | "
          f"{_histogram(r['claims_per_post'])} | {files} | {r['other_cores']:.2f} | {_yes(r['exactly_once'])} |")
    w("")
    w("Exactly once means, per run: every post `published`; exactly one attempt row per post, with outcome "
      "`published`; `attempts` (claims) 1 on every post; no post in two workers' attempt sets; and the outbox "
      "holding exactly one file per idempotency key. Each post costs two committed write transactions (the "
      "attempt before the call, the outcome after) plus the outbox file's fsync: the throughput is bounded by "
      "commits, by design.")
    w("")
