"""The Bluesky publisher against a fake PDS: TIDs, byte-offset facets, threads, exactly-once."""

from __future__ import annotations

import time

import pytest
import requests

from pipeline.publish.publishers import AuthError, Engagement, MediaFile, Post, PublishError, get_publisher
from pipeline.publish.publishers import bluesky
from pipeline.publish.publishers.bluesky import BlueskyPublisher, facets_for, is_tid, part_key, tid_for
from tests.fakes.bluesky import FakeBluesky


@pytest.fixture(autouse=True)
def no_cached_sessions():
    bluesky._SESSIONS.clear()
    yield
    bluesky._SESSIONS.clear()


@pytest.fixture
def fake():
    with FakeBluesky() as server:
        yield server


def publisher(fake: FakeBluesky, **kw) -> BlueskyPublisher:
    return get_publisher(fake.account(**kw))


def sliced(text: str, facet: dict) -> str:
    index = facet["index"]
    return text.encode("utf-8")[index["byteStart"]:index["byteEnd"]].decode("utf-8")


# ---------------------------------------------------------------- TIDs


def test_tid_for_is_a_deterministic_valid_tid_in_the_past():
    keys = [f"post-{n}" for n in range(500)]
    tids = [tid_for(key) for key in keys]
    assert tids == [tid_for(key) for key in keys]
    assert len(set(tids)) == len(tids)
    assert all(is_tid(tid) and len(tid) == 13 for tid in tids)
    micros = [int("".join(f"{bluesky.TID_ALPHABET.index(c):05b}" for c in tid), 2) >> 10 for tid in tids]
    assert all(1_672_531_200_000_000 <= m < time.time() * 1_000_000 for m in micros)


def test_is_tid_rejects_non_tids():
    assert is_tid("3jzfcijpj2z2a")
    for bad in ("3jzfcijpj2z2", "3jzfcijpj2z2aa", "zjzfcijpj2z2a", "3jzfcijpj2z2A", "3jzfcijpj2z21"):
        assert not is_tid(bad)


def test_the_fake_refuses_non_tid_rkeys_and_reused_rkeys(fake):
    publisher(fake).publish(Post(parts=("hi",), idempotency_key="k"))
    jwt = next(iter(fake.sessions))
    headers = {"Authorization": f"Bearer {jwt}"}
    record = {"$type": "app.bsky.feed.post", "text": "x", "createdAt": "2025-01-01T00:00:00.000Z"}
    body = {"repo": fake.did, "collection": "app.bsky.feed.post", "record": record}
    url = fake.url("/xrpc/com.atproto.repo.createRecord")
    bad = requests.post(url, json={**body, "rkey": "not-a-tid"}, headers=headers, timeout=5)
    assert bad.status_code == 400 and bad.json()["error"] == "InvalidRequest"
    reused = requests.post(url, json={**body, "rkey": tid_for("k")}, headers=headers, timeout=5)
    assert reused.status_code == 500


# ---------------------------------------------------------------- facets


def test_facet_byte_offsets_after_emoji_and_indonesian_diacritics():
    text = ("Selamat datang 👋🏽 di episode baru — kisah Ñoño & Bébé 🇮🇩: https://example.com/ep/12?x=1 "
            "bersama @alice.test #PodcastIndonesia #kopi")
    facets = facets_for(text, {"alice.test": "did:plc:alice"}.get)
    by_type = {f["features"][0]["$type"].rsplit("#", 1)[1]: f for f in facets}
    assert sliced(text, by_type["link"]) == "https://example.com/ep/12?x=1"
    assert by_type["link"]["features"][0]["uri"] == "https://example.com/ep/12?x=1"
    assert sliced(text, by_type["mention"]) == "@alice.test"
    assert by_type["mention"]["features"][0]["did"] == "did:plc:alice"
    tags = [f for f in facets if f["features"][0]["$type"].endswith("#tag")]
    assert [sliced(text, f) for f in tags] == ["#PodcastIndonesia", "#kopi"]
    assert [f["features"][0]["tag"] for f in tags] == ["PodcastIndonesia", "kopi"]
    assert [f["index"]["byteStart"] for f in facets] == sorted(f["index"]["byteStart"] for f in facets)
    # the byte offset differs from the code-point offset: the facet must use bytes
    assert by_type["link"]["index"]["byteStart"] != text.index("https://")


def test_unresolved_mentions_stay_text_and_bare_domains_get_https():
    text = "with @nobody.example and see podcast.example.com/ep/3"
    facets = facets_for(text, lambda handle: None)
    assert [f["features"][0]["$type"] for f in facets] == ["app.bsky.richtext.facet#link"]
    assert facets[0]["features"][0]["uri"] == "https://podcast.example.com/ep/3"
    assert sliced(text, facets[0]) == "podcast.example.com/ep/3"


def test_email_like_and_url_internal_at_signs_are_not_mentions():
    text = "mail me: me@alice.test or https://example.com/@alice.test/post"
    assert all(not f["features"][0]["$type"].endswith("#mention") for f in facets_for(text, lambda h: "did:x"))


# ---------------------------------------------------------------- publishing


def test_publish_creates_a_post_record_with_facets_and_our_rkey(fake):
    text = "Selamat datang 👋🏽 di Bébé 🇮🇩: https://example.com/ep/1 bersama @alice.test #podcast"
    published = publisher(fake).publish(Post(parts=(text,), idempotency_key="sp-1"))

    rkey = tid_for("sp-1")
    assert published.remote_id == f"at://{fake.did}/app.bsky.feed.post/{rkey}"
    assert published.url == f"https://bsky.app/profile/castmill.test/post/{rkey}"
    record = fake.records[rkey]["value"]
    assert record["text"] == text
    assert record["createdAt"].endswith("Z")
    slices = {f["features"][0]["$type"].rsplit("#", 1)[1]: sliced(text, f) for f in record["facets"]}
    assert slices == {"link": "https://example.com/ep/1", "mention": "@alice.test", "tag": "#podcast"}
    mention = next(f for f in record["facets"] if f["features"][0]["$type"].endswith("#mention"))
    assert mention["features"][0]["did"] == fake.handles["alice.test"]


def test_thread_parts_reply_to_root_and_parent(fake):
    publisher(fake).publish(Post(parts=("one", "two", "three"), idempotency_key="t"))

    refs = [fake.records[tid_for(part_key("t", i))] for i in range(3)]
    root = {"uri": refs[0]["uri"], "cid": refs[0]["cid"]}
    assert "reply" not in refs[0]["value"]
    assert refs[1]["value"]["reply"] == {"root": root, "parent": root}
    assert refs[2]["value"]["reply"] == {"root": root, "parent": {"uri": refs[1]["uri"], "cid": refs[1]["cid"]}}


def test_republish_checks_get_record_and_creates_nothing(fake):
    post = Post(parts=("once", "twice"), idempotency_key="k")
    first = publisher(fake).publish(post)
    creates = len(fake.requests_to("POST", r"/xrpc/com\.atproto\.repo\.createRecord"))
    second = publisher(fake).publish(post)
    assert first == second
    assert len(fake.requests_to("POST", r"/xrpc/com\.atproto\.repo\.createRecord")) == creates == 2
    assert fake.post_count == 2


def test_half_published_thread_resumes_with_the_missing_part(fake):
    post = Post(parts=("one", "two"), idempotency_key="t")
    fake.fail_next(502, path="createRecord", after=1, json={"error": "UpstreamFailure", "message": "try later"})
    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(post)
    assert caught.value.retryable
    assert fake.post_count == 1
    assert publisher(fake).find_existing(post) is None

    published = publisher(fake).publish(post)
    assert fake.post_count == 2
    assert published.remote_id == fake.records[tid_for("t")]["uri"]
    assert fake.records[tid_for("t/2")]["value"]["reply"]["root"]["uri"] == published.remote_id


def test_find_existing_by_get_record(fake):
    post = Post(parts=("hi",), idempotency_key="k")
    assert publisher(fake).find_existing(post) is None
    published = publisher(fake).publish(post)
    assert publisher(fake).find_existing(post) == published


def test_images_are_uploaded_as_blobs_with_alt_text(fake, tmp_path):
    images = []
    for n in range(2):
        path = tmp_path / f"i{n}.png"
        path.write_bytes(bytes([n]) * 1000)
        images.append(MediaFile(path, "image", "image/png", alt=f"picture {n}"))
    publisher(fake).publish(Post(parts=("pics", "more"), idempotency_key="k", media=tuple(images)))

    embed = fake.record(0)["embed"]
    assert embed["$type"] == "app.bsky.embed.images"
    assert [i["alt"] for i in embed["images"]] == ["picture 0", "picture 1"]
    assert all(fake.blobs[i["image"]["ref"]["$link"]] == {"mimeType": "image/png", "size": 1000}
               for i in embed["images"])
    assert "embed" not in fake.record(1)
    upload = fake.requests_to("POST", r"/xrpc/com\.atproto\.repo\.uploadBlob")[0]
    assert upload.header("content-type") == "image/png" and upload.body == images[0].path.read_bytes()


def test_video_embed(fake, tmp_path):
    path = tmp_path / "clip.mp4"
    path.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 500)
    publisher(fake).publish(Post(parts=("watch",), idempotency_key="k",
                                 media=(MediaFile(path, "video", "video/mp4", alt="a clip"),)))
    embed = fake.record(0)["embed"]
    assert embed["$type"] == "app.bsky.embed.video" and embed["alt"] == "a clip"
    assert fake.blobs[embed["video"]["ref"]["$link"]]["mimeType"] == "video/mp4"


def test_oversized_image_is_refused_by_the_server(fake, tmp_path):
    path = tmp_path / "big.jpg"
    path.write_bytes(b"\xff" * 1_000_001)
    with pytest.raises(PublishError, match="file too large") as caught:
        publisher(fake).publish(Post(parts=("big",), idempotency_key="k",
                                     media=(MediaFile(path, "image", "image/jpeg", alt="big"),)))
    assert not caught.value.retryable and fake.post_count == 0


def test_text_limit_is_graphemes_not_bytes(fake):
    ok = "👋🏽" * 300  # 300 graphemes, 2,400 bytes
    publisher(fake).publish(Post(parts=(ok,), idempotency_key="ok"))
    with pytest.raises(PublishError, match=r"grapheme too big \(maximum 300, got 301\)") as caught:
        publisher(fake).publish(Post(parts=(ok + "!",), idempotency_key="too-long"))
    assert caught.value.status == 400 and not caught.value.retryable
    assert fake.post_count == 1


# ---------------------------------------------------------------- sessions and credentials


def test_session_is_reused_across_publishers(fake):
    publisher(fake).publish(Post(parts=("a",), idempotency_key="a"))
    publisher(fake).publish(Post(parts=("b",), idempotency_key="b"))
    assert fake.session_count == 1


def test_expired_session_is_renewed_once(fake):
    publisher(fake).publish(Post(parts=("a",), idempotency_key="a"))
    fake.expire_sessions()
    publisher(fake).publish(Post(parts=("b",), idempotency_key="b"))
    assert fake.session_count == 2
    assert fake.post_count == 2


def test_wrong_app_password_is_an_auth_error_without_the_password(fake):
    publisher(fake).publish(Post(parts=("a",), idempotency_key="a"))  # a valid session is cached…
    with pytest.raises(AuthError) as caught:  # …but never reused for another password
        publisher(fake, token="wxyz-wrong-pass-0000").publish(Post(parts=("b",), idempotency_key="b"))
    assert "Invalid identifier or password" in str(caught.value)
    assert "wxyz-wrong-pass-0000" not in str(caught.value)
    assert fake.post_count == 1


def test_check_credentials(fake):
    assert publisher(fake).check_credentials().message == "bluesky: signed in as castmill.test"
    assert not publisher(fake, token="nope-nope-nope-nope").check_credentials().ok


def test_rate_limit_reset_header(fake):
    reset = str(int(time.time()) + 120)
    fake.fail_next(429, path="createRecord", json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                   headers={"ratelimit-reset": reset})
    with pytest.raises(PublishError) as caught:
        publisher(fake).publish(Post(parts=("a",), idempotency_key="a"))
    assert caught.value.retryable and 110 <= caught.value.retry_after <= 120
    assert "RateLimitExceeded" in str(caught.value)


def test_engagement_from_get_posts(fake):
    published = publisher(fake).publish(Post(parts=("a",), idempotency_key="a"))
    fake.records[tid_for("a")].update(likeCount=5, repostCount=2, quoteCount=1, replyCount=4)
    assert publisher(fake).fetch_engagement(published.remote_id) == Engagement(likes=5, reposts=3, replies=4)
