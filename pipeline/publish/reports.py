"""The weekly per-client report: posts due that week and what became of them, approvals, engagement.

``build_weekly`` gathers the numbers (a frozen ``WeeklyReport``); ``render_weekly`` renders it as
Markdown or HTML through the templates in ``templates/reports/`` (Jinja2's sandbox; HTML
autoescaped). The HTML carries an SVG bar chart of posts per day; its geometry is computed here so
the template only draws rectangles. The week runs Monday 00:00 to Monday 00:00 in the client's zone.
Both carry the best time to post per platform (``best_time``): the proposal and its evidence as a table,
and in the HTML a PNG heatmap embedded as a data: URI, so the report stays one file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.core.vocab import (CANCELLED, DECISIONS, MISSED, NEEDS_ATTENTION, POST_FAILED, PUBLISHED, PUBLISHING,
                                 SCHEDULED, UNKNOWN)
from pipeline.core.clock import as_utc
from pipeline.core.errors import CastmillError
from pipeline.store.clients import get_client
from pipeline.publish.best_time import Analysis, analyse_client
from pipeline.publish.metrics import latest_metrics
from pipeline.publish.options import BestTimeOptions
from pipeline.publish.slot_proposals import open_proposal_ids
from pipeline.store.models import Approval, Draft, DraftVersion, ScheduledPost

TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates" / "reports"
STATUSES = (PUBLISHED, POST_FAILED, MISSED, UNKNOWN, SCHEDULED, PUBLISHING, CANCELLED)  # the report's order
CHART_SERIES = ((PUBLISHED, "#2e7d32"), (POST_FAILED, "#c62828"), (MISSED, "#ef6c00"))
EXCERPT_CHARS = 90


class ReportError(CastmillError):
    """The report cannot be made (bad week)."""


@dataclass(frozen=True)
class PostLine:
    id: int
    platform: str
    status: str
    due_local: str  # "Mon 23 Nov 09:00"
    excerpt: str
    url: str
    error: str
    likes: int | None
    reposts: int | None
    replies: int | None
    views: int | None

    @property
    def engagement(self) -> int:
        return (self.likes or 0) + (self.reposts or 0) + (self.replies or 0)


@dataclass(frozen=True)
class DayCounts:
    label: str  # "Mon 23"
    published: int
    failed: int
    missed: int

    def count(self, status: str) -> int:
        return getattr(self, status)


@dataclass(frozen=True)
class PlatformLine:
    platform: str
    published: int
    failed: int
    missed: int
    likes: int
    reposts: int
    replies: int
    views: int


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str  # tooltip: "Mon 23: 3 published"


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    baseline: float
    bars: tuple[Bar, ...]
    labels: tuple[tuple[float, str], ...]  # (x centre, day label)
    ticks: tuple[tuple[float, int], ...]  # (y, value) for the grid
    legend: tuple[tuple[str, str], ...]  # (series, colour)


@dataclass(frozen=True)
class WeeklyReport:
    client_slug: str
    client_name: str
    timezone: str
    week: str  # "2026-W48"
    first_day: date
    last_day: date
    counts: dict  # status -> posts due this week
    approvals: dict  # decision -> decisions made this week
    posts: tuple[PostLine, ...]
    days: tuple[DayCounts, ...]
    platforms: tuple[PlatformLine, ...]
    top: tuple[PostLine, ...]  # most engagement first
    generated_at: str
    best_time: tuple[Analysis, ...] = ()  # one per platform, as of generated_at
    open_proposals: tuple[tuple[str, int], ...] = ()  # (platform, id of its open slot proposal)

    @property
    def attention(self) -> tuple[PostLine, ...]:
        return tuple(p for p in self.posts if p.status in NEEDS_ATTENTION)


# --- the week ------------------------------------------------------------------------------------------

def week_bounds(week: str | None, tz: str, now: datetime) -> tuple[str, date, datetime, datetime]:
    """(label, Monday, start UTC, end UTC) of ISO week ``week`` ("2026-W48") or of ``now``'s week in ``tz``."""
    zone = ZoneInfo(tz)
    if week:
        try:
            year, number = week.upper().split("-W")
            monday = date.fromisocalendar(int(year), int(number), 1)
        except ValueError:
            raise ReportError(f"week {week!r} is not an ISO week like 2026-W48") from None
    else:
        today = as_utc(now).astimezone(zone).date()
        monday = today - timedelta(days=today.weekday())
    iso = monday.isocalendar()
    start = datetime.combine(monday, time(0), zone)
    end = datetime.combine(monday + timedelta(days=7), time(0), zone)
    return f"{iso.year}-W{iso.week:02d}", monday, as_utc(start), as_utc(end)


# --- gathering -----------------------------------------------------------------------------------------

def build_weekly(session: Session, client_slug: str, *, week: str | None = None, now: datetime,
                 best_time: BestTimeOptions | None = None) -> WeeklyReport:
    client = get_client(session, client_slug)
    label, monday, start, end = week_bounds(week, client.timezone or "UTC", now)
    zone = ZoneInfo(client.timezone or "UTC")
    rows = session.execute(
        select(ScheduledPost, DraftVersion.parts).join(DraftVersion, DraftVersion.id == ScheduledPost.version_id)
        .where(ScheduledPost.client_id == client.id, ScheduledPost.due_at >= start, ScheduledPost.due_at < end)
        .order_by(ScheduledPost.due_at, ScheduledPost.id)).all()
    metrics = latest_metrics(session, [post.id for post, _ in rows if post.status == "published"])
    posts = tuple(_line(post, parts, metrics.get(post.id), zone) for post, parts in rows)
    counts = {status: sum(1 for p in posts if p.status == status) for status in STATUSES}
    top = tuple(sorted((p for p in posts if p.likes is not None), key=lambda p: (-p.engagement, p.id))[:5])
    return WeeklyReport(
        client_slug=client.slug, client_name=client.name, timezone=client.timezone or "UTC", week=label,
        first_day=monday, last_day=monday + timedelta(days=6), counts=counts,
        approvals=_approvals(session, client.id, start, end), posts=posts,
        days=_days(rows, monday, zone), platforms=_platforms(posts), top=top,
        generated_at=as_utc(now).strftime("%Y-%m-%d %H:%M UTC"),
        best_time=analyse_client(session, client.slug, now=now, options=best_time),
        open_proposals=tuple(sorted(open_proposal_ids(session, client.id).items())))


def _line(post: ScheduledPost, parts: list, metric, zone: ZoneInfo) -> PostLine:
    text = " ".join(" ".join(parts or []).split())
    excerpt = text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS - 1].rstrip() + "…"
    due_local = as_utc(post.due_at).astimezone(zone).strftime("%a %d %b %H:%M")
    return PostLine(post.id, post.platform, post.status, due_local, excerpt, post.remote_url or "", post.error or "",
                    *((metric.likes, metric.reposts, metric.replies, metric.views) if metric else (None,) * 4))


def _approvals(session: Session, client_id: int, start: datetime, end: datetime) -> dict:
    rows = session.execute(
        select(Approval.decision, func.count()).join(Draft, Draft.id == Approval.draft_id)
        .where(Draft.client_id == client_id, Approval.at >= start, Approval.at < end)
        .group_by(Approval.decision)).all()
    found = {decision: n for decision, n in rows}
    return {decision: found.get(decision, 0) for decision in DECISIONS}


def _days(rows, monday: date, zone: ZoneInfo) -> tuple[DayCounts, ...]:
    days = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        on_day = [post.status for post, _ in rows if as_utc(post.due_at).astimezone(zone).date() == day]
        days.append(DayCounts(day.strftime("%a %d"), on_day.count(PUBLISHED), on_day.count(POST_FAILED),
                              on_day.count(MISSED)))
    return tuple(days)


def _platforms(posts: tuple[PostLine, ...]) -> tuple[PlatformLine, ...]:
    lines = []
    for platform in sorted({p.platform for p in posts}):
        mine = [p for p in posts if p.platform == platform]
        lines.append(PlatformLine(
            platform, *(sum(1 for p in mine if p.status == s) for s in (PUBLISHED, POST_FAILED, MISSED)),
            *(sum(getattr(p, field) or 0 for p in mine) for field in ("likes", "reposts", "replies", "views"))))
    return tuple(lines)


# --- the chart -----------------------------------------------------------------------------------------

def day_chart(days: tuple[DayCounts, ...], *, width: int = 560, height: int = 220) -> Chart:
    """Grouped bars per day (published, failed, missed), scaled to the busiest day."""
    left, right, top, bottom = 32, 8, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([d.count(s) for d in days for s, _ in CHART_SERIES] + [1])
    group = plot_w / len(days)
    bar_w = group * 0.7 / len(CHART_SERIES)
    baseline = top + plot_h
    bars, labels = [], []
    for index, day in enumerate(days):
        x0 = left + index * group + group * 0.15
        for k, (series, colour) in enumerate(CHART_SERIES):
            value = day.count(series)
            h = plot_h * value / peak
            bars.append(Bar(round(x0 + k * bar_w, 1), round(baseline - h, 1), round(bar_w - 1, 1), round(h, 1),
                            colour, f"{day.label}: {value} {series}"))
        labels.append((round(left + index * group + group / 2, 1), day.label))
    step = max(1, -(-peak // 4))
    ticks = tuple((round(baseline - plot_h * v / peak, 1), v) for v in range(0, peak + 1, step))
    return Chart(width, height, baseline, tuple(bars), tuple(labels), ticks, CHART_SERIES)


def text_bar(n: int, peak: int, width: int = 20) -> str:
    return "█" * (round(width * n / peak) if peak else 0)


# --- rendering -----------------------------------------------------------------------------------------

def _environment(fmt: str) -> SandboxedEnvironment:
    env = SandboxedEnvironment(loader=FileSystemLoader(str(TEMPLATES_DIR), encoding="utf-8"),
                               undefined=StrictUndefined, autoescape=(fmt == "html"), trim_blocks=True,
                               lstrip_blocks=True, keep_trailing_newline=True)
    env.globals["text_bar"] = text_bar
    return env


def render_weekly(report: WeeklyReport, fmt: str = "md") -> str:
    if fmt not in ("md", "html"):
        raise ReportError(f"unknown report format {fmt!r}; use md or html")
    peak = max([d.count(s) for d in report.days for s, _ in CHART_SERIES] + [0])
    return _environment(fmt).get_template(f"weekly.{fmt}.j2").render(
        r=report, chart=day_chart(report.days), peak=peak, series=[s for s, _ in CHART_SERIES],
        heatmaps=_heatmaps(report) if fmt == "html" else {}, proposal_ids=dict(report.open_proposals))


def _heatmaps(report: WeeklyReport) -> dict[str, str]:
    """platform -> the heatmap as a data: URI, for each platform with enough posts to estimate."""
    from pipeline.publish.best_time_plot import data_uri, heatmap_png  # matplotlib only when drawing

    return {a.platform: data_uri(heatmap_png(a)) for a in report.best_time if a.bins}
