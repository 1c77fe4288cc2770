"""Facebook Page publisher against the Graph fake: feed posts and the Reels start → upload → finish flow."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.publish.publishers import (Account, AuthError, Engagement, OutcomeUnknown, Post,
                                           PublishError, get_publisher)
from tests.fakes.facebook import FacebookFake
from tests.fakes.graph import ShortTimeouts, graph_time
from tests.helpers.publishers import graph_calls as calls
from tests.helpers.publishers import publish_a_day_ago, serve_checked, video_clip

TOKEN = "page-token-SECRET-42"


@pytest.fixture
def fake():
    yield from serve_checked(FacebookFake(token=TOKEN))


@pytest.fixture
def clip(tmp_path):
    return video_clip(tmp_path / "reel.mp4", bytes(range(256)) * 64)


def publisher(fake, http=None):
    return get_publisher(Account("facebook", fake.base_url, token=TOKEN, handle=fake.page_id), http)


def test_text_post_goes_to_the_page_feed_with_the_link(fake):
    result = publisher(fake).publish(Post(parts=("New episode is out!",), idempotency_key="k",
                                          link="https://pod.example.com/12"))

    assert calls(fake) == ["POST feed"]  # a first attempt: nothing to look for
    assert fake.params(fake.requests[0]) == {"message": "New episode is out!", "link": "https://pod.example.com/12"}
    assert all(r.header("authorization") == f"Bearer {TOKEN}" for r in fake.requests)
    assert result.remote_id == fake.feed[0]["id"]
    assert result.url == f"https://www.facebook.com/{fake.page_id}/posts/{fake.feed[0]['id'].split('_')[1]}"


def test_video_post_is_published_as_a_reel(fake, clip):
    result = publisher(fake).publish(Post(parts=("Clip of the week",), idempotency_key="k", media=(clip,)))

    # the 24-hour Reels window (created_time), then start → upload → finish
    assert calls(fake) == ["GET video_reels", "POST video_reels", "POST {id}", "POST video_reels"]
    assert fake.requests[0].arg("fields") == "id,created_time"
    start, upload, finish = fake.requests[1:]
    assert fake.params(start) == {"upload_phase": "start"}
    assert upload.path.startswith("/video-upload/")
    assert upload.header("authorization") == f"OAuth {TOKEN}"
    assert (upload.header("offset"), upload.header("file_size")) == ("0", str(clip.path.stat().st_size))
    assert upload.body == clip.path.read_bytes()
    assert fake.params(finish) == {"upload_phase": "finish", "video_id": result.remote_id,
                                   "video_state": "PUBLISHED", "description": "Clip of the week"}
    assert [r["id"] for r in fake.reels] == [result.remote_id]
    assert result.url == f"https://www.facebook.com/reel/{result.remote_id}"


@pytest.mark.parametrize("with_video", [False, True], ids=["feed post", "reel"])
def test_publishing_the_same_post_again_returns_it_without_posting_again(fake, clip, with_video):
    post = Post(parts=("Once is enough",), idempotency_key="k", media=(clip,) if with_video else ())
    started = datetime.now(timezone.utc)
    first = publisher(fake).publish(post)
    requests_before = len(fake.requests)

    second = publisher(fake).publish(replace(post, first_attempt_at=started))

    assert second.remote_id == first.remote_id and len(fake.published) == 1
    assert [r.method for r in fake.requests[requests_before:]] == ["GET"]  # one look, nothing sent
    assert fake.requests[-1].arg("fields") == ("id,description,created_time,permalink_url" if with_video
                                               else "id,message,created_time,permalink_url")


def test_upload_refusal_carries_the_upload_hosts_message(fake, clip):
    fake.fail_next(400, path=r"^/video-upload/", json={"debug_info": {
        "type": "ParameterValidationError", "message": "HeaderValuePredicate: Header Offset not convertable"}})

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(Post(parts=("x",), idempotency_key="k", media=(clip,)))

    assert "Header Offset not convertable (ParameterValidationError)" in str(caught.value)
    assert not caught.value.retryable and fake.reels == []


def test_message_over_the_limit_is_refused(fake):
    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(Post(parts=("x" * 63207,), idempotency_key="k"))

    assert "longer than 63206" in str(caught.value) and not caught.value.retryable
    assert fake.feed == []


def test_429_is_retryable_with_retry_after(fake, clip):
    fake.fail_next(429, method="POST", path=r"/video_reels$", headers={"Retry-After": "30"},
                   json={"error": {"message": "(#4) Application request limit reached", "code": 4}})

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(Post(parts=("x",), idempotency_key="k", media=(clip,)))

    assert caught.value.retryable and caught.value.retry_after == 30.0 and fake.reels == []


def test_expired_token_is_an_auth_error(fake):
    fake.token_expired = True

    with pytest.raises(AuthError) as caught:
        publisher(fake).publish(Post(parts=("x",), idempotency_key="k"))

    assert TOKEN not in str(caught.value) and "190/463" in str(caught.value)


def test_timeout_at_start_is_plainly_retryable(fake, clip):
    fake.hang_next(method="POST", path=r"/video_reels$")  # the first match is the start call

    with pytest.raises(PublishError) as caught:
        publisher(fake, http=ShortTimeouts(read=0.5)).publish(Post(parts=("x",), idempotency_key="k",
                                                                   media=(clip,)))

    assert caught.value.retryable and not isinstance(caught.value, OutcomeUnknown)
    assert fake.reels == []


def test_timeout_at_finish_is_unknown_and_the_reel_is_found(fake, clip):
    fake.lose_finish_answer = True
    post = Post(parts=("Reel once",), idempotency_key="k", media=(clip,))

    with pytest.raises(OutcomeUnknown) as caught:
        publisher(fake, http=ShortTimeouts(read=0.5)).publish(post)

    assert TOKEN not in str(caught.value)
    found = publisher(fake).find_existing(post)
    assert found is not None and found.remote_id == fake.reels[0]["id"]
    assert found.url == fake.reels[0]["permalink_url"] and len(fake.reels) == 1


def test_timeout_after_a_feed_post_is_unknown_and_found(fake):
    fake.hang_next(path=r"/feed$", method="POST")
    post = Post(parts=("Only once",), idempotency_key="k")

    with pytest.raises(OutcomeUnknown):
        publisher(fake, http=ShortTimeouts(read=0.5)).publish(post)

    pub = publisher(fake)
    assert pub.find_existing(post).remote_id == fake.feed[0]["id"]
    assert pub.find_existing(Post(parts=("Something else",), idempotency_key="k2")) is None
    assert len(fake.feed) == 1


def test_full_reels_window_is_refused_before_uploading(fake, clip):
    now = time.time()
    fake.reels.extend({"id": str(9000 + i), "description": f"old {i}", "at": now - 60,
                       "created_time": graph_time(now - 60)} for i in range(30))

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(Post(parts=("x",), idempotency_key="k", media=(clip,)))

    assert "Reels quota used up (30 of 30 in the last 24 hours)" in str(caught.value)
    assert not caught.value.retryable and fake.videos == {}


def test_reels_older_than_a_day_do_not_count(fake, clip):
    old = time.time() - 90000
    fake.reels.extend({"id": str(9000 + i), "description": f"old {i}", "at": old,
                       "created_time": graph_time(old)} for i in range(30))

    publisher(fake).publish(Post(parts=("fresh",), idempotency_key="k", media=(clip,)))

    assert fake.reels[-1]["description"] == "fresh"


# ---------------------------------------------------------------- the look-up window (Post.first_attempt_at)


@pytest.mark.parametrize("with_video", [False, True], ids=["feed post", "reel"])
def test_a_repeated_caption_is_published_anew_on_a_retry(fake, clip, with_video):
    post = Post(parts=("New episode out now!",), idempotency_key="ep13", media=(clip,) if with_video else ())
    old_id = publish_a_day_ago(fake, publisher(fake), replace(post, idempotency_key="ep12"))
    retry = replace(post, first_attempt_at=datetime.now(timezone.utc) - timedelta(minutes=1))

    assert publisher(fake).find_existing(retry) is None
    published = publisher(fake).publish(retry)

    assert len(fake.published) == 2 and published.remote_id != old_id
    assert {p["id"] for p in fake.published} == {old_id, published.remote_id}


@pytest.mark.parametrize("with_video", [False, True], ids=["feed post", "reel"])
def test_a_retry_after_an_accepted_timed_out_attempt_finds_it_and_sends_nothing(fake, clip, with_video):
    post = Post(parts=("New episode out now!",), idempotency_key="ep13", media=(clip,) if with_video else ())
    publish_a_day_ago(fake, publisher(fake), replace(post, idempotency_key="ep12"))
    started = datetime.now(timezone.utc)
    if with_video:
        fake.lose_finish_answer = True
    else:
        fake.hang_next(path=r"/feed$", method="POST")
    with pytest.raises(OutcomeUnknown):
        publisher(fake, http=ShortTimeouts(read=0.5)).publish(post)
    accepted = fake.published[-1]["id"]
    posts_before = len(fake.requests_to("POST", r".*"))

    result = publisher(fake).publish(replace(post, first_attempt_at=started))

    assert result.remote_id == accepted and len(fake.published) == 2
    assert len(fake.requests_to("POST", r".*")) == posts_before


def test_a_first_attempt_makes_no_look_up_read(fake):
    fake.feed.append({"id": f"{fake.page_id}_1", "message": "New episode out now!", "at": time.time(),
                      "created_time": graph_time(time.time())})

    publisher(fake).publish(Post(parts=("New episode out now!",), idempotency_key="k"))

    assert fake.requests_to("GET", r".*") == [] and len(fake.feed) == 2


def test_a_listed_post_without_a_readable_time_is_not_matched_on_a_retry(fake):
    fake.feed.append({"id": f"{fake.page_id}_1", "message": "New episode out now!", "at": time.time(),
                      "created_time": "yesterday-ish"})
    post = Post(parts=("New episode out now!",), idempotency_key="k")

    assert publisher(fake).find_existing(post) is not None  # no window on a first look-up: today's behaviour
    assert publisher(fake).find_existing(replace(post, first_attempt_at=datetime.now(timezone.utc))) is None


# ---------------------------------------------------------------- engagement

def published(fake, post: Post) -> str:
    remote_id = publisher(fake).publish(post).remote_id
    fake.requests.clear()
    return remote_id


def text_post() -> Post:
    return Post(parts=("New episode is out!",), idempotency_key="k", link="https://pod.example.com/12")


def test_feed_post_engagement_reads_reactions_comments_and_shares(fake):
    post_id = published(fake, text_post())
    fake.engage(post_id, reactions=7, comments=2, shares=3)

    assert publisher(fake).fetch_engagement(post_id) == Engagement(likes=7, reposts=3, replies=2, views=None)
    (read,) = fake.requests
    assert read.path == f"/v21.0/{post_id}"
    assert read.arg("fields") == ("reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),"
                                  "shares")
    assert read.bearer() == TOKEN and "access_token" not in read.query


def test_a_post_nobody_shared_has_no_shares_field_and_zero_reposts(fake):
    post_id = published(fake, text_post())
    fake.engage(post_id, reactions=1)

    assert publisher(fake).fetch_engagement(post_id) == Engagement(likes=1, reposts=0, replies=0)


def test_reel_engagement_adds_plays_and_shares_from_the_reels_insights(fake, clip):
    video_id = published(fake, Post(parts=("Clip of the week",), idempotency_key="k", media=(clip,)))
    fake.engage(video_id, reactions=9, comments=4, shares=2, plays=1500)

    assert publisher(fake).fetch_engagement(video_id) == Engagement(likes=9, reposts=2, replies=4, views=1500)
    node, insights = fake.requests
    assert node.path == f"/v21.0/{video_id}" and "shares" not in node.arg("fields")  # a Video has no shares field
    assert (insights.path, insights.arg("metric")) == (f"/v21.0/{video_id}/video_insights",
                                                       "blue_reels_play_count,post_video_social_actions")


def test_reel_views_are_none_before_meta_reports_plays(fake, clip):
    video_id = published(fake, Post(parts=("Clip",), idempotency_key="k", media=(clip,)))

    assert publisher(fake).fetch_engagement(video_id) == Engagement(likes=0, reposts=0, replies=0, views=None)


@pytest.mark.parametrize("remote_id", ["104500000000001_999", "999"])
def test_engagement_of_an_unknown_post_is_a_clear_error(fake, remote_id):
    with pytest.raises(PublishError) as caught:
        publisher(fake).fetch_engagement(remote_id)

    assert not isinstance(caught.value, AuthError) and not caught.value.retryable
    assert remote_id in str(caught.value) and "does not exist" in str(caught.value) and TOKEN not in str(caught.value)


def test_engagement_with_a_wrong_token_is_an_auth_error(fake):
    post_id = published(fake, text_post())
    pub = get_publisher(Account("facebook", fake.base_url, token="wrong-SECRET-fb", handle=fake.page_id))

    with pytest.raises(AuthError) as caught:
        pub.fetch_engagement(post_id)

    assert "code 190" in str(caught.value)
    assert "wrong-SECRET-fb" not in str(caught.value) and TOKEN not in str(caught.value)


@pytest.mark.parametrize("with_video", [False, True])
def test_missing_read_engagement_permission_is_an_auth_error_naming_it(fake, clip, with_video):
    post = Post(parts=("Clip",), idempotency_key="k", media=(clip,)) if with_video else text_post()
    remote_id = published(fake, post)
    fake.granted.discard("pages_read_engagement")

    with pytest.raises(AuthError) as caught:
        publisher(fake).fetch_engagement(remote_id)

    assert "pages_read_engagement" in str(caught.value) and "reconnect" in str(caught.value)
    assert TOKEN not in str(caught.value)
