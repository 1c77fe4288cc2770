"""Ingest: files, folders and feeds become Episode rows, deduplicated per client.

``resolve_inputs`` turns what the VA typed into sources (local files or feed
items) without touching the database; the runner then fetches, hashes and
probes each source into an Episode row.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.core.settings import Settings
from pipeline.media.download import download, sha256_file
from pipeline.core.errors import CastmillError, IngestError
from pipeline.ingest.feeds import MEDIA_TYPE_PREFIXES, FeedItem, latest_items
from pipeline.core.vocab import MEDIA_EXTENSIONS
from pipeline.media.probe import MediaInfo
from pipeline.media.storage import MediaStorage, episode_key
from pipeline.store.models import Client, Episode

# Servers often label enclosures generically; the probe decides after download.
ENCLOSURE_TYPES = MEDIA_TYPE_PREFIXES + ("application/octet-stream", "binary/octet-stream", "application/ogg")


@dataclass(frozen=True)
class Source:
    """One thing to ingest: a local media file, or an enclosure to download."""

    uri: str
    local_path: Path | None = None
    feed_item: FeedItem | None = None
    # The title it was given where it was found: a queue worker reads the file from a copy named by its hash.
    given_title: str = ""

    @property
    def title(self) -> str:
        if self.given_title:
            return self.given_title
        if self.feed_item:
            return self.feed_item.title
        return self.local_path.stem.replace("_", " ") if self.local_path else self.uri


@dataclass(frozen=True)
class InputFailure:
    """An input that produced no source at all (missing path, dead feed …)."""

    uri: str
    error: str


def is_url(text: str) -> bool:
    return urlparse(text).scheme in ("http", "https")


def resolve_inputs(
    inputs: list[str], settings: Settings, latest: int | None = None
) -> tuple[list[Source], list[InputFailure]]:
    sources: list[Source] = []
    failures: list[InputFailure] = []
    for raw in inputs:
        try:
            sources.extend(_resolve_one(raw, settings, latest))
        except CastmillError as exc:
            failures.append(InputFailure(raw, str(exc)))
    return _unique(sources), failures


def _resolve_one(raw: str, settings: Settings, latest: int | None) -> list[Source]:
    if is_url(raw):
        items = latest_items(raw, settings.ingest.http_timeout, latest or settings.ingest.feed_latest,
                             network=settings.network)
        return [Source(uri=item.url, feed_item=item) for item in items]
    path = Path(raw).expanduser()
    if not path.exists():
        raise IngestError("no such file or folder", source=raw)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in MEDIA_EXTENSIONS)
        if not files:
            raise IngestError("folder holds no audio or video files", source=raw)
        return [Source(uri=str(p.resolve()), local_path=p.resolve()) for p in files]
    return [Source(uri=str(path.resolve()), local_path=path.resolve())]


def _unique(sources: list[Source]) -> list[Source]:
    seen: set[str] = set()
    return [s for s in sources if not (s.uri in seen or seen.add(s.uri))]


def fetch_source(source: Source, settings: Settings, client_slug: str) -> Path:
    """The local path of ``source``, downloading an enclosure if needed (resumable)."""
    if source.local_path:
        return source.local_path
    url_hash = hashlib.sha256(source.uri.encode()).hexdigest()[:16]
    suffix = Path(urlparse(source.uri).path).suffix.lower()
    suffix = suffix if suffix in MEDIA_EXTENSIONS else ".media"
    dest = settings.media_dir / client_slug / "downloads" / f"{url_hash}{suffix}"
    if dest.is_file():
        return dest
    return download(
        source.uri, dest,
        max_bytes=settings.ingest.max_download_bytes,
        timeout=settings.ingest.http_timeout,
        allowed_types=ENCLOSURE_TYPES,
        what="enclosure URL",
        network=settings.network,
    ).path


def find_episode(session: Session, client_id: int, digest: str) -> Episode | None:
    """The client's episode with this content (sha256), if there is one."""
    return session.scalar(select(Episode).where(Episode.client_id == client_id, Episode.sha256 == digest))


def store_media(storage: MediaStorage, client_slug: str, path: Path, digest: str) -> str:
    """Put an episode's media into storage under ``<client>/episodes/<sha256><suffix>``; returns its ref
    (with the default storage, ``path`` itself)."""
    return storage.put(path, episode_key(client_slug, digest, path.suffix), cache=True)  # the stages read it next


def find_or_create_episode(session: Session, client: Client, source: Source, path: Path, *,
                           digest: str | None = None, media_ref: str | None = None) -> tuple[Episode, bool]:
    """The client's episode with this content, or a new one; same bytes = same episode.

    ``digest`` is ``path``'s sha256 when the caller has it; ``media_ref`` is where a new episode's media is
    stored (``store_media``; by default ``path``).
    """
    digest = digest or sha256_file(path)
    existing = find_episode(session, client.id, digest)
    if existing:
        return existing, False
    episode = Episode(
        client=client,
        source_uri=source.uri,
        media_path=media_ref or str(path),
        sha256=digest,
        title=source.title,
        published_at=source.feed_item.published if source.feed_item else None,
        feed_meta=_feed_meta(source.feed_item),
    )
    session.add(episode)
    session.flush()
    return episode, True


def _feed_meta(item: FeedItem | None) -> dict:
    if item is None:
        return {}
    return {"number": item.number, "link": item.page, "image": item.image}


def apply_probe(episode: Episode, info: MediaInfo) -> None:
    episode.title = info.title or episode.title
    episode.duration = info.duration
    episode.has_video = info.has_video
    episode.probe = {
        "format": info.format_name, "sample_rate": info.sample_rate, "channels": info.channels,
        "width": info.width, "height": info.height,
    }
