"""Threads publisher against the Threads fake: containers, reply chains, resuming, quotas, errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.publish.publishers import (Account, AuthError, Engagement, MediaFile, OutcomeUnknown, Post,
                                           PublishError, get_publisher)
from tests.fakes.graph import ShortTimeouts
from tests.fakes.threads import ThreadsFake
from tests.helpers.publishers import graph_calls as calls
from tests.helpers.publishers import (publish_a_day_ago, recording_sleeps, retry_after_a_lost_publish_answer,
                                      serve_checked)

TOKEN = "threads-token-SECRET-99"


@pytest.fixture
def fake():
    yield from serve_checked(ThreadsFake(token=TOKEN))


def publisher(fake, http=None):
    return recording_sleeps(get_publisher(Account("threads", fake.base_url, token=TOKEN, handle=fake.user_id,
                                                  extra={"media_base_url": "https://clips.example.com/"}), http))


def test_publishes_a_text_post(fake):
    result = publisher(fake).publish(Post(parts=("Small shows win.",), idempotency_key="k1"))

    assert calls(fake) == ["GET threads_publishing_limit", "POST threads", "GET {id}",
                           "POST threads_publish", "GET {id}"]  # a first attempt: nothing to look for
    create = fake.requests_to("POST", r"/v1\.0/\d+/threads")[0]
    assert fake.params(create) == {"media_type": "TEXT", "text": "Small shows win."}
    assert all(r.header("authorization") == f"Bearer {TOKEN}" for r in fake.requests)
    assert [p["text"] for p in fake.published] == ["Small shows win."]
    assert result.remote_id == fake.published[0]["id"] and result.url == fake.published[0]["permalink"]


@pytest.mark.parametrize("parts", [("Said once.",), ("Said once.", "And a reply.")], ids=["one part", "thread"])
def test_publishing_the_same_post_again_returns_it_without_posting_again(fake, parts):
    post = Post(parts=parts, idempotency_key="k")
    started = datetime.now(timezone.utc)
    first = publisher(fake).publish(post)
    containers, requests_before = len(fake.containers), len(fake.requests)

    second = publisher(fake).publish(replace(post, first_attempt_at=started))

    assert second.remote_id == first.remote_id and second.url == first.url
    assert len(fake.published) == len(parts) and len(fake.containers) == containers
    assert all(r.method == "GET" for r in fake.requests[requests_before:])
    assert fake.requests[requests_before].arg("fields") == "id,text,timestamp,permalink"


def test_video_post_waits_for_processing(fake, tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"video")
    fake.processing_polls = 2
    pub = publisher(fake)

    pub.publish(Post(parts=("Watch this",), idempotency_key="k", media=(MediaFile(clip, "video", "video/mp4"),)))

    create = fake.requests_to("POST", r"/v1\.0/\d+/threads")[0]
    assert fake.params(create)["media_type"] == "VIDEO"
    assert fake.params(create)["video_url"] == "https://clips.example.com/clip.mp4"
    assert pub.slept == [2.0, 4.0] and len(fake.published) == 1


def test_video_processing_error_carries_the_reason(fake, tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"video")
    fake.processing_polls, fake.container_outcome = 1, "ERROR"

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(Post(parts=("x",), idempotency_key="k",
                                     media=(MediaFile(clip, "video", "video/mp4"),)))

    assert "FAILED_PROCESSING_VIDEO" in str(caught.value) and not caught.value.retryable
    assert fake.published == []


def test_multi_part_post_becomes_a_reply_chain(fake):
    result = publisher(fake).publish(Post(parts=("One", "Two", "Three"), idempotency_key="k"))

    root, second, third = fake.published
    assert (root["text"], second["text"], third["text"]) == ("One", "Two", "Three")
    assert root["reply_to"] is None and second["reply_to"] == root["id"] and third["reply_to"] == second["id"]
    assert result.remote_id == root["id"]
    limit_checks = [r.arg("fields") for r in fake.requests_to("GET", r".*/threads_publishing_limit")]
    assert limit_checks == ["quota_usage,config", "reply_quota_usage,reply_config"]


def test_text_limit_counts_emoji_as_bytes(fake):
    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(Post(parts=("a" * 497 + "😀",), idempotency_key="k"))

    assert "501 characters; the limit is 500" in str(caught.value)
    assert not caught.value.retryable and fake.published == []

    publisher(fake).publish(Post(parts=("a" * 496 + "😀",), idempotency_key="k"))
    assert len(fake.published) == 1


def test_429_is_retryable_with_retry_after(fake):
    fake.fail_next(429, path=r"/threads_publish$", headers={"Retry-After": "12"},
                   json={"error": {"message": "Too many calls", "type": "OAuthException", "code": 4}})

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(Post(parts=("x",), idempotency_key="k"))

    assert caught.value.retryable and caught.value.retry_after == 12.0 and fake.published == []


def test_expired_token_is_an_auth_error(fake):
    fake.token_expired = True

    with pytest.raises(AuthError) as caught:
        publisher(fake).publish(Post(parts=("x",), idempotency_key="k"))

    assert TOKEN not in str(caught.value) and "reconnect" in str(caught.value)


def test_timeout_after_publish_is_unknown_and_found_again(fake):
    fake.hang_next(path=r"/threads_publish$")
    post = Post(parts=("Only once, please.",), idempotency_key="k")

    with pytest.raises(OutcomeUnknown) as caught:
        publisher(fake, http=ShortTimeouts(read=0.5)).publish(post)

    assert TOKEN not in str(caught.value)
    found = publisher(fake).find_existing(post)
    assert found is not None and found.remote_id == fake.published[0]["id"]
    assert len(fake.published) == 1


def test_interrupted_thread_is_resumed_not_repeated(fake):
    post = Post(parts=("One", "Two", "Three"), idempotency_key="k")
    fake.fail_next(429, method="POST", path=r"/threads$", times=1)  # part one's container: refused once
    started = datetime.now(timezone.utc)
    with pytest.raises(PublishError):
        publisher(fake).publish(post)
    assert fake.published == []
    post = replace(post, first_attempt_at=started)  # every later attempt is a retry

    fake.hang_next(path=r"/threads_publish$")  # part one goes out, the answer is lost
    with pytest.raises(OutcomeUnknown):
        publisher(fake, http=ShortTimeouts(read=0.5)).publish(post)
    assert [p["text"] for p in fake.published] == ["One"]

    pub = publisher(fake)
    assert pub.find_existing(post) is None  # replies missing: not yet "published"
    result = pub.publish(post)

    assert [p["text"] for p in fake.published] == ["One", "Two", "Three"]
    root = fake.published[0]
    assert fake.published[1]["reply_to"] == root["id"] and result.remote_id == root["id"]
    assert pub.find_existing(post).remote_id == root["id"]


def test_exhausted_post_quota_is_refused_before_any_container(fake):
    fake.quota_total = 0

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(Post(parts=("x",), idempotency_key="k"))

    assert "quota used up (0 of 0 posts" in str(caught.value) and not caught.value.retryable
    assert fake.containers == {}


def test_exhausted_reply_quota_stops_a_thread_before_its_first_part(fake):
    fake.reply_quota_total = 1
    publisher(fake).publish(Post(parts=("a", "b"), idempotency_key="k1"))

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(Post(parts=("c", "d"), idempotency_key="k2"))

    assert "1 of 1 replies" in str(caught.value)
    assert [p["text"] for p in fake.published] == ["a", "b"]


def test_default_api_root_is_graph_threads_net():
    pub = get_publisher(Account("threads", "", token=TOKEN, handle="1"))
    assert pub.graph_url("1/threads") == "https://graph.threads.net/v1.0/1/threads"


# ---------------------------------------------------------------- the look-up window (Post.first_attempt_at)


@pytest.mark.parametrize("parts", [("New episode out now!",), ("New episode out now!", "Link in bio.")],
                         ids=["one part", "thread"])
def test_a_repeated_text_is_published_anew_on_a_retry(fake, parts):
    old_id = publish_a_day_ago(fake, publisher(fake), Post(parts=parts, idempotency_key="ep12"))
    retry = Post(parts=parts, idempotency_key="ep13",
                 first_attempt_at=datetime.now(timezone.utc) - timedelta(minutes=1))

    assert publisher(fake).find_existing(retry) is None
    published = publisher(fake).publish(retry)

    assert len(fake.published) == 2 * len(parts) and published.remote_id != old_id
    new_root = next(p for p in fake.published if p["id"] == published.remote_id)
    assert new_root["reply_to"] is None and new_root["text"] == parts[0]


def test_a_retry_after_an_accepted_timed_out_attempt_finds_it_and_sends_nothing(fake):
    publish_a_day_ago(fake, publisher(fake), Post(parts=("New episode out now!",), idempotency_key="ep12"))
    post = Post(parts=("New episode out now!",), idempotency_key="ep13")

    result, accepted, containers = retry_after_a_lost_publish_answer(fake, publisher, post, r"/threads_publish$")

    assert result.remote_id == accepted and len(fake.published) == 2
    assert len(fake.containers) == containers


def test_a_first_attempt_makes_no_look_up_read(fake):
    publisher(fake).publish(Post(parts=("One", "Two"), idempotency_key="k"))

    assert fake.requests_to("GET", r"/v1\.0/\d+/threads") == []
    assert fake.requests_to("GET", r".*/conversation") == []
    assert len(fake.published) == 2


# ---------------------------------------------------------------- engagement

def published(fake, *parts: str) -> str:
    remote_id = publisher(fake).publish(Post(parts=parts, idempotency_key="k")).remote_id
    fake.requests.clear()
    return remote_id


def test_engagement_reads_the_media_insights_with_quotes_as_reposts(fake):
    remote_id = published(fake, "Small shows win.", "Here is why.")
    fake.engage(remote_id, likes=10, replies=4, reposts=2, quotes=1, views=300, shares=6)

    assert publisher(fake).fetch_engagement(remote_id) == Engagement(likes=10, reposts=3, replies=4, views=300)
    (read,) = fake.requests
    assert (read.path, read.arg("metric")) == (f"/v1.0/{remote_id}/insights", "views,likes,replies,reposts,quotes")
    assert read.bearer() == TOKEN and "access_token" not in read.query


def test_views_are_none_while_threads_reports_none(fake):
    remote_id = published(fake, "Small shows win.")
    fake.engage(remote_id, likes=1)

    assert publisher(fake).fetch_engagement(remote_id) == Engagement(likes=1, reposts=0, replies=0, views=None)


def test_engagement_of_an_unknown_post_is_a_clear_error(fake):
    with pytest.raises(PublishError) as caught:
        publisher(fake).fetch_engagement("18099999999999999")

    assert not isinstance(caught.value, AuthError) and not caught.value.retryable
    assert "18099999999999999" in str(caught.value) and "does not exist" in str(caught.value)


def test_engagement_with_a_wrong_token_is_an_auth_error(fake):
    remote_id = published(fake, "Small shows win.")
    pub = get_publisher(Account("threads", fake.base_url, token="wrong-SECRET-th", handle=fake.user_id))

    with pytest.raises(AuthError) as caught:
        pub.fetch_engagement(remote_id)

    assert "code 190" in str(caught.value)
    assert "wrong-SECRET-th" not in str(caught.value) and TOKEN not in str(caught.value)


def test_missing_insights_permission_is_an_auth_error_naming_it(fake):
    remote_id = published(fake, "Small shows win.")
    fake.granted.discard("threads_manage_insights")

    with pytest.raises(AuthError) as caught:
        publisher(fake).fetch_engagement(remote_id)

    assert "threads_manage_insights" in str(caught.value) and "reconnect" in str(caught.value)
    assert TOKEN not in str(caught.value) and not caught.value.retryable
