#!/usr/bin/env python3
"""Long-form content: chapters for an episode, timed on an hour and scored on episodes with known topics.

    .venv/bin/python benchmarks/bench_longform.py                  # 7 timed runs
    .venv/bin/python benchmarks/bench_longform.py --quick          # 3 timed runs
    .venv/bin/python benchmarks/bench_longform.py --write-section  # and rewrite section 11 of BENCHMARKS.md

Also timed: chapters and show notes together on the hour, and one quote card (``render_card``).

Source: the episodes of scripts/make_topic_set.py, transcripts with word timings at about 150 words a
minute made of conversation topics with known boundaries; no audio. Timed: ``make_chapters`` with the
default ``ChapterOptions`` on the hour (tuned_60), in this process after one untimed warm-up run (the
first run also imports YAKE and reads its stop words; reported apart); the median is reported.
Scored on every episode: Pk and WindowDiff over one-second units (k = half the mean true topic length),
and the share of true boundaries with a chapter start within ±30 s (recall) and of chapter starts with a
true boundary that near (precision), averaged over the tuned and the held-out episodes apart.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import (  # noqa: E402
    ROOT, git_state, load_result, log, machine_info, save_result, write_own_section,
)

sys.path.insert(0, str(ROOT))
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
SECTION = "## 11. Long-form: chapters, show notes, quote cards"
TARGET_PREFIX = "| Long-form:"
RUNS, QUICK_RUNS = 7, 3
TARGET_SECONDS = 3.0  # chapters and show notes for an hour
CARD_TARGET_SECONDS = 0.5  # one quote card
HOUR = "tuned_60"


def topic_set():
    """scripts/make_topic_set.py as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("castmill_make_topic_set", ROOT / "scripts" / "make_topic_set.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def time_hour(mts, runs: int) -> dict:
    from pipeline.longform.chapters import ChapterOptions, make_chapters

    episode = mts.build_episode(next(s for s in mts.EPISODES if s.name == HOUR))
    began = time.perf_counter()
    chapters = make_chapters(episode.transcript, ChapterOptions())
    first = time.perf_counter() - began
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        make_chapters(episode.transcript, ChapterOptions())
        seconds.append(time.perf_counter() - began)
    return {"episode": HOUR, "minutes": episode.transcript.duration / 60, "words": len(episode.transcript.words),
            "first_s": first, "runs_s": seconds, "median_s": statistics.median(seconds),
            "chapters": [{"start": c.start, "title": c.title} for c in chapters]}


def time_notes(mts, runs: int) -> dict:
    """Chapters and show notes together for the hour, as `castmill notes` makes them (without the database)."""
    from pipeline.highlights.features import episode_keywords
    from pipeline.highlights.language import cues_for
    from pipeline.highlights.options import HighlightOptions
    from pipeline.highlights.timeline import build_timeline
    from pipeline.longform.chapters import make_chapters
    from pipeline.longform.notes import ChapterLine, build_notes

    transcript = mts.build_episode(next(s for s in mts.EPISODES if s.name == HOUR)).transcript

    def notes():
        timeline = build_timeline(transcript, HighlightOptions())
        text = " ".join(s.text for s in timeline.sentences)
        chapters = [ChapterLine(c.start, c.title) for c in make_chapters(transcript)]
        keywords = episode_keywords(text, timeline.language, cues_for(timeline.language))
        return build_notes(HOUR, timeline.sentences, keywords, [], chapters, {})

    made = notes()
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        notes()
        seconds.append(time.perf_counter() - began)
    return {"runs_s": seconds, "median_s": statistics.median(seconds), "summary_chars": len(made.summary),
            "links": len(made.links), "names": len(made.names)}


def time_cards(runs: int) -> dict:
    """One quote card per run, alternating the two sizes, a short and a long (set smaller) quote."""
    import tempfile

    from pipeline.clips.quote_card import render_card

    quotes = ("Stop selling your time, and start pricing the result.",
              "Never sell hours. Sell a package: one episode edited, five clips, show notes and the posts, for one "
              "fixed monthly price, and raise it by ten percent for every new client who signs up after that.")
    seconds = []
    with tempfile.TemporaryDirectory() as folder:
        render_card(quotes[0], Path(folder) / "warm.png", speaker="Dinda", show="Acme Podcast")  # loads the font
        for n in range(runs):
            began = time.perf_counter()
            render_card(quotes[n % 2], Path(folder) / f"{n}.png", speaker="Dinda", show="Acme Podcast",
                        aspect=("4:5", "1:1")[n // 2 % 2])
            seconds.append(time.perf_counter() - began)
    return {"runs_s": seconds, "median_s": statistics.median(seconds), "max_s": max(seconds)}


def score_all(mts) -> list[dict]:
    from pipeline.longform.chapters import ChapterOptions, make_chapters

    rows = []
    for episode in mts.episodes():
        duration = episode.transcript.duration
        predicted = [c.start for c in make_chapters(episode.transcript, ChapterOptions())[1:]]
        recall, precision = mts.boundary_hits(episode.boundaries, predicted)
        rows.append({"episode": episode.name, "held_out": episode.held_out, "minutes": duration / 60,
                     "topics": len(episode.topics), "chapters": len(predicted) + 1,
                     "pk": mts.pk(episode.boundaries, predicted, duration),
                     "window_diff": mts.window_diff(episode.boundaries, predicted, duration),
                     "pk_no_boundaries": mts.pk(episode.boundaries, [], duration),
                     "recall": recall, "precision": precision})
    return rows


def averages(rows: list[dict]) -> dict:
    keys = ("pk", "window_diff", "pk_no_boundaries", "recall", "precision")
    return {"episodes": len(rows), **{k: statistics.mean(r[k] for r in rows) for k in keys}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_RUNS} timed runs")
    parser.add_argument("--write-section", action="store_true", help="rewrite section 11 of BENCHMARKS.md")
    parser.add_argument("--report-only", action="store_true", help="rewrite section 11 from the saved result")
    args = parser.parse_args()
    if args.report_only:
        data = load_result("longform")
        if data is None:
            sys.exit("error: no saved result: run benchmarks/bench_longform.py first")
        write_section(data)
        return 0
    started, git_start = time.perf_counter(), git_state()
    mts = topic_set()
    timing = time_hour(mts, QUICK_RUNS if args.quick else RUNS)
    log(f"chapters for {timing['minutes']:.1f} min: median {timing['median_s']:.2f} s, first {timing['first_s']:.2f} s")
    notes = time_notes(mts, QUICK_RUNS if args.quick else RUNS)
    log(f"chapters and show notes for the hour: median {notes['median_s']:.2f} s")
    cards = time_cards(4 * (QUICK_RUNS if args.quick else RUNS))
    log(f"a quote card: median {cards['median_s']:.3f} s, slowest {cards['max_s']:.3f} s")
    rows = score_all(mts)
    data = {"machine": machine_info(), "git_at_start": git_start, "elapsed_s": time.perf_counter() - started,
            "quick": args.quick, "timing": timing, "notes": notes, "cards": cards, "episodes": rows,
            "tuned": averages([r for r in rows if not r["held_out"]]),
            "held_out": averages([r for r in rows if r["held_out"]]),
            "target_seconds": TARGET_SECONDS, "card_target_seconds": CARD_TARGET_SECONDS,
            "target_met": notes["median_s"] < TARGET_SECONDS and cards["median_s"] < CARD_TARGET_SECONDS}
    save_result("longform", data, quick=args.quick)
    print(f"{'episode':<10}{'set':>9}{'min':>6}{'topics':>7}{'chapters':>9}{'Pk':>7}{'WD':>7}{'recall':>8}{'prec':>6}")
    for r in rows:
        print(f"{r['episode']:<10}{'held out' if r['held_out'] else 'tuned':>9}{r['minutes']:>6.1f}{r['topics']:>7}"
              f"{r['chapters']:>9}{r['pk']:>7.3f}{r['window_diff']:>7.3f}{r['recall']:>8.2f}{r['precision']:>6.2f}")
    print(f"chapters for a {timing['minutes']:.0f}-minute transcript: {timing['median_s']:.2f} s median "
          f"(target < {TARGET_SECONDS:.0f} s: {'met' if data['target_met'] else 'MISSED'})")
    if args.write_section and not args.quick:
        write_section(data)
    return 0 if data["target_met"] else 1


def render_section(data: dict) -> str:
    """Section 11 of BENCHMARKS.md."""
    t = data["timing"]
    lines = [SECTION, "",
             "Measured by `.venv/bin/python benchmarks/bench_longform.py --write-section` on "
             f"{data['machine']['date']} "
             f"(git {data['git_at_start']}; {data['machine']['cores']} cores).", "",
             "### Chapters", "",
             "Episodes from `scripts/make_topic_set.py`: transcripts with word timings at about 150 words a minute, "
             "two speakers taking turns, made of conversation topics whose boundaries are known. The held-out "
             "topics and episodes were written after the method and its options were settled. Pk and WindowDiff "
             "over one-second units, k = half the mean true topic length (lower is better; no boundaries at all "
             "scores the Pk in the last column); recall and precision: true boundaries with a chapter start "
             "within ±30 s, and chapter starts with a true boundary that near.", "",
             "| Episode | Set | Minutes | Topics | Chapters | Pk | WindowDiff | Recall ±30 s | Precision ±30 s | "
             "Pk, no boundaries |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in data["episodes"]:
        lines.append(f"| {r['episode']} | {'held out' if r['held_out'] else 'tuned'} | {r['minutes']:.1f} | "
                     f"{r['topics']} | {r['chapters']} | {r['pk']:.3f} | {r['window_diff']:.3f} | {r['recall']:.0%} | "
                     f"{r['precision']:.0%} | {r['pk_no_boundaries']:.3f} |")
    for name in ("tuned", "held_out"):
        a = data[name]
        lines.append(f"| **mean, {name.replace('_', ' ')}** ({a['episodes']}) | | | | | **{a['pk']:.3f}** | "
                     f"**{a['window_diff']:.3f}** | **{a['recall']:.0%}** | **{a['precision']:.0%}** | "
                     f"{a['pk_no_boundaries']:.3f} |")
    runs = ", ".join(f"{s:.2f}" for s in t["runs_s"])
    lines += ["", f"Time for the chapters of {t['episode']} ({t['minutes']:.1f} minutes, {t['words']:,} words, "
              f"{len(t['chapters'])} chapters): **{t['median_s']:.2f} s** median of {len(t['runs_s'])} runs ({runs}); "
              f"the first run, which also loads YAKE, {t['first_s']:.2f} s. Most of it is YAKE finding each chapter's "
              "key phrases for its title; the segmentation itself is a few numpy passes.", ""]
    notes, cards = data.get("notes"), data.get("cards")
    if notes:
        lines += ["### Show notes and quote cards", "",
                  f"Chapters and show notes together for the same hour (the timeline, key phrases, chapters, the "
                  f"extractive summary, links and names; no highlights, no database): **{notes['median_s']:.2f} s** "
                  f"median of {len(notes['runs_s'])} runs.", ""]
    if cards:
        lines += [f"A quote card (Pillow, DejaVu Serif; 4:5 and 1:1 in turn, a short quote and a long one set "
                  f"smaller; PNG with no metadata): **{cards['median_s']:.3f} s** median of {len(cards['runs_s'])}, "
                  f"slowest {cards['max_s']:.3f} s; about half of it is PNG compression.", ""]
    return "\n".join(lines)


def target_rows(data: dict) -> list[str]:
    t = data["timing"]
    h, tu = data["held_out"], data["tuned"]
    notes, cards = data["notes"], data["cards"]
    notes_ok = "**yes**" if notes["median_s"] < data["target_seconds"] else "**NO — missed**"
    card_ok = "**yes**" if cards["median_s"] < data["card_target_seconds"] else "**NO — missed**"
    return [f"{TARGET_PREFIX} chapters and show notes for a 60-minute transcript < {data['target_seconds']:.0f} s "
            f"({t['minutes']:.1f} min generated) | {notes['median_s']:.2f} s (chapters alone {t['median_s']:.2f} s) | "
            f"{notes_ok} |",
            f"{TARGET_PREFIX} a quote card < {data['card_target_seconds']} s | {cards['median_s']:.3f} s | {card_ok} |",
            f"{TARGET_PREFIX} chapter boundaries within ±30 s of a topic change, tuned / held out (no target) | "
            f"recall {tu['recall']:.0%} / {h['recall']:.0%}, Pk {tu['pk']:.3f} / {h['pk']:.3f} | — |"]


def write_section(data: dict) -> None:
    write_own_section(BENCHMARKS_MD, SECTION, render_section(data), TARGET_PREFIX, target_rows(data))


if __name__ == "__main__":
    sys.exit(main())
