"""Two clients with everything a client can have, made through the library where it has a call for it.

Each client's text carries its own marker (ACMEMARK, BUDIMARK), so a test can look for one client's data
anywhere: in a zip, in every row of the database. Media is kept in a shared media folder (``[storage]
media_url`` a folder, so that clips and episodes have ``stored`` copies), and in the places the other
code writes it: uploads, rendered clips, outbox files, feed covers, the client's templates folder.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline import review
from pipeline.access import auth
from pipeline.calendar import schedule
from pipeline.clips.cover import feed_cover_path
from pipeline.core.settings import Settings, load_settings
from pipeline.highlights.feedback import add_feedback
from pipeline.media.storage import clip_key, episode_key, open_storage
from pipeline.profiles.edit import import_profile
from pipeline.core.settings import NotifySettings
from pipeline.publish.credentials import add_account
from pipeline.publish.evergreen import mark as mark_evergreen
from pipeline.publish.notices import NoticeService
from pipeline.publish.preferences import set_preferences
from pipeline.publish.publishers.outbox import file_stem
from pipeline.store.clients import build_profile
from pipeline.store.db import Database
from pipeline.store.models import (Clip, Draft, DraftVersion, Episode, EpisodeStage, FeedEntry, FeedSubscription,
                                   EvergreenRepost, Highlight, Metric, PublishAttempt, SlotProposal, Transcript)
from tests.review.conftest import cheap_hashing  # noqa: F401  (fixture: cheap argon2 for every sign-in)

PASSWORD = "correct horse battery"
T0 = datetime(2026, 12, 10, 9, 0, tzinfo=timezone.utc)
MARKS = {"acme": "ACMEMARK", "budi": "BUDIMARK"}


@dataclass
class Seeded:
    slug: str
    mark: str
    client_id: int
    episode_ids: list[int]
    draft_ids: list[int]
    post_ids: list[int]
    user_email: str
    user: auth.Identity
    review_token: str
    secrets: list[str]  # tokens and passwords that must never leave the database
    files: list[Path]  # every local file of the client Castmill wrote (all must go on erasure)
    stored: list[str]  # refs of its copies in the media storage (the shared folder, or the bucket)
    original: Path  # an episode's original file outside the home (the default storage leaves it there)
    clip_bytes: dict[str, bytes] = field(default_factory=dict)  # clip file name -> its bytes


@dataclass
class World:
    db: Database
    settings: Settings
    home: Path
    media_url: str  # [storage] media_url: a shared folder, or s3://<bucket>/media
    admin: auth.Identity
    va: auth.Identity
    acme: Seeded
    budi: Seeded


@pytest.fixture
def world(request, castmill_home, tmp_path, monkeypatch) -> World:
    """Two seeded clients in SQLite with media in a shared folder; with the ``indirect`` parameter "s3" the media
    is in a bucket on moto's server, with "postgres" the database is a private PostgreSQL server's."""
    variant = getattr(request, "param", "folder")
    if variant == "s3":
        bucket = request.getfixturevalue("s3")
        media_url = f"s3://{bucket.name}/media"
        monkeypatch.setenv("CASTMILL_S3_ENDPOINT_URL", bucket.endpoint)
    else:
        media_url = str(tmp_path / "shared-media")
    if variant == "postgres":
        monkeypatch.setenv("CASTMILL_DATABASE_URL", request.getfixturevalue("postgres_url"))
    monkeypatch.setenv("CASTMILL_MEDIA_URL", media_url)
    monkeypatch.setenv("CASTMILL_SECRET_KEY", "a-test-secret-key-for-tokens-and-links")
    settings = load_settings(castmill_home)
    assert open_storage(settings).keeps_copies
    db = Database(settings.database_url)
    with db.session() as session:
        auth.add_user(session, "admin@castmill.test", PASSWORD, "admin")
        auth.add_user(session, "va@castmill.test", PASSWORD, "va", display_name="Vera")
    admin, va = _sign_in(db, "admin@castmill.test"), _sign_in(db, "va@castmill.test")
    acme = seed_client(db, settings, tmp_path, "acme", admin, va)
    budi = seed_client(db, settings, tmp_path, "budi", admin, va)
    yield World(db, settings, castmill_home, media_url, admin, va, acme, budi)
    db.dispose()


def _sign_in(db: Database, email: str) -> auth.Identity:
    with db.session() as session:
        return auth.login(session, email, PASSWORD)


def write_file(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def seed_client(db: Database, settings: Settings, tmp_path: Path, slug: str, admin, va) -> Seeded:
    mark, home, storage = MARKS[slug], settings.home, open_storage(settings)
    files: list[Path] = []
    stored_refs: list[str] = []
    secrets = [f"tok-{mark}", f"sec-{mark}", f"pw-{mark}", f"qs-{mark}", f"fd-{mark}"]
    with db.session() as session:
        client, _ = import_profile(session, admin, build_profile(
            slug=slug, name=f"{mark} Show", timezone="Asia/Jakarta", brand_voice=f"warm, like {mark}",
            platforms=["x", "linkedin"], hashtags=["podcast"]))
        templates = home / "templates" / slug
        files.append(write_file(templates / "posts" / "x.j2", f"{{{{ quote }}}} from {mark}".encode()))
        client.templates_dir = str(templates)
        client_id = client.id
        auth.add_user(session, f"owner@{slug}.test", PASSWORD, "client", client_slug=slug)

        # Two episodes: one stored in the shared media folder, one whose original stays outside the home.
        upload = write_file(home / "uploads" / slug / "episode-1.mp3", f"{mark} audio one".encode())
        files.append(upload)
        digest = hashlib.sha256(upload.read_bytes()).hexdigest()
        stored_media = storage.put(upload, episode_key(slug, digest, ".mp3"))
        stored_refs.append(stored_media)
        original = write_file(tmp_path / "originals" / f"{slug}-episode-2.mp3", f"{mark} audio two".encode())
        image = f"https://images.test/{slug}.png"
        files.append(write_file(feed_cover_path(settings, image), f"{mark} cover".encode()))
        episodes = []
        for n, (media, sha) in enumerate([(stored_media, digest),
                                          (str(original), hashlib.sha256(original.read_bytes()).hexdigest())], 1):
            episode = Episode(client_id=client_id, source_uri=f"https://feed.test/{slug}/{n}.mp3", media_path=media,
                              sha256=sha, title=f"{mark} episode {n}", duration=600.0,
                              feed_meta={"image": image, "link": f"https://{slug}.test/{n}", "guest": f"guest {mark}"},
                              speaker_names={"S1": f"Host {mark}"})
            session.add(episode)
            session.flush()
            session.add(EpisodeStage(episode_id=episode.id, stage="ingest", status="done", input_key=sha))
            session.add(Transcript(episode_id=episode.id, engine="faster-whisper", model="base", language="en",
                                   duration=600.0, input_key="k", segments=[{
                                       "start": 0.0, "end": 2.0, "text": f"hello {mark}", "speaker": "S1",
                                       "language": "en",
                                       "words": [{"word": "hello", "start": 0.0, "end": 0.5, "speaker": "S1"},
                                                 {"word": mark, "start": 0.6, "end": 1.2, "speaker": "S1"}]}]))
            highlight = Highlight(episode_id=episode.id, rank=1, start=12.0, end=41.5, score=0.9,
                                  features={"hook": 0.5}, reasons=[f"a clear claim about {mark}"],
                                  text=f"we talk about {mark}", quote=f"quote {mark}", title=f"title {mark}",
                                  input_key="k")
            session.add(highlight)
            session.flush()
            add_feedback(session, highlight.id, "good", author="va@castmill.test", note=f"good one, {mark}")
            episodes.append((episode, highlight))

        # A watched private feed (its token in the URL) and the entry that became episode 1.
        feed = FeedSubscription(client_id=client_id, url=f"https://feed.test/{slug}/private.xml?auth=fd-{mark}",
                                title=f"{mark} Show feed", added_by="admin@castmill.test")
        session.add(feed)
        session.flush()
        session.add(FeedEntry(subscription_id=feed.id, client_id=client_id, guid=f"guid-{mark}-1",
                              enclosure_url=f"https://feed.test/{slug}/1.mp3", title=f"{mark} episode 1",
                              status="processed", episode_id=episodes[0][0].id, notified_via="log"))

        # Clips of episode 1: one on this machine and stored, one only in the shared folder (rendered elsewhere).
        episode, highlight = episodes[0]
        clip_bytes = {}
        clip_paths = []
        for n, kind in enumerate(("video", "audio"), 1):
            name = f"clip-{n}.{'mp4' if kind == 'video' else 'mp3'}"
            data = f"{mark} {kind} clip bytes".encode() * 50
            path = write_file(home / "clips" / slug / f"episode-{episode.id}" / name, data)
            stored = storage.put(path, clip_key(slug, episode.id, name))
            files.append(path)
            stored_refs.append(stored)
            session.add(Clip(episode_id=episode.id, highlight_id=highlight.id, highlight_key=highlight.key, kind=kind,
                             aspect="9:16" if kind == "video" else "", format=path.suffix[1:], path=str(path),
                             sha256=hashlib.sha256(data).hexdigest(), input_key="k", probe={"stored": stored}))
            clip_bytes[name] = data
            clip_paths.append(path)
        clip_paths[1].unlink()  # the second clip is only in the shared media folder now
        files.remove(clip_paths[1])

        add_account(session, slug, "webhook", base_url=f"https://hook:pw-{mark}@hooks.test/{slug}?token=qs-{mark}",
                    token=f"tok-{mark}", extra={"secret": f"sec-{mark}", "lookup_url": f"https://hooks.test/{slug}"})
        drafts = []
        for n, (episode, highlight) in enumerate(episodes, 1):
            draft = Draft(client_id=client_id, episode_id=episode.id, highlight_id=highlight.id,
                          highlight_key=highlight.key, platform="x", language="en", status="draft")
            draft.versions.append(DraftVersion(number=1, parts=[f"Post {n} about {mark}"], hashtags=["#podcast"],
                                               media=[{"kind": "video", "path": str(clip_paths[0])}] if n == 1 else [],
                                               author="castmill", source="template posts/x.j2 sha256:abc"))
            session.add(draft)
            session.flush()
            drafts.append(draft.id)
        extra = Draft(client_id=client_id, episode_id=episodes[0][0].id, highlight_key="episode", platform="linkedin",
                      language="en", status="draft")
        extra.versions.append(DraftVersion(number=1, parts=[f"The episode post of {mark}"], author="castmill",
                                           source="template posts/linkedin.j2 sha256:abc"))
        session.add(extra)
        session.flush()
        drafts.append(extra.id)

    user = _sign_in(db, f"owner@{slug}.test")
    with db.session() as session:
        try:
            auth.login(session, f"owner@{slug}.test", "a wrong password")
        except auth.AuthFailed:
            pass
    post_ids = []
    with db.session() as session:
        review.comment(session, user, drafts[0], f"Love it, {mark}")
        review.approve(session, va, drafts[0], version=1)
        review.approve(session, user, drafts[0], version=1)
        review.approve(session, va, drafts[2], version=1)
        review.approve(session, user, drafts[2], version=1)
        review.edit(session, va, drafts[1], [f"Edited post about {mark}"], base_version=1)
        review.request_changes(session, user, drafts[1], f"Shorter please, {mark}")
        published = schedule(session, admin, drafts[0], at=T0, now=T0 - timedelta(days=1))
        waiting = schedule(session, admin, drafts[2], at=T0 + timedelta(days=1), now=T0 - timedelta(days=1))
        published.status, published.remote_url = "published", f"https://x.test/{slug}/1"
        published.published_at = T0
        session.add(PublishAttempt(post_id=published.id, worker="w1", outcome="published",
                                   remote_url=published.remote_url, finished_at=T0))
        session.add(Metric(post_id=published.id, likes=3, reposts=1, replies=0, views=40))
        session.add(SlotProposal(client_id=client_id, platform="x", status="proposed",
                                 slots=[{"platform": "x", "days": ["tue"], "time": "09:00"}], current_slots=[],
                                 evidence={"posts": 40, "note": f"proposal of {mark}"}))
        evergreen = mark_evergreen(session, admin, published.id)  # a copy of it is the waiting post
        session.add(EvergreenRepost(client_id=client_id, evergreen_id=evergreen.id, number=1, draft_id=drafts[2],
                                    post_id=waiting.id))
        post_ids = [published.id, waiting.id]
        outbox = home / "outbox" / slug / file_stem(published.idempotency_key)
        files.append(write_file(outbox.with_suffix(".json"), f'{{"text": "{mark}"}}'.encode()))
        files.append(write_file(outbox.with_suffix(".media") / "1.mp4", b"clip"))
        token = auth.make_review_link_token(session, slug, 48, home=home, actor="admin@castmill.test")
        set_preferences(session, admin, f"owner@{slug}.test", cadence="daily")
    # The VA hears of the client's request for changes: a notification in the outbox (queued, not sent).
    NoticeService(db.session, email=NotifySettings(smtp_host="127.0.0.1"), home=home).queue(now=T0)
    return Seeded(slug, mark, client_id, [e.id for e, _h in episodes], drafts, post_ids, f"owner@{slug}.test", user,
                  token, secrets, files, stored_refs, original, clip_bytes)
