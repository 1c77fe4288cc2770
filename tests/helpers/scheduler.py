"""Rows and publishers for scheduler tests: posts are created directly (client, episode, draft, version)."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlalchemy import select

from pipeline.store.models import (Account, Client, Draft, DraftVersion, Episode, PublishAttempt, ScheduledPost)
from pipeline.publish.publishers import Engagement, Post, Published, Publisher
from pipeline.publish.publishers import Account as PublisherAccount

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def make_client(db, slug: str = "acme", tz: str = "UTC") -> int:
    with db.session() as session:
        existing = session.scalar(select(Client).where(Client.slug == slug))
        if existing:
            return existing.id
        client = Client(slug=slug, name=slug.title(), timezone=tz)
        session.add(client)
        session.flush()
        return client.id


def make_posts(db, count: int, *, due_at: datetime = T0, slug: str = "acme", platform: str = "outbox",
               late_minutes: int = 60, account_id: int | None = None, spacing: timedelta = timedelta(0),
               key_prefix: str = "", media: list | None = None) -> list[int]:
    """``count`` scheduled posts (one draft and approved version each) due from ``due_at`` on."""
    client_id = make_client(db, slug)
    ids = []
    with db.session() as session:
        unique = uuid.uuid4().hex
        episode = Episode(client_id=client_id, source_uri=f"/nowhere/{unique}.mp3", media_path="/nowhere/ep.mp3",
                          sha256=unique.ljust(64, "0"), title="Episode one",
                          feed_meta={"link": "https://example.com/ep1"})
        session.add(episode)
        session.flush()
        for n in range(count):
            draft = Draft(client_id=client_id, episode_id=episode.id, highlight_key=f"{n}.0-{n + 30}.0",
                          platform=platform, language="en", status="approved")
            session.add(draft)
            session.flush()
            version = DraftVersion(draft_id=draft.id, number=1, parts=[f"Post number {n} #podcast"],
                                   media=list(media or []), author="va@example.com", source="edit")
            session.add(version)
            session.flush()
            post = ScheduledPost(client_id=client_id, draft_id=draft.id, version_id=version.id,
                                 account_id=account_id, platform=platform, due_at=due_at + n * spacing,
                                 late_minutes=late_minutes,
                                 idempotency_key=f"{key_prefix}{slug}-{platform}-{draft.id}-{n}")
            session.add(post)
            session.flush()
            ids.append(post.id)
    return ids


def make_account(db, platform: str, base_url: str, *, slug: str = "acme", token_env: str = "") -> int:
    client_id = make_client(db, slug)
    with db.session() as session:
        account = Account(client_id=client_id, platform=platform, base_url=base_url, token_env=token_env)
        session.add(account)
        session.flush()
        return account.id


def post_row(db, post_id: int) -> ScheduledPost:
    with db.session() as session:
        return session.get(ScheduledPost, post_id)


def statuses(db) -> Counter:
    with db.session() as session:
        return Counter(session.scalars(select(ScheduledPost.status)))


def attempts_of(db, post_id: int) -> list[str]:
    with db.session() as session:
        return list(session.scalars(select(PublishAttempt.outcome).where(PublishAttempt.post_id == post_id)
                                    .order_by(PublishAttempt.id)))


class ScriptedPublisher(Publisher):
    """An in-process platform. ``script[key]`` is a list of exceptions to raise on successive publish
    calls (then success). ``lookups`` likewise scripts find_existing. Shared state lives on ``world``."""

    name = "scripted"

    def __init__(self, world: "World"):
        super().__init__(PublisherAccount(platform="scripted", base_url="mem://", token=world.token))
        self.world = world

    def publish(self, post: Post) -> Published:
        with self.world.lock:
            self.world.calls[post.idempotency_key] += 1
            if self.world.during_publish:
                self.world.during_publish(post)
            planned = self.world.script.get(post.idempotency_key) or []
            effect = planned.pop(0) if planned else None
            if effect == "accept-then-unknown":  # the platform took it, but the answer never came
                self.world.posted[post.idempotency_key] += 1
                from pipeline.publish.publishers import OutcomeUnknown

                raise OutcomeUnknown("scripted: no answer after sending")
            if isinstance(effect, BaseException):
                raise effect
            self.world.posted[post.idempotency_key] += 1
            return Published(remote_id=f"r-{post.idempotency_key}", url=f"https://social.test/{post.idempotency_key}")

    def find_existing(self, post: Post) -> Published | None:
        with self.world.lock:
            self.world.lookups_made[post.idempotency_key] += 1
            planned = self.world.lookups.get(post.idempotency_key) or []
            effect = planned.pop(0) if planned else None
            if isinstance(effect, BaseException):
                raise effect
            if self.world.posted[post.idempotency_key]:
                return Published(remote_id=f"r-{post.idempotency_key}",
                                 url=f"https://social.test/{post.idempotency_key}")
            return None

    def fetch_engagement(self, remote_id: str) -> Engagement | None:
        effect = self.world.engagement.get(remote_id)
        if isinstance(effect, BaseException):
            raise effect
        return effect


class World:
    """The scripted platform's state, shared by every ScriptedPublisher made for a test."""

    def __init__(self, token: str = "sekrit-token-123"):
        self.token = token
        self.lock = threading.RLock()
        self.calls: Counter = Counter()  # publish() calls per idempotency key
        self.posted: Counter = Counter()  # posts that exist on the "platform"
        self.lookups_made: Counter = Counter()
        self.script: dict[str, list] = {}
        self.lookups: dict[str, list] = {}
        self.engagement: dict[str, object] = {}
        self.during_publish = None

    def factory(self):
        return lambda session, row: ScriptedPublisher(self)
