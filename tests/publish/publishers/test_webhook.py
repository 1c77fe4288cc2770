"""The webhook publisher against a fake Zapier/Make-style hook."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from pipeline.publish.publishers import Account, AuthError, MediaFile, Post, PublishError, get_publisher
from pipeline.publish.publishers.webhook import SIGNATURE_HEADER, signature
from tests.fakes.webhook import FakeWebhook


@pytest.fixture
def hook():
    with FakeWebhook() as server:
        yield server


def test_posts_json_with_key_and_a_verifiable_signature(hook, tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"video")
    post = Post(parts=("One", "Two"), idempotency_key="sp-9", title="T", link="https://e.x/9",
                media=(MediaFile(clip, "video", "video/mp4", alt="alt text"),))

    published = get_publisher(hook.account()).publish(post)

    request = hook.requests_to("POST", "/hooks/catch")[-1]
    assert request.header("idempotency-key") == "sp-9"
    expected = "sha256=" + hmac.new(hook.token.encode(), request.body, hashlib.sha256).hexdigest()
    assert request.header(SIGNATURE_HEADER) == expected
    payload = json.loads(request.body)
    assert payload["parts"] == ["One", "Two"]
    assert payload["text"] == "One\n\nTwo"
    assert payload["media"] == [{"path": str(clip), "name": "clip.mp4", "kind": "video", "mime": "video/mp4",
                                 "alt": "alt text"}]
    assert published.remote_id == hook.posts["sp-9"]["id"]
    assert published.remote_id.startswith("hook-")


def test_signature_helper_matches_hmac_sha256():
    assert signature("s3cret", b"{}") == "sha256=" + hmac.new(b"s3cret", b"{}", hashlib.sha256).hexdigest()


def test_no_secret_means_no_signature_header():
    with FakeWebhook(secret=None) as hook:
        account = Account(platform="webhook", base_url=hook.url("/hooks/catch"))
        get_publisher(account).publish(Post(parts=("hi",), idempotency_key="k"))
        assert hook.requests_to("POST", "/hooks/catch")[-1].header(SIGNATURE_HEADER) is None
        assert hook.post_count == 1


def test_wrong_secret_is_an_auth_error_without_the_secret_in_it(hook):
    with pytest.raises(AuthError) as caught:
        get_publisher(hook.account(token="not-the-secret-xyz")).publish(Post(parts=("hi",), idempotency_key="k"))
    assert "signature mismatch" in str(caught.value)
    assert "not-the-secret-xyz" not in str(caught.value)
    assert hook.post_count == 0


def test_make_style_plain_text_answer_uses_the_key_as_id():
    with FakeWebhook(returns_id=False) as hook:
        published = get_publisher(hook.account()).publish(Post(parts=("hi",), idempotency_key="sp-3"))
    assert published.remote_id == "sp-3"


def test_resend_with_same_key_is_deduped_by_the_receiver(hook):
    publisher = get_publisher(hook.account())
    first = publisher.publish(Post(parts=("hi",), idempotency_key="k1"))
    second = publisher.publish(Post(parts=("hi",), idempotency_key="k1"))
    assert first == second
    assert hook.post_count == 1


def test_find_existing_uses_the_lookup_endpoint(hook):
    publisher = get_publisher(hook.account())
    post = Post(parts=("hi",), idempotency_key="k1")
    assert publisher.find_existing(post) is None
    published = publisher.publish(post)
    assert publisher.find_existing(post) == published


def test_find_existing_without_lookup_is_none_even_after_publishing(hook):
    publisher = get_publisher(hook.account(lookup=False))
    post = Post(parts=("hi",), idempotency_key="k1")
    publisher.publish(post)
    assert publisher.find_existing(post) is None


def test_receiver_validation_error_is_not_retryable(hook):
    with pytest.raises(PublishError) as caught:
        get_publisher(hook.account()).publish(hook.invalid_post("k1"))
    assert not caught.value.retryable
    assert caught.value.status == 422
    assert "text is longer than 5000" in str(caught.value)


def test_a_redirect_is_not_taken_for_success(hook):
    hook.fail_next(302, path="/hooks/catch", headers={"Location": hook.url("/elsewhere")})
    with pytest.raises(PublishError, match="redirected"):
        get_publisher(hook.account()).publish(Post(parts=("hi",), idempotency_key="k1"))
    assert hook.post_count == 0


def test_missing_hook_url_is_refused_before_any_request():
    with pytest.raises(PublishError, match="no hook URL"):
        get_publisher(Account(platform="webhook", base_url="")).publish(Post(parts=("hi",), idempotency_key="k"))
