"""Instagram Reels publisher against the Graph fake: container → status → publish, quotas, errors."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.publish.publishers import (Account, AuthError, Engagement, OutcomeUnknown, Post,
                                           PublishError, get_publisher)
from tests.fakes.graph import InstagramFake, ShortTimeouts, graph_time
from tests.helpers.publishers import graph_calls as calls
from tests.helpers.publishers import (MP4_HEADER, fake_clock, recording_sleeps, retry_after_a_lost_publish_answer,
                                      serve_checked, video_clip)

TOKEN = "ig-token-SECRET-1234"
MEDIA_BASE = "https://clips.example.com/acme/"


@pytest.fixture
def fake():
    yield from serve_checked(InstagramFake(token=TOKEN))


@pytest.fixture
def clip(tmp_path):
    return video_clip(tmp_path / "ep12 highlight.mp4", MP4_HEADER + b"\x00" * 2048)


def account(fake, **extra) -> Account:
    return Account("instagram", fake.base_url, token=TOKEN, handle=fake.user_id,
                   extra={"media_base_url": MEDIA_BASE, **extra})


def publisher(fake, http=None, **extra):
    return recording_sleeps(get_publisher(account(fake, **extra), http))


def reel(clip, text="Why small shows win #podcast", key="post-1") -> Post:
    return Post(parts=(text,), idempotency_key=key, media=(clip,))


def assert_token_hidden(error: Exception) -> None:
    assert TOKEN not in str(error)
    assert TOKEN not in repr(error.args)


def test_publishes_a_reel_through_the_container_flow(fake, clip):
    pub = publisher(fake)

    result = pub.publish(reel(clip))

    assert calls(fake) == ["GET content_publishing_limit", "POST media", "GET {id}", "GET {id}",
                           "POST media_publish", "GET {id}"]  # a first attempt: nothing to look for
    create = fake.requests_to("POST", r"/v[\d.]+/\d+/media")[0]
    assert fake.params(create) == {"media_type": "REELS", "caption": "Why small shows win #podcast",
                                   "video_url": "https://clips.example.com/acme/ep12%20highlight.mp4"}
    assert all(r.header("authorization") == f"Bearer {TOKEN}" for r in fake.requests)
    assert all(TOKEN not in r.path and TOKEN not in str(r.query) for r in fake.requests)
    assert len(fake.published) == 1
    assert result.remote_id == fake.published[0]["id"]
    assert result.url == fake.published[0]["permalink"]
    assert pub.slept == [2.0]  # one IN_PROGRESS answer, then FINISHED


def test_publishing_the_same_reel_again_returns_it_without_a_new_container(fake, clip):
    started = datetime.now(timezone.utc)
    first = publisher(fake).publish(reel(clip))
    containers, requests_before = len(fake.containers), len(fake.requests)

    second = publisher(fake).publish(replace(reel(clip), first_attempt_at=started))

    assert second.remote_id == first.remote_id and len(fake.published) == 1
    assert len(fake.containers) == containers
    assert calls(fake)[requests_before:] == ["GET media"]  # a retry: is the Reel already there?
    assert fake.requests[-1].arg("fields") == "id,caption,timestamp,permalink"


def test_joins_parts_into_one_caption(fake, clip):
    publisher(fake).publish(Post(parts=("First part.", "Second part."), idempotency_key="k", media=(clip,)))

    assert fake.published[0]["caption"] == "First part.\n\nSecond part."


def test_polling_backs_off_and_gives_up_without_publishing(fake, clip):
    fake.processing_polls = 1000
    pub = publisher(fake)

    with pytest.raises(PublishError) as caught:
        pub.publish(reel(clip))

    assert caught.value.retryable
    assert "still processing" in str(caught.value)
    assert pub.slept == sorted(pub.slept) and max(pub.slept) == pub.poll_max_wait
    assert len(pub.slept) == pub.poll_attempts - 1
    assert fake.published == [] and fake.requests_to("POST", r"/v[\d.]+/\d+/media_publish") == []


def test_container_error_fails_with_the_platform_reason(fake, clip):
    fake.container_outcome = "ERROR"

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(reel(clip))

    assert not caught.value.retryable
    assert "2207026" in str(caught.value) and "ERROR" in str(caught.value)
    assert fake.published == []


@pytest.mark.parametrize("text, expected", [
    ("x" * 2201, "2201 characters; the limit is 2200"),
    (" ".join(f"#tag{i}" for i in range(31)), "31 hashtags; the limit is 30"),
])
def test_caption_limits_are_refused_with_the_platform_message(fake, clip, text, expected):
    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(reel(clip, text=text))

    assert expected in str(caught.value) and "code 100" in str(caught.value)
    assert not caught.value.retryable and not isinstance(caught.value, AuthError)
    assert fake.containers == {} and fake.published == []


def test_a_caption_at_the_limits_is_accepted(fake, clip):
    text = " ".join(f"#t{i}" for i in range(30))
    publisher(fake).publish(reel(clip, text=text + " " + "x" * (2200 - len(text) - 1)))

    assert len(fake.published) == 1 and len(fake.published[0]["caption"]) == 2200


def test_the_fake_refuses_publishing_before_finished(fake):
    import requests

    headers = {"Authorization": f"Bearer {TOKEN}"}
    fake.processing_polls = 5
    created = requests.post(fake.url(f"/v21.0/{fake.user_id}/media"), headers=headers,
                            data={"media_type": "REELS", "video_url": MEDIA_BASE + "a.mp4", "caption": "c"}).json()

    early = requests.post(fake.url(f"/v21.0/{fake.user_id}/media_publish"), headers=headers,
                          data={"creation_id": created["id"]})

    assert early.status_code == 400 and early.json()["error"]["error_subcode"] == 2207027
    assert fake.published == []


def test_not_ready_answer_is_retryable(fake, clip):
    fake.fail_next(400, path=r"/media_publish$", json={"error": {
        "message": "Media ID is not available", "type": "OAuthException", "code": 9007, "error_subcode": 2207027}})

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(reel(clip))

    assert caught.value.retryable and fake.published == []


def test_429_is_retryable_with_retry_after(fake, clip):
    fake.fail_next(429, path=r"/media_publish$", headers={"Retry-After": "7"},
                   json={"error": {"message": "Too many requests", "type": "OAuthException", "code": 4}})

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(reel(clip))

    assert caught.value.retryable and caught.value.retry_after == 7.0 and caught.value.status == 429
    assert fake.published == []


def test_throttling_code_on_a_400_is_retryable_with_the_usage_header_wait(fake, clip):
    usage = '{"17841400000000001": [{"type": "instagram", "call_count": 100, "estimated_time_to_regain_access": 3}]}'
    fake.fail_next(400, path=r"/media$", method="POST", headers={"X-Business-Use-Case-Usage": usage},
                   json={"error": {"message": "(#17) User request limit reached", "type": "OAuthException",
                                   "code": 17, "is_transient": True}})

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(reel(clip))

    assert caught.value.retryable and caught.value.retry_after == 180.0
    assert "User request limit reached" in str(caught.value)


@pytest.mark.parametrize("code, retryable", [(4, True), (17, True), (32, True), (613, True), (2, True),
                                             (100, False)])
def test_graph_codes_decide_retrying_not_the_http_status(fake, clip, code, retryable):
    fake.fail_next(400, path=r"/media_publish$", json={"error": {
        "message": f"error {code}", "type": "OAuthException", "code": code, "is_transient": False}})

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(reel(clip))

    assert caught.value.retryable is retryable and not isinstance(caught.value, AuthError)


def test_documented_try_again_subcode_is_retryable(fake, clip):
    fake.fail_next(400, path=r"/media$", method="POST", json={"error": {
        "message": "Instagram server error. Try again.", "type": "OAuthException", "code": -1,
        "error_subcode": 2207001, "is_transient": False}})

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(reel(clip))

    assert caught.value.retryable


def test_expired_token_is_an_auth_error_without_the_token(fake, clip):
    fake.token_expired = True

    with pytest.raises(AuthError) as caught:
        publisher(fake).publish(reel(clip))

    assert "code 190/463" in str(caught.value) and "reconnect" in str(caught.value)
    assert not caught.value.retryable
    assert_token_hidden(caught.value)


def test_wrong_token_is_an_auth_error(fake, clip):
    pub = get_publisher(Account("instagram", fake.base_url, token="not-it", handle=fake.user_id,
                                extra={"media_base_url": MEDIA_BASE}))

    with pytest.raises(AuthError):
        pub.publish(reel(clip))


def test_timeout_after_publish_is_unknown_and_found_again(fake, clip):
    fake.hang_next(path=r"/media_publish$")
    pub = publisher(fake, http=ShortTimeouts(read=0.5))
    post = reel(clip)

    with pytest.raises(OutcomeUnknown) as caught:
        pub.publish(post)

    assert_token_hidden(caught.value)
    found = publisher(fake).find_existing(post)
    assert found is not None and found.remote_id == fake.published[0]["id"]
    assert found.url == fake.published[0]["permalink"]
    assert len(fake.published) == 1


def test_find_existing_ignores_other_posts(fake, clip):
    pub = publisher(fake)
    pub.publish(reel(clip, text="Another episode"))

    assert pub.find_existing(reel(clip, text="Why small shows win #podcast")) is None
    assert pub.find_existing(reel(clip, text="  Another   episode ")) is not None


def test_timeout_while_creating_the_container_is_plainly_retryable(fake, clip):
    fake.hang_next(path=r"/media$", method="POST")

    with pytest.raises(PublishError) as caught:
        publisher(fake, http=ShortTimeouts(read=0.5)).publish(reel(clip))

    assert caught.value.retryable and not isinstance(caught.value, OutcomeUnknown)
    assert fake.published == []


def test_exhausted_quota_is_refused_before_any_container(fake, clip):
    fake.quota_total = 2
    pub = publisher(fake)
    pub.publish(reel(clip, text="one"))
    pub.publish(reel(clip, text="two"))
    containers = len(fake.containers)

    with pytest.raises(PublishError) as caught:
        pub.publish(reel(clip, text="three"))

    assert "quota used up (2 of 2 posts in the last 24 hours)" in str(caught.value)
    assert not caught.value.retryable
    assert len(fake.containers) == containers and len(fake.published) == 2


def test_quota_refusal_at_publish_is_a_clear_error(fake, clip):
    fake.fail_next(400, path=r"/media_publish$", json={"error": {
        "message": "You reached maximum number of posts", "type": "OAuthException", "code": 9,
        "error_subcode": 2207042}})

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(reel(clip))

    assert "quota is used up" in str(caught.value) and not caught.value.retryable


def test_quota_window_rolls(fake, clip):
    fake.quota_total = 1
    pub = publisher(fake)
    pub.publish(reel(clip, text="one"))
    start = fake.clock()
    fake.clock = lambda: start + 86401

    pub.publish(reel(clip, text="two"))

    assert len(fake.published) == 2


def test_needs_a_public_media_base_url(fake, clip):
    pub = get_publisher(Account("instagram", fake.base_url, token=TOKEN, handle=fake.user_id))

    with pytest.raises(PublishError) as caught:
        pub.publish(reel(clip))

    assert "media_base_url" in str(caught.value)
    assert fake.requests_to("POST", r".*") == []


def test_needs_a_video(fake):
    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(Post(parts=("text only",), idempotency_key="k"))

    assert "needs a video" in str(caught.value) and fake.requests == []


def test_credentials_check(fake):
    assert publisher(fake).check_credentials().ok
    fake.token_expired = True
    status = publisher(fake).check_credentials()
    assert not status.ok and "reconnect" in status.message and TOKEN not in status.message


def test_default_api_root_is_the_real_graph_host():
    pub = get_publisher(Account("instagram", "", token=TOKEN, handle="1"))
    assert pub.graph_url("1/media") == "https://graph.facebook.com/v21.0/1/media"


def test_garbage_answer_to_the_publish_call_is_unknown(fake, clip):
    fake.fail_next(200, path=r"/media_publish$", body=b"<html>proxy error</html>")

    with pytest.raises(OutcomeUnknown):
        publisher(fake).publish(reel(clip))


# ---------------------------------------------------------------- the look-up window (Post.first_attempt_at)


def publish_at(fake, post: Post, epoch: float) -> str:
    """Publish ``post`` with the fake's clock at ``epoch`` (the platform's creation time); its id."""
    with fake_clock(fake, lambda: epoch):
        return publisher(fake).publish(post).remote_id


def test_a_repeated_caption_is_published_anew_on_a_retry(fake, clip):
    old_id = publish_at(fake, reel(clip, "New episode out now!", key="ep12"), time.time() - 86400)
    retry = replace(reel(clip, "New episode out now!", key="ep13"),
                    first_attempt_at=datetime.now(timezone.utc) - timedelta(minutes=1))

    assert publisher(fake).find_existing(retry) is None
    published = publisher(fake).publish(retry)

    assert len(fake.published) == 2 and published.remote_id not in ("", old_id)
    assert fake.published[-1]["id"] == published.remote_id


def test_a_retry_after_an_accepted_timed_out_attempt_finds_it_and_sends_nothing(fake, clip):
    publish_at(fake, reel(clip, "New episode out now!", key="ep12"), time.time() - 86400)
    post = reel(clip, "New episode out now!", key="ep13")

    result, accepted, containers = retry_after_a_lost_publish_answer(fake, publisher, post, r"/media_publish$")

    assert result.remote_id == accepted and len(fake.published) == 2
    assert len(fake.containers) == containers


def test_a_first_attempt_makes_no_look_up_read(fake, clip):
    publisher(fake).publish(reel(clip))

    assert fake.requests_to("GET", r"/v[\d.]+/\d+/media") == []
    assert len(fake.published) == 1


def test_the_window_allows_for_the_platforms_clock_being_behind(fake, clip):
    started = datetime.now(timezone.utc)
    accepted = publish_at(fake, reel(clip), started.timestamp() - 120)  # Meta's clock 2 minutes behind ours

    found = publisher(fake).find_existing(replace(reel(clip), first_attempt_at=started))

    assert found is not None and found.remote_id == accepted
    fake.published[0]["timestamp"] = graph_time(started.timestamp() - 360)  # beyond the 5-minute allowance
    assert publisher(fake).find_existing(replace(reel(clip), first_attempt_at=started)) is None


# ---------------------------------------------------------------- engagement

def published_reel(fake, clip) -> str:
    remote_id = publisher(fake).publish(reel(clip)).remote_id
    fake.requests.clear()
    return remote_id


def test_engagement_reads_the_counts_and_the_reel_insights(fake, clip):
    remote_id = published_reel(fake, clip)
    fake.engage(remote_id, like_count=12, comments_count=3, views=480, shares=5)

    engagement = publisher(fake).fetch_engagement(remote_id)

    assert engagement == Engagement(likes=12, reposts=5, replies=3, views=480)
    node, insights = fake.requests
    assert (node.path, node.arg("fields")) == (f"/v21.0/{remote_id}", "like_count,comments_count,media_product_type")
    assert (insights.path, insights.arg("metric")) == (f"/v21.0/{remote_id}/insights", "views,shares")
    assert all(r.bearer() == TOKEN and "access_token" not in r.query for r in fake.requests)


def test_views_are_none_while_instagram_has_no_insights_yet(fake, clip):
    remote_id = published_reel(fake, clip)
    fake.engage(remote_id, like_count=2, views=None)

    assert publisher(fake).fetch_engagement(remote_id) == Engagement(likes=2, reposts=0, replies=0, views=None)


def test_a_feed_post_asks_only_for_the_metrics_a_feed_post_has(fake, clip):
    remote_id = published_reel(fake, clip)
    fake.engage(remote_id, media_product_type="FEED", like_count=4, comments_count=1, views=90, shares=7)

    assert publisher(fake).fetch_engagement(remote_id) == Engagement(likes=4, reposts=0, replies=1, views=90)
    assert fake.requests[-1].arg("metric") == "views"


def test_the_fake_refuses_the_retired_plays_metric(fake, clip):
    remote_id = published_reel(fake, clip)

    with pytest.raises(PublishError) as caught:
        publisher(fake).read_insights(remote_id, "plays,likes", permission="instagram_manage_insights")

    assert "metric[0] must be one of" in str(caught.value) and not caught.value.retryable


def test_engagement_of_an_unknown_media_is_a_clear_error(fake):
    with pytest.raises(PublishError) as caught:
        publisher(fake).fetch_engagement("17999999999999999")

    assert not isinstance(caught.value, AuthError) and not caught.value.retryable
    assert "17999999999999999" in str(caught.value) and "does not exist" in str(caught.value)
    assert_token_hidden(caught.value)


def test_engagement_with_a_wrong_token_is_an_auth_error(fake, clip):
    remote_id = published_reel(fake, clip)
    pub = get_publisher(Account("instagram", fake.base_url, token="wrong-SECRET-ig", handle=fake.user_id))

    with pytest.raises(AuthError) as caught:
        pub.fetch_engagement(remote_id)

    assert "code 190" in str(caught.value) and "wrong-SECRET-ig" not in str(caught.value)
    assert_token_hidden(caught.value)


def test_missing_insights_permission_is_an_auth_error_naming_it(fake, clip):
    remote_id = published_reel(fake, clip)
    fake.granted.discard("instagram_manage_insights")

    with pytest.raises(AuthError) as caught:
        publisher(fake).fetch_engagement(remote_id)

    message = str(caught.value)
    assert "(code 10)" in message and "instagram_manage_insights" in message and "reconnect" in message
    assert not caught.value.retryable
    assert_token_hidden(caught.value)
