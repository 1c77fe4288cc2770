"""Media storage: a shared folder and an S3 bucket (moto's real server, over HTTP) behave the same; the default
keeps every file where it is; settings name the backend and refuse what cannot work."""

from __future__ import annotations

import os
from http.server import BaseHTTPRequestHandler

import pytest

from pipeline.core.errors import ConfigError, StorageError
from pipeline.core.settings import load_settings
from pipeline.media.storage import (ATTEMPTS, LocalStorage, S3Storage, ensure_local, local_media, open_storage,
                                    store_copy)
from tests.fakes.http_server import LocalHTTPServer
from tests.helpers.s3_server import FAKE_CREDENTIALS, S3Server

KEY = "acme/episodes/0123abcd.mp3"


@pytest.fixture(params=["folder", "s3"])
def storage(request, tmp_path):
    """Each backend with somewhere to keep files: a shared folder, or a fresh bucket (prefix "media")."""
    if request.param == "folder":
        return LocalStorage(tmp_path / "shared")
    bucket = request.getfixturevalue("s3")
    return S3Storage(bucket.name, "media", bucket.endpoint, "us-east-1", tmp_path / "cache")


def another_machine(storage, tmp_path):
    """The same storage as a second machine sees it (its own cache)."""
    if isinstance(storage, LocalStorage):
        return LocalStorage(storage.root)
    return S3Storage(storage.bucket, storage.prefix, storage.endpoint_url, "us-east-1", tmp_path / "other-cache")


class Requests:
    """The S3 operations a storage sends (GetObject, PutObject …), counted from boto3's own events."""

    def __init__(self, storage):
        self.sent: list[str] = []
        if isinstance(storage, S3Storage):
            storage.client.meta.events.register("before-call.s3", self._count)

    def _count(self, model, **kwargs):
        self.sent.append(model.name)

    def count(self, operation: str) -> int:
        return self.sent.count(operation)


def media_file(path, size: int = 300_000, seed: bytes = b""):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(seed + os.urandom(size))
    return path


def test_put_then_read_back_the_same_bytes(storage, tmp_path):
    original = media_file(tmp_path / "in" / "episode.mp3")
    ref = storage.put(original, KEY)
    if isinstance(storage, S3Storage):
        assert ref == f"s3://{storage.bucket}/media/{KEY}"
    else:
        assert ref == str(storage.root / KEY) and os.path.isabs(ref)
    assert storage.exists(ref)
    original_bytes = original.read_bytes()
    original.unlink()  # what is read back comes from the storage, not the file it was stored from
    local = storage.local_path(ref)
    assert local.read_bytes() == original_bytes
    assert another_machine(storage, tmp_path).local_path(ref).read_bytes() == original_bytes


def test_putting_the_same_bytes_again_sends_nothing(storage, tmp_path):
    original = media_file(tmp_path / "episode.mp3")
    ref = storage.put(original, KEY)
    before = os.stat(storage.local_path(ref)) if isinstance(storage, LocalStorage) else None
    requests = Requests(storage)
    assert storage.put(original, KEY) == ref
    if isinstance(storage, S3Storage):
        assert requests.count("PutObject") == 0 and requests.count("CreateMultipartUpload") == 0
        assert requests.count("HeadObject") == 1
    else:
        after = os.stat(ref)
        assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_a_second_read_reuses_the_local_copy(storage, tmp_path):
    ref = storage.put(media_file(tmp_path / "episode.mp3"), KEY)
    reader = another_machine(storage, tmp_path)
    requests = Requests(reader)
    first = reader.local_path(ref)
    stat = os.stat(first)
    second = reader.local_path(ref)
    assert second == first and (os.stat(second).st_ino, os.stat(second).st_mtime_ns) == (stat.st_ino, stat.st_mtime_ns)
    if isinstance(storage, S3Storage):
        assert requests.count("GetObject") == 1  # the second read only asked whether the object changed
        assert requests.count("HeadObject") == 2
        assert first == tmp_path / "other-cache" / storage.bucket / "media" / KEY


def test_readers_at_once_on_one_machine_download_once(s3, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    storage = S3Storage(s3.name, "", s3.endpoint, "us-east-1", tmp_path / "cache")
    original = media_file(tmp_path / "episode.mp3", size=3_000_000)
    ref = storage.put(original, KEY)
    requests = Requests(storage)
    with ThreadPoolExecutor(4) as pool:
        paths = list(pool.map(lambda _: storage.local_path(ref), range(4)))
    assert len(set(paths)) == 1 and paths[0].read_bytes() == original.read_bytes()
    assert requests.count("GetObject") == 1


def test_putting_with_cache_keeps_a_copy_here_so_reading_downloads_nothing(storage, tmp_path):
    original = media_file(tmp_path / "episode.mp3")
    ref = storage.put(original, KEY, cache=True)
    requests = Requests(storage)
    assert storage.local_path(ref).read_bytes() == original.read_bytes()
    assert requests.count("GetObject") == 0
    if isinstance(storage, S3Storage):
        assert not storage.local_path(storage.put(original, "acme/episodes/other.mp3")).samefile(original)
        assert requests.count("GetObject") == 1  # without cache=True, the first read downloads


def test_the_local_copy_is_refreshed_when_the_object_changes(storage, tmp_path):
    ref = storage.put(media_file(tmp_path / "v1.mp3", seed=b"v1"), KEY)
    assert storage.local_path(ref).read_bytes().startswith(b"v1")
    changed = media_file(tmp_path / "v2.mp3", size=200_000, seed=b"v2")
    assert another_machine(storage, tmp_path).put(changed, KEY) == ref  # another machine stores new bytes
    requests = Requests(storage)
    assert storage.local_path(ref).read_bytes() == changed.read_bytes()
    if isinstance(storage, S3Storage):
        assert requests.count("GetObject") == 1


def test_the_same_size_but_other_bytes_are_stored_and_read_again(storage, tmp_path):
    ref = storage.put(media_file(tmp_path / "v1.mp3", size=1000), KEY)
    storage.local_path(ref)
    changed = media_file(tmp_path / "v2.mp3", size=1000)
    another_machine(storage, tmp_path).put(changed, KEY)
    assert storage.local_path(ref).read_bytes() == changed.read_bytes()


def test_a_missing_ref_is_a_one_line_error_naming_it(storage, tmp_path):
    ref = storage.put(media_file(tmp_path / "episode.mp3"), KEY)
    missing = ref.replace("0123abcd", "ffff0000")
    assert not storage.exists(missing)
    with pytest.raises(StorageError) as caught:
        storage.local_path(missing)
    message = str(caught.value)
    assert message.startswith(f"{missing}: ") and "\n" not in message
    assert ("not found" in message) if isinstance(storage, S3Storage) else ("missing from the shared media folder" in message)


def test_delete_removes_the_stored_file_and_its_local_copy(storage, tmp_path):
    ref = storage.put(media_file(tmp_path / "episode.mp3"), KEY)
    local = storage.local_path(ref)
    storage.delete(ref)
    assert not storage.exists(ref) and not local.exists()
    storage.delete(ref)  # already gone: nothing to do


def test_delete_under_removes_every_file_of_one_client_and_its_local_copies(storage, tmp_path):
    keys = ("acme/episodes/a.mp3", "acme/clips/episode-1/c.mp4", "acme-2/episodes/b.mp3", "budi/episodes/a.mp3")
    refs = [storage.put(media_file(tmp_path / f"{n}.mp3", 1000), key) for n, key in enumerate(keys)]
    local = storage.local_path(refs[1])
    assert storage.delete_under("acme") == 2
    assert [storage.exists(ref) for ref in refs] == [False, False, True, True]
    assert not local.exists()
    assert storage.delete_under("acme") == 0  # nothing left: nothing to do
    with pytest.raises(StorageError, match="is not a storage key"):
        storage.delete_under("..")
    assert LocalStorage(None).delete_under("budi") == 0  # the default stores nothing


def test_keys_cannot_climb_out_of_the_storage(storage, tmp_path):
    for key in ("../escape.mp3", "/abs.mp3", "acme//x.mp3", ""):
        with pytest.raises(StorageError, match="is not a storage key"):
            storage.put(media_file(tmp_path / "episode.mp3"), key)


def test_a_rendered_file_gone_here_is_fetched_back(storage, tmp_path):
    clip = media_file(tmp_path / "clips" / "h1-audiogram-9x16.mp4")
    data = clip.read_bytes()
    row_probe = store_copy(storage, clip, "acme/clips/episode-1/h1-audiogram-9x16.mp4")
    clip.unlink()
    assert ensure_local(storage, clip, row_probe["stored"]) and clip.read_bytes() == data
    assert not list(clip.parent.glob(".*part"))  # written through a temporary file, renamed into place
    clip.unlink()
    storage.delete(row_probe["stored"])
    assert not ensure_local(storage, clip, row_probe["stored"])


def test_the_default_keeps_every_file_where_it_is(castmill_home, tmp_path):
    settings = load_settings(castmill_home)
    storage = open_storage(settings)
    assert isinstance(storage, LocalStorage) and storage.root is None and not storage.keeps_copies
    original = media_file(tmp_path / "My Show" / "episode 1.mp3")
    ref = storage.put(original, KEY)
    assert ref == str(original)
    assert storage.local_path(ref) == original and local_media(settings, ref) == original
    assert local_media(None, ref) == original
    assert store_copy(storage, original, "acme/clips/episode-1/x.mp4") == {}
    assert list(tmp_path.rglob("*")) == [original.parent, original]  # nothing copied anywhere
    storage.delete(ref)
    assert original.is_file(), "the default never deletes the user's own file"
    with pytest.raises(StorageError, match=r"^s3://bucket/acme/x.mp3: is stored in S3, but \[storage\] media_url"):
        local_media(settings, "s3://bucket/acme/x.mp3")


def test_a_stopped_server_is_retried_then_a_one_line_error(s3, tmp_path):
    server = S3Server().start()
    storage = S3Storage("gone", "", server.endpoint, "us-east-1", tmp_path / "cache")
    storage.client.create_bucket(Bucket="gone")
    ref = storage.put(media_file(tmp_path / "episode.mp3"), KEY)
    server.stop()
    requests = Requests(storage)
    with pytest.raises(StorageError) as caught:
        storage.local_path(ref)
    message = str(caught.value)
    assert requests.count("HeadObject") == ATTEMPTS
    assert message.startswith(f"{ref}: look-up failed after {ATTEMPTS} tries: {server.endpoint} did not answer")
    assert "\n" not in message and FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"] not in message
    with pytest.raises(StorageError, match=f"^s3://gone/acme/other.mp3: look-up failed after {ATTEMPTS} tries"):
        storage.put(media_file(tmp_path / "other.mp3"), "acme/other.mp3")


def test_the_test_server_still_answers_after_thousands_of_requests(s3, tmp_path):
    """Its request log must not fill a pipe nobody reads: a full test run makes thousands of requests."""
    server = S3Server().start()
    try:
        storage = S3Storage("busy", "", server.endpoint, "us-east-1", tmp_path / "cache")
        storage.client.create_bucket(Bucket="busy")
        for _ in range(1500):
            storage.client.head_bucket(Bucket="busy")
        assert server.log_tail().count("HEAD /busy") >= 1
        ref = storage.put(media_file(tmp_path / "episode.mp3"), KEY)
        assert storage.local_path(ref).is_file()
    finally:
        server.stop()


def test_reachable_tells_an_outage_from_an_answer(s3, tmp_path):
    server = S3Server().start()
    storage = S3Storage("here", "", server.endpoint, "us-east-1", tmp_path / "cache")
    storage.client.create_bucket(Bucket="here")
    missing_bucket = S3Storage("not-there", "", server.endpoint, "us-east-1", tmp_path / "cache")
    assert storage.reachable() and missing_bucket.reachable(), "a refusal is an answer, not an outage"
    server.stop()
    assert not storage.reachable()
    shared = tmp_path / "mounted"
    shared.mkdir()
    assert LocalStorage(shared).reachable() and LocalStorage(None).reachable()
    shared.rmdir()  # the shared folder unmounted
    assert not LocalStorage(shared).reachable()


def test_a_server_answering_5xx_is_retried(s3, tmp_path):
    answered = []

    class Unavailable(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _answer(self):
            answered.append(self.command)
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD = do_PUT = _answer

    with LocalHTTPServer(Unavailable) as server:
        storage = S3Storage("busy", "", server.base_url, "us-east-1", tmp_path / "cache")
        with pytest.raises(StorageError) as caught:
            storage.local_path("s3://busy/acme/episode.mp3")
    assert answered == ["HEAD"] * ATTEMPTS
    assert str(caught.value) == (f"s3://busy/acme/episode.mp3: look-up failed after {ATTEMPTS} tries: "
                                 f"{server.base_url} answered HTTP 503")


def test_no_credentials_is_a_clear_error(s3, tmp_path, monkeypatch):
    for var in FAKE_CREDENTIALS:
        monkeypatch.delenv(var)
    storage = S3Storage(s3.name, "", s3.endpoint, "us-east-1", tmp_path / "cache")
    with pytest.raises(StorageError, match="no S3 credentials \\(set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY\\)"):
        storage.put(media_file(tmp_path / "episode.mp3"), KEY)


def test_a_bucket_that_does_not_exist_is_named(s3, tmp_path):
    storage = S3Storage("no-such-bucket", "", s3.endpoint, "us-east-1", tmp_path / "cache")
    with pytest.raises(StorageError, match=f"^s3://no-such-bucket/{KEY}: upload failed: .* has no bucket no-such-bucket$"):
        storage.put(media_file(tmp_path / "episode.mp3"), KEY)


def test_a_ref_of_the_other_kind_is_refused_clearly(tmp_path):
    with pytest.raises(StorageError, match="is stored in S3"):
        LocalStorage(tmp_path / "shared").local_path("s3://bucket/acme/x.mp3")


# --- settings ---------------------------------------------------------------------------------------

def test_settings_pick_the_backend(castmill_home, monkeypatch, s3):
    castmill_home.mkdir(parents=True)
    (castmill_home / "castmill.toml").write_text(
        f'[storage]\nmedia_url = "s3://{s3.name}/prod/media/"\ns3_endpoint_url = "{s3.endpoint}/"\n')
    settings = load_settings()
    storage = open_storage(settings)
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix, storage.endpoint_url) == (s3.name, "prod/media", s3.endpoint)
    assert storage.cache_dir == castmill_home.resolve() / "cache" / "media"
    assert open_storage(settings) is storage  # one client per process
    monkeypatch.setenv("CASTMILL_MEDIA_URL", str(tmp_shared := castmill_home / "shared"))
    folder = open_storage(load_settings())
    assert isinstance(folder, LocalStorage) and folder.root == tmp_shared and folder.keeps_copies
    monkeypatch.setenv("CASTMILL_S3_REGION", "eu-central-1")
    monkeypatch.setenv("CASTMILL_MEDIA_URL", "s3://other-bucket")
    storage = open_storage(load_settings())
    assert (storage.bucket, storage.prefix, storage.client.meta.region_name) == ("other-bucket", "", "eu-central-1")


@pytest.mark.parametrize("lines, error", [
    ('media_url = "s3://"', "storage.media_url: 's3://' names no bucket; write s3://bucket or s3://bucket/prefix"),
    ('media_url = "s3:///media"', "storage.media_url: 's3:///media' names no bucket"),
    ('media_url = "s3://My_Bucket/x"', "storage.media_url: 'My_Bucket' is not a valid S3 bucket name"),
    ('media_url = "s3://bucket/a/../b"', "has an empty, '.' or '..' part in its key"),
    ('media_url = "gs://bucket/x"', "storage.media_url: 'gs://bucket/x' is neither a folder nor s3://bucket/prefix"),
    ('media_url = "shared/media"', "storage.media_url: the folder 'shared/media' must be an absolute path"),
    ('s3_endpoint_url = "127.0.0.1:9000"', "storage.s3_endpoint_url: '127.0.0.1:9000' is not an http(s) URL"),
    ('s3_endpoint_url = "http://key:secret@127.0.0.1:9000"', "storage.s3_endpoint_url: put S3 credentials in "
                                                             "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
    ('s3_region = "EU West"', "storage.s3_region: 'EU West' is not a region name"),
])
def test_settings_refuse_what_cannot_work(castmill_home, lines, error):
    castmill_home.mkdir(parents=True)
    (castmill_home / "castmill.toml").write_text(f"[storage]\n{lines}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert error in message and "\n" not in message and "key:secret" not in message


def test_the_cache_lives_in_home(castmill_home):
    assert load_settings().media_cache_dir == castmill_home.resolve() / "cache" / "media"

