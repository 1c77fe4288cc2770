"""The WordPress publisher against a fake site that enforces the documented REST API contract."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import datetime, timezone

import pytest
import requests

from pipeline.publish.publishers import AuthError, OutcomeUnknown, Post, PublishError
from pipeline.publish.publishers import base
from pipeline.publish.publishers.wordpress import WordPressPublisher, marker
from tests.fakes.wordpress import SAMPLE_DRAFT, FakeWordPress, sample_image
from tests.helpers.publishers import serve_checked


@pytest.fixture
def fake():
    yield from serve_checked(FakeWordPress())


def publisher(fake: FakeWordPress, **kw) -> WordPressPublisher:
    return WordPressPublisher(fake.account(**kw))


def draft(key: str = "sp-1", text: str = SAMPLE_DRAFT, **kw) -> Post:
    return Post(parts=(text,), idempotency_key=key, **kw)


def created_request(fake: FakeWordPress):
    return fake.requests_to("POST", "/wp-json/wp/v2/posts")[-1]


# ---------------------------------------------------------------- publishing


def test_publishes_title_html_content_excerpt_and_slug_with_basic_auth(fake):
    text = SAMPLE_DRAFT + "\n<script>alert(1)</script>\n"
    published = publisher(fake).publish(draft(text=text))

    request = created_request(fake)
    expected = base64.b64encode(f"castmill:{fake.token}".encode()).decode()
    assert request.header("authorization") == f"Basic {expected}"
    body = request.json()
    assert body["title"] == "Pricing your work: what a podcast taught us"
    assert body["slug"] == "pricing-your-work" and body["status"] == "publish"
    assert body["excerpt"] == "Fixed packages beat hourly rates. Dinda and Budi on pricing the result."
    assert "<h2>Stop selling your time</h2>" in body["content"]
    assert "<strong>outcomes</strong>" in body["content"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body["content"] and "<script>" not in body["content"]
    assert body["content"].endswith(marker("sp-1"))
    post = fake.posts[int(published.remote_id)]
    assert post.status == "publish" and post.slug == "pricing-your-work"
    assert published.url == post_link(fake, post) and published.note == ""


def post_link(fake, post) -> str:
    return fake.post_json(post, edit=False)["link"]


def test_featured_image_is_uploaded_first_with_its_filename_type_and_alt_text(fake, tmp_path):
    published = publisher(fake).publish(draft(media=(sample_image(tmp_path),)))

    upload = fake.requests_to("POST", "/wp-json/wp/v2/media")[-1]
    assert upload.header("content-type") == "image/png"
    assert upload.header("content-disposition") == 'attachment; filename="cover.png"'
    assert upload.arg("alt_text") == "Dinda at the mic"
    assert upload.body.startswith(b"\x89PNG")
    media = next(iter(fake.media.values()))
    assert media.alt_text == "Dinda at the mic" and media.filename == "cover.png"
    assert created_request(fake).json()["featured_media"] == media.id
    assert fake.posts[int(published.remote_id)].featured_media == media.id


def test_video_is_refused_before_any_call(fake, tmp_path):
    clip = replace(sample_image(tmp_path, "clip.mp4", "video/mp4"), kind="video")
    with pytest.raises(PublishError, match="only an image") as caught:
        publisher(fake).publish(draft(media=(clip,)))
    assert not caught.value.retryable and fake.requests == []


def test_draft_status_from_the_account_is_reported_in_the_note(fake):
    published = publisher(fake, status="draft").publish(draft())

    assert fake.posts[int(published.remote_id)].status == "draft"
    assert "draft" in published.note
    assert published.url == f"{fake.base_url}/?p={published.remote_id}"


def test_the_drafts_status_line_wins_over_the_account(fake):
    published = publisher(fake, status="draft").publish(draft(text="Status: pending\n" + SAMPLE_DRAFT))
    assert fake.posts[int(published.remote_id)].status == "pending" and "review" in published.note


def test_future_status_with_a_date_is_scheduled(fake):
    text = "Status: future\nDate: 2099-01-02T09:30:00+00:00\n" + SAMPLE_DRAFT
    published = publisher(fake).publish(draft(text=text))
    assert fake.posts[int(published.remote_id)].status == "future"
    assert published.note == "scheduled in WordPress for 2099-01-02T09:30:00 UTC"


def test_category_and_tag_names_become_ids_and_a_missing_tag_is_created(fake):
    fake.terms["categories"][7] = "Business & Money"
    fake.terms["tags"][9] = "pricing"
    text = "Categories: business & money\nTags: Pricing, freelancing\n" + SAMPLE_DRAFT
    published = publisher(fake).publish(draft(text=text))

    post = fake.posts[int(published.remote_id)]
    freelancing = next(i for i, name in fake.terms["tags"].items() if name == "freelancing")
    assert post.categories == [7] and post.tags == [9, freelancing]


def test_a_missing_category_is_a_final_error_naming_it(fake):
    with pytest.raises(PublishError, match="no category 'Recipes'") as caught:
        publisher(fake).publish(draft(text="Categories: Recipes\n" + SAMPLE_DRAFT))
    assert not caught.value.retryable and fake.post_count == 0


def test_a_missing_title_is_a_final_error_naming_the_field(fake):
    with pytest.raises(PublishError, match="no Title line") as caught:
        publisher(fake).publish(draft(text="Slug: no-title\n\nJust text."))
    assert not caught.value.retryable and not isinstance(caught.value, AuthError)
    assert fake.requests == []


def test_a_taken_slug_gets_wordpress_suffix(fake):
    other = publisher(fake).publish(draft("another-post"))
    ours = publisher(fake).publish(draft("sp-1"))
    assert fake.posts[int(other.remote_id)].slug == "pricing-your-work"
    assert fake.posts[int(ours.remote_id)].slug == "pricing-your-work-2"


# ---------------------------------------------------------------- errors


def test_a_wrong_application_password_is_an_auth_error_with_wordpress_code(fake):
    with pytest.raises(AuthError) as caught:
        publisher(fake, token="wrong pass word").publish(draft())
    assert caught.value.status == 401 and "incorrect_password" in str(caught.value)
    assert "wrong pass word" not in str(caught.value) and fake.post_count == 0


def test_unknown_user_is_an_auth_error(fake):
    from pipeline.publish.publishers import Account

    account = Account(platform="wordpress", base_url=fake.base_url, handle="nobody", token=fake.token)
    with pytest.raises(AuthError, match="Unknown username") as caught:
        WordPressPublisher(account).publish(draft())
    assert "<strong>" not in str(caught.value)


def test_a_user_without_rights_gets_403_as_an_auth_error(fake):
    fake.role = "subscriber"
    with pytest.raises(AuthError) as caught:
        publisher(fake).publish(draft())
    assert caught.value.status == 403 and "rest_cannot_create" in str(caught.value)


def test_a_contributor_may_not_publish(fake):
    fake.role = "contributor"
    with pytest.raises(AuthError, match="rest_cannot_publish"):
        publisher(fake).publish(draft())
    assert publisher(fake, status="pending").publish(draft()).note.startswith("submitted for review")


def test_429_with_retry_after_is_retryable(fake):
    fake.fail_next(429, path="/posts$", headers={"Retry-After": "30"},
                   json={"code": "rate_limited", "message": "Too many requests", "data": {"status": 429}})
    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(draft())
    assert caught.value.retryable and caught.value.retry_after == 30.0
    assert "Too many requests (rate_limited)" in str(caught.value)


def test_5xx_is_retryable(fake):
    fake.fail_next(502, path="/posts$", body=b"<html>Bad Gateway</html>")
    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(draft())
    assert caught.value.retryable and caught.value.status == 502 and fake.post_count == 0


def test_400_is_final_with_wordpress_message_and_params(fake):
    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(fake.invalid_post("k"))
    error = caught.value
    assert error.status == 400 and not error.retryable and not isinstance(error, AuthError)
    assert str(error) == ("wordpress: HTTP 400: Invalid parameter(s): status (rest_invalid_param): "
                          "status is not one of publish, future, draft, pending, private.")


# ---------------------------------------------------------------- idempotency


def test_timeout_after_the_post_was_created_is_unknown_then_found_and_not_sent_again(fake, monkeypatch):
    monkeypatch.setattr(base, "READ_TIMEOUT", 0.5)
    fake.hang_next(path="/posts$", method="POST", seconds=10)
    started = datetime.now(timezone.utc)
    with pytest.raises(OutcomeUnknown):
        publisher(fake).publish(draft())
    assert fake.post_count == 1
    accepted = next(iter(fake.posts.values()))

    found = publisher(fake).find_existing(draft())
    assert found is not None and found.remote_id == str(accepted.id)
    retried = publisher(fake).publish(draft(first_attempt_at=started))
    assert retried == found and fake.post_count == 1
    assert len(fake.requests_to("POST", "/wp-json/wp/v2/posts")) == 1


def test_the_look_up_reads_raw_content_of_all_statuses_with_context_edit(fake):
    publisher(fake, status="draft").publish(draft())
    assert publisher(fake).find_existing(draft()) is not None

    lookup = fake.requests_to("GET", "/wp-json/wp/v2/posts")[-1]
    assert lookup.arg("context") == "edit"
    assert lookup.arg("status") == "publish,future,draft,pending,private"
    assert lookup.arg("slug").split(",")[:2] == ["pricing-your-work", "pricing-your-work-2"]


def test_another_post_with_the_same_slug_is_not_taken_for_ours(fake):
    other = publisher(fake).publish(draft("last-weeks-post"))

    assert publisher(fake).find_existing(draft("sp-1")) is None
    ours = publisher(fake).publish(draft("sp-1", first_attempt_at=datetime.now(timezone.utc)))
    assert ours.remote_id != other.remote_id and fake.post_count == 2
    assert publisher(fake).find_existing(draft("sp-1")) == ours


def test_a_post_whose_slug_was_edited_in_wordpress_is_found_by_its_marker(fake):
    published = publisher(fake).publish(draft())
    post = fake.posts[int(published.remote_id)]
    post.slug = "renamed-by-the-editor"

    assert publisher(fake).find_existing(draft()) == replace(published, url=post_link(fake, post))
    assert fake.requests_to("GET", "/wp-json/wp/v2/posts")[-1].arg("search") == "castmill:sp-1"


def test_the_marker_survives_kses_for_an_author_even_for_a_key_with_double_dashes(fake):
    fake.role = "author"
    post = draft("odd--key")
    published = publisher(fake).publish(post)

    assert "castmill:sha256:" in fake.posts[int(published.remote_id)].content
    assert publisher(fake).find_existing(post) == published


def test_a_first_attempt_makes_no_look_up_read(fake):
    publisher(fake).publish(draft())
    assert fake.requests_to("GET", r"/wp-json/wp/v2/posts") == [] and fake.post_count == 1


# ---------------------------------------------------------------- credentials


def test_check_credentials(fake):
    ok = publisher(fake).check_credentials()
    assert ok.ok and ok.message == f"wordpress: signed in as castmill on {fake.base_url.split('//')[1]}"
    assert fake.requests[-1].arg("context") == "edit"

    bad = publisher(fake, token="revoked app password").check_credentials()
    assert not bad.ok and "incorrect_password" in bad.message and "revoked" not in bad.message


def test_check_credentials_warns_when_the_user_may_not_publish(fake):
    fake.role = "contributor"
    status = publisher(fake).check_credentials()
    assert not status.ok and "may not publish" in status.message and "contributor" in status.message
    assert publisher(fake, status="draft").check_credentials().ok


# ---------------------------------------------------------------- the fake keeps WordPress's rules


def test_the_fake_refuses_what_wordpress_refuses(fake):
    url = fake.url("/wp-json/wp/v2")
    auth = ("castmill", fake.token)
    anonymous_edit = requests.get(f"{url}/posts", params={"context": "edit"}, timeout=5)
    assert anonymous_edit.status_code == 401 and anonymous_edit.json()["code"] == "rest_forbidden_context"
    anonymous_drafts = requests.get(f"{url}/posts", params={"status": "draft"}, timeout=5)
    assert anonymous_drafts.json()["data"]["params"] == {"status": "Status is forbidden."}
    me = requests.get(f"{url}/users/me", timeout=5)
    assert me.status_code == 401 and me.json()["code"] == "rest_not_logged_in"
    no_disposition = requests.post(f"{url}/media", data=b"\x89PNG", headers={"Content-Type": "image/png"},
                                   auth=auth, timeout=5)
    assert no_disposition.json()["code"] == "rest_upload_no_content_disposition"
    empty = requests.post(f"{url}/posts", json={"status": "draft"}, auth=auth, timeout=5)
    assert empty.status_code == 400 and empty.json()["code"] == "empty_content"
    bad_date = requests.post(f"{url}/posts", json={"title": "x", "date": "next tuesday"}, auth=auth, timeout=5)
    assert bad_date.json()["data"]["params"] == {"date": "Invalid date."}
    form = requests.post(f"{url}/posts", data={"title": "Form post", "status": "draft"}, auth=auth, timeout=5)
    assert form.status_code == 201 and form.json()["title"]["raw"] == "Form post"
