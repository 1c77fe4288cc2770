"""Seed data for dashboard tests, the browser test and the render benchmark, made with library calls.

Clients through ``upsert_client``, users through ``auth.add_user``, drafts through the drafts
stage (``generate_drafts``) from episode and highlight rows (the rows transcription and mining
would have written: no media or model is needed to review drafts).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from pipeline.access import auth
from pipeline.store.clients import build_profile, upsert_client
from pipeline.store.db import Database
from pipeline.drafts.generate import generate_drafts
from pipeline.store.models import Episode, Highlight

PASSWORD = "correct horse battery"
PLATFORMS = ("x", "linkedin", "bluesky", "mastodon", "threads")


@dataclass(frozen=True)
class SeededClient:
    slug: str
    client_id: int
    episode_ids: tuple[int, ...]
    draft_ids: tuple[int, ...]
    user_email: str


def add_client(session, slug: str, *, stages: int = 2, timezone: str = "UTC", platforms=PLATFORMS):
    client, _ = upsert_client(session, build_profile(slug=slug, name=f"{slug.title()} Show", timezone=timezone,
                                                     platforms=list(platforms), hashtags=["podcast"],
                                                     approval_stages=stages))
    return client


def add_episode(session, client, title: str, highlights: int) -> Episode:
    digest = hashlib.sha256(f"{client.slug}/{title}".encode()).hexdigest()
    episode = Episode(client=client, source_uri=f"/media/{client.slug}/{digest[:8]}.mp3",
                      media_path=f"/media/{client.slug}/{digest[:8]}.mp3", sha256=digest, title=title,
                      duration=1800.0)
    session.add(episode)
    session.flush()
    for rank in range(1, highlights + 1):
        start = 60.0 * rank
        session.add(Highlight(episode_id=episode.id, rank=rank, start=start, end=start + 30.0, score=1.0 / rank,
                              features={}, reasons=[f"reason {rank}: a clear claim", "the host laughs"],
                              text=f"moment {rank} of {title}", quote=f"Quote {rank} from {title}",
                              title=f"Moment {rank}", input_key="seed"))
    session.flush()
    session.refresh(episode)
    return episode


def add_drafts(session, episode: Episode) -> list[int]:
    return [outcome.draft_id for outcome in generate_drafts(session, episode.id)]


def add_user(session, email: str, role: str, client_slug: str | None = None, timezone: str = "UTC") -> None:
    auth.add_user(session, email, PASSWORD, role, client_slug=client_slug, timezone=timezone)


def seed_client(db: Database, slug: str, *, stages: int = 2, timezone: str = "UTC", episodes: int = 1,
                highlights: int = 1, platforms=PLATFORMS, with_user: bool = True) -> SeededClient:
    """A client with ``episodes`` episodes of ``highlights`` highlights each, drafts on every platform."""
    with db.session() as session:
        client = add_client(session, slug, stages=stages, timezone=timezone, platforms=platforms)
        episode_ids, draft_ids = [], []
        for n in range(1, episodes + 1):
            episode = add_episode(session, client, f"{slug.title()} episode {n}", highlights)
            episode_ids.append(episode.id)
            draft_ids += add_drafts(session, episode)
        email = f"owner@{slug}.test"
        if with_user:
            add_user(session, email, "client", slug)
        return SeededClient(slug, client.id, tuple(episode_ids), tuple(draft_ids), email)


def add_staff(db: Database) -> None:
    with db.session() as session:
        add_user(session, "va@castmill.test", "va", timezone="Asia/Jakarta")
        add_user(session, "admin@castmill.test", "admin")


def sign_in(db: Database, email: str, password: str = PASSWORD) -> auth.Identity:
    with db.session() as session:
        return auth.login(session, email, password)
