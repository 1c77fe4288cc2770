"""The X publisher against a fake X API v2: chunked media, threads, the text marker, duplicates."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.publish.publishers import (AuthError, Engagement, MediaFile, OutcomeUnknown, Post, PublishError,
                                           get_publisher)
from pipeline.publish.publishers import base
from pipeline.publish.publishers import x as xmod
from pipeline.publish.publishers.x import XPublisher, comparable, tweet_text
from tests.fakes.x import FakeX


@pytest.fixture
def fake():
    with FakeX() as server:
        yield server


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch):
    monkeypatch.setattr(XPublisher, "media_poll_interval", 0.0)


def publisher(fake: FakeX, **kw) -> XPublisher:
    return get_publisher(fake.account(**kw))


def video(tmp_path, size: int) -> MediaFile:
    path = tmp_path / "clip.mp4"
    path.write_bytes(bytes(range(256)) * (size // 256) + b"\x00" * (size % 256))
    return MediaFile(path, "video", "video/mp4", alt="a clip")


def test_text_tweet(fake):
    published = publisher(fake).publish(Post(parts=("Hello X",), idempotency_key="k"))
    request = fake.requests_to("POST", "/2/tweets")[-1]
    assert request.json() == {"text": "Hello X"}
    assert request.header("authorization") == f"Bearer {fake.token}"
    assert published.remote_id in fake.tweets
    assert published.url == f"https://x.com/i/web/status/{published.remote_id}"


def test_video_goes_through_initialize_append_finalize_status(fake, tmp_path, monkeypatch):
    monkeypatch.setattr(xmod, "CHUNK_BYTES", 1000)
    clip = video(tmp_path, 2500)
    published = publisher(fake).publish(Post(parts=("Watch",), idempotency_key="k", media=(clip,)))

    init = fake.requests_to("POST", "/2/media/upload/initialize")[0].json()
    assert init == {"media_type": "video/mp4", "total_bytes": 2500, "media_category": "tweet_video"}
    media_id = next(iter(fake.uploads))
    upload = fake.uploads[media_id]
    assert sorted(upload.chunks) == [0, 1, 2]
    assert b"".join(upload.chunks[i] for i in range(3)) == clip.path.read_bytes()
    assert len(fake.requests_to("GET", "/2/media/upload")) == fake.processing_polls + 1
    assert fake.tweets[published.remote_id].media_ids == [media_id]
    assert fake.requests_to("POST", "/2/media/metadata") == []  # alt text is for images only


def test_image_alt_text_is_set_through_metadata(fake, tmp_path):
    path = tmp_path / "cover.png"
    path.write_bytes(b"\x89PNG" + b"\x00" * 100)
    publisher(fake).publish(Post(parts=("Cover",), idempotency_key="k",
                                 media=(MediaFile(path, "image", "image/png", alt="the cover"),)))
    upload = next(iter(fake.uploads.values()))
    assert (upload.category, upload.alt_text, upload.state) == ("tweet_image", "the cover", "succeeded")
    assert fake.requests_to("GET", "/2/media/upload") == []


def test_failed_media_processing_is_reported(fake, tmp_path):
    fake.processing_error = {"code": 1, "name": "InvalidMedia", "message": "Unsupported video format"}
    with pytest.raises(PublishError, match="Unsupported video format") as caught:
        publisher(fake).publish(Post(parts=("Watch",), idempotency_key="k", media=(video(tmp_path, 300),)))
    assert not caught.value.retryable and fake.post_count == 0


def test_thread_is_a_chain_of_replies(fake):
    published = publisher(fake).publish(Post(parts=("1/2 first", "2/2 second"), idempotency_key="t"))
    bodies = [r.json() for r in fake.requests_to("POST", "/2/tweets")]
    assert bodies == [{"text": "1/2 first"}, {"text": "2/2 second", "reply": {"in_reply_to_tweet_id": published.remote_id}}]


def test_find_existing_matches_the_text_as_x_rewrote_it(fake, tmp_path):
    text = "Tom & Jerry <live>: https://example.com/ep/12/ and podcast.example.com/ep  #podcast"
    post = Post(parts=(text,), idempotency_key="k", media=(video(tmp_path, 300),))
    published = publisher(fake).publish(post)
    stored = fake.tweets[published.remote_id]
    assert "t.co" in stored.text and "&amp;" in stored.text  # the fake really rewrites it

    assert publisher(fake).find_existing(post) == published
    assert publisher(fake).find_existing(Post(parts=(text + " more",), idempotency_key="other")) is None


def test_find_existing_needs_every_part_of_a_thread(fake):
    post = Post(parts=("part one", "part two"), idempotency_key="t")
    fake.fail_next(503, path="/2/tweets$", after=1, json={"title": "Service Unavailable", "detail": "Over capacity"})
    started = datetime.now(timezone.utc)
    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(post)
    assert caught.value.retryable and fake.post_count == 1
    assert publisher(fake).find_existing(post) is None
    post = replace(post, first_attempt_at=started)  # the scheduler's retry

    published = publisher(fake).publish(post)  # resumes: only part two is sent
    assert fake.post_count == 2
    reply = [t for t in fake.tweets.values() if t.reply_to][0]
    assert reply.source_text == "part two" and reply.reply_to == published.remote_id
    assert publisher(fake).find_existing(post) == published


def test_duplicate_content_resolves_to_the_earlier_tweet(fake):
    post = Post(parts=("Same words",), idempotency_key="k")
    started = datetime.now(timezone.utc)
    first = publisher(fake).publish(post)
    again = publisher(fake).publish(replace(post, first_attempt_at=started))  # X answers 403 duplicate; we look it up
    assert again == first
    assert fake.post_count == 1
    assert fake.requests_to("POST", "/2/tweets")[-1].json() == {"text": "Same words"}


def test_duplicate_that_cannot_be_found_is_a_clear_non_retryable_error(fake):
    publisher(fake).publish(Post(parts=("Old words",), idempotency_key="k"))
    for n in range(200):  # push it out of the two pages that are searched
        fake._store(f"filler {n}", [], None)
    with pytest.raises(PublishError, match="duplicate content") as caught:
        publisher(fake).publish(Post(parts=("Old words",), idempotency_key="k2"))
    assert not isinstance(caught.value, AuthError) and not caught.value.retryable


def test_too_long_tweet_is_refused_with_xs_message(fake):
    with pytest.raises(PublishError, match="Your Tweet text is too long") as caught:
        publisher(fake).publish(fake.invalid_post("k"))
    assert caught.value.status == 400 and not caught.value.retryable


def test_rate_limit_reset_header(fake):
    fake.fail_next(429, path="/2/tweets", json={"title": "Too Many Requests", "detail": "Too Many Requests"},
                   headers={"x-rate-limit-reset": str(int(time.time()) + 60)})
    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(Post(parts=("hi",), idempotency_key="k"))
    assert caught.value.retryable and 50 <= caught.value.retry_after <= 60


def test_engagement_from_public_metrics(fake):
    published = publisher(fake).publish(Post(parts=("hi",), idempotency_key="k"))
    fake.tweets[published.remote_id].metrics.update(like_count=9, retweet_count=2, quote_count=1, impression_count=400)
    assert publisher(fake).fetch_engagement(published.remote_id) == Engagement(likes=9, reposts=3, replies=0, views=400)


def test_check_credentials(fake):
    assert publisher(fake).check_credentials().message == "x: signed in as @castmill"
    status = publisher(fake, token="expired-user-token-77").check_credentials()
    assert not status.ok and "expired-user-token-77" not in status.message


def test_comparable_and_tweet_text():
    tweet = {"text": "A &amp; B https://t.co/abc https://t.co/pic",
             "entities": {"urls": [{"url": "https://t.co/abc", "expanded_url": "http://example.com/x/"},
                                   {"url": "https://t.co/pic", "expanded_url": "https://x.com/p", "media_key": "3_1"}]}}
    assert tweet_text(tweet) == "A & B http://example.com/x/ "
    assert comparable(tweet_text(tweet)) == comparable("A & B\nexample.com/x")
    assert comparable("Caf\u00e9") == comparable("Cafe\u0301")  # NFC


def test_the_fake_refuses_unknown_fields_and_non_json(fake):
    import requests
    headers = {"Authorization": f"Bearer {fake.token}"}
    wrong = requests.post(fake.url("/2/tweets"), json={"status": "hi"}, headers=headers, timeout=5)
    assert wrong.status_code == 400 and "$.status: is not defined in the schema" in wrong.json()["errors"][0]["message"]
    form = requests.post(fake.url("/2/tweets"), data={"text": "hi"}, headers=headers, timeout=5)
    assert form.status_code == 400 and fake.post_count == 0


# ---------------------------------------------------------------- the look-up window (Post.first_attempt_at)


def tweet_a_day_ago(fake, post: Post) -> str:
    """Publish ``post`` as if it went out yesterday (the fake's clock moved back); the first tweet's id."""
    fake.clock = lambda: time.time() - 86400
    try:
        return publisher(fake).publish(post).remote_id
    finally:
        fake.clock = time.time


def a_retry(post: Post) -> Post:
    return replace(post, first_attempt_at=datetime.now(timezone.utc) - timedelta(minutes=1))


@pytest.mark.parametrize("parts", [("New episode out now!",), ("New episode out now!", "Link below.")],
                         ids=["one part", "thread"])
def test_a_repeated_text_is_published_anew_on_a_retry(fake, parts):
    fake.duplicate_window = 3600  # X no longer counts yesterday's tweet as a duplicate
    old_id = tweet_a_day_ago(fake, Post(parts=parts, idempotency_key="ep12"))
    retry = a_retry(Post(parts=parts, idempotency_key="ep13"))

    assert publisher(fake).find_existing(retry) is None
    published = publisher(fake).publish(retry)

    assert fake.post_count == 2 * len(parts) and published.remote_id != old_id
    assert fake.tweets[published.remote_id].reply_to is None
    assert fake.tweets[published.remote_id].created_at > time.time() - 60


def test_a_duplicate_of_an_old_tweet_is_an_error_not_a_published_post(fake):
    tweet_a_day_ago(fake, Post(parts=("New episode out now!",), idempotency_key="ep12"))  # X still refuses it

    with pytest.raises(PublishError, match="duplicate content") as caught:
        publisher(fake).publish(a_retry(Post(parts=("New episode out now!",), idempotency_key="ep13")))

    assert not caught.value.retryable and fake.post_count == 1


def test_a_retry_after_an_accepted_timed_out_attempt_finds_it_and_sends_nothing(fake, monkeypatch):
    fake.duplicate_window = 3600
    tweet_a_day_ago(fake, Post(parts=("New episode out now!", "Link below."), idempotency_key="ep12"))
    post = Post(parts=("New episode out now!", "Link below."), idempotency_key="ep13")
    monkeypatch.setattr(base, "READ_TIMEOUT", 0.5)
    fake.hang_next(path="/2/tweets$", after=1)  # part two goes out, its answer is lost
    started = datetime.now(timezone.utc)
    with pytest.raises(OutcomeUnknown):
        publisher(fake).publish(post)
    first_new = max(fake.tweets.values(), key=lambda t: int(t.id)).reply_to
    sent = len(fake.requests_to("POST", "/2/tweets"))

    result = publisher(fake).publish(replace(post, first_attempt_at=started))

    assert result.remote_id == first_new and fake.post_count == 4
    assert len(fake.requests_to("POST", "/2/tweets")) == sent


def test_a_first_attempt_makes_no_look_up_read(fake):
    publisher(fake).publish(Post(parts=("One", "Two"), idempotency_key="k"))

    assert fake.requests_to("GET", r"/2/users/\d+/tweets") == [] and fake.post_count == 2
