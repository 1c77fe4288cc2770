"""Social platforms: limits, counting, validation and fitting, one module per service.

Example:
    >>> from pipeline.platforms import get_platform
    >>> x = get_platform("x")
    >>> x.count("Listen: https://example.com/a/very/long/episode/link")
    31
    >>> x.fit("Short enough.", hashtags=["podcast"])
    ['Short enough.\\n\\n#podcast']
"""

from __future__ import annotations

from pipeline.core.errors import CastmillError
from pipeline.platforms.base import FitError, MediaItem, Platform, PostContent, Violation, compose
from pipeline.platforms.bluesky import Bluesky
from pipeline.platforms.facebook import Facebook
from pipeline.platforms.instagram import Instagram
from pipeline.platforms.linkedin import LinkedIn
from pipeline.platforms.longform import LONG_FORM
from pipeline.platforms.mastodon import Mastodon
from pipeline.platforms.threads import Threads
from pipeline.platforms.tiktok import TikTok
from pipeline.platforms.x import X
from pipeline.platforms.youtube import YouTube

REGISTRY: dict[str, type[Platform]] = {
    cls.name: cls for cls in (X, Bluesky, Mastodon, LinkedIn, Instagram, Threads, TikTok, YouTube, Facebook)
}
PLATFORM_NAMES: tuple[str, ...] = tuple(REGISTRY)
# Show notes, newsletter and blog: drafted, reviewed and scheduled like posts (``longform.py``).
LONG_FORM_REGISTRY: dict[str, type[Platform]] = {cls.name: cls for cls in LONG_FORM}
LONG_FORM_NAMES: tuple[str, ...] = tuple(LONG_FORM_REGISTRY)


class UnknownPlatform(CastmillError):
    """A platform name that is not in the registry."""


def get_platform(name: str) -> Platform:
    """The platform called ``name`` (case-insensitive): one of ``PLATFORM_NAMES`` or ``LONG_FORM_NAMES``."""
    key = name.strip().lower()
    found = REGISTRY.get(key) or LONG_FORM_REGISTRY.get(key)
    if found is None:
        raise UnknownPlatform(f"unknown platform {name!r}; valid names: {', '.join(PLATFORM_NAMES + LONG_FORM_NAMES)}")
    return found()


__all__ = [
    "LONG_FORM_NAMES",
    "LONG_FORM_REGISTRY",
    "PLATFORM_NAMES",
    "REGISTRY",
    "FitError",
    "MediaItem",
    "Platform",
    "PostContent",
    "UnknownPlatform",
    "Violation",
    "compose",
    "get_platform",
]
