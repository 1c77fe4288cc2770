"""Publishers: one module per platform behind ``base.Publisher``; ``get_publisher`` picks one.

Modules load only when their platform is asked for.
"""

from __future__ import annotations

from importlib import import_module

from pipeline.core.errors import CastmillError
from pipeline.publish.publishers.base import (Account, AuthError, CredentialStatus, Engagement, MediaFile,
                                                OutcomeUnknown, Post, Published, PublishError, Publisher,
                                                QuotaExhausted)

# platform name -> "module:Class" under pipeline.publish.publishers
PUBLISHERS: dict[str, str] = {
    "outbox": "outbox:OutboxPublisher",
    "webhook": "webhook:WebhookPublisher",
    "mastodon": "mastodon:MastodonPublisher",
    "bluesky": "bluesky:BlueskyPublisher",
    "x": "x:XPublisher",
    "linkedin": "linkedin:LinkedInPublisher",
    "instagram": "instagram:InstagramPublisher",
    "facebook": "facebook:FacebookPublisher",
    "threads": "threads:ThreadsPublisher",
    "tiktok": "tiktok:TikTokPublisher",
    "youtube": "youtube:YouTubePublisher",
    "wordpress": "wordpress:WordPressPublisher",
    "newsletter": "newsletter:NewsletterPublisher",
}


class UnknownPublisher(CastmillError):
    """No publisher for that platform name."""


def publisher_class(platform: str) -> type[Publisher]:
    target = PUBLISHERS.get(platform.strip().lower())
    if target is None:
        raise UnknownPublisher(f"no publisher for {platform!r}; valid names: {', '.join(PUBLISHERS)}")
    module, cls = target.split(":")
    return getattr(import_module(f"pipeline.publish.publishers.{module}"), cls)


def get_publisher(account: Account, http=None) -> Publisher:
    return publisher_class(account.platform)(account, http)


__all__ = ["Account", "AuthError", "CredentialStatus", "Engagement", "MediaFile", "OutcomeUnknown", "Post",
           "Published", "PublishError", "Publisher", "QuotaExhausted", "PUBLISHERS", "get_publisher", "publisher_class",
           "UnknownPublisher"]
