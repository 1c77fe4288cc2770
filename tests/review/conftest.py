"""Fixtures for review/auth tests: two clients with episodes, drafts and users, built row by row."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from pipeline.access import auth
from pipeline.store.db import Database
from pipeline.store.models import Client, Draft, DraftVersion, Episode, Highlight

PASSWORD = "correct horse battery"
_PRODUCTION_HASHER = auth._hasher  # taken before any test swaps it for a cheap one
_sha = itertools.count(1)


@dataclass
class World:
    db: Database
    acme: int  # client ids: acme has two approval stages, budi one
    budi: int
    acme_episode: int
    budi_episode: int
    acme_highlight: int
    va: auth.Identity
    admin: auth.Identity
    acme_user: auth.Identity
    budi_user: auth.Identity


def add_client(session, slug: str, *, stages: int = 2, timezone: str = "UTC") -> Client:
    client = Client(slug=slug, name=slug.title(), timezone=timezone, approval_stages=stages)
    session.add(client)
    session.flush()
    return client


def add_episode(session, client_id: int, title: str = "Pricing with Budi") -> Episode:
    n = next(_sha)
    episode = Episode(client_id=client_id, source_uri=f"/ep{n}.mp3", media_path=f"/ep{n}.mp3", sha256=f"{n:064x}",
                      title=title)
    session.add(episode)
    session.flush()
    return episode


def add_highlight(session, episode_id: int, start: float = 12.0, end: float = 41.5) -> Highlight:
    highlight = Highlight(episode_id=episode_id, rank=1, start=start, end=end, score=0.9, features={},
                          reasons=["a clear claim", "laughter"], text="we doubled the price", quote="doubled",
                          title="Double your price", input_key="k")
    session.add(highlight)
    session.flush()
    return highlight


def add_draft(db: Database, client_id: int, episode_id: int, *, platform: str = "x", parts=("Hello listeners",),
              media=(), hashtags=("#podcast",), highlight_id: int | None = None, key: str | None = None) -> int:
    """A draft with one generated version, like the drafts stage makes it."""
    with db.session() as session:
        n = next(_sha)
        draft = Draft(client_id=client_id, episode_id=episode_id, highlight_id=highlight_id,
                      highlight_key=key or f"{n}.00-{n + 30}.00", platform=platform, language="en", status="draft")
        draft.versions.append(DraftVersion(number=1, parts=list(parts), hashtags=list(hashtags), media=list(media),
                                           author="castmill", source="template posts/x.j2 sha256:abc"))
        session.add(draft)
        session.flush()
        return draft.id


def add_generated_version(db: Database, draft_id: int, parts) -> int:
    """A regeneration by the drafts stage: a new version, status untouched."""
    with db.session() as session:
        draft = session.get(Draft, draft_id)
        number = draft.latest.number + 1
        draft.versions.append(DraftVersion(number=number, parts=list(parts), hashtags=[], media=[],
                                           author="castmill", source="template posts/x.j2 sha256:def"))
        return number


def sign_in(db: Database, email: str, password: str = PASSWORD, **kwargs) -> auth.Identity:
    with db.session() as session:
        return auth.login(session, email, password, **kwargs)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch):
    """Argon2id with tiny costs: the real parameters take ~0.4 s a hash here, and every fixture signs in."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
    monkeypatch.setattr(auth, "_dummy_hash", None)


@pytest.fixture
def production_hasher():
    """The hasher auth.py uses in production (the autouse fixture swaps it during tests)."""
    return _PRODUCTION_HASHER


@pytest.fixture
def world(fresh_db) -> World:
    with fresh_db.session() as session:
        acme, budi = add_client(session, "acme"), add_client(session, "budi", stages=1, timezone="Asia/Jakarta")
        acme_episode, budi_episode = add_episode(session, acme.id), add_episode(session, budi.id, "Episode baru")
        highlight = add_highlight(session, acme_episode.id)
        auth.add_user(session, "va@castmill.test", PASSWORD, "va", display_name="Vera")
        auth.add_user(session, "admin@castmill.test", PASSWORD, "admin")
        auth.add_user(session, "ceo@acme.test", PASSWORD, "client", client_slug="acme", timezone="America/New_York")
        auth.add_user(session, "budi@budi.test", PASSWORD, "client", client_slug="budi")
        ids = (acme.id, budi.id, acme_episode.id, budi_episode.id, highlight.id)
    return World(fresh_db, *ids, va=sign_in(fresh_db, "va@castmill.test"),
                 admin=sign_in(fresh_db, "admin@castmill.test"), acme_user=sign_in(fresh_db, "ceo@acme.test"),
                 budi_user=sign_in(fresh_db, "budi@budi.test"))
