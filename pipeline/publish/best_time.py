"""Best time to post, learned from the client's own engagement: an estimate per time of week and a
proposal of posting slots, per platform, with its evidence.

The model, per platform:

- **Posts that count.** Published within ``lookback_days`` (by the draft's platform, not the publisher:
  an outbox post of a LinkedIn draft is a LinkedIn post), whose newest numbers were fetched at least
  ``settle_hours`` after it went out (a fresh post would look poor only because it is fresh).
- **Engagement rate.** (likes + reposts + replies) / views. Some platforms report no views (Mastodon,
  Bluesky, X without a paid plan); there the rate is interactions per post. The two units cannot be
  mixed, so a platform is measured per view when at least half of its posts carry views, and its posts
  without views are then left out (and counted in the evidence); otherwise every post is measured per
  post. Per post ignores reach, so a growing audience favours recent weeks: a known weakness.
- **Bins.** Weekday x ``block_hours`` hours (3 by default: 56 bins), in the client's zone at the moment
  each post went out, so a 09:00 New York post is in the same bin in winter and in summer. Hourly bins
  (168) would need hundreds of posts per platform before any bin holds a handful.
- **Estimate.** A post is the unit of evidence, not an impression: the impressions of one post are not
  independent draws (one post going far lifts them all). Each bin's rate is the posterior mean under a
  normal prior worth ``prior_posts`` posts, centred on the rate of the client's current slots (the status
  quo: without evidence, a time is taken to do as well as today's slots; on the platform-wide mean when
  the current slots have too few posts): ``estimate = (sum of rates + k * prior) / (n + k)``, and the
  interval is ``estimate +- z * sigma / sqrt(n + k)``, sigma the spread of rates between posts of the
  same bin (pooled over bins).
- **Proposal.** Nothing under ``min_posts`` posts (and the reason says how many there are). A bin that
  holds no current slot, has at least ``min_bin_posts`` posts, an estimate ``margin`` above the current
  slots' rate and an interval whose lower end is above that rate is a candidate. Best candidate first,
  each replaces the weakest remaining current slot if it beats that slot's estimate by ``margin``; the
  number of slots stays the same (a platform without slots gets ``new_slots``). A new slot's time is the
  minute most of its bin's posts went out at.

Everything is sorted before it is summed or chosen: the same rows give the same proposal.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from statistics import NormalDist

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.core.clock import WEEKDAYS, as_utc, to_local
from pipeline.core.vocab import PER_POST, PER_VIEW, PUBLISHED
from pipeline.publish.metrics import latest_metrics
from pipeline.publish.options import BestTimeOptions
from pipeline.store.clients import get_client
from pipeline.store.models import Client, Draft, ScheduledPost

NO_NUMBERS = "no numbers fetched"
NOT_SETTLED = "numbers not settled yet"
NO_VIEWS = "no views reported"


@dataclass(frozen=True)
class Sample:
    """One published post with its newest numbers."""

    post_id: int
    platform: str
    local: datetime  # when it went out, in the client's zone
    interactions: int  # likes + reposts + replies
    views: int | None


@dataclass(frozen=True)
class BinEstimate:
    day: int  # 0 = Monday
    block: int  # the block's start is block * hours
    hours: int
    posts: int
    mean: float | None  # the bin's own mean rate; None without posts
    estimate: float  # shrunk toward the prior
    low: float
    high: float
    time: str  # the local minute most of its posts went out at ("09:00"); "" without posts
    current: bool  # a current slot falls in it

    @property
    def label(self) -> str:
        start = self.block * self.hours
        return f"{WEEKDAYS[self.day]} {start:02d}-{start + self.hours:02d}"


@dataclass(frozen=True)
class ProposedSlot:
    day: str  # "tue"
    time: str  # "09:00"
    new: bool  # False: a current slot that stays
    bin: str  # "tue 09-12"
    posts: int
    rate: float
    low: float
    high: float
    replaces: str = ""  # the current slot a new one takes the place of ("mon 12:00")


@dataclass(frozen=True)
class Analysis:
    """One platform of one client: the estimates and, when the evidence allows, a proposal."""

    client_slug: str
    platform: str
    timezone: str
    options: BestTimeOptions
    measure: str  # PER_VIEW or PER_POST
    posts: int  # posts with settled numbers in the measure
    left_out: dict[str, int]  # reason -> posts not counted
    # The current slots' rate: the estimates' centre and what a new slot must beat. The platform-wide mean
    # when the current slots have fewer than min_bin_posts posts (``baseline_source`` says which).
    baseline: float | None
    baseline_source: str  # "current slots" or "all posts"
    baseline_posts: int
    current: tuple[tuple[str, str], ...]  # (day, time) of every current slot, Monday first
    bins: tuple[BinEstimate, ...] = ()  # every bin of the week once there are enough posts
    slots: tuple[ProposedSlot, ...] = ()  # the proposed set; empty: no proposal
    reason: str = ""  # why there is no proposal
    sigma: float = 0.0

    @property
    def has_proposal(self) -> bool:
        return bool(self.slots)

    @property
    def new_slots(self) -> tuple[ProposedSlot, ...]:
        return tuple(s for s in self.slots if s.new)

    def rate_text(self, value: float | None) -> str:
        return format_rate(self.measure, value)

    def posting_slots(self) -> list[dict]:
        """The proposed slots as profile ``posting_slots`` entries (one per time, days Monday first)."""
        return group_slots(self.platform, [(s.day, s.time) for s in self.slots])

    def current_posting_slots(self) -> list[dict]:
        return group_slots(self.platform, list(self.current))

    def evidence(self) -> dict:
        """What the proposal rests on, as JSON (stored with it, printed by ``slots propose --json``)."""
        return {
            "platform": self.platform, "timezone": self.timezone, "measure": self.measure,
            "posts": self.posts, "left_out": dict(sorted(self.left_out.items())),
            "block_hours": self.options.block_hours, "lookback_days": self.options.lookback_days,
            "baseline": {"rate": _round(self.baseline), "posts": self.baseline_posts, "of": self.baseline_source},
            "prior_posts": self.options.prior_posts,
            "margin": self.options.margin, "confidence": self.options.confidence, "sigma": _round(self.sigma),
            "current": [f"{day} {time}" for day, time in self.current],
            "slots": [{"day": s.day, "time": s.time, "new": s.new, "bin": s.bin, "posts": s.posts,
                       "rate": _round(s.rate), "low": _round(s.low), "high": _round(s.high), "replaces": s.replaces}
                      for s in self.slots],
            "bins": [{"bin": b.label, "posts": b.posts, "mean": _round(b.mean), "estimate": _round(b.estimate),
                      "low": _round(b.low), "high": _round(b.high)} for b in self.bins if b.posts],
            "reason": self.reason,
        }


def format_rate(measure: str, value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value * 100:.2f}%" if measure == PER_VIEW else f"{value:.1f}/post"


def group_slots(platform: str, occurrences: list[tuple[str, str]]) -> list[dict]:
    by_time: dict[str, set[str]] = defaultdict(set)
    for day, time in occurrences:
        by_time[time].add(day)
    return [{"platform": platform, "days": sorted(days, key=WEEKDAYS.index), "time": time}
            for time, days in sorted(by_time.items())]


def current_occurrences(client: Client, platform: str) -> tuple[tuple[str, str], ...]:
    """Every (day, time) of the client's ``platform`` slots, Monday first."""
    found = {(day, slot["time"]) for slot in client.posting_slots or [] if slot["platform"] == platform
             for day in slot["days"]}
    return tuple(sorted(found, key=lambda o: (WEEKDAYS.index(o[0]), o[1])))


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


# --- gathering -----------------------------------------------------------------------------------------

def gather(session: Session, client: Client, *, now: datetime,
           options: BestTimeOptions) -> tuple[list[Sample], dict[str, Counter]]:
    """The client's published posts of the window with settled numbers, and per platform why others are out."""
    now = as_utc(now)
    rows = session.execute(
        select(ScheduledPost.id, Draft.platform, ScheduledPost.published_at, ScheduledPost.due_at)
        .join(Draft, Draft.id == ScheduledPost.draft_id)
        .where(ScheduledPost.client_id == client.id, ScheduledPost.status == PUBLISHED,
               ScheduledPost.published_at >= now - timedelta(days=options.lookback_days),
               ScheduledPost.published_at <= now)
        .order_by(ScheduledPost.id)).all()
    metrics = latest_metrics(session, [row.id for row in rows])
    settle = timedelta(hours=options.settle_hours)
    samples, left_out = [], defaultdict(Counter)
    for post_id, platform, published_at, due_at in rows:
        metric = metrics.get(post_id)
        went_out = as_utc(published_at or due_at)
        if metric is None:
            left_out[platform][NO_NUMBERS] += 1
        elif as_utc(metric.fetched_at) - went_out < settle:
            left_out[platform][NOT_SETTLED] += 1
        else:
            samples.append(Sample(post_id, platform, to_local(went_out, client.timezone or "UTC"),
                                  (metric.likes or 0) + (metric.reposts or 0) + (metric.replies or 0), metric.views))
    return samples, left_out


def analyse_client(session: Session, client_slug: str, *, now: datetime, options: BestTimeOptions | None = None,
                   platform: str | None = None) -> tuple[Analysis, ...]:
    """One analysis per platform the client posts on or has slots for (or only ``platform``)."""
    options = options or BestTimeOptions()
    client = get_client(session, client_slug)
    samples, left_out = gather(session, client, now=now, options=options)
    platforms = {s.platform for s in samples} | set(left_out) | {s["platform"] for s in client.posting_slots or []}
    chosen = [platform] if platform else sorted(platforms)
    return tuple(analyse(client, name, [s for s in samples if s.platform == name], dict(left_out.get(name, {})),
                         options) for name in chosen)


# --- the model -----------------------------------------------------------------------------------------

def analyse(client: Client, platform: str, samples: list[Sample], left_out: dict[str, int],
            options: BestTimeOptions) -> Analysis:
    samples = sorted(samples, key=lambda s: s.post_id)
    measure, counted = _measure(samples)
    left_out = {**left_out, NO_VIEWS: len(samples) - len(counted)} if measure == PER_VIEW else dict(left_out)
    left_out = {reason: n for reason, n in left_out.items() if n}
    current = current_occurrences(client, platform)
    base = dict(client_slug=client.slug, platform=platform, timezone=client.timezone or "UTC", options=options,
                measure=measure, posts=len(counted), left_out=left_out, current=current)
    if len(counted) < options.min_posts:
        return Analysis(**base, baseline=None, baseline_source="", baseline_posts=0,
                        reason=_too_few(platform, len(counted), left_out, options))
    rated = [(_bin_of(s.local, options.block_hours), _rate(s, measure), s.local.strftime("%H:%M")) for s in counted]
    current_bins = {_slot_bin(day, time, options.block_hours) for day, time in current}
    at_current = [rate for key, rate, _ in rated if key in current_bins]
    everything = [rate for _, rate, _ in rated]
    if len(at_current) >= options.min_bin_posts:
        prior, source, baseline_rates = _mean(at_current), "current slots", at_current
    else:
        prior, source, baseline_rates = _mean(everything), "all posts", everything
    sigma = _pooled_sigma(rated)
    bins = _estimates(rated, prior, sigma, current_bins, options)
    analysis = Analysis(**base, baseline=prior, baseline_source=source, baseline_posts=len(baseline_rates),
                        bins=bins, sigma=sigma)
    slots = _choose(analysis)
    if not any(s.new for s in slots):
        return replace(analysis, reason=_no_better(analysis))
    return replace(analysis, slots=slots)


def _measure(samples: list[Sample]) -> tuple[str, list[Sample]]:
    with_views = [s for s in samples if s.views]
    if with_views and 2 * len(with_views) >= len(samples):
        return PER_VIEW, with_views
    return PER_POST, samples


def _rate(sample: Sample, measure: str) -> float:
    return sample.interactions / sample.views if measure == PER_VIEW else float(sample.interactions)


def _bin_of(local: datetime, hours: int) -> tuple[int, int]:
    return local.weekday(), local.hour // hours


def _slot_bin(day: str, time: str, hours: int) -> tuple[int, int]:
    return WEEKDAYS.index(day), int(time[:2]) // hours


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values)


def _pooled_sigma(rated: list[tuple[tuple[int, int], float, str]]) -> float:
    """The spread of rates between posts of the same bin; the overall spread when bins hold one post each."""
    groups: dict[tuple[int, int], list[float]] = defaultdict(list)
    for key, rate, _ in rated:
        groups[key].append(rate)
    freedom = len(rated) - len(groups)
    if freedom > 0:
        within = math.fsum(math.fsum((r - _mean(g)) ** 2 for r in g) for _, g in sorted(groups.items()))
        return math.sqrt(within / freedom)
    rates = [rate for _, rate, _ in rated]
    centre = _mean(rates)
    return math.sqrt(math.fsum((r - centre) ** 2 for r in rates) / max(1, len(rates) - 1))


def _estimates(rated, prior: float, sigma: float, current_bins: set,
               options: BestTimeOptions) -> tuple[BinEstimate, ...]:
    z = NormalDist().inv_cdf(0.5 + options.confidence / 2)
    k = options.prior_posts
    rates: dict[tuple[int, int], list[float]] = defaultdict(list)
    times: dict[tuple[int, int], Counter] = defaultdict(Counter)
    for key, rate, minute in rated:
        rates[key].append(rate)
        times[key][minute] += 1
    bins = []
    for day in range(7):
        for block in range(24 // options.block_hours):
            mine = rates.get((day, block), [])
            estimate = (math.fsum(mine) + k * prior) / (len(mine) + k)
            half = z * sigma / math.sqrt(len(mine) + k)
            usual = min(times[(day, block)].items(), key=lambda item: (-item[1], item[0]))[0] if mine else ""
            bins.append(BinEstimate(day, block, options.block_hours, len(mine), _mean(mine) if mine else None,
                                    estimate, estimate - half, estimate + half, usual, (day, block) in current_bins))
    return tuple(bins)


def _choose(analysis: Analysis) -> tuple[ProposedSlot, ...]:
    """The current slots with the weakest replaced by better bins, best bin first (see the module's doc)."""
    options, baseline = analysis.options, analysis.baseline
    by_key = {(b.day, b.block): b for b in analysis.bins}
    candidates = sorted((b for b in analysis.bins
                         if not b.current and b.posts >= options.min_bin_posts
                         and b.estimate >= baseline * (1 + options.margin) and b.low > baseline),
                        key=lambda b: (-b.estimate, b.day, b.block))

    def slot_of(day: str, time: str) -> BinEstimate:
        return by_key[_slot_bin(day, time, options.block_hours)]

    if not analysis.current:
        return tuple(sorted((_proposed(b, "") for b in candidates[:options.new_slots]), key=_slot_order))
    standing = sorted(analysis.current, key=lambda o: (slot_of(*o).estimate, WEEKDAYS.index(o[0]), o[1]))
    chosen = []
    for candidate in candidates:
        if not standing or candidate.estimate < slot_of(*standing[0]).estimate * (1 + options.margin):
            break
        day, time = standing.pop(0)
        chosen.append(_proposed(candidate, f"{day} {time}"))
    kept = [_kept(day, time, slot_of(day, time)) for day, time in standing]
    return tuple(sorted(kept + chosen, key=_slot_order))


def _proposed(b: BinEstimate, replaces: str) -> ProposedSlot:
    return ProposedSlot(WEEKDAYS[b.day], b.time, True, b.label, b.posts, b.estimate, b.low, b.high, replaces)


def _kept(day: str, time: str, b: BinEstimate) -> ProposedSlot:
    return ProposedSlot(day, time, False, b.label, b.posts, b.estimate, b.low, b.high)


def _slot_order(slot: ProposedSlot) -> tuple[int, str]:
    return WEEKDAYS.index(slot.day), slot.time


def _too_few(platform: str, n: int, left_out: dict[str, int], options: BestTimeOptions) -> str:
    reason = f"{n} published posts with numbers on {platform}, {options.min_posts} needed"
    if left_out:
        reason += " (not counted: " + ", ".join(f"{k} {why}" for why, k in sorted(left_out.items())) + ")"
    return reason


def _no_better(analysis: Analysis) -> str:
    options = analysis.options
    against = "current slots" if analysis.current else "average"
    return (f"no time of week beats the {analysis.platform} {against} ({analysis.rate_text(analysis.baseline)}) "
            f"by {options.margin:.0%} with at least {options.min_bin_posts} posts and its "
            f"{options.confidence:.0%} interval above it")
