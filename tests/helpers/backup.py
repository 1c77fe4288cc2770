"""A home worth backing up, and the comparisons a restore is judged by.

``seed_home`` fills a home the way use would: clients with profiles and users, episodes whose media are
files under the home (feed downloads and dashboard uploads), highlights, drafts from the real generator,
rendered clip files, a client's own templates, scheduled posts in every state with their attempts and
outbox files, castmill.toml and secret.key; plus model weights and a cache that must stay out of a backup.
Media are random bytes (as incompressible as MP3 and MP4) of the sizes asked for.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import MetaData, create_engine, select, update

from pipeline.core.settings import Settings
from pipeline.store.db import Database
from pipeline.store.models import Client, Clip, Draft, DraftVersion, Episode, Highlight, PublishAttempt, ScheduledPost
from tests.dashboard.seed import seed_client

POST_STATES = ("published", "failed", "cancelled", "missed", "unknown", "publishing", "scheduled-due",
               "scheduled-future")
EXCLUDED = ("models", "cache", "backups")  # never in a backup (backups: the default --to inside the home)


@dataclass
class SeededHome:
    home: Path
    episodes: list[int] = field(default_factory=list)
    drafts: list[int] = field(default_factory=list)
    posts: dict[str, list[int]] = field(default_factory=dict)  # state -> post ids
    clip_files: list[Path] = field(default_factory=list)


def random_file(path: Path, size: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as out:
        left = size
        while left > 0:
            out.write(os.urandom(min(left, 1024 * 1024)))
            left -= min(left, 1024 * 1024)
    return path


def seed_home(settings: Settings, db: Database, *, clients: tuple[str, ...] = ("acme", "globex"), episodes: int = 2,
              highlights: int = 2, media_bytes: int = 40_000, clip_bytes: int = 12_000, posts_per_state: int = 1,
              now: datetime | None = None) -> SeededHome:
    now = now or datetime.now(timezone.utc)
    home = settings.home
    seeded = SeededHome(home)
    home.mkdir(parents=True, exist_ok=True)
    (home / "castmill.toml").write_text("[highlights]\ntop = 6\n")
    from pipeline.access.auth import secret_key

    secret_key(home)  # secret.key, made as the dashboard makes it
    random_file(home / "models" / "faster-whisper-tiny.en" / "model.bin", 5_000)
    random_file(home / "cache" / "media" / "bucket" / "cached.mp3", 5_000)
    for n, slug in enumerate(clients):
        made = seed_client(db, slug, episodes=episodes, highlights=highlights)
        seeded.episodes += made.episode_ids
        seeded.drafts += made.draft_ids
        _files_of(db, home, slug, made.episode_ids, media_bytes, clip_bytes, seeded, upload=n == 0)
    _posts(db, home, seeded, posts_per_state, now)
    return seeded


def _files_of(db: Database, home: Path, slug: str, episode_ids, media_bytes: int, clip_bytes: int,
              seeded: SeededHome, *, upload: bool) -> None:
    templates = home / "templates" / slug
    (templates / "posts").mkdir(parents=True, exist_ok=True)
    (templates / "posts" / "x.j2").write_text("{{ highlight.quote }} #{{ client.slug }}\n")
    with db.session() as session:
        session.execute(update(Client).where(Client.slug == slug).values(templates_dir=str(templates)))
        for n, episode_id in enumerate(episode_ids):
            episode = session.get(Episode, episode_id)
            folder = "uploads" if upload and n == 0 else f"media/{slug}/downloads"
            media = random_file(home / folder / slug / f"{episode.sha256[:12]}.mp3" if folder == "uploads"
                                else home / folder / f"{episode.sha256[:12]}.mp3", media_bytes)
            episode.media_path = episode.source_uri = str(media)
            for highlight in session.scalars(select(Highlight).where(Highlight.episode_id == episode_id)):
                seeded.clip_files.append(_clip(session, home, slug, episode, highlight, clip_bytes))


def _clip(session, home: Path, slug: str, episode: Episode, highlight: Highlight, size: int) -> Path:
    path = random_file(home / "clips" / slug / f"episode-{episode.id}" / f"{highlight.key}-9x16.mp4", size)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    session.add(Clip(episode_id=episode.id, highlight_id=highlight.id, highlight_key=highlight.key, kind="audiogram",
                     aspect="9:16", format="mp4", engine="ffmpeg", path=str(path), sha256=digest, input_key="seed",
                     probe={"duration": 30.0, "stored": str(path)}))
    for draft in session.scalars(select(Draft).where(Draft.episode_id == episode.id,
                                                     Draft.highlight_key == highlight.key)):
        version = session.scalar(select(DraftVersion).where(DraftVersion.draft_id == draft.id))
        version.media = [{"kind": "video", "path": str(path), "stored": str(path), "alt": highlight.quote}]
    return path


def _posts(db: Database, home: Path, seeded: SeededHome, per_state: int, now: datetime) -> None:
    """Posts on the outbox (no account), ``per_state`` in each of POST_STATES, on drafts made approved."""
    with db.session() as session:
        drafts = list(session.scalars(select(Draft).where(Draft.id.in_(seeded.drafts)).order_by(Draft.id)))
        for n, draft in enumerate(drafts[:per_state * len(POST_STATES)]):
            state = POST_STATES[n % len(POST_STATES)]
            draft.status = "approved"
            version = session.scalar(select(DraftVersion).where(DraftVersion.draft_id == draft.id))
            post = _post(session, draft, version, state, now)
            seeded.posts.setdefault(state, []).append(post.id)
            if state == "published":
                _outbox_file(home, session.get(Client, draft.client_id).slug, post)


def _post(session, draft: Draft, version: DraftVersion, state: str, now: datetime) -> ScheduledPost:
    due = now + timedelta(days=1) if state == "scheduled-future" else now - timedelta(minutes=30)
    status = state.split("-")[0]
    post = ScheduledPost(client_id=draft.client_id, draft_id=draft.id, version_id=version.id, platform="outbox",
                         due_at=due, status=status, idempotency_key=f"seed-{uuid.uuid4().hex}", late_minutes=24 * 60,
                         attempts=0 if status == "scheduled" else 1, worker="" if status == "scheduled" else "old:1")
    if status == "publishing":
        post.lease_until = now + timedelta(minutes=5)
    if status == "unknown":
        post.lease_until, post.error = now + timedelta(minutes=5), "no answer from the platform"
    session.add(post)
    session.flush()
    outcome = {"published": "published", "failed": "failed", "publishing": "started", "unknown": "unknown"}.get(status)
    if outcome:
        session.add(PublishAttempt(post_id=post.id, worker="old:1", started_at=due, outcome=outcome,
                                   finished_at=None if outcome == "started" else due))
    if status == "published":
        post.published_at, post.remote_id = due, post.idempotency_key
    return post


def _outbox_file(home: Path, slug: str, post: ScheduledPost) -> None:
    target = home / "outbox" / slug / f"{post.idempotency_key}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"format": 1, "idempotency_key": post.idempotency_key, "parts": ["seeded"]}))
    post.remote_url = target.as_uri()


# --- what a restore is judged by ----------------------------------------------------------------------------

def table_rows(url: str) -> dict[str, list[dict]]:
    """Every row of every table, ordered by primary key (JSON decoded, datetimes as the driver gives them)."""
    engine = create_engine(url)
    try:
        meta = MetaData()
        meta.reflect(engine)
        with engine.connect() as connection:
            return {name: [dict(row) for row in connection.execute(
                        select(table).order_by(*(table.primary_key.columns or table.columns))).mappings()]
                    for name, table in meta.tables.items()}
    finally:
        engine.dispose()


def moved(value, old: str, new: str):
    """``value`` with every occurrence of the home ``old`` replaced by ``new`` (for expected rows)."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [moved(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: moved(v, old, new) for k, v in value.items()}
    return value


def home_checksums(home: Path, database_names=("castmill.db", "castmill.db-wal", "castmill.db-shm")) -> dict[str, str]:
    """sha256 of every file a backup should carry, by path relative to the home."""
    sums = {}
    for path in sorted(Path(home).rglob("*")):
        relative = path.relative_to(home)
        if path.is_file() and relative.parts[0] not in EXCLUDED and relative.name not in database_names:
            sums[relative.as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return sums
