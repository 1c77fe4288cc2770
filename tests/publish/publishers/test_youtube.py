"""YouTube Shorts publisher against the Data API fake: resumable upload, marker tag, quota, errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from pipeline.publish.publishers import (Account, AuthError, Engagement, OutcomeUnknown, Post,
                                           PublishError, get_publisher)
from pipeline.publish.publishers.youtube import marker_tag, shorten
from tests.fakes.graph import ShortTimeouts
from tests.fakes.youtube import YouTubeFake
from tests.helpers.publishers import MP4_HEADER, serve_checked, video_clip

TOKEN = "ya29.youtube-SECRET-555"


@pytest.fixture
def fake():
    yield from serve_checked(YouTubeFake(token=TOKEN))


@pytest.fixture
def clip(tmp_path):
    return video_clip(tmp_path / "short.mp4", MP4_HEADER + bytes(range(256)) * 100)


def publisher(fake, http=None, **extra):
    return get_publisher(Account("youtube", fake.base_url, token=TOKEN, handle=fake.channel_id, extra=extra), http)


def short(clip, text="Why small shows win.\nMore in the episode.", key="sched-41", title="", link="") -> Post:
    return Post(parts=(text,), idempotency_key=key, media=(clip,), title=title, link=link)


def test_uploads_a_short_with_the_resumable_protocol(fake, clip):
    result = publisher(fake).publish(short(clip, link="https://pod.example.com/12"))

    start, upload = fake.requests  # a first attempt: no look-up read, so no quota spent on one
    assert (start.method, start.path, upload.method, upload.path) == (
        "POST", "/upload/youtube/v3/videos", "PUT", "/upload/youtube/v3/videos")
    assert start.arg("uploadType") == "resumable" and start.arg("part") == "snippet,status"
    assert start.header("x-upload-content-length") == str(clip.path.stat().st_size)
    assert start.header("x-upload-content-type") == "video/mp4"
    assert start.json() == {
        "snippet": {"title": "Why small shows win.",
                    "description": "Why small shows win.\nMore in the episode.\n\nhttps://pod.example.com/12",
                    "tags": ["castmill-sched-41"], "categoryId": "22"},
        "status": {"privacyStatus": "public", "selfDeclaredMadeForKids": False}}
    assert upload.body == clip.path.read_bytes()
    assert all(r.header("authorization") == f"Bearer {TOKEN}" for r in fake.requests)
    assert result.remote_id == fake.videos[0]["id"]
    assert result.url == f"https://www.youtube.com/shorts/{result.remote_id}"


def test_publishing_the_same_short_again_returns_it_without_uploading_again(fake, clip):
    started = datetime.now(timezone.utc)
    first = publisher(fake).publish(short(clip))
    requests_before = len(fake.requests)

    second = publisher(fake).publish(replace(short(clip), first_attempt_at=started))

    assert second.remote_id == first.remote_id and second.url == first.url and len(fake.videos) == 1
    assert [(r.method, r.path) for r in fake.requests[requests_before:]] == [
        ("GET", "/youtube/v3/channels"), ("GET", "/youtube/v3/playlistItems"), ("GET", "/youtube/v3/videos")]


def test_a_retry_on_a_channel_without_uploads_looks_then_uploads(fake, clip):
    publisher(fake).publish(replace(short(clip), first_attempt_at=datetime.now(timezone.utc)))

    *looks, start, upload = fake.requests
    # is the video already there? (a new channel has no uploads playlist yet: 404, i.e. nothing there)
    assert [(r.method, r.path) for r in looks] == [("GET", "/youtube/v3/channels"),
                                                   ("GET", "/youtube/v3/playlistItems")]
    assert (start.method, upload.method) == ("POST", "PUT") and len(fake.videos) == 1


def test_another_post_on_a_channel_with_uploads_is_published(fake, clip):
    publisher(fake).publish(short(clip, key="sched-41"))

    publisher(fake).publish(short(clip, key="sched-42"))

    assert [v["snippet"]["tags"] for v in fake.videos] == [["castmill-sched-41"], ["castmill-sched-42"]]


def test_explicit_title_and_privacy_are_used(fake, clip):
    publisher(fake, privacy_status="unlisted", category_id="27").publish(short(clip, title="Small shows win"))

    snippet, status = fake.videos[0]["snippet"], fake.videos[0]["status"]
    assert snippet["title"] == "Small shows win" and snippet["categoryId"] == "27"
    assert status["privacyStatus"] == "unlisted"


def test_a_long_first_line_becomes_a_shortened_title(fake, clip):
    publisher(fake).publish(short(clip, text="word " * 60))

    title = fake.videos[0]["snippet"]["title"]
    assert len(title) <= 100 and title.endswith("…") and title.startswith("word word")


def test_shorten_keeps_short_text_and_cuts_at_words():
    assert shorten("  a  b ", 10) == "a b"
    assert shorten("alpha beta gamma", 12) == "alpha beta…"
    assert len(shorten("x" * 300, 100)) == 100


@pytest.mark.parametrize("post_kwargs, reason", [
    ({"title": "t" * 101}, "invalidTitle"),
    ({"title": "a <b> title"}, "invalidTitle"),
    ({"text": "é" * 2501}, "invalidDescription"),
])
def test_metadata_violations_fail_with_the_platform_reason(fake, clip, post_kwargs, reason):
    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(short(clip, **post_kwargs))

    assert reason in str(caught.value) and caught.value.status == 400
    assert not caught.value.retryable and not isinstance(caught.value, AuthError)
    assert fake.videos == [] and fake.sessions == {}


def test_exhausted_quota_is_reported_clearly_and_not_retried(fake, clip):
    fake.quota_limit = 1000  # less than one upload

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(short(clip))

    message = str(caught.value)
    assert "quotaExceeded" in message and "daily YouTube API quota" in message and "midnight Pacific" in message
    assert not caught.value.retryable and not isinstance(caught.value, AuthError)
    assert fake.videos == []


def test_channel_upload_limit_is_reported_clearly(fake, clip):
    fake.upload_cap = 0

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(short(clip))

    assert "uploadLimitExceeded" in str(caught.value) and "24 hours" in str(caught.value)
    assert not caught.value.retryable


def test_expired_token_is_an_auth_error(fake, clip):
    fake.token_expired = True

    with pytest.raises(AuthError) as caught:
        publisher(fake).publish(short(clip))

    assert "authError" in str(caught.value) and TOKEN not in str(caught.value)


def test_rate_limit_reason_on_a_403_is_retryable(fake, clip):
    fake.fail_next(403, method="POST", json={"error": {"code": 403, "message": "Rate Limit Exceeded",
                                                       "errors": [{"reason": "userRateLimitExceeded"}]}})

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(short(clip))

    assert caught.value.retryable and not isinstance(caught.value, AuthError)


def test_503_is_retryable_with_retry_after(fake, clip):
    fake.fail_next(503, method="PUT", headers={"Retry-After": "20"},
                   json={"error": {"code": 503, "message": "Backend Error", "errors": [{"reason": "backendError"}]}})

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(short(clip))

    assert caught.value.retryable and caught.value.retry_after == 20.0 and fake.videos == []


def test_timeout_after_the_bytes_is_unknown_and_the_video_is_found_by_its_tag(fake, clip):
    fake.hang_next(method="PUT")
    post = short(clip)

    with pytest.raises(OutcomeUnknown) as caught:
        publisher(fake, http=ShortTimeouts(read=0.5)).publish(post)

    assert TOKEN not in str(caught.value)
    pub = publisher(fake)
    found = pub.find_existing(post)
    assert found is not None and found.remote_id == fake.videos[0]["id"] and len(fake.videos) == 1
    assert pub.find_existing(short(clip, key="sched-42")) is None


def test_timeout_at_session_start_is_plainly_retryable(fake, clip):
    fake.hang_next(method="POST")

    with pytest.raises(PublishError) as caught:
        publisher(fake, http=ShortTimeouts(read=0.5)).publish(short(clip))

    assert caught.value.retryable and not isinstance(caught.value, OutcomeUnknown) and fake.videos == []


def test_find_existing_costs_three_reads(fake, clip):
    publisher(fake).publish(short(clip))
    used = fake.quota_used

    assert publisher(fake).find_existing(short(clip)) is not None
    assert fake.quota_used - used == 3


def test_marker_tag_keeps_safe_characters():
    assert marker_tag("post:12/abc def") == "castmill-post12abcdef"
    assert len(marker_tag("x" * 500)) == len("castmill-") + 60


@pytest.mark.parametrize("reason, auth", [("forbidden", True), ("insufficientPermissions", True),
                                          ("forbiddenPrivacySetting", False)])
def test_403_is_an_auth_error_only_for_authorization_reasons(fake, clip, reason, auth):
    fake.fail_next(403, method="POST", json={"error": {"code": 403, "message": "Forbidden",
                                                       "errors": [{"reason": reason}]}})

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(short(clip))

    assert isinstance(caught.value, AuthError) is auth and not caught.value.retryable


def test_credentials_check(fake):
    assert publisher(fake).check_credentials().ok
    fake.token_expired = True
    status = publisher(fake).check_credentials()
    assert not status.ok and TOKEN not in status.message


# ---------------------------------------------------------------- engagement

def uploaded(fake, clip) -> str:
    remote_id = publisher(fake).publish(short(clip)).remote_id
    fake.requests.clear()
    return remote_id


def test_engagement_reads_the_statistics_part_for_one_quota_unit(fake, clip):
    video_id = uploaded(fake, clip)
    fake.engage(video_id, viewCount=5300, likeCount=210, commentCount=17)
    quota_before = fake.quota_used

    engagement = publisher(fake).fetch_engagement(video_id)

    assert engagement == Engagement(likes=210, reposts=0, replies=17, views=5300)  # YouTube has no reposts
    (read,) = fake.requests
    assert (read.method, read.path, read.arg("part"), read.arg("id")) == ("GET", "/youtube/v3/videos", "statistics",
                                                                          video_id)
    assert read.bearer() == TOKEN and fake.quota_used - quota_before == 1


def test_hidden_likes_and_disabled_comments_count_as_zero(fake, clip):
    video_id = uploaded(fake, clip)
    fake.engage(video_id, viewCount=80, likeCount=None, commentCount=None)

    assert publisher(fake).fetch_engagement(video_id) == Engagement(likes=0, reposts=0, replies=0, views=80)


def test_engagement_of_an_unknown_video_is_a_clear_error(fake):
    with pytest.raises(PublishError) as caught:
        publisher(fake).fetch_engagement("ytMissing01")

    assert not isinstance(caught.value, AuthError) and not caught.value.retryable
    assert "ytMissing01" in str(caught.value) and "no video" in str(caught.value)


def test_engagement_with_a_wrong_token_is_an_auth_error(fake, clip):
    video_id = uploaded(fake, clip)
    pub = get_publisher(Account("youtube", fake.base_url, token="wrong-SECRET-yt", handle=fake.channel_id))

    with pytest.raises(AuthError) as caught:
        pub.fetch_engagement(video_id)

    assert "authError" in str(caught.value)
    assert "wrong-SECRET-yt" not in str(caught.value) and TOKEN not in str(caught.value)


def test_the_fake_requires_a_part_on_video_reads(fake, clip):
    video_id = uploaded(fake, clip)

    with pytest.raises(PublishError) as caught:
        publisher(fake).get("/youtube/v3/videos", {"id": video_id})

    assert "Required parameter: part" in str(caught.value) and not caught.value.retryable
