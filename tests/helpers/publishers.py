"""Set-up the publisher tests share: running a fake, sample clips, a fake's clock, reading its log."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pipeline.publish.publishers import MediaFile, OutcomeUnknown, Post, Published
from tests.fakes.graph import ShortTimeouts
from tests.fakes.server import FakeServer

MP4_HEADER = b"\x00\x00\x00\x18ftypmp42"


def serve_checked(server: FakeServer) -> Iterator[FakeServer]:
    """Body of a ``fake`` fixture: run ``server`` for one test, then fail it if a handler crashed."""
    with server:
        yield server
        assert server.errors == []


def video_clip(path: Path, data: bytes) -> MediaFile:
    path.write_bytes(data)
    return MediaFile(path, "video", "video/mp4")


def recording_sleeps(pub):
    """``pub`` with its waits recorded in ``pub.slept`` instead of slept."""
    pub.slept = []
    pub.sleep = pub.slept.append
    return pub


def graph_calls(fake: FakeServer) -> list[str]:
    """The requests as "METHOD last-path-segment" (numeric ids become {id})."""
    out = []
    for request in fake.requests:
        tail = request.path.rsplit("/", 1)[-1]
        out.append(f"{request.method} {'{id}' if tail.isdigit() else tail}")
    return out


@contextmanager
def fake_clock(fake, clock: Callable[[], float]) -> Iterator[None]:
    """The fake's notion of now (the platform's creation times) is ``clock`` inside the block."""
    fake.clock = clock
    try:
        yield
    finally:
        fake.clock = time.time


def publish_a_day_ago(fake, pub, post: Post) -> str:
    """Publish ``post`` with ``pub`` as if it went out yesterday (the fake's clock moved back); its id."""
    with fake_clock(fake, lambda: time.time() - 86400):
        return pub.publish(post).remote_id


def retry_after_a_lost_publish_answer(fake, publisher: Callable, post: Post,
                                      publish_path: str) -> tuple[Published, str, int]:
    """On a container fake (Instagram, Threads): publish ``post`` while the answer to ``publish_path``
    is lost (OutcomeUnknown), then retry it with the first attempt's time.

    Returns the retry's result, the id the platform accepted first, and the containers made before the retry.
    """
    started = datetime.now(timezone.utc)
    fake.hang_next(path=publish_path)
    with pytest.raises(OutcomeUnknown):
        publisher(fake, http=ShortTimeouts(read=0.5)).publish(post)
    accepted, containers = fake.published[-1]["id"], len(fake.containers)
    return publisher(fake).publish(replace(post, first_attempt_at=started)), accepted, containers
