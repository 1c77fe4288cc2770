"""Streamed, resumable downloads against the local fake server (never the network)."""

from __future__ import annotations

import hashlib
import random
import socket
from datetime import datetime, timezone

import pytest
from tenacity import wait_none

from pipeline.media import download as download_mod
from pipeline.media.download import CHUNK_BYTES, download, sha256_file
from pipeline.core.errors import IngestError, ModelDownloadError
from pipeline.ingest.feeds import FeedItem
from pipeline.ingest.sources import ENCLOSURE_TYPES, Source, fetch_source
from tests.fakes.http_server import Route

PAYLOAD = random.Random(7).randbytes(300_000)
AUDIO = "audio/mpeg"


@pytest.fixture(autouse=True)
def no_retry_wait(monkeypatch):
    """Keep tenacity's retries but drop its back-off sleeps."""
    monkeypatch.setattr(download_mod._fetch.retry, "wait", wait_none())


def dead_url(path: str = "/x.mp3") -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def leftovers(directory) -> list[str]:
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


def get(server, dest, **kwargs):
    kwargs.setdefault("max_bytes", 10 * len(PAYLOAD))
    kwargs.setdefault("timeout", 5)
    return download(server.url("/ep.mp3"), dest, **kwargs)


def test_download_writes_identical_bytes_atomically(http_server, tmp_path):
    http_server.routes["/ep.mp3"] = Route(PAYLOAD, content_type=AUDIO)
    dest = tmp_path / "sub" / "ep.mp3"
    result = get(http_server, dest, allowed_types=ENCLOSURE_TYPES)
    assert result.path == dest
    assert result.size == len(PAYLOAD)
    assert result.content_type == AUDIO
    assert dest.read_bytes() == PAYLOAD
    assert leftovers(dest.parent) == ["ep.mp3"]
    assert "Range" not in http_server.requests[0][1]
    assert http_server.requests[0][1]["User-Agent"].startswith("castmill/")


@pytest.mark.parametrize("content_type", ["audio/mpeg", "video/mp4", "application/octet-stream", "audio/mpeg; charset=binary"])
def test_enclosure_types_accepted(http_server, tmp_path, content_type):
    http_server.routes["/ep.mp3"] = Route(PAYLOAD, content_type=content_type)
    get(http_server, tmp_path / "ep.mp3", allowed_types=ENCLOSURE_TYPES)
    assert (tmp_path / "ep.mp3").read_bytes() == PAYLOAD


@pytest.mark.parametrize("content_type, shown", [("text/html; charset=utf-8", "text/html"), ("", "no content type")])
def test_refused_content_type_writes_nothing(http_server, tmp_path, content_type, shown):
    http_server.routes["/ep.mp3"] = Route(b"<html>sorry</html>", content_type=content_type)
    with pytest.raises(IngestError) as info:
        get(http_server, tmp_path / "ep.mp3", allowed_types=ENCLOSURE_TYPES)
    assert shown in str(info.value)
    assert info.value.source == http_server.url("/ep.mp3")
    assert leftovers(tmp_path) == []


def test_no_type_check_without_allowed_types(http_server, tmp_path):
    http_server.routes["/ep.mp3"] = Route(PAYLOAD, content_type="text/plain")
    assert get(http_server, tmp_path / "ep.mp3").size == len(PAYLOAD)


@pytest.mark.parametrize(
    "claimed_length, body_size, match",
    [
        (None, 3 * CHUNK_BYTES, "is 3,145,728 bytes, over the 1,000,000-byte limit"),  # honest header
        ("", 3 * CHUNK_BYTES, "passed the 1,000,000-byte limit"),  # no Content-Length at all
        ("lots", 3 * CHUNK_BYTES, "passed the 1,000,000-byte limit"),  # unparseable Content-Length
        (None, 1_000_001, "over the 1,000,000-byte limit"),  # one byte too many
    ],
)
def test_size_cap(http_server, tmp_path, claimed_length, body_size, match):
    http_server.routes["/ep.mp3"] = Route(b"\0" * body_size, content_type=AUDIO, claimed_length=claimed_length)
    with pytest.raises(IngestError, match=match):
        get(http_server, tmp_path / "ep.mp3", max_bytes=1_000_000)
    assert leftovers(tmp_path) == []


def test_size_exactly_at_cap_is_fine(http_server, tmp_path):
    http_server.routes["/ep.mp3"] = Route(PAYLOAD, content_type=AUDIO, claimed_length="")
    assert get(http_server, tmp_path / "ep.mp3", max_bytes=len(PAYLOAD)).size == len(PAYLOAD)


@pytest.mark.parametrize("support_range, status, expect_append", [(True, 206, True), (False, 200, False)])
def test_resume_from_part_file(http_server, tmp_path, support_range, status, expect_append):
    half = len(PAYLOAD) // 2
    dest = tmp_path / "ep.mp3"
    part = tmp_path / "ep.mp3.part"
    # Without range support the server resends everything; stale bytes must not survive.
    part.write_bytes(PAYLOAD[:half] if support_range else b"x" * half)
    http_server.routes["/ep.mp3"] = Route(PAYLOAD, content_type=AUDIO, support_range=support_range)
    result = get(http_server, dest)
    assert http_server.requests[0][1]["Range"] == f"bytes={half}-"
    assert dest.read_bytes() == PAYLOAD
    assert result.size == len(PAYLOAD)
    assert leftovers(tmp_path) == ["ep.mp3"]


def test_complete_part_file_is_promoted_on_416(http_server, tmp_path):
    (tmp_path / "ep.mp3.part").write_bytes(PAYLOAD)
    http_server.routes["/ep.mp3"] = Route(PAYLOAD, content_type=AUDIO)
    get(http_server, tmp_path / "ep.mp3")
    assert (tmp_path / "ep.mp3").read_bytes() == PAYLOAD
    assert leftovers(tmp_path) == ["ep.mp3"]


def test_resume_does_not_count_held_bytes_twice_against_cap(http_server, tmp_path):
    half = len(PAYLOAD) // 2
    (tmp_path / "ep.mp3.part").write_bytes(PAYLOAD[:half])
    http_server.routes["/ep.mp3"] = Route(PAYLOAD, content_type=AUDIO)
    assert get(http_server, tmp_path / "ep.mp3", max_bytes=len(PAYLOAD)).size == len(PAYLOAD)


@pytest.mark.parametrize(
    "size, drop_after, resume_header",
    [
        (len(PAYLOAD), 100_000, None),  # cut inside the first chunk: nothing kept, start over
        (CHUNK_BYTES * 5 // 2, CHUNK_BYTES * 3 // 2, f"bytes={CHUNK_BYTES}-"),  # one whole chunk kept: resume
    ],
)
def test_dropped_connection_is_retried(http_server, tmp_path, size, drop_after, resume_header):
    body = random.Random(size).randbytes(size)
    http_server.routes["/ep.mp3"] = Route(body, content_type=AUDIO, drop_after=drop_after)
    dest = tmp_path / "ep.mp3"
    assert get(http_server, dest, max_bytes=size).size == size
    assert dest.read_bytes() == body
    assert [headers.get("Range") for _, headers in http_server.requests] == [None, resume_header]
    assert leftovers(tmp_path) == ["ep.mp3"]


@pytest.mark.parametrize("fail_status", [500, 502, 503])
def test_server_error_then_success(http_server, tmp_path, fail_status):
    http_server.routes["/ep.mp3"] = Route(PAYLOAD, content_type=AUDIO, fail_times=2, fail_status=fail_status)
    get(http_server, tmp_path / "ep.mp3")
    assert (tmp_path / "ep.mp3").read_bytes() == PAYLOAD
    assert len(http_server.requests) == 3


def test_persistent_server_error_gives_up_after_three_tries(http_server, tmp_path):
    http_server.routes["/ep.mp3"] = Route(PAYLOAD, content_type=AUDIO, fail_times=99)
    with pytest.raises(IngestError, match="HTTP 500"):
        get(http_server, tmp_path / "ep.mp3")
    assert len(http_server.requests) == 3
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("status", [403, 404, 410])
def test_client_error_is_not_retried(http_server, tmp_path, status):
    http_server.routes["/ep.mp3"] = Route(b"nope", status=status, content_type=AUDIO)
    with pytest.raises(IngestError, match=f"download failed: HTTP {status}"):
        get(http_server, tmp_path / "ep.mp3")
    assert len(http_server.requests) == 1
    assert leftovers(tmp_path) == []


def test_unreachable_server_is_a_clean_error(tmp_path):
    url = dead_url()
    with pytest.raises(IngestError, match="download failed") as info:
        download(url, tmp_path / "ep.mp3", max_bytes=1000, timeout=2)
    assert info.value.source == url
    assert "\n" not in str(info.value)


def test_error_class_is_configurable(http_server, tmp_path):
    with pytest.raises(ModelDownloadError, match="HTTP 404"):
        get(http_server, tmp_path / "ep.mp3", error_cls=ModelDownloadError)


@pytest.mark.parametrize("size", [0, 1, CHUNK_BYTES, CHUNK_BYTES * 2 + 17])
def test_sha256_file(tmp_path, size):
    data = random.Random(size).randbytes(size)
    path = tmp_path / "blob"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    assert sha256_file(str(path)) == hashlib.sha256(data).hexdigest()


def feed_source(server, path: str) -> Source:
    url = server.url(path)
    item = FeedItem(server.url("/feed.xml"), url, "Episode 1", datetime(2024, 5, 1, tzinfo=timezone.utc), AUDIO, len(PAYLOAD))
    return Source(uri=url, feed_item=item)


@pytest.mark.parametrize("path, suffix", [("/files/ep1.mp3", ".mp3"), ("/files/ep1.MP4", ".mp4"), ("/stream?id=1", ".media")])
def test_fetch_source_downloads_once_into_client_folder(http_server, settings, path, suffix):
    http_server.routes[path] = Route(PAYLOAD, content_type=AUDIO)
    source = feed_source(http_server, path)
    first = fetch_source(source, settings, "acme")
    assert first.parent == settings.media_dir / "acme" / "downloads"
    assert first.suffix == suffix
    assert first.read_bytes() == PAYLOAD
    assert len(http_server.requests) == 1
    assert fetch_source(source, settings, "acme") == first
    assert len(http_server.requests) == 1
    other = fetch_source(source, settings, "globex")
    assert other.parent == settings.media_dir / "globex" / "downloads"
    assert len(http_server.requests) == 2


def test_fetch_source_refuses_html_enclosure(http_server, settings):
    http_server.routes["/ep.mp3"] = Route(b"<html>login</html>", content_type="text/html")
    with pytest.raises(IngestError, match="text/html"):
        fetch_source(feed_source(http_server, "/ep.mp3"), settings, "acme")
    assert leftovers(settings.media_dir / "acme" / "downloads") == []


def test_fetch_source_local_file_is_used_in_place(settings, tmp_path):
    media = tmp_path / "ep.mp3"
    media.write_bytes(PAYLOAD)
    assert fetch_source(Source(uri=str(media), local_path=media), settings, "acme") == media
    assert not (settings.media_dir / "acme").exists()
