"""Engagement metrics and the weekly report."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.publish.metrics import fetch_metrics, latest_metrics
from pipeline.store.models import Approval, Client, Draft, Metric, ScheduledPost
from pipeline.publish.publishers import Engagement, PublishError
from pipeline.publish.reports import ReportError, build_weekly, day_chart, render_weekly, week_bounds
from pipeline.publish.scheduler import Scheduler, SchedulerOptions
from tests.helpers.scheduler import T0, World, make_posts, post_row

WEEK = "2026-W49"  # Mon 30 Nov – Sun 6 Dec 2026; T0 is Tue 1 Dec 09:00 UTC


def publish_all(db, world, now):
    return Scheduler(db.session, world.factory(), SchedulerOptions(worker="w"), clock=lambda: now).tick()


def test_metrics_are_stored_per_post_and_not_fetched_again_within_the_hour(fresh_db):
    posts = make_posts(fresh_db, 3, due_at=T0)
    world = World()
    publish_all(fresh_db, world, T0)
    remote = [post_row(fresh_db, p).remote_id for p in posts]
    world.engagement = {remote[0]: Engagement(likes=5, reposts=2, replies=1, views=90),
                        remote[1]: None,  # a platform without numbers
                        remote[2]: PublishError("scripted: HTTP 500: stats unavailable", retryable=True)}
    report = fetch_metrics(fresh_db.session, world.factory(), now=T0 + timedelta(hours=2))
    assert (report.fetched, report.unsupported) == (1, 1)
    assert [(p.post_id, p.message) for p in report.problems] == [(posts[2], "scripted: HTTP 500: stats unavailable")]
    again = fetch_metrics(fresh_db.session, world.factory(), now=T0 + timedelta(hours=2, minutes=30))
    assert again.fetched == 0 and again.unsupported == 1  # the fetched one waits an hour
    world.engagement[remote[0]] = Engagement(likes=8, reposts=2, replies=3, views=None)
    assert fetch_metrics(fresh_db.session, world.factory(), now=T0 + timedelta(hours=3, minutes=1)).fetched == 1
    with fresh_db.session() as session:
        newest = latest_metrics(session, posts)
        assert (newest[posts[0]].likes, newest[posts[0]].replies, newest[posts[0]].views) == (8, 3, None)
        assert posts[1] not in newest


def test_metrics_skip_posts_older_than_the_window(fresh_db):
    [post] = make_posts(fresh_db, 1, due_at=T0)
    world = World()
    publish_all(fresh_db, world, T0)
    world.engagement = {post_row(fresh_db, post).remote_id: Engagement(likes=1)}
    assert fetch_metrics(fresh_db.session, world.factory(), now=T0 + timedelta(days=31)).fetched == 0
    assert fetch_metrics(fresh_db.session, world.factory(), now=T0 + timedelta(days=29)).fetched == 1


def test_week_bounds_follow_the_clients_zone():
    label, monday, start, end = week_bounds("2026-W49", "America/New_York", T0)
    assert (label, monday.isoformat()) == ("2026-W49", "2026-11-30")
    assert start == datetime(2026, 11, 30, 5, 0, tzinfo=timezone.utc)
    assert end - start == timedelta(days=7)
    # Sunday 23:30 in Jakarta is already Monday of the next week there
    label, monday, _, _ = week_bounds(None, "Asia/Jakarta", datetime(2026, 12, 6, 17, 30, tzinfo=timezone.utc))
    assert (label, monday.isoformat()) == ("2026-W50", "2026-12-07")
    with pytest.raises(ReportError, match="ISO week"):
        week_bounds("2026-48", "UTC", T0)


@pytest.fixture
def week_of_posts(fresh_db):
    """Tue: 3 published (with metrics), Wed: 1 failed, Mon: 1 missed; next week: 1 (not in the report)."""
    published = make_posts(fresh_db, 3, due_at=T0)
    [failed] = make_posts(fresh_db, 1, due_at=T0 + timedelta(days=1), key_prefix="f-")
    [missed] = make_posts(fresh_db, 1, due_at=T0 - timedelta(days=1), key_prefix="m-")
    make_posts(fresh_db, 1, due_at=T0 + timedelta(days=7), key_prefix="n-")
    world = World()
    publish_all(fresh_db, world, T0)
    with fresh_db.session() as session:
        row = session.get(ScheduledPost, failed)
        row.status, row.error = "failed", "scripted: HTTP 401: token <expired>"
        for post, likes in zip(published, (4, 20, 9)):
            session.add(Metric(post_id=post, fetched_at=T0, likes=likes, reposts=1, replies=0, views=100))
        draft = session.get(Draft, post_row(fresh_db, published[0]).draft_id)
        session.add(Approval(draft_id=draft.id, version_id=post_row(fresh_db, published[0]).version_id,
                             version_hash="0" * 64, stage="client", actor="boss@acme.test", decision="approved",
                             at=T0 - timedelta(hours=5)))
        session.add(Approval(draft_id=draft.id, version_id=post_row(fresh_db, published[0]).version_id,
                             version_hash="0" * 64, stage="va", actor="va@acme.test", decision="changes_requested",
                             at=T0 - timedelta(days=3)))  # the week before: not counted
    return published, failed, missed


def test_weekly_report_counts_posts_approvals_and_engagement(fresh_db, week_of_posts):
    published, failed, missed = week_of_posts
    with fresh_db.session() as session:
        report = build_weekly(session, "acme", week=WEEK, now=T0)
    assert report.counts["published"] == 3 and report.counts["failed"] == 1 and report.counts["missed"] == 1
    assert sum(report.counts.values()) == 5
    assert report.approvals == {"approved": 1, "changes_requested": 0, "rejected": 0}
    assert [d.label for d in report.days][:3] == ["Mon 30", "Tue 01", "Wed 02"]
    assert [(d.published, d.failed, d.missed) for d in report.days[:3]] == [(0, 0, 1), (3, 0, 0), (0, 1, 0)]
    assert [p.likes for p in report.top] == [20, 9, 4]
    [outbox] = report.platforms
    assert (outbox.published, outbox.likes, outbox.reposts, outbox.views) == (3, 33, 3, 300)
    assert {p.id for p in report.attention} == {failed, missed}


def test_weekly_markdown(fresh_db, week_of_posts):
    published, failed, missed = week_of_posts
    with fresh_db.session() as session:
        text = render_weekly(build_weekly(session, "acme", week=WEEK, now=T0), "md")
    assert text.startswith("# Acme: week 2026-W49\n")
    assert "| 3 | 1 | 1 | 0 | 0 | 0 |" in text
    assert "Approvals this week: 1 approved, 0 sent back for changes, 0 rejected." in text
    assert re.search(r"Tue 01  █{20}\s+3 published", text)
    assert f"- post {failed}, outbox, due Wed 02 Dec 09:00: **failed** — scripted: HTTP 401: token <expired>" in text
    assert '1. outbox, Tue 01 Dec 09:00: "Post number 1 #podcast" — 20 likes' in text


def test_weekly_html_has_an_svg_chart_and_escapes_text(fresh_db, week_of_posts):
    with fresh_db.session() as session:
        report = build_weekly(session, "acme", week=WEEK, now=T0)
    html = render_weekly(report, "html")
    assert "token &lt;expired&gt;" in html and "token <expired>" not in html
    svg = html[html.index("<svg"):html.index("</svg>") + 6]
    root = ET.fromstring(svg)  # well-formed
    rects = root.findall("{http://www.w3.org/2000/svg}rect")
    assert len(rects) == 21  # 7 days x (published, failed, missed)
    titles = {r.find("{http://www.w3.org/2000/svg}title").text: float(r.get("height")) for r in rects}
    assert titles["Tue 01: 3 published"] > titles["Mon 30: 1 missed"] > 0
    assert titles["Thu 03: 0 published"] == 0


def test_chart_scales_to_the_busiest_day():
    from pipeline.publish.reports import DayCounts

    days = tuple(DayCounts(f"D{k}", k, 0, 0) for k in range(7))
    chart = day_chart(days, height=220)
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.title == "D6: 6 published" and tallest.y + tallest.height == chart.baseline
    assert tallest.y == pytest.approx(12)  # the plot's top margin


def test_weekly_report_for_an_unknown_client_is_a_clear_error(fresh_db):
    from pipeline.core.errors import NotFoundError

    with fresh_db.session() as session, pytest.raises(NotFoundError, match="unknown client 'nope'"):
        build_weekly(session, "nope", week=WEEK, now=T0)


def test_empty_week(fresh_db):
    with fresh_db.session() as session:
        session.add(Client(slug="quiet", name="Quiet"))
    with fresh_db.session() as session:
        text = render_weekly(build_weekly(session, "quiet", week=WEEK, now=T0), "md")
    assert "No posts were due this week." in text and "Needs attention" not in text
