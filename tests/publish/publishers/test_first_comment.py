"""First comments (self-replies) through each publisher that posts them, against its contract fake."""

from __future__ import annotations

import pytest

from pipeline.platforms import get_platform
from pipeline.publish.publishers import AuthError, OutcomeUnknown, PublishError, get_publisher
from tests.fakes.bluesky import FakeBluesky
from tests.fakes.facebook import FacebookFake
from tests.fakes.graph import InstagramFake
from tests.fakes.linkedin import FakeLinkedIn
from tests.fakes.mastodon import FakeMastodon
from tests.fakes.threads import ThreadsFake
from tests.fakes.x import FakeX

# platform -> (its fake, the path its comment is created on)
FAKES = {
    "mastodon": (FakeMastodon, r"/api/v1/statuses$"),
    "bluesky": (FakeBluesky, r"createRecord$"),
    "x": (FakeX, r"/2/tweets$"),
    "linkedin": (FakeLinkedIn, r"/comments$"),
    "instagram": (InstagramFake, r"/comments$"),
    "facebook": (FacebookFake, r"/comments$"),
    "threads": (ThreadsFake, r"/threads_publish$"),
}
COMMENT = "#podcast #marketing Full episode: https://example.com/ep/12"


@pytest.fixture(params=sorted(FAKES))
def fake(request):
    server = FAKES[request.param][0]().start()
    server.platform_name = request.param
    yield server
    server.stop()
    assert server.errors == [], f"the {request.param} fake crashed: {server.errors[0]!r}"


def _published_post(fake):
    publisher = get_publisher(fake.account())
    if hasattr(publisher, "sleep"):  # Instagram's container polls: no real waiting here
        publisher.sleep = lambda seconds: None
    return publisher, publisher.publish(fake.sample_post("post-1"))


def _over_limit(platform: str) -> str:
    limit = get_platform(platform).comment_limit
    return "a" * (limit + 1)


def test_comment_is_posted_once_under_the_post_and_found_again(fake):
    publisher, post = _published_post(fake)
    comment = publisher.publish_comment(post.remote_id, COMMENT, key="post-1/comment")
    assert comment.remote_id and comment.remote_id != post.remote_id
    assert fake.comments_on(post.remote_id) == [COMMENT]
    found = publisher.find_comment(post.remote_id, COMMENT, key="post-1/comment")
    assert found is not None and found.remote_id == comment.remote_id
    assert publisher.find_comment(post.remote_id, "another text", key="post-2/comment") is None


def test_comment_over_the_platform_limit_is_refused_for_good(fake):
    publisher, post = _published_post(fake)
    with pytest.raises(PublishError) as refused:
        publisher.publish_comment(post.remote_id, _over_limit(fake.platform_name), key="post-1/comment")
    assert not refused.value.retryable
    assert fake.comments_on(post.remote_id) == []


def test_comment_on_a_post_that_does_not_exist_is_refused(fake):
    publisher, post = _published_post(fake)
    missing = post.remote_id[:-3] + ("222" if not post.remote_id.endswith("222") else "333")
    with pytest.raises(PublishError):
        publisher.publish_comment(missing, COMMENT, key="post-1/comment")
    assert fake.comments_on(post.remote_id) == [] and fake.comments_on(missing) == []


def test_comment_with_a_wrong_token_is_an_auth_error(fake):
    _, post = _published_post(fake)
    with pytest.raises(AuthError):
        get_publisher(fake.account(token="wrong-token")).publish_comment(post.remote_id, COMMENT, key="k/comment")
    assert fake.comments_on(post.remote_id) == []


def test_comment_accepted_without_an_answer_is_unknown_then_found(fake, monkeypatch):
    import pipeline.publish.publishers.base as base

    publisher, post = _published_post(fake)
    monkeypatch.setattr(base, "READ_TIMEOUT", 0.5)
    fake.hang_next(method="POST", path=FAKES[fake.platform_name][1], seconds=3)
    with pytest.raises(OutcomeUnknown):
        publisher.publish_comment(post.remote_id, COMMENT, key="post-1/comment")
    assert publisher.find_comment(post.remote_id, COMMENT, key="post-1/comment") is not None
    assert fake.comments_on(post.remote_id) == [COMMENT]
