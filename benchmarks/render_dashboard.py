"""BENCHMARKS.md section for the dashboard: the review page's render time with 1,000 drafts."""

from __future__ import annotations

VIEWERS = {"va": "VA", "client": "client"}


def _yes(flag: bool) -> str:
    return "**yes**" if flag else "**NO — missed**"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms"


def target_rows(w, data: dict | None) -> None:
    if not data:
        w("| Dashboard review page < 1 s with 1,000 drafts (AppTest) | not run | — |")
        return
    target = data["target_s"]
    for viewer, label in VIEWERS.items():
        case = data["cases"][viewer]
        met = case["fresh"]["median_s"] < target and case["rerun"]["median_s"] < target
        w(f"| Dashboard review page < {target:g} s, {data['drafts']:,} drafts / {data['clients']} clients, as the "
          f"{label} (AppTest) | {_ms(case['fresh']['median_s'])} new session, {_ms(case['rerun']['median_s'])} "
          f"rerun | {_yes(met)} |")


def render_section(w, data: dict, number: int) -> None:
    quick = " --quick" if data.get("quick") else ""
    w(f"## {number}. Dashboard: review page render time")
    w("")
    start, end = data.get("git_at_start"), data.get("git_at_end")
    w(f"Command: `.venv/bin/python benchmarks/bench_dashboard.py{quick}` (took {data['elapsed_s']:.0f} s), "
      f"code git {start}" + ("" if start == end else f" (changed during the run, ended at {end}: re-run)") + ".")
    w("")
    w(f"Data: a fresh SQLite home with {data['clients']} clients, one episode each with 9 highlights, drafts made "
      f"by the drafts stage on 5 platforms: {data['drafts']:,} drafts (seeded in {data['seed_s']:.0f} s). The "
      f"client measured (`{data['measured_client']}`) approves alone, so its {data['measured_client_drafts']} "
      f"drafts wait for it; the VA's default view holds every draft waiting for the VA. The page draws "
      f"{data['page_size']} draft cards at a time.")
    w("")
    w("Timed in one process with `streamlit.testing.v1.AppTest`, after one untimed warm-up render: a new "
      "session's first `run()` (a page load), a second `run()` of an open session (what each click costs), and "
      "the library's `review.queue` call alone. Medians of the runs; other load = cores used by other "
      "processes meanwhile.")
    w("")
    w("| Viewer | Case | Runs (ms) | Median | Cards / drafts | Other load (cores) |")
    w("|---|---|---|---|---|---|")
    names = {"fresh": "new session render", "rerun": "rerun of an open session", "queue": "`review.queue` alone"}
    for viewer, label in VIEWERS.items():
        for key, name in names.items():
            case = data["cases"][viewer][key]
            runs = ", ".join(f"{s * 1000:.0f}" for s in case["seconds"])
            count = "" if case["count"] is None else f"{case['count']:,}"
            w(f"| {label} | {name} | {runs} | **{_ms(case['median_s'])}** | {count} | {case['other_cores']:.2f} |")
    w("")
    w(f"Target: the review page renders in < {data['target_s']:g} s for both viewers: {_yes(data['target_met'])}.")
    w("")
