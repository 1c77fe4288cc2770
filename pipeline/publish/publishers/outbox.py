"""The outbox: "publishes" a post as one JSON file in a local folder. The default, so the demo needs no account.

Where: ``account.base_url`` as a folder path or ``file://`` URL; when empty,
``$CASTMILL_HOME/outbox/<account.handle>/`` (the handle being the client's slug, ``default`` if unset).

What: ``<key>.json`` named by the post's idempotency key (keys that are not safe file names
are replaced by their SHA-256), holding the parts, title, link and media. Each media file is
hard-linked (copied where links are impossible) into ``<key>.media/`` beside the JSON so the
outbox stays complete when clips are re-rendered.

Exactly once: the JSON is written to a temporary file, flushed to disk, then *hard-linked*
to its final name. A link fails when the name exists, so two publishers racing on one key
produce one file and both report the same ``Published``; a crash leaves at most a stray temp
file, never a half-written post. The JSON's existence is what ``find_existing`` checks.

A first comment is written the same way, once, as ``<post file's stem>.comment.json`` beside the post.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

from pipeline.core.settings import default_home
from pipeline.publish.publishers.base import (CredentialStatus, MediaFile, Post, Published, PublishError,
                                                Publisher)

# File-name-safe keys are used as they are; anything else is hashed (stable, collision-free).
_SAFE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
FORMAT_VERSION = 1  # bump when the JSON layout changes


def outbox_folder(base_url: str, client: str = "") -> Path:
    """The folder an outbox account writes to (see the module docstring)."""
    if not base_url:
        return default_home() / "outbox" / (client or "default")
    parsed = urlparse(base_url)
    if parsed.scheme == "file":
        return Path(url2pathname(parsed.path)).expanduser()
    return Path(base_url).expanduser()


def file_stem(idempotency_key: str) -> str:
    if _SAFE_KEY.fullmatch(idempotency_key):
        return idempotency_key
    return hashlib.sha256(idempotency_key.encode("utf-8")).hexdigest()


class OutboxPublisher(Publisher):
    name = "outbox"
    media_kinds = ("video", "image", "audio")

    @property
    def folder(self) -> Path:
        return outbox_folder(self.account.base_url, self.account.handle)

    def post_path(self, post: Post) -> Path:
        return self.folder / f"{file_stem(post.idempotency_key)}.json"

    def publish(self, post: Post) -> Published:
        if not post.parts and not post.media:
            raise PublishError("outbox: the post has neither text nor media")
        existing = self.find_existing(post)
        if existing is not None:
            return existing
        target = self.post_path(post)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            media = [self._store_media(index, item, target) for index, item in enumerate(post.media, 1)]
            self._write_once(target, self._document(post, media))
        except OSError as exc:
            raise _write_error(target, exc) from exc
        return self._published(target)

    def find_existing(self, post: Post) -> Published | None:
        target = self.post_path(post)
        return self._published(target) if target.is_file() else None

    supports_comments = True

    def publish_comment(self, post_remote_id: str, text: str, *, key: str) -> Published:
        if not (self.folder / f"{post_remote_id}.json").is_file():
            raise PublishError(f"outbox: no post {post_remote_id} in {self.folder} to comment on")
        target = self._comment_path(post_remote_id)
        document = {"format": FORMAT_VERSION, "idempotency_key": key, "client": self.account.handle,
                    "comment_on": post_remote_id, "text": text,
                    "posted_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        try:
            self._write_once(target, document)
        except OSError as exc:
            raise _write_error(target, exc) from exc
        return self._published(target)

    def find_comment(self, post_remote_id: str, text: str, *, key: str) -> Published | None:
        target = self._comment_path(post_remote_id)
        return self._published(target) if target.is_file() else None

    def _comment_path(self, post_remote_id: str) -> Path:
        return self.folder / f"{file_stem(post_remote_id)}.comment.json"

    def check_credentials(self) -> CredentialStatus:
        folder = self.folder
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".check-"):
                pass
        except OSError as exc:
            return CredentialStatus(False, f"outbox folder {folder} is not writable: {exc.strerror}")
        return CredentialStatus(True, f"outbox folder {folder} is writable")

    # ------------------------------------------------------------------ helpers

    def _document(self, post: Post, media: list[dict]) -> dict:
        return {
            "format": FORMAT_VERSION,
            "idempotency_key": post.idempotency_key,
            "client": self.account.handle,
            "parts": list(post.parts),
            "title": post.title,
            "link": post.link,
            "media": media,
            "published_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }

    def _store_media(self, index: int, item: MediaFile, target: Path) -> dict:
        source = Path(item.path)
        if not source.is_file():
            raise PublishError(f"outbox: media file not found: {source}")
        folder = target.with_suffix(".media")
        folder.mkdir(exist_ok=True)
        stored = folder / f"{index}-{source.name}"  # numbered: two clips may share a name
        if not stored.exists():
            _link_or_copy(source, stored)
        return {"path": str(stored), "source": str(source.resolve()), "kind": item.kind, "mime": item.mime,
                "alt": item.alt, "bytes": stored.stat().st_size}

    def _write_once(self, target: Path, document: dict) -> None:
        """Write ``document`` as ``target`` unless it exists already (atomic, race-free)."""
        handle, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.stem}-", suffix=".tmp")
        temp = Path(temp_name)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(document, out, ensure_ascii=False, indent=2)
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(temp, target)
            except FileExistsError:
                pass  # another worker published the same key first: theirs stands
            except OSError as exc:
                if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                    raise
                if not target.exists():  # no hard links on this file system: last-moment check, then rename
                    os.replace(temp, target)
        finally:
            temp.unlink(missing_ok=True)

    def _published(self, target: Path) -> Published:
        return Published(remote_id=target.stem, url=target.resolve().as_uri())


def _link_or_copy(source: Path, destination: Path) -> None:
    try:
        os.link(source, destination)
    except FileExistsError:
        pass
    except OSError:
        shutil.copy2(source, destination)


def _write_error(target: Path, exc: OSError) -> PublishError:
    temporary = exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EAGAIN, errno.EBUSY)
    return PublishError(f"outbox: cannot write {target}: {exc.strerror or exc}", retryable=temporary)
