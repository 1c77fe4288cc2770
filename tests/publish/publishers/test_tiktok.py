"""TikTok publisher against the Content Posting API fake: privacy, chunked upload, status, caps, errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.publish.publishers import (Account, AuthError, Engagement, MediaFile, OutcomeUnknown, Post,
                                           PublishError, get_publisher)
from pipeline.publish.publishers.tiktok import MB, TikTokPublished, plan_chunks
from tests.fakes.graph import ShortTimeouts
from tests.fakes.tiktok import TikTokFake, chunk_problem
from tests.helpers.publishers import MP4_HEADER, publish_a_day_ago, recording_sleeps, serve_checked, video_clip

TOKEN = "act.tiktok-SECRET-777"


@pytest.fixture
def fake():
    yield from serve_checked(TikTokFake(token=TOKEN))


@pytest.fixture
def clip(tmp_path):
    return video_clip(tmp_path / "clip.mp4", MP4_HEADER + bytes(range(256)) * 40)


def publisher(fake, http=None, **extra):
    return recording_sleeps(get_publisher(Account("tiktok", fake.base_url, token=TOKEN, handle="castmill_demo",
                                                  extra=extra), http))


def post(clip, text="Why small shows win #podcast") -> Post:
    return Post(parts=(text,), idempotency_key="k1", media=(clip,))


def calls(fake) -> list[str]:
    return [f"{r.method} {'/upload/…' if r.path.startswith('/upload/') else r.path}" for r in fake.requests]


def test_unaudited_account_posts_privately_and_says_so(fake, clip):
    pub = publisher(fake)
    result = pub.publish(post(clip))

    assert calls(fake) == ["POST /v2/post/publish/creator_info/query/", "POST /v2/post/publish/video/init/",
                           "PUT /upload/…", "POST /v2/post/publish/status/fetch/",
                           "POST /v2/post/publish/status/fetch/"]
    init = fake.requests[1].json()
    size = clip.path.stat().st_size
    assert init["post_info"]["title"] == "Why small shows win #podcast"
    assert init["post_info"]["privacy_level"] == "SELF_ONLY"
    assert init["source_info"] == {"source": "FILE_UPLOAD", "video_size": size, "chunk_size": size,
                                   "total_chunk_count": 1}
    upload = fake.requests[2]
    assert upload.header("content-range") == f"bytes 0-{size - 1}/{size}"
    assert upload.header("authorization") is None  # the token stays on the API host
    assert upload.body == clip.path.read_bytes()
    assert isinstance(result, TikTokPublished) and result.privacy_level == "SELF_ONLY"
    assert result.status == "PUBLISH_COMPLETE" and "private" in result.note
    assert result.remote_id.startswith("v_pub_file~") and len(fake.published) == 1
    assert pub.slept == [3.0] and fake.requests[0].header("authorization") == f"Bearer {TOKEN}"


def test_audited_account_posts_publicly_with_a_post_url(fake, clip):
    fake.audited = True

    result = publisher(fake, audited=True).publish(post(clip))

    # a first attempt: nothing to look for, straight to init and upload
    assert calls(fake)[:3] == ["POST /v2/post/publish/creator_info/query/", "POST /v2/post/publish/video/init/",
                               "PUT /upload/…"]
    assert fake.requests[1].json()["post_info"]["privacy_level"] == "PUBLIC_TO_EVERYONE"
    assert result.remote_id == fake.published[0]["id"]
    assert result.url == f"https://www.tiktok.com/@castmill_demo/video/{result.remote_id}"
    assert result.note == ""


def test_publishing_the_same_public_post_again_returns_it_without_uploading_again(fake, clip):
    fake.audited = True
    started = datetime.now(timezone.utc)
    first = publisher(fake, audited=True).publish(post(clip))
    requests_before = len(fake.requests)

    second = publisher(fake, audited=True).publish(replace(post(clip), first_attempt_at=started))

    assert second.remote_id == first.remote_id and second.url == first.url and len(fake.published) == 1
    assert isinstance(second, TikTokPublished) and second.privacy_level == "PUBLIC_TO_EVERYONE"
    # a retry: a public post is looked for first (TikTok lists public videos), before anything is sent
    assert calls(fake)[requests_before:] == ["POST /v2/post/publish/creator_info/query/", "POST /v2/video/list/"]
    assert fake.requests[-1].arg("fields") == "id,title,video_description,create_time,share_url"


def test_large_video_is_uploaded_in_ordered_chunks(fake, tmp_path):
    path = tmp_path / "long.mp4"
    with path.open("wb") as stream:
        stream.truncate(75 * MB + 123)

    publisher(fake).publish(post(MediaFile(path, "video", "video/mp4")))

    init = fake.requests[1].json()["source_info"]
    assert (init["chunk_size"], init["total_chunk_count"]) == (10 * MB, 7)
    ranges = [r.header("content-range") for r in fake.requests_to("PUT", r"/upload/\w+")]
    assert ranges[0] == f"bytes 0-{10 * MB - 1}/{75 * MB + 123}"
    assert ranges[-1] == f"bytes {60 * MB}-{75 * MB + 122}/{75 * MB + 123}"
    assert len(ranges) == 7 and fake.published[0]["size"] == 75 * MB + 123


@pytest.mark.parametrize("size", [1, 5 * MB - 1, 5 * MB, 30 * MB, 64 * MB, 64 * MB + 1, 200 * MB + 7, 4096 * MB])
def test_chunk_plans_follow_the_media_transfer_rules(size):
    plan = plan_chunks(size)

    assert chunk_problem(size, plan.chunk_size, plan.count) is None
    ranges = plan.ranges()
    assert ranges[0][0] == 0 and ranges[-1][1] == size - 1
    assert all(a[1] + 1 == b[0] for a, b in zip(ranges, ranges[1:]))


def test_caption_over_the_limit_is_refused(fake, clip):
    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(post(clip, text="x" * 2201))

    assert "invalid_params" in str(caught.value) and "2200" in str(caught.value)
    assert not caught.value.retryable and fake.published == []


def test_public_post_from_an_unaudited_app_is_refused_clearly(fake, clip):
    with pytest.raises(PublishError) as caught:
        publisher(fake, privacy_level="PUBLIC_TO_EVERYONE").publish(post(clip))

    assert "unaudited_client_can_only_post_to_private_accounts" in str(caught.value)
    assert "SELF_ONLY" in str(caught.value)
    assert not isinstance(caught.value, AuthError) and not caught.value.retryable


def test_privacy_not_offered_is_refused_before_init(fake, clip):
    fake.privacy_options = ["PUBLIC_TO_EVERYONE"]

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(post(clip))

    assert "SELF_ONLY is not offered" in str(caught.value)
    assert fake.requests_to("POST", r"/v2/post/publish/video/init/") == []


def test_init_rate_limit_is_retryable_with_retry_after(fake, clip):
    fake.daily_cap = 100
    pub = publisher(fake)
    for n in range(6):
        pub.publish(post(clip, text=f"post {n}"))

    with pytest.raises(PublishError) as caught:
        pub.publish(post(clip, text="one too many"))

    assert caught.value.retryable and caught.value.retry_after == 60.0 and caught.value.status == 429
    assert len(fake.published) == 6


def test_daily_cap_is_a_clear_error(fake, clip):
    fake.daily_cap = 1
    publisher(fake).publish(post(clip, text="first"))

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(post(clip, text="second"))

    assert "spam_risk_too_many_posts" in str(caught.value) and "daily posting cap" in str(caught.value)
    assert not caught.value.retryable and not isinstance(caught.value, AuthError)
    assert len(fake.published) == 1


def test_expired_token_is_an_auth_error(fake, clip):
    fake.token_expired = True

    with pytest.raises(AuthError) as caught:
        publisher(fake).publish(post(clip))

    assert "access_token_invalid" in str(caught.value) and TOKEN not in str(caught.value)


def test_timeout_on_the_last_chunk_is_unknown_and_a_public_post_is_found(fake, clip):
    fake.audited = True
    fake.hang_next(method="PUT")

    with pytest.raises(OutcomeUnknown) as caught:
        publisher(fake, http=ShortTimeouts(read=0.5), audited=True).publish(post(clip))

    assert TOKEN not in str(caught.value)
    found = publisher(fake, audited=True).find_existing(post(clip))
    assert found is not None and found.remote_id == fake.published[0]["id"]
    assert len(fake.published) == 1
    assert publisher(fake, audited=True).find_existing(post(clip, text="other")) is None


def test_find_existing_matches_the_150_characters_tiktok_lists(fake, clip):
    fake.audited = True
    text = "A long caption. " * 20
    publisher(fake, audited=True).publish(post(clip, text=text))

    assert publisher(fake, audited=True).find_existing(post(clip, text=text)) is not None
    assert publisher(fake, audited=True).find_existing(post(clip, text=text[:100])) is None


def test_private_posts_cannot_be_reconciled_and_say_so(fake, clip):
    with pytest.raises(OutcomeUnknown) as caught:
        publisher(fake).find_existing(post(clip))

    assert "TikTok app" in str(caught.value)
    assert fake.requests == []


def test_status_failure_after_upload_is_unknown_not_retryable(fake, clip):
    fake.fail_next(500, path=r"/status/fetch/$", json={"data": {}, "error": {"code": "internal_error",
                                                                            "message": "boom", "log_id": "x"}})

    with pytest.raises(OutcomeUnknown) as caught:
        publisher(fake).publish(post(clip))

    assert "was sent" in str(caught.value) and len(fake.published) == 1


def test_failed_processing_carries_the_reason(fake, clip):
    fake.outcome = "FAILED"

    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(post(clip))

    assert "file_format_check_failed" in str(caught.value) and not caught.value.retryable


def test_still_processing_after_the_budget_is_accepted_and_flagged(fake, clip):
    fake.processing_polls = 1000
    pub = publisher(fake)

    result = pub.publish(post(clip))

    assert result.status == "PROCESSING_UPLOAD" and "still processing" in result.note
    assert len(pub.slept) == pub.poll_attempts - 1 and max(pub.slept) == pub.poll_max_wait
    assert pub.slept == sorted(pub.slept)


def test_credentials_check(fake):
    assert publisher(fake).check_credentials().ok
    fake.token_expired = True
    status = publisher(fake).check_credentials()
    assert not status.ok and "reconnect" in status.message and TOKEN not in status.message


# ---------------------------------------------------------------- the look-up window (Post.first_attempt_at)


def publish_publicly_a_day_ago(fake, clip, text: str) -> str:
    """Publish a public video as if it went out yesterday; its post id."""
    return publish_a_day_ago(fake, publisher(fake, audited=True), replace(post(clip, text), idempotency_key="old"))


def test_a_repeated_caption_is_published_anew_on_a_retry(fake, clip):
    fake.audited = True
    old_id = publish_publicly_a_day_ago(fake, clip, "New episode out now!")
    retry = replace(post(clip, "New episode out now!"),
                    first_attempt_at=datetime.now(timezone.utc) - timedelta(minutes=1))

    assert publisher(fake, audited=True).find_existing(retry) is None
    published = publisher(fake, audited=True).publish(retry)

    assert len(fake.published) == 2 and published.remote_id != old_id
    assert published.remote_id == fake.published[-1]["id"]


def test_a_retry_after_an_accepted_timed_out_attempt_finds_it_and_sends_nothing(fake, clip):
    fake.audited = True
    publish_publicly_a_day_ago(fake, clip, "New episode out now!")
    started = datetime.now(timezone.utc)
    fake.hang_next(path=r"^/upload/")
    with pytest.raises(OutcomeUnknown):
        publisher(fake, ShortTimeouts(read=0.5), audited=True).publish(post(clip, "New episode out now!"))
    accepted, inits = fake.published[-1]["id"], len(fake.requests_to("POST", r"/v2/post/publish/video/init/"))

    result = publisher(fake, audited=True).publish(replace(post(clip, "New episode out now!"),
                                                           first_attempt_at=started))

    assert result.remote_id == accepted and len(fake.published) == 2
    assert len(fake.requests_to("POST", r"/v2/post/publish/video/init/")) == inits


def test_a_first_attempt_makes_no_look_up_read(fake, clip):
    fake.audited = True

    publisher(fake, audited=True).publish(post(clip))

    assert fake.requests_to("POST", r"/v2/video/list/") == [] and len(fake.published) == 1


def test_a_listed_video_without_a_creation_time_is_not_matched_on_a_retry(fake, clip):
    video = {"id": "7300000000000000009", "title": "Why small shows win #podcast",
             "share_url": "https://www.tiktok.com/@castmill_demo/video/7300000000000000009"}
    answer = {"data": {"videos": [video], "cursor": 0, "has_more": False}, "error": {"code": "ok", "message": ""}}
    fake.fail_next(200, path=r"/v2/video/list/", json=answer, times=2)
    pub = publisher(fake, audited=True)

    assert pub.find_existing(post(clip)).remote_id == video["id"]  # no window on a first look-up
    assert pub.find_existing(replace(post(clip), first_attempt_at=datetime.now(timezone.utc))) is None


# ---------------------------------------------------------------- engagement

def published_publicly(fake, clip) -> str:
    fake.audited = True
    remote_id = publisher(fake, audited=True).publish(post(clip)).remote_id
    fake.requests.clear()
    return remote_id


def test_engagement_queries_the_video_counts(fake, clip):
    remote_id = published_publicly(fake, clip)
    fake.engage(remote_id, like_count=40, comment_count=6, share_count=3, view_count=1200)

    engagement = publisher(fake, audited=True).fetch_engagement(remote_id)

    assert engagement == Engagement(likes=40, reposts=3, replies=6, views=1200)
    (query,) = fake.requests
    assert (query.method, query.path) == ("POST", "/v2/video/query/")
    assert query.arg("fields") == "id,like_count,comment_count,share_count,view_count"
    assert query.json() == {"filters": {"video_ids": [remote_id]}}
    assert query.bearer() == TOKEN


def test_a_private_post_has_no_readable_id_and_no_engagement(fake, clip):
    result = publisher(fake).publish(post(clip))  # unaudited: SELF_ONLY, only a publish_id comes back
    fake.requests.clear()

    assert publisher(fake).fetch_engagement(result.remote_id) is None
    assert fake.requests == []  # TikTok has no read for it: nothing is asked


def test_engagement_of_an_unknown_video_is_a_clear_error(fake):
    with pytest.raises(PublishError) as caught:
        publisher(fake).fetch_engagement("7300000000000009999")

    assert not isinstance(caught.value, AuthError) and not caught.value.retryable
    assert "7300000000000009999" in str(caught.value) and "not among this account's public videos" in str(caught.value)


def test_engagement_with_a_wrong_token_is_an_auth_error(fake, clip):
    remote_id = published_publicly(fake, clip)
    pub = get_publisher(Account("tiktok", fake.base_url, token="wrong-SECRET-tt", handle="castmill_demo"))

    with pytest.raises(AuthError) as caught:
        pub.fetch_engagement(remote_id)

    assert "access_token_invalid" in str(caught.value)
    assert "wrong-SECRET-tt" not in str(caught.value) and TOKEN not in str(caught.value)


def test_missing_video_list_scope_is_an_auth_error_naming_it(fake, clip):
    remote_id = published_publicly(fake, clip)
    fake.scopes.discard("video.list")

    with pytest.raises(AuthError) as caught:
        publisher(fake, audited=True).fetch_engagement(remote_id)

    assert "scope_not_authorized" in str(caught.value) and "video.list" in str(caught.value)
    assert TOKEN not in str(caught.value) and not caught.value.retryable
