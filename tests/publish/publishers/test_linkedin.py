"""The LinkedIn publisher against a fake versioned REST API (Posts, Videos, Images)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from pipeline.publish.publishers import Account, AuthError, Engagement, MediaFile, Post, PublishError, get_publisher
from pipeline.publish.publishers.linkedin import API_VERSION, LinkedInPublisher, expiry_status, little_text
from tests.fakes.linkedin import FakeLinkedIn, decode_little


@pytest.fixture
def fake():
    with FakeLinkedIn() as server:
        yield server


@pytest.fixture(autouse=True)
def fast_polling(monkeypatch):
    monkeypatch.setattr(LinkedInPublisher, "video_poll_interval", 0.0)


def publisher(fake: FakeLinkedIn, **kw) -> LinkedInPublisher:
    return get_publisher(fake.account(**kw))


def test_post_with_required_headers_and_body(fake):
    published = publisher(fake).publish(Post(parts=("Hello LinkedIn",), idempotency_key="k"))

    request = fake.requests_to("POST", "/rest/posts")[-1]
    assert request.header("linkedin-version") == API_VERSION
    assert request.header("x-restli-protocol-version") == "2.0.0"
    assert request.json() == {
        "author": fake.author, "commentary": "Hello LinkedIn", "visibility": "PUBLIC",
        "distribution": {"feedDistribution": "MAIN_FEED", "targetEntities": [], "thirdPartyDistributionChannels": []},
        "lifecycleState": "PUBLISHED", "isReshareDisabledByAuthor": False}
    assert published.remote_id in fake.posts and published.remote_id.startswith("urn:li:share:")
    assert published.url == f"https://www.linkedin.com/feed/update/{published.remote_id}/"


def test_reserved_characters_survive_as_written(fake):
    text = "Ep 12 (45 min) with @guest — [notes] <here> a_b*c~d|e {x} back\\slash #podcasting #kopi"
    published = publisher(fake).publish(Post(parts=(text,), idempotency_key="k"))
    assert fake.posts[published.remote_id]["text"] == text  # nothing cut, nothing garbled
    commentary = fake.posts[published.remote_id]["body"]["commentary"]
    assert "{hashtag|#|podcasting}" in commentary and "\\(45 min\\)" in commentary


def test_the_fake_cuts_unescaped_text_like_linkedin():
    assert decode_little("before (after)") == "before "
    assert decode_little(little_text("before (after)")) == "before (after)"


def test_video_upload_in_parts_then_post(fake, tmp_path):
    fake.part_size = 1000
    path = tmp_path / "clip.mp4"
    path.write_bytes(bytes(range(256)) * 10)  # 2,560 bytes -> 3 parts
    published = publisher(fake).publish(Post(parts=("Watch",), idempotency_key="k", title="Episode 12",
                                             media=(MediaFile(path, "video", "video/mp4"),)))

    video = next(iter(fake.videos.values()))
    assert b"".join(video.received[i] for i in range(3)) == path.read_bytes()
    finalize = fake.requests_to("POST", "/rest/videos")[-1].json()["finalizeUploadRequest"]
    assert finalize["uploadedPartIds"] == [video.etags[i] for i in range(3)]
    assert video.status == "AVAILABLE"
    assert fake.posts[published.remote_id]["body"]["content"] == {"media": {"id": video.urn, "title": "Episode 12"}}


def test_failed_video_processing_is_not_retryable(fake, tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00" * 100)
    fake.fail_processing = True
    with pytest.raises(PublishError, match="could not process the video") as caught:
        publisher(fake).publish(Post(parts=("Watch",), idempotency_key="k", media=(MediaFile(path, "video", "video/mp4"),)))
    assert not caught.value.retryable and fake.post_count == 0


def test_images_single_and_multi(fake, tmp_path):
    images = []
    for n in range(3):
        path = tmp_path / f"i{n}.jpg"
        path.write_bytes(bytes([n + 1]) * 50)
        images.append(MediaFile(path, "image", "image/jpeg", alt=f"image {n}"))
    one = publisher(fake).publish(Post(parts=("one",), idempotency_key="a", media=(images[0],)))
    many = publisher(fake).publish(Post(parts=("many",), idempotency_key="b", media=tuple(images)))

    single = fake.posts[one.remote_id]["body"]["content"]["media"]
    assert single["altText"] == "image 0" and fake.images[single["id"]] == images[0].path.read_bytes()
    multi = fake.posts[many.remote_id]["body"]["content"]["multiImage"]["images"]
    assert [m["altText"] for m in multi] == ["image 0", "image 1", "image 2"]


def test_duplicate_content_on_a_retry_returns_the_original_post(fake):
    post = Post(parts=("Same words",), idempotency_key="k")
    first = publisher(fake).publish(post)
    retry = replace(post, first_attempt_at=datetime.now(timezone.utc) - timedelta(seconds=30))
    assert publisher(fake).publish(retry) == first and fake.post_count == 1


def test_duplicate_content_on_a_first_attempt_is_a_failure_not_a_silent_skip(fake):
    publisher(fake).publish(Post(parts=("New episode out now!",), idempotency_key="old"))
    with pytest.raises(PublishError, match="duplicate of an earlier post") as caught:
        publisher(fake).publish(Post(parts=("New episode out now!",), idempotency_key="new"))
    assert not caught.value.retryable and fake.post_count == 1


def test_find_existing_reads_the_authors_posts(fake):
    post = Post(parts=("Find me (please) #now",), idempotency_key="k")
    assert publisher(fake).find_existing(post) is None
    published = publisher(fake).publish(post)
    publisher(fake).publish(Post(parts=("later post",), idempotency_key="l"))
    assert publisher(fake).find_existing(post) == published


def test_without_read_permission_find_existing_is_none_and_retry_stays_safe(fake):
    fake.read_permission = False
    post = Post(parts=("Only once",), idempotency_key="k")
    first = publisher(fake).publish(post)
    assert publisher(fake).find_existing(post) is None
    retry = replace(post, first_attempt_at=datetime.now(timezone.utc) - timedelta(seconds=30))
    assert publisher(fake).publish(retry) == first  # the duplicate check hands back the original
    assert fake.post_count == 1


def test_missing_or_retired_version_is_refused_with_linkedins_message(fake):
    with pytest.raises(PublishError, match="NONEXISTENT_VERSION: Requested version 202401 is not active") as caught:
        publisher(fake, linkedin_version="202401").publish(Post(parts=("hi",), idempotency_key="k"))
    assert caught.value.status == 426 and not caught.value.retryable


def test_the_fake_requires_the_version_and_restli_headers(fake):
    import requests
    answer = requests.post(fake.url("/rest/posts"), json={}, headers={"Authorization": f"Bearer {fake.token}"}, timeout=5)
    assert answer.status_code == 400 and answer.json()["code"] == "VERSION_MISSING"
    answer = requests.post(fake.url("/rest/posts"), json={}, timeout=5,
                           headers={"Authorization": f"Bearer {fake.token}", "LinkedIn-Version": API_VERSION})
    assert answer.status_code == 400 and "X-Restli-Protocol-Version" in answer.json()["message"]


def test_too_long_commentary_is_a_422_with_linkedins_message(fake):
    with pytest.raises(PublishError, match="/commentary") as caught:
        publisher(fake).publish(fake.invalid_post("k"))
    assert caught.value.status == 422 and not caught.value.retryable


def test_threads_are_refused_before_any_call(fake):
    with pytest.raises(PublishError, match="no threads"):
        publisher(fake).publish(Post(parts=("a", "b"), idempotency_key="k"))
    assert fake.requests == []


def test_author_must_be_a_urn():
    account = Account(platform="linkedin", base_url="http://127.0.0.1:9", token="t", handle="castmill")
    with pytest.raises(PublishError, match="author URN"):
        get_publisher(account).publish(Post(parts=("hi",), idempotency_key="k"))


def test_upload_urls_on_foreign_hosts_never_get_the_token(fake):
    pub = publisher(fake)
    assert "Authorization" in pub._upload_headers(fake.url("/upload/image/1"))
    assert "Authorization" in pub._upload_headers("https://www.linkedin.com/dms-uploads/abc")
    assert "Authorization" not in pub._upload_headers("https://evil.example/upload")
    assert "Authorization" not in pub._upload_headers("https://notlinkedin.com/upload")


def test_engagement_from_social_actions(fake):
    published = publisher(fake).publish(Post(parts=("hi",), idempotency_key="k"))
    fake.posts[published.remote_id].update(likes=12, comments=3)
    assert publisher(fake).fetch_engagement(published.remote_id) == Engagement(likes=12, replies=3)


# ---------------------------------------------------------------- 60-day tokens


def test_expiry_status():
    now = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)

    def status(delta):
        return expiry_status(Account(platform="linkedin", base_url="", expires_at=now + delta), now)

    assert status(timedelta(days=30)) is None
    soon = status(timedelta(days=3))
    assert soon.ok and "expires in 3 days (2026-11-26)" in soon.message
    gone = status(timedelta(hours=-1))
    assert not gone.ok and "expired on 2026-11-23" in gone.message
    assert expiry_status(Account(platform="linkedin", base_url=""), now) is None


def test_check_credentials_reports_expiry(fake):
    soon = datetime.now(timezone.utc) + timedelta(days=2, hours=1)
    pub = get_publisher(Account(platform="linkedin", base_url=fake.base_url, token=fake.token, handle=fake.author,
                                expires_at=soon))
    status = pub.check_credentials()
    assert status.ok and "expires in 2 days" in status.message and status.expires_at == soon

    later = datetime.now(timezone.utc) + timedelta(days=50)
    fine = get_publisher(Account(platform="linkedin", base_url=fake.base_url, token=fake.token, handle=fake.author,
                                 expires_at=later)).check_credentials()
    assert fine.ok and f"until {later:%Y-%m-%d}" in fine.message

    expired = get_publisher(Account(platform="linkedin", base_url=fake.base_url, token=fake.token, handle=fake.author,
                                    expires_at=datetime.now(timezone.utc) - timedelta(days=1))).check_credentials()
    assert not expired.ok and "expired" in expired.message


def test_check_credentials_with_a_revoked_token(fake):
    status = publisher(fake, token="AQV-revoked-999").check_credentials()
    assert not status.ok and "Invalid access token" in status.message and "AQV-revoked-999" not in status.message


def test_wrong_token_is_an_auth_error(fake):
    with pytest.raises(AuthError):
        publisher(fake, token="nope").publish(Post(parts=("hi",), idempotency_key="k"))
