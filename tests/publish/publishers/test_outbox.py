"""The outbox publisher: one JSON file per post, written once, atomically."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from pipeline.publish.publishers import Account, MediaFile, Post, PublishError, get_publisher
from pipeline.publish.publishers.outbox import OutboxPublisher, file_stem, outbox_folder


def outbox(folder: Path | str = "", handle: str = "acme") -> OutboxPublisher:
    return get_publisher(Account(platform="outbox", base_url=str(folder), handle=handle))


def test_publish_writes_one_json_file_named_by_the_key(tmp_path):
    publisher = outbox(tmp_path)
    post = Post(parts=("First part", "Second part"), idempotency_key="sp-1-abc", title="T", link="https://e.x/1")

    published = publisher.publish(post)

    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["sp-1-abc.json"]
    document = json.loads((tmp_path / "sp-1-abc.json").read_text())
    assert document["parts"] == ["First part", "Second part"]
    assert document["idempotency_key"] == "sp-1-abc"
    assert document["client"] == "acme"
    assert (document["title"], document["link"]) == ("T", "https://e.x/1")
    assert published.remote_id == "sp-1-abc"
    assert published.url == (tmp_path / "sp-1-abc.json").resolve().as_uri()


def test_default_folder_is_under_castmill_home_per_client(castmill_home):
    published = outbox("", handle="acme").publish(Post(parts=("hi",), idempotency_key="k1"))
    assert (castmill_home / "outbox" / "acme" / "k1.json").is_file()
    assert published.url.endswith("/outbox/acme/k1.json")


def test_file_url_is_accepted(tmp_path):
    outbox(tmp_path.as_uri()).publish(Post(parts=("hi",), idempotency_key="k1"))
    assert (tmp_path / "k1.json").is_file()
    assert outbox_folder(tmp_path.as_uri()) == tmp_path


def test_same_key_twice_writes_once_and_returns_the_first(tmp_path):
    publisher = outbox(tmp_path)
    first = publisher.publish(Post(parts=("original",), idempotency_key="k1"))
    stamp = (tmp_path / "k1.json").stat().st_mtime_ns

    again = publisher.publish(Post(parts=("changed text",), idempotency_key="k1"))

    assert again == first
    assert (tmp_path / "k1.json").stat().st_mtime_ns == stamp
    assert json.loads((tmp_path / "k1.json").read_text())["parts"] == ["original"]


def test_concurrent_publishers_of_one_key_produce_one_file(tmp_path):
    results, errors = [], []

    def publish(n: int) -> None:
        try:
            results.append(outbox(tmp_path).publish(Post(parts=(f"writer {n}",), idempotency_key="race")))
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(set(results)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["race.json"]  # no temp files left behind
    json.loads((tmp_path / "race.json").read_text())  # complete, parseable


def test_find_existing(tmp_path):
    publisher = outbox(tmp_path)
    post = Post(parts=("hi",), idempotency_key="k1")
    assert publisher.find_existing(post) is None
    published = publisher.publish(post)
    assert publisher.find_existing(post) == published


def test_unsafe_keys_become_hashed_file_names(tmp_path):
    key = "../../etc/passwd"
    outbox(tmp_path).publish(Post(parts=("hi",), idempotency_key=key))
    names = [p.name for p in tmp_path.iterdir()]
    assert names == [f"{file_stem(key)}.json"]
    assert len(file_stem(key)) == 64 and "/" not in file_stem(key)


def test_media_is_linked_beside_the_post(tmp_path):
    clips = tmp_path / "clips"
    clips.mkdir()
    video = clips / "clip.mp4"
    video.write_bytes(b"\x00\x00\x00\x18ftypmp42 video bytes")
    other = tmp_path / "clip.mp4"  # same name, different file: both must survive
    other.write_bytes(b"second clip")
    out = tmp_path / "out"
    post = Post(parts=("watch",), idempotency_key="k1",
                media=(MediaFile(video, "video", "video/mp4", alt="a clip"), MediaFile(other, "video", "video/mp4")))

    outbox(out).publish(post)

    media = json.loads((out / "k1.json").read_text())["media"]
    assert [Path(m["path"]).read_bytes() for m in media] == [video.read_bytes(), b"second clip"]
    assert media[0]["source"] == str(video.resolve())
    assert (media[0]["kind"], media[0]["mime"], media[0]["alt"]) == ("video", "video/mp4", "a clip")
    assert all(Path(m["path"]).parent == out / "k1.media" for m in media)


def test_missing_media_fails_without_publishing(tmp_path):
    post = Post(parts=("watch",), idempotency_key="k1", media=(MediaFile(tmp_path / "gone.mp4", "video", "video/mp4"),))
    with pytest.raises(PublishError, match="media file not found") as caught:
        outbox(tmp_path / "out").publish(post)
    assert not caught.value.retryable
    assert not (tmp_path / "out" / "k1.json").exists()


def test_empty_post_is_refused(tmp_path):
    with pytest.raises(PublishError, match="neither text nor media"):
        outbox(tmp_path).publish(Post(parts=(), idempotency_key="k1"))


def test_check_credentials_on_a_writable_folder(tmp_path):
    status = outbox(tmp_path / "new").check_credentials()
    assert status.ok
    assert "writable" in status.message
    assert list((tmp_path / "new").iterdir()) == []


def test_unwritable_target_when_a_file_blocks_the_folder(tmp_path):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    with pytest.raises(PublishError, match="cannot write") as caught:
        outbox(blocker / "sub").publish(Post(parts=("hi",), idempotency_key="k1"))
    assert not caught.value.retryable
    assert not outbox(blocker / "sub").check_credentials().ok
