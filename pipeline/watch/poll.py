"""Polling watched feeds: each new episode is processed once, and the VA is told.

One poll of one subscription (``poll_feed``):

1. a conditional GET with the last ETag and Last-Modified; 304 means nothing new. A failure (404, 500,
   a timeout, an address ``safe_fetch`` refuses, not a feed) is counted on the subscription with its
   one-line reason, and the next poll waits ``poll_minutes × 2^failures`` (``WatchOptions.backoff``);
2. every entry is matched against the entries already seen for the client, by GUID or by enclosure URL,
   so a re-ordered feed, an edited title, or a GUID or an enclosure address changed on its own brings
   nothing new. A GUID that several entries of the feed share is not trusted;
3. an unknown entry published after the subscription was added is new; one published before is
   recorded as old and never processed (a feed that suddenly lists 500 old episodes floods nothing),
   apart from the newest ``backfill`` ones the VA asked for at its first poll. An undated entry is new
   only once the feed has been read before;
4. each entry to process gets its row (status ``processing``) before any work starts: one row per client
   and enclosure, so it is processed once. The batch runner (``process_sources``) or the job queue then
   takes them; media identical to an episode the client has is the same episode (ingest's content hash),
   recorded as ``duplicate``, and not announced;
5. the VA is told of each new episode: its notice is queued in the notification outbox in the transaction
   that settles the entry (``notice.tell_new_episode``), and one send pass of the outbox follows the poll.

``poll_due`` polls every subscription that is due; ``castmill scheduler run`` calls it every minute.
A subscription is claimed before it is polled (``polling_since`` set by one guarded UPDATE), so two
schedulers, or a scheduler and `castmill feeds poll`, never poll the same feed at once.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pipeline.core.clock import as_utc, utcnow
from pipeline.core.errors import IngestError
from pipeline.core.settings import Settings
from pipeline.core.vocab import (ENTRY_DUPLICATE, ENTRY_FAILED, ENTRY_OLD, ENTRY_PROCESSED, ENTRY_PROCESSING,
                                 ENTRY_QUEUED, FAILED)
from pipeline.ingest.feeds import FeedFetch, FeedItem, fetch_feed_if_changed, parse_feed
from pipeline.ingest.sources import Source
from pipeline.publish.notices import NoticeService
from pipeline.store.clients import get_client
from pipeline.store.db import Database
from pipeline.store.models import Client, Episode, FeedEntry, FeedSubscription
from pipeline.watch.notice import QUEUED, EpisodeNotice, tell_new_episode
from pipeline.watch.options import POLL_LEASE, WatchOptions

log = logging.getLogger("castmill.feeds")


@dataclass(frozen=True)
class ItemResult:
    """What processing made of one entry."""

    status: str  # processed | queued | duplicate | failed
    episode_id: int | None = None
    error: str = ""
    new_episode: bool = False  # an episode the client did not have (or a queued one): the VA is told


# sources of one client -> their results, keyed by the source's URI (the enclosure URL)
Processor = Callable[[Database, Settings, str, list[Source]], dict[str, ItemResult]]


@dataclass
class PickedUp:
    title: str
    enclosure_url: str
    status: str
    episode_id: int | None
    error: str
    notified_via: str  # "outbox" (queued for the staff), "log" (nobody to tell), or "-" (nothing to tell)


@dataclass
class PollReport:
    feed_id: int
    client: str
    url: str
    result: str  # "not modified", "nothing new", "2 new episodes", "failed" …
    next_poll_at: datetime
    error: str = ""
    failures: int = 0
    picked_up: list[PickedUp] = field(default_factory=list)
    old: int = 0  # entries listed from before the subscription, recorded and left alone
    waiting: int = 0  # new entries past max_new_per_poll, taken at the next poll

    @property
    def ok(self) -> bool:
        return not self.error

    def to_dict(self) -> dict:
        return {**self.__dict__, "next_poll_at": self.next_poll_at.isoformat(),
                "picked_up": [p.__dict__ for p in self.picked_up]}


@dataclass(frozen=True)
class _Feed:
    """The subscription as read when its poll began."""

    id: int
    client_id: int
    client: str
    url: str
    etag: str
    last_modified: str
    added_at: datetime
    backfill: int
    backfilled: bool
    read_before: bool
    failures: int


@dataclass
class _Plan:
    claimed: list[tuple[int, FeedItem]] = field(default_factory=list)  # (entry id, item) to process now
    old: int = 0
    waiting: int = 0
    backfilled: bool = False


# --- polling every due feed ------------------------------------------------------------------------------

def poll_due(db: Database, settings: Settings, *, now: datetime | None = None, client_slug: str | None = None,
             force: bool = False, options: WatchOptions | None = None, processor: Processor | None = None,
             stopping: Callable[[], bool] = lambda: False, notices: NoticeService | None = None) -> list[PollReport]:
    """Poll each enabled subscription that is due (every one with ``force``), one after another; a feed
    that fails, in any way, is recorded on its subscription and the others are polled all the same.
    ``stopping`` is asked before each feed (the scheduler's SIGTERM): the feeds not reached stay due.
    ``notices``: the outbox the new-episode notices go to (default: from the settings)."""
    options = options or WatchOptions.from_settings(settings)
    notices = notices or NoticeService.from_settings(settings, db.session)
    now = as_utc(now or utcnow())
    reports = []
    for feed_id, seen in _candidates(db, now, client_slug, force):
        if stopping():
            break
        if not _claim(db, feed_id, seen, now):
            continue  # another scheduler took it
        try:
            reports.append(poll_feed(db, settings, feed_id, now=now, options=options, processor=processor,
                                     notices=notices))
        except Exception as exc:  # a bug or a lost database must not stop the other feeds, nor the scheduler
            log.exception("feed %d: poll failed", feed_id)
            reports.append(_failed_anyway(db, feed_id, now, options, exc))
    return reports


def _failed_anyway(db: Database, feed_id: int, now: datetime, options: WatchOptions, exc: Exception) -> PollReport:
    """An unexpected failure, recorded on the subscription when the database lets us."""
    reason = f"unexpected error: {type(exc).__name__}: {str(exc)[:200]}"
    try:
        return _record_failure(db, _read_feed(db, feed_id), now, options, reason)
    except Exception:
        log.exception("feed %d: the failure could not be recorded", feed_id)
        return PollReport(feed_id, "?", "?", "failed", now + POLL_LEASE, error=reason)


def _candidates(db: Database, now: datetime, client_slug: str | None, force: bool) -> list[tuple[int, datetime]]:
    query = select(FeedSubscription.id, FeedSubscription.next_poll_at).where(FeedSubscription.enabled.is_(True))
    if not force:
        query = query.where(FeedSubscription.next_poll_at <= now)
    with db.session() as session:
        if client_slug:
            query = query.where(FeedSubscription.client_id == get_client(session, client_slug).id)
        return [(row.id, row.next_poll_at) for row in session.execute(query.order_by(FeedSubscription.next_poll_at))]


def _claim(db: Database, feed_id: int, seen: datetime, now: datetime) -> bool:
    """Hold the subscription for this poll: one guarded UPDATE, so one scheduler (or `castmill feeds poll`)
    polls it at a time; a claim older than ``POLL_LEASE`` is a dead poller's and may be taken over."""
    free = or_(FeedSubscription.polling_since.is_(None), FeedSubscription.polling_since <= now - POLL_LEASE)
    with db.session() as session:
        claimed = session.execute(update(FeedSubscription)
                                  .where(FeedSubscription.id == feed_id, FeedSubscription.next_poll_at == seen, free)
                                  .values(polling_since=now),
                                  execution_options={"synchronize_session": False})
        return claimed.rowcount == 1


# --- one feed ----------------------------------------------------------------------------------------------

def poll_feed(db: Database, settings: Settings, feed_id: int, *, now: datetime | None = None,
              options: WatchOptions | None = None, processor: Processor | None = None,
              notices: NoticeService | None = None) -> PollReport:
    """Poll one subscription now (see the module's docstring); failures are recorded, not raised."""
    options = options or WatchOptions.from_settings(settings)
    notices = notices or NoticeService.from_settings(settings, db.session)
    now = as_utc(now or utcnow())
    feed = _read_feed(db, feed_id)
    _link_queued(db, feed, now)
    try:
        fetched = _fetch(db, settings, feed, options, now)
        items = [] if fetched.not_modified else parse_feed(feed.url, fetched.body, allow_empty=True)
    except IngestError as exc:
        return _record_failure(db, feed, now, options, exc.reason)
    if fetched.not_modified:
        return _record_success(db, feed, now, options, fetched, _Plan(), [])
    plan = _plan(db, feed, _unique(items), now, options)
    picked = _process(db, settings, feed, plan.claimed, now, options, processor, notices)
    report = _record_success(db, feed, now, options, fetched, plan, picked)
    if any(p.notified_via == QUEUED for p in picked):
        _send_notices(notices, feed, now)
    return report


def _send_notices(notices: NoticeService, feed: _Feed, now: datetime) -> None:
    """One send pass of the outbox, so the VA hears now; whatever it cannot send waits in the outbox for the
    scheduler's passes (with back-off), so a failure here fails nothing."""
    try:
        notices.send(now=now)
    except Exception:
        log.exception("feed %d: the outbox's send pass failed; its notices wait for the next pass", feed.id)


def _read_feed(db: Database, feed_id: int) -> _Feed:
    with db.session() as session:
        feed = session.get(FeedSubscription, feed_id)
        slug = session.scalar(select(Client.slug).where(Client.id == feed.client_id))
        return _Feed(feed.id, feed.client_id, slug, feed.url, feed.etag, feed.last_modified,
                     as_utc(feed.added_at), feed.backfill, feed.backfilled_at is not None,
                     feed.last_success_at is not None, feed.failures)


def _link_queued(db: Database, feed: _Feed, now: datetime) -> None:
    """Queued entries whose episode a worker has made since: processed, with their episode."""
    with db.session() as session:
        queued = session.scalars(select(FeedEntry).where(FeedEntry.subscription_id == feed.id,
                                                         FeedEntry.status == ENTRY_QUEUED))
        for entry in queued:
            episode_id = session.scalar(select(Episode.id).where(Episode.client_id == feed.client_id,
                                                                 Episode.source_uri == entry.enclosure_url).limit(1))
            if episode_id is not None:
                entry.status, entry.episode_id, entry.updated_at = ENTRY_PROCESSED, episode_id, now


def _fetch(db: Database, settings: Settings, feed: _Feed, options: WatchOptions, now: datetime) -> FeedFetch:
    """A conditional GET, unless an entry waits for another try: a 304 would hide it."""
    with db.session() as session:
        retry_waiting = session.scalar(select(FeedEntry.id).where(FeedEntry.subscription_id == feed.id,
                                                                  _retryable(now, options)).limit(1))
    validators = {} if retry_waiting else {"etag": feed.etag, "last_modified": feed.last_modified}
    return fetch_feed_if_changed(feed.url, options.timeout, settings.network, **validators)


def _unique(items: list[FeedItem]) -> list[FeedItem]:
    """One item per enclosure (the newest), and no GUID that several enclosures share (a broken feed's)."""
    seen: set[str] = set()
    items = [i for i in items if not (i.url in seen or seen.add(i.url))]
    shared = {guid for guid, n in Counter(i.guid for i in items if i.guid).items() if n > 1}
    return [replace(i, guid=None) if i.guid in shared else i for i in items]


# --- which entries are new -----------------------------------------------------------------------------

def _plan(db: Database, feed: _Feed, items: list[FeedItem], now: datetime, options: WatchOptions) -> _Plan:
    """Record what the feed lists that was not seen before; claim (as ``processing``) what is to be processed."""
    plan = _Plan()
    with db.session() as session:
        known = _known(session, feed.client_id, items)
        new, old, retry = [], [], []
        for item in items:
            entry = known.get(("guid", item.guid)) or known.get(("url", item.url))
            if entry is None:
                (new if _is_new(item, feed) else old).append(item)
                continue
            _refresh(entry, item)
            if entry.status in (ENTRY_FAILED, ENTRY_PROCESSING) and _may_retry(entry, now, options):
                retry.append((entry, item))
        backfill = [] if feed.backfilled or not feed.backfill else old[:feed.backfill]
        take, plan.waiting = new[:options.max_new_per_poll], max(0, len(new) - options.max_new_per_poll)
        for item in old[len(backfill):]:
            plan.old += _insert(session, feed, item, ENTRY_OLD, now) is not None
        for item in backfill + take:
            if (entry_id := _insert(session, feed, item, ENTRY_PROCESSING, now)) is not None:
                plan.claimed.append((entry_id, item))
        for entry, item in retry:
            entry.status, entry.attempts, entry.updated_at = ENTRY_PROCESSING, entry.attempts + 1, now
            plan.claimed.append((entry.id, item))
        if feed.backfill and not feed.backfilled:
            session.get(FeedSubscription, feed.id).backfilled_at = now
            plan.backfilled = True
    plan.claimed.sort(key=lambda pair: as_utc(pair[1].published) if pair[1].published else now)  # oldest first
    return plan


def _known(session: Session, client_id: int, items: list[FeedItem]) -> dict[tuple[str, str], FeedEntry]:
    """The client's entries (of any of its feeds) that share a GUID or an enclosure URL with ``items``."""
    guids = [i.guid for i in items if i.guid]
    urls = [i.url for i in items]
    known: dict[tuple[str, str], FeedEntry] = {}
    for start in range(0, max(len(urls), len(guids)), 500):
        found = session.scalars(select(FeedEntry).where(FeedEntry.client_id == client_id, or_(
            FeedEntry.enclosure_url.in_(urls[start:start + 500]), FeedEntry.guid.in_(guids[start:start + 500]))))
        for entry in found:
            known[("url", entry.enclosure_url)] = entry
            if entry.guid:
                known[("guid", entry.guid)] = entry
    return known


def _is_new(item: FeedItem, feed: _Feed) -> bool:
    if item.published is not None:
        return as_utc(item.published) > feed.added_at
    return feed.read_before


def _refresh(entry: FeedEntry, item: FeedItem) -> None:
    """The same episode under a new title or GUID: remember the new ones, so either finds it next time."""
    entry.title = item.title or entry.title
    if item.guid and entry.enclosure_url == item.url:
        entry.guid = item.guid


def _may_retry(entry: FeedEntry, now: datetime, options: WatchOptions) -> bool:
    if entry.attempts >= options.max_attempts:
        return False
    # A "processing" entry is only taken again when its poll has surely died (the claim ran out).
    return entry.status == ENTRY_FAILED or as_utc(entry.updated_at) <= now - POLL_LEASE


def _retryable(now: datetime, options: WatchOptions):
    stale = (FeedEntry.status == ENTRY_PROCESSING) & (FeedEntry.updated_at <= now - POLL_LEASE)
    return (FeedEntry.attempts < options.max_attempts) & ((FeedEntry.status == ENTRY_FAILED) | stale)


def _insert(session: Session, feed: _Feed, item: FeedItem, status: str, now: datetime) -> int | None:
    """The entry's row, or None when another poll wrote it first (the same enclosure in another feed)."""
    entry = FeedEntry(subscription_id=feed.id, client_id=feed.client_id, guid=item.guid or "",
                      enclosure_url=item.url, title=item.title, published_at=item.published, status=status,
                      attempts=int(status == ENTRY_PROCESSING), error="", notified_via="", first_seen_at=now,
                      updated_at=now)
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except IntegrityError:
        return None
    return entry.id


# --- processing and telling ------------------------------------------------------------------------------

def _process(db: Database, settings: Settings, feed: _Feed, claimed: list[tuple[int, FeedItem]], now: datetime,
             options: WatchOptions, processor: Processor | None, notices: NoticeService) -> list[PickedUp]:
    if not claimed:
        return []
    processor = processor or (queue_items if options.queue else process_items)
    sources = [Source(uri=item.url, feed_item=item) for _, item in claimed]
    try:
        results = processor(db, settings, feed.client, sources)
    except Exception as exc:  # the entries stay "processing" would hide them: mark them failed, to be retried
        log.exception("feed %d: processing failed", feed.id)
        results = {}
        failure = ItemResult(ENTRY_FAILED, error=f"processing stopped: {type(exc).__name__}: {str(exc)[:200]}")
    else:
        failure = ItemResult(ENTRY_FAILED, error="not processed")
    return [_settle(db, notices, feed, entry_id, item, results.get(item.url, failure), now)
            for entry_id, item in claimed]


def _settle(db: Database, notices: NoticeService, feed: _Feed, entry_id: int, item: FeedItem, result: ItemResult,
            now: datetime) -> PickedUp:
    """Record the entry's outcome and, in the same transaction, queue the VA's notice of a new episode (once)."""
    via = "-"
    with db.session() as session:
        entry = session.get(FeedEntry, entry_id)
        entry.status, entry.error, entry.updated_at = result.status, result.error, now
        entry.episode_id = result.episode_id or entry.episode_id
        episode_id = entry.episode_id
        if result.new_episode and entry.notified_at is None:
            via = tell_new_episode(session, notices, EpisodeNotice(
                entry_id, feed.client_id, feed.client, item.title, result.status, episode_id, feed.id, result.error),
                now=now)
            entry.notified_at, entry.notified_via = now, via
    log.info("feed %d (%s): %r %s%s", feed.id, feed.client, item.title, result.status,
             f": {result.error}" if result.error else "")
    return PickedUp(item.title, item.url, result.status, episode_id, result.error, via)


def process_items(db: Database, settings: Settings, client_slug: str, sources: list[Source]) -> dict[str, ItemResult]:
    """The batch runner, here and now: every stage of each new entry, as ``castmill process`` runs them."""
    from pipeline.batch import DUPLICATE as BATCH_DUPLICATE
    from pipeline.batch import TranscribeJob, process_sources

    before = _episode_ids(db, client_slug, [s.uri for s in sources])
    report = process_sources(db, settings, client_slug, sources, job=TranscribeJob.from_settings(settings.transcribe))
    results = {}
    for outcome in report.outcomes:
        had_it = outcome.status == BATCH_DUPLICATE or outcome.episode_id in before
        if had_it:
            results[outcome.source] = ItemResult(ENTRY_DUPLICATE, outcome.episode_id)
        elif outcome.status == FAILED:
            results[outcome.source] = ItemResult(ENTRY_FAILED, outcome.episode_id, outcome.error or "failed",
                                                 new_episode=outcome.episode_id is not None)
        else:
            results[outcome.source] = ItemResult(ENTRY_PROCESSED, outcome.episode_id, new_episode=True)
    return results


def queue_items(db: Database, settings: Settings, client_slug: str, sources: list[Source]) -> dict[str, ItemResult]:
    """The PostgreSQL job queue, as ``castmill process --queue`` uses it: workers download and process."""
    from pipeline.batch import TranscribeJob
    from pipeline.jobs.enqueue import enqueue_sources

    report = enqueue_sources(db, settings, client_slug, sources, job=TranscribeJob.from_settings(settings.transcribe))
    return {queued.source: ItemResult(ENTRY_FAILED, error=queued.error) if queued.error else
            ItemResult(ENTRY_QUEUED, new_episode=True) for queued in report.sources}


def _episode_ids(db: Database, client_slug: str, uris: list[str]) -> set[int]:
    """The client's episodes before this processing, but those the entries themselves made on an earlier try."""
    with db.session() as session:
        client_id = session.scalar(select(Client.id).where(Client.slug == client_slug))
        own = set(session.scalars(select(FeedEntry.episode_id).where(FeedEntry.client_id == client_id,
                                                                     FeedEntry.enclosure_url.in_(uris),
                                                                     FeedEntry.episode_id.is_not(None))))
        return set(session.scalars(select(Episode.id).where(Episode.client_id == client_id))) - own


# --- recording the poll ----------------------------------------------------------------------------------

def _record_success(db: Database, feed: _Feed, now: datetime, options: WatchOptions, fetched: FeedFetch,
                    plan: _Plan, picked: list[PickedUp]) -> PollReport:
    result = _result_line(fetched, plan, picked)
    next_poll = now + options.interval
    with db.session() as session:
        row = session.get(FeedSubscription, feed.id)
        if not plan.waiting:  # entries wait for the next poll: it must read the feed whole, not get a 304
            row.etag, row.last_modified = fetched.etag, fetched.last_modified
        else:
            row.etag = row.last_modified = ""
        row.last_poll_at = row.last_success_at = now
        row.last_result, row.last_error, row.failures, row.next_poll_at = result, "", 0, next_poll
        row.polling_since = None
    log.info("feed %d (%s, %s): %s", feed.id, feed.client, _host(feed.url), result)
    return PollReport(feed.id, feed.client, feed.url, result, next_poll, picked_up=picked, old=plan.old,
                      waiting=plan.waiting)


def _record_failure(db: Database, feed: _Feed, now: datetime, options: WatchOptions, reason: str) -> PollReport:
    with db.session() as session:
        row = session.get(FeedSubscription, feed.id)
        row.failures += 1
        next_poll = now + options.backoff(row.failures)
        row.last_poll_at, row.last_result, row.last_error, row.next_poll_at = now, "failed", reason, next_poll
        row.polling_since = None
        failures = row.failures
    log.warning("feed %d (%s, %s): %s (failure %d; next try %s)", feed.id, feed.client, _host(feed.url), reason,
                failures, f"{next_poll:%Y-%m-%d %H:%M} UTC")
    return PollReport(feed.id, feed.client, feed.url, "failed", next_poll, error=reason, failures=failures)


def _result_line(fetched: FeedFetch, plan: _Plan, picked: list[PickedUp]) -> str:
    if fetched.not_modified:
        return "not modified"
    counts = Counter(p.status for p in picked)
    parts = [f"{n} {status}" for status, n in sorted(counts.items())]
    if plan.waiting:
        parts.append(f"{plan.waiting} waiting for the next poll")
    if plan.old:
        parts.append(f"{plan.old} older than the subscription, left alone")
    return ", ".join(parts) or "nothing new"


def _host(url: str) -> str:
    """Only the host in logs: a private feed's address carries its token."""
    return urlsplit(url).hostname or "?"
