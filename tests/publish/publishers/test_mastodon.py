"""The Mastodon publisher against a fake instance that enforces the documented API."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.publish.publishers import (Account, AuthError, Engagement, OutcomeUnknown, Post, PublishError,
                                           get_publisher)
from pipeline.publish.publishers import base
from pipeline.publish.publishers.mastodon import MastodonPublisher, part_key, status_text
from tests.fakes.mastodon import FakeMastodon, render_html, sample_media
from tests.helpers.publishers import publish_a_day_ago


@pytest.fixture
def fake():
    with FakeMastodon() as server:
        yield server


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch):
    monkeypatch.setattr(MastodonPublisher, "media_poll_interval", 0.0)


def publisher(fake: FakeMastodon, **kw) -> MastodonPublisher:
    return get_publisher(fake.account(**kw))


def test_text_post_sends_status_with_idempotency_key(fake):
    published = publisher(fake).publish(Post(parts=("Hello fediverse",), idempotency_key="sp-1"))

    request = fake.requests_to("POST", "/api/v1/statuses")[-1]
    assert request.header("idempotency-key") == "sp-1"
    assert request.form()["status"] == ["Hello fediverse"]
    assert request.form()["visibility"] == ["public"]
    status = fake.statuses[published.remote_id]
    assert status.text == "Hello fediverse"
    assert published.url == f"{fake.base_url}/@castmill/{published.remote_id}"


def test_video_is_uploaded_polled_until_processed_then_attached(fake, tmp_path):
    video = sample_media(tmp_path, "video")
    published = publisher(fake).publish(Post(parts=("Watch",), idempotency_key="k", media=(video,)))

    upload = fake.requests_to("POST", "/api/v2/media")[-1]
    parts = {p.name: p for p in upload.multipart()}
    assert (parts["file"].filename, parts["file"].content_type) == ("clip.mp4", "video/mp4")
    assert parts["description"].text == "video alt text"
    media_id = next(iter(fake.media))
    assert len(fake.requests_to("GET", rf"/api/v1/media/{media_id}")) == fake.processing_polls + 1
    assert fake.statuses[published.remote_id].media_ids == [media_id]


def test_image_needs_no_polling(fake, tmp_path):
    publisher(fake).publish(Post(parts=("Look",), idempotency_key="k", media=(sample_media(tmp_path, "image"),)))
    assert fake.requests_to("GET", r"/api/v1/media/\d+") == []
    assert fake.post_count == 1


def test_media_still_processing_after_the_timeout_is_retryable(fake, tmp_path, monkeypatch):
    fake.processing_polls = 10_000
    monkeypatch.setattr(MastodonPublisher, "media_poll_timeout", 0.2)
    with pytest.raises(PublishError, match="still processing") as caught:
        publisher(fake).publish(Post(parts=("Watch",), idempotency_key="k", media=(sample_media(tmp_path),)))
    assert caught.value.retryable
    assert fake.post_count == 0


def test_thread_parts_reply_to_each_other_with_derived_keys(fake):
    published = publisher(fake).publish(Post(parts=("1/3 first", "2/3 second", "3/3 third"), idempotency_key="t"))

    requests = fake.requests_to("POST", "/api/v1/statuses")
    assert [r.header("idempotency-key") for r in requests] == ["t", "t/2", "t/3"]
    chain = sorted(fake.statuses.values(), key=lambda s: int(s.id))
    assert [s.text for s in chain] == ["1/3 first", "2/3 second", "3/3 third"]
    assert [s.in_reply_to_id for s in chain] == [None, chain[0].id, chain[1].id]
    assert published.remote_id == chain[0].id
    assert [part_key("t", i) for i in range(3)] == ["t", "t/2", "t/3"]


def test_republish_within_the_hour_is_deduped_by_the_server(fake):
    post = Post(parts=("Once only",), idempotency_key="k")
    first = publisher(fake).publish(post)
    second = publisher(fake).publish(post)
    assert first == second
    assert fake.post_count == 1


def test_find_existing_reads_recent_statuses_even_after_keys_expired(fake):
    post = Post(parts=("Ep 12 is out: https://example.com/episodes/12-a-very-long-slug-indeed\n\n"
                       "Tom & Jerry <live> with @guest@other.social #podcast",), idempotency_key="k")
    published = publisher(fake).publish(post)
    fake.clock = lambda: datetime.now(timezone.utc).timestamp() + 7200  # Idempotency-Key forgotten

    requests_before = len(fake.requests_to("POST", "/api/v1/statuses"))
    assert publisher(fake).find_existing(post) == published
    assert len(fake.requests_to("POST", "/api/v1/statuses")) == requests_before  # a read, not a re-post


def test_find_existing_is_none_for_an_unpublished_post(fake):
    publisher(fake).publish(Post(parts=("Something else",), idempotency_key="other"))
    assert publisher(fake).find_existing(Post(parts=("Not posted",), idempotency_key="k")) is None


def test_find_existing_searches_past_the_first_page(fake):
    post = Post(parts=("The old one",), idempotency_key="k")
    published = publisher(fake).publish(post)
    for n in range(45):
        publisher(fake).publish(Post(parts=(f"newer {n}",), idempotency_key=f"n{n}"))
    assert publisher(fake).find_existing(post) == published


def test_partial_thread_resumes_without_reposting_the_first_part(fake):
    post = Post(parts=("part one", "part two"), idempotency_key="t")
    fake.fail_next(500, path="/api/v1/statuses", json={"error": "boom"})  # the first status fails…
    started = datetime.now(timezone.utc)
    with pytest.raises(PublishError):
        publisher(fake).publish(post)
    assert fake.post_count == 0
    post = replace(post, first_attempt_at=started)  # every later attempt is a retry

    fake.fail_next(503, path="/api/v1/statuses", json={"error": "overloaded"}, after=1)  # now fail part two only
    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(post)
    assert caught.value.retryable
    assert fake.post_count == 1
    assert publisher(fake).find_existing(post) is None  # incomplete thread is not "published"

    fake.clock = lambda: datetime.now(timezone.utc).timestamp() + 7200  # keys expired: only the read protects us
    published = publisher(fake).publish(post)
    chain = sorted(fake.statuses.values(), key=lambda s: int(s.id))
    assert [s.text for s in chain] == ["part one", "part two"]
    assert chain[1].in_reply_to_id == chain[0].id == published.remote_id


def test_too_long_status_is_a_non_retryable_422_with_mastodons_message(fake):
    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(fake.invalid_post("k"))
    assert caught.value.status == 422 and not caught.value.retryable
    assert "Text character limit of 500 exceeded" in str(caught.value)


def test_rate_limit_reset_header_gives_retry_after(fake):
    reset = (datetime.now(timezone.utc) + timedelta(seconds=90)).isoformat()
    fake.fail_next(429, path="/api/v1/statuses", json={"error": "Too many requests"},
                   headers={"X-RateLimit-Reset": reset})
    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(Post(parts=("hi",), idempotency_key="k"))
    assert caught.value.retryable
    assert 80 <= caught.value.retry_after <= 90


def test_engagement_counts(fake):
    published = publisher(fake).publish(Post(parts=("hi",), idempotency_key="k"))
    fake.statuses[published.remote_id].counts.update(favourites_count=7, reblogs_count=3)
    publisher(fake).publish(Post(parts=("reply",), idempotency_key="r"))  # unrelated
    assert publisher(fake).fetch_engagement(published.remote_id) == Engagement(likes=7, reposts=3, replies=0)


def test_check_credentials(fake):
    ok = publisher(fake).check_credentials()
    assert ok.ok and "@castmill" in ok.message
    bad = publisher(fake, token="revoked-token-42").check_credentials()
    assert not bad.ok
    assert "The access token is invalid" in bad.message and "revoked-token-42" not in bad.message


def test_wrong_token_is_an_auth_error(fake):
    with pytest.raises(AuthError):
        publisher(fake, token="nope").publish(Post(parts=("hi",), idempotency_key="k"))


def test_status_text_turns_mastodon_html_back_into_text():
    text = "Line one\nline two & <three>\n\nhttps://example.com/a/rather/long/path/for/ellipsis see @bob@x.social"
    assert status_text({"content": render_html(text)}) == text.replace("@bob@x.social", "@bob")


def test_missing_instance_url_is_refused():
    with pytest.raises(PublishError, match="no instance URL"):
        get_publisher(Account(platform="mastodon", base_url="", token="t")).publish(Post(parts=("hi",),
                                                                                          idempotency_key="k"))


def test_the_fake_ignores_unknown_fields_like_rails_so_a_wrong_name_fails(fake):
    import requests
    answer = requests.post(fake.url("/api/v1/statuses"), data={"text": "hi"}, timeout=5,
                           headers={"Authorization": f"Bearer {fake.token}"})
    assert answer.status_code == 422 and answer.json() == {"error": "Validation failed: Text can't be blank"}
    assert fake.post_count == 0


# ---------------------------------------------------------------- the look-up window (Post.first_attempt_at)


@pytest.mark.parametrize("parts", [("New episode out now!",), ("New episode out now!", "Link below.")],
                         ids=["one part", "thread"])
def test_a_repeated_text_is_published_anew_on_a_retry(fake, parts):
    old_id = publish_a_day_ago(fake, publisher(fake), Post(parts=parts, idempotency_key="ep12"))
    retry = Post(parts=parts, idempotency_key="ep13",
                 first_attempt_at=datetime.now(timezone.utc) - timedelta(minutes=1))

    assert publisher(fake).find_existing(retry) is None
    published = publisher(fake).publish(retry)

    assert fake.post_count == 2 * len(parts) and published.remote_id != old_id
    assert fake.statuses[published.remote_id].in_reply_to_id is None


def test_a_retry_after_an_accepted_timed_out_attempt_finds_it_and_sends_nothing(fake, monkeypatch):
    parts = ("New episode out now!", "Link below.")
    publish_a_day_ago(fake, publisher(fake), Post(parts=parts, idempotency_key="ep12"))
    post = Post(parts=parts, idempotency_key="ep13")
    monkeypatch.setattr(base, "READ_TIMEOUT", 0.5)
    fake.hang_next(path="/api/v1/statuses$", after=1)  # part two goes out, its answer is lost
    started = datetime.now(timezone.utc)
    with pytest.raises(OutcomeUnknown):
        publisher(fake).publish(post)
    new_root = max(fake.statuses.values(), key=lambda s: int(s.id)).in_reply_to_id
    fake.clock = lambda: time.time() + 7200  # Idempotency-Keys forgotten: only the look-up protects us
    sent = len(fake.requests_to("POST", "/api/v1/statuses"))

    result = publisher(fake).publish(replace(post, first_attempt_at=started))

    assert result.remote_id == new_root and fake.post_count == 4
    assert len(fake.requests_to("POST", "/api/v1/statuses")) == sent


def test_a_first_attempt_makes_no_look_up_read(fake):
    publisher(fake).publish(Post(parts=("One", "Two"), idempotency_key="k"))

    assert fake.requests_to("GET", r"/api/v1/accounts/.*") == [] and fake.post_count == 2
