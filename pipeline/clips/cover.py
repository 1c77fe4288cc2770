"""Which picture an audiogram shows: the feed's artwork, else the client's cover, else none (a title card).

Feed artwork is downloaded once per URL into ``$CASTMILL_HOME/covers``. A cover that
cannot be fetched is not worth failing a clip for: the clip falls back to the next
choice and the reason is returned as a note. A client cover that is missing or
unreadable is the VA's configuration, so that one is an error.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from pipeline.core.settings import Settings
from pipeline.media.download import download
from pipeline.core.errors import CastmillError, MediaError
from pipeline.store.models import Episode

IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
# Apple asks for 1400–3000 px square artwork; 20 MB holds any sane one.
MAX_COVER_BYTES = 20 * 1024 * 1024


@dataclass(frozen=True)
class Cover:
    path: Path | None  # None: draw a title card
    origin: str  # "feed", "client" or "title card"
    note: str = ""  # why a preferred cover was not used


def resolve_cover(settings: Settings, episode: Episode) -> Cover:
    note = ""
    url = (episode.feed_meta or {}).get("image")
    if url:
        try:
            return Cover(_feed_cover(settings, url), "feed")
        except CastmillError as exc:
            note = f"feed artwork not used ({exc.reason})"
    client_cover = (episode.client.clip_settings or {}).get("cover") or ""
    if client_cover:
        path = Path(client_cover)
        if not path.is_file():
            raise MediaError("the client's cover image does not exist", source=path)
        return Cover(path, "client", note)
    return Cover(None, "title card", note)


def feed_cover_path(settings: Settings, url: str) -> Path:
    """Where the artwork at ``url`` is kept once downloaded (one file per URL)."""
    return settings.home / "covers" / f"{hashlib.sha256(url.encode()).hexdigest()[:24]}.img"


def _feed_cover(settings: Settings, url: str) -> Path:
    dest = feed_cover_path(settings, url)
    if not dest.is_file():
        download(url, dest, max_bytes=MAX_COVER_BYTES, timeout=settings.ingest.http_timeout,
                 allowed_types=IMAGE_TYPES, error_cls=MediaError, what="feed artwork URL", network=settings.network)
    return dest
