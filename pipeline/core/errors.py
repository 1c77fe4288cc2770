"""Castmill's own exceptions. Each carries a one-line, user-facing message.

The CLI prints ``str(error)`` and exits non-zero; the batch runner records it on
the episode and goes on with the next one.
"""

from __future__ import annotations

from pathlib import Path


class CastmillError(Exception):
    """Base class: ``str(error)`` is the message a user sees."""

    exit_code = 1

    def __init__(self, message: str, *, source: str | Path | None = None):
        self.source = str(source) if source is not None else None
        self.reason = message
        super().__init__(f"{self.source}: {message}" if self.source else message)


class ConfigError(CastmillError):
    """Settings or a client profile are invalid."""


class DatabaseError(CastmillError):
    """The database cannot be reached or migrated."""


class NotFoundError(CastmillError):
    """An entity (client, episode …) does not exist."""


class IngestError(CastmillError):
    """A source (file, folder, feed, enclosure) cannot become an episode."""


class MediaError(CastmillError):
    """A media file cannot be probed or decoded."""


class TranscribeError(CastmillError):
    """Transcription failed, or its engine or weights are unavailable."""


class ModelDownloadError(TranscribeError):
    """Model weights could not be fetched or failed verification."""


class HighlightError(CastmillError):
    """A transcript cannot be mined for highlights (empty, unreadable)."""


class LongFormError(CastmillError):
    """An episode cannot give chapters or show notes (no transcript, too short, no words)."""


class StorageError(CastmillError):
    """Shared media storage (a folder all machines mount, or an S3 bucket) cannot be read or written."""
