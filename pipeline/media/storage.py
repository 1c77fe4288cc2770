"""Where episode media and rendered clips live, so that workers on other machines can read them.

A *ref* names a stored file: a plain path (the default, and files in a shared folder) or
``s3://bucket/key``. ``put`` stores a local file under a key such as ``acme/episodes/<sha256>.mp3``
and returns its ref; ``local_path`` gives a local file to read for a ref: a plain path as it is, an
S3 object downloaded once into this machine's cache (``$CASTMILL_HOME/cache/media``) and reused
while the object's size and ETag are unchanged.

``open_storage`` picks the backend from ``[storage] media_url``: "" keeps every file where it
already is and copies nothing (one machine, today's behaviour), a folder copies into that folder
(one that every machine mounts at the same path), ``s3://bucket/prefix`` uses the bucket. Files are
always written atomically (a temporary file, then a rename), so a reader never sees half a file.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from functools import lru_cache
from pathlib import Path

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from pipeline.core.errors import StorageError
from pipeline.core.settings import S3_SCHEME, Settings, load_settings, split_s3_url
from pipeline.media.download import CHUNK_BYTES, sha256_file

# Tries of one S3 request when the server does not answer, times out or answers 5xx; the waits
# between them grow from 0.2 s (0.2 + 0.4 + 0.8 s in all).
ATTEMPTS = 4
CONNECT_TIMEOUT_S = 5
READ_TIMEOUT_S = 60
# Files from this size up are uploaded in parts of this size.
MULTIPART_BYTES = 64 * 1024**2
_META = ".meta"  # beside the bucket folders in the cache: each cached object's ETag and size, and its lock


def is_remote(ref: str) -> bool:
    """True for a ref that names an object in a bucket rather than a file path."""
    return ref.startswith(S3_SCHEME)


def episode_key(client_slug: str, sha256: str, suffix: str) -> str:
    """The key of an episode's media: same bytes, same key."""
    return f"{client_slug}/episodes/{sha256}{suffix.lower()}"


def clip_key(client_slug: str, episode_id: int, name: str) -> str:
    """The key of a rendered clip file (or quote card) of an episode."""
    return f"{client_slug}/clips/episode-{episode_id}/{name}"


def check_key(key: str) -> str:
    """``key`` when it is a relative, slash-separated name with no empty, "." or ".." part."""
    if not key or key.startswith("/") or any(part in ("", ".", "..") for part in key.split("/")):
        raise StorageError(f"{key!r} is not a storage key (a relative name, no empty, '.' or '..' parts)")
    return key


class MediaStorage:
    """What every backend does. Refs that are plain paths are readable through any backend."""

    # False only for the default, which keeps files where they are and stores no copy.
    keeps_copies: bool = True

    def put(self, local: Path, key: str, *, cache: bool = False) -> str:
        """Store the file ``local`` under ``key`` (nothing is sent when the same bytes are there) and
        return its ref. ``cache``: keep a copy in this machine's cache too, so that reading the ref here
        downloads nothing (for media this machine reads next, like an episode it ingests)."""
        raise NotImplementedError

    def local_path(self, ref: str) -> Path:
        """A local file holding the bytes ``ref`` names."""
        raise NotImplementedError

    def exists(self, ref: str) -> bool:
        raise NotImplementedError

    def delete(self, ref: str) -> None:
        """Remove what ``put`` stored under ``ref``; a file this storage did not store is left alone."""
        raise NotImplementedError

    def delete_under(self, prefix: str) -> int:
        """Remove everything stored under the key prefix ``prefix`` (a client's ``<slug>``: every key of its
        episodes and clips starts with it); how many files or objects went. Nothing with the default storage."""
        raise NotImplementedError

    def reachable(self) -> bool:
        """False while the storage does not answer at all (a bucket's server down, a shared folder unmounted):
        an outage to wait out, not a fault of the file a stage was reading or writing."""
        return True

    def fetch(self, ref: str, dest: Path) -> Path:
        """A copy of ``ref`` at ``dest``, written atomically (a rendered clip put back where its row says it is)."""
        source, dest = self.local_path(ref), Path(dest)
        if dest.exists() and os.path.samefile(source, dest):
            return dest
        try:
            _copy_atomically(source, dest)
        except OSError as exc:
            raise StorageError(f"cannot write {dest}: {exc.strerror or exc}", source=ref) from exc
        return dest


class LocalStorage(MediaStorage):
    """Files on a local or mounted file system.

    ``root`` None (the default): every file stays where it is, ``put`` returns the file's own path.
    With a root (a folder all machines mount at the same path), ``put`` copies into ``root/key``.
    """

    def __init__(self, root: Path | None = None):
        self.root = Path(root).expanduser().absolute() if root is not None else None
        self.keeps_copies = root is not None

    def put(self, local: Path, key: str, *, cache: bool = False) -> str:
        local = Path(local)
        if self.root is None:
            return str(local)
        dest = self.root / check_key(key)
        try:
            if not (dest.is_file() and (dest.samefile(local) or _same_bytes(local, dest))):
                _copy_atomically(local, dest)
        except FileNotFoundError as exc:
            raise StorageError("no such file to store", source=local) from exc
        except OSError as exc:
            raise StorageError(f"cannot copy into the shared media folder {self.root}: {exc.strerror or exc}",
                               source=local) from exc
        return str(dest)

    def local_path(self, ref: str) -> Path:
        path = self._path(ref)
        if self._owns(path) and not path.is_file():
            raise StorageError(f"missing from the shared media folder {self.root} (is it mounted on this machine?)",
                               source=ref)
        return path

    def exists(self, ref: str) -> bool:
        return self._path(ref).is_file()

    def delete(self, ref: str) -> None:
        path = self._path(ref)
        if self._owns(path):
            path.unlink(missing_ok=True)

    def delete_under(self, prefix: str) -> int:
        if self.root is None:
            return 0
        folder = self.root / check_key(prefix.strip("/"))
        if not folder.is_dir() or folder.is_symlink():
            return 0
        count = sum(1 for path in folder.rglob("*") if not path.is_dir() or path.is_symlink())
        try:
            shutil.rmtree(folder)
        except OSError as exc:
            raise StorageError(f"cannot remove from the shared media folder: {exc.strerror or exc}",
                               source=folder) from exc
        return count

    def reachable(self) -> bool:
        return self.root is None or self.root.is_dir()

    def _owns(self, path: Path) -> bool:
        return self.root is not None and path.is_relative_to(self.root)

    def _path(self, ref: str) -> Path:
        if is_remote(ref):
            raise StorageError("is stored in S3, but [storage] media_url is not an s3:// URL here", source=ref)
        return Path(ref)


class S3Storage(MediaStorage):
    """Objects in an S3 bucket (AWS, or MinIO and the like through ``endpoint_url``); refs are
    ``s3://bucket/key``. Credentials come from boto3's usual places (AWS_ACCESS_KEY_ID … or a profile)."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str = "", region: str = "us-east-1",
                 cache_dir: Path | None = None):
        import boto3
        from boto3.s3.transfer import TransferConfig
        from botocore.config import Config

        if cache_dir is None:
            raise ValueError("S3Storage needs a cache_dir")
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.endpoint_url, self.cache_dir = endpoint_url, Path(cache_dir)
        self.where = endpoint_url or f"S3 ({region})"
        extra = {"s3": {"addressing_style": "path"}} if endpoint_url else {}  # MinIO and its kind: no DNS per bucket
        config = Config(region_name=region, connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S,
                        retries={"total_max_attempts": 1}, **extra)  # retried here, with tenacity
        self.client = boto3.session.Session().client("s3", endpoint_url=endpoint_url or None, config=config)
        self._transfer = TransferConfig(multipart_threshold=MULTIPART_BYTES, multipart_chunksize=MULTIPART_BYTES,
                                        max_concurrency=4)

    def ref(self, key: str) -> str:
        return f"{S3_SCHEME}{self.bucket}/{self.prefix + '/' if self.prefix else ''}{check_key(key)}"

    def put(self, local: Path, key: str, *, cache: bool = False) -> str:
        local, ref = Path(local), self.ref(key)
        bucket, name = _split(ref)
        try:
            size, digest = local.stat().st_size, sha256_file(local)
        except OSError as exc:
            raise StorageError(f"cannot read the file to store: {exc.strerror or exc}", source=local) from exc
        head = self._head(ref)
        if not (head and head["ContentLength"] == size and head.get("Metadata", {}).get("sha256") == digest):
            self._call(ref, "upload", lambda: self.client.upload_file(
                str(local), bucket, name, ExtraArgs={"Metadata": {"sha256": digest}}, Config=self._transfer))
            head = self._head(ref)
        if cache and head is not None:
            self._keep(ref, local, head)
        return ref

    def _keep(self, ref: str, local: Path, head: dict) -> None:
        """``local`` as the cached copy of ``ref``, which holds the same bytes (``head``: its HEAD answer)."""
        dest = self._cached(ref)
        try:
            with self._lock(ref):
                if self._fresh(ref, dest, head):
                    return
                if not (dest.exists() and os.path.samefile(local, dest)):
                    _copy_atomically(local, dest)
                self._write_meta(ref, head["ETag"], head["ContentLength"])
        except OSError as exc:
            raise StorageError(f"cannot keep a copy in the cache {self.cache_dir}: {exc.strerror or exc}",
                               source=ref) from exc

    def local_path(self, ref: str) -> Path:
        if not is_remote(ref):
            return Path(ref)
        dest = self._cached(ref)
        with self._lock(ref):
            head = self._head(ref)
            if head is None:
                raise StorageError(f"not found in {self.where}", source=ref)
            if self._fresh(ref, dest, head):
                return dest
            self._call(ref, "download", lambda: self._download(ref, dest))
        return dest

    def fetch(self, ref: str, dest: Path) -> Path:
        if not is_remote(ref):
            return super().fetch(ref, dest)
        self._call(ref, "download", lambda: self._download(ref, Path(dest), cached=False))  # straight to dest
        return Path(dest)

    def exists(self, ref: str) -> bool:
        return self._head(ref) is not None if is_remote(ref) else Path(ref).is_file()

    def delete(self, ref: str) -> None:
        if not is_remote(ref):
            return
        bucket, name = _split(ref)
        self._call(ref, "delete", lambda: self.client.delete_object(Bucket=bucket, Key=name))
        with self._lock(ref):
            self._cached(ref).unlink(missing_ok=True)
            self._meta_file(ref).unlink(missing_ok=True)

    def delete_under(self, prefix: str) -> int:
        bucket, name = _split(self.ref(check_key(prefix.strip("/"))))
        name += "/"  # "acme/", never "acme-2/"
        base = f"{S3_SCHEME}{bucket}/{name}"

        def keys() -> list[str]:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=name)
            return [item["Key"] for page in pages for item in page.get("Contents", [])]

        found = self._call(base, "listing", keys)
        for start in range(0, len(found), 1000):  # at most 1000 keys a request
            batch = [{"Key": key} for key in found[start:start + 1000]]
            answer = self._call(base, "delete", lambda: self.client.delete_objects(
                Bucket=bucket, Delete={"Objects": batch, "Quiet": True}))
            if answer.get("Errors"):
                error = answer["Errors"][0]
                raise StorageError(f"delete failed: {self.where} refused {len(answer['Errors'])} of them "
                                   f"({error.get('Code', '')}: {error.get('Key', '')})", source=base)
        for folder in (self.cache_dir / bucket / name, self.cache_dir / _META / bucket / name):
            shutil.rmtree(folder, ignore_errors=True)  # this machine's cached copies
        return len(found)

    # --- requests ------------------------------------------------------------------------------------

    def reachable(self) -> bool:
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)  # one try: the caller has just seen its retries run out
        except (BotoCoreError, ClientError, Boto3Error, OSError) as exc:
            return not _transient(exc)  # a refusal (403, no such bucket) is an answer
        return True

    def _head(self, ref: str) -> dict | None:
        """The object's HEAD answer, or None when there is no such object."""
        from botocore.exceptions import ClientError

        bucket, name = _split(ref)

        def head():
            try:
                return self.client.head_object(Bucket=bucket, Key=name)
            except ClientError as exc:
                if _status(exc) == 404:
                    return None
                raise

        return self._call(ref, "look-up", head)

    def _download(self, ref: str, dest: Path, *, cached: bool = True) -> None:
        bucket, name = _split(ref)
        answer = self.client.get_object(Bucket=bucket, Key=name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = _part_name(dest)
        try:
            written = 0
            with part.open("wb") as handle:
                for chunk in answer["Body"].iter_chunks(CHUNK_BYTES):
                    handle.write(chunk)
                    written += len(chunk)
            if written != answer["ContentLength"]:
                from botocore.exceptions import IncompleteReadError

                raise IncompleteReadError(actual_bytes=written, expected_bytes=answer["ContentLength"])
            os.replace(part, dest)
        finally:
            part.unlink(missing_ok=True)
        if cached:
            self._write_meta(ref, answer["ETag"], written)

    def _call(self, ref: str, doing: str, request):
        """``request()``, tried again on a transient failure; any failure left is a one-line StorageError."""
        from boto3.exceptions import Boto3Error
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            for attempt in Retrying(retry=retry_if_exception(_transient), stop=stop_after_attempt(ATTEMPTS),
                                    wait=wait_exponential(multiplier=0.2, max=2), reraise=True):
                with attempt:
                    return request()
        except (BotoCoreError, ClientError, Boto3Error, OSError) as exc:
            raise StorageError(self._explain(exc, doing, ref), source=ref) from exc

    def _explain(self, exc: BaseException, doing: str, ref: str) -> str:
        from botocore.exceptions import ClientError, NoCredentialsError, PartialCredentialsError

        cause = _root(exc)
        if isinstance(cause, (NoCredentialsError, PartialCredentialsError)):
            return f"{doing} failed: no S3 credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
        if _transient(cause):
            answer = f"answered HTTP {_status(cause)}" if isinstance(cause, ClientError) else \
                f"did not answer ({_short(cause)})"
            return f"{doing} failed after {ATTEMPTS} tries: {self.where} {answer}"
        if isinstance(cause, ClientError):
            code = cause.response.get("Error", {}).get("Code", "")
            if code == "NoSuchBucket":
                return f"{doing} failed: {self.where} has no bucket {_split(ref)[0]}"
            if _status(cause) == 403 or code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                return f"{doing} failed: access denied by {self.where} ({code or 'HTTP 403'}; check the S3 credentials)"
            if _status(cause) == 404:
                return f"not found in {self.where}"
        if isinstance(cause, OSError):
            return f"{doing} failed: {cause.strerror or _short(cause)}"
        return f"{doing} failed: {_short(cause)}"

    # --- the cache ----------------------------------------------------------------------------------

    def _cached(self, ref: str) -> Path:
        bucket, name = _split(ref)
        return self.cache_dir / bucket / name

    def _meta_file(self, ref: str) -> Path:
        bucket, name = _split(ref)
        return self.cache_dir / _META / bucket / f"{name}.json"

    def _lock(self, ref: str):
        """One download of an object at a time on this machine (parallel workers share the cache)."""
        from filelock import FileLock

        lock = self._meta_file(ref).with_suffix(".lock")
        lock.parent.mkdir(parents=True, exist_ok=True)
        return FileLock(lock)

    def _fresh(self, ref: str, dest: Path, head: dict) -> bool:
        try:
            meta = json.loads(self._meta_file(ref).read_text())
            return dest.stat().st_size == head["ContentLength"] == meta["size"] and meta["etag"] == head["ETag"]
        except (OSError, ValueError, KeyError, TypeError):
            return False

    def _write_meta(self, ref: str, etag: str, size: int) -> None:
        meta = self._meta_file(ref)
        meta.parent.mkdir(parents=True, exist_ok=True)
        part = _part_name(meta)
        part.write_text(json.dumps({"etag": etag, "size": size}))
        os.replace(part, meta)


# --- from settings ------------------------------------------------------------------------------------

def open_storage(settings: Settings) -> MediaStorage:
    """The storage ``[storage] media_url`` names (see the module's docstring)."""
    storage = settings.storage
    if not storage.media_url:
        return LocalStorage(None)
    if storage.media_bucket:
        return _s3_storage(storage.media_bucket, storage.media_prefix, storage.s3_endpoint_url, storage.s3_region,
                           settings.media_cache_dir)
    return LocalStorage(Path(storage.media_url))


@lru_cache(maxsize=8)
def _s3_storage(bucket: str, prefix: str, endpoint_url: str, region: str, cache_dir: Path) -> S3Storage:
    return S3Storage(bucket, prefix, endpoint_url, region, cache_dir)  # one client per process: they are costly


def local_media(settings: Settings | None, ref: str) -> Path:
    """A local file to read for the media ``ref`` (an episode's ``media_path``, a clip's stored ref).

    A plain path needs no settings. ``settings`` None with a remote ref reads the storage of
    ``$CASTMILL_HOME``'s settings (for callers not yet handed the settings of their command).
    """
    if settings is None:
        if not is_remote(ref):
            return Path(ref)
        settings = load_settings()
    return open_storage(settings).local_path(ref)


def store_copy(storage: MediaStorage, path: Path, key: str) -> dict:
    """``{"stored": ref}`` for a rendered file (a clip, a quote card) put into ``storage`` under ``key``, kept in
    the file's row; nothing with the default storage, which keeps files where they are."""
    if not storage.keeps_copies:
        return {}
    return {"stored": storage.put(Path(path), key)}


def ensure_local(storage: MediaStorage, path: str | Path, ref: str | None) -> bool:
    """True when the file ``path`` is on this machine, fetched back from ``storage`` when it is gone here but
    stored there as ``ref`` (another machine rendered it, or the local copy was cleaned away)."""
    if Path(path).is_file():
        return True
    if not ref or not storage.keeps_copies or not storage.exists(ref):
        return False
    storage.fetch(ref, Path(path))
    return True


# --- helpers ------------------------------------------------------------------------------------------

def _split(ref: str) -> tuple[str, str]:
    """(bucket, key) of an ``s3://`` ref."""
    try:
        bucket, key = split_s3_url(ref)
        if not key:
            raise ValueError("names a bucket, not an object in it")
    except ValueError as exc:
        raise StorageError(str(exc), source=ref) from None
    return bucket, key


def _part_name(dest: Path) -> Path:
    return dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:12]}.part")


def _copy_atomically(source: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = _part_name(dest)
    try:
        shutil.copyfile(source, part)
        os.replace(part, dest)
    finally:
        part.unlink(missing_ok=True)


def _same_bytes(a: Path, b: Path) -> bool:
    return a.stat().st_size == b.stat().st_size and sha256_file(a) == sha256_file(b)


def _root(exc: BaseException) -> BaseException:
    """The request's own error underneath boto3's wrappers (a failed upload raises S3UploadFailedError
    while handling it; a transfer out of retries keeps it as ``last_exception``)."""
    for _ in range(5):
        if type(exc).__name__ == "S3UploadFailedError" and exc.__context__ is not None:
            exc = exc.__context__
        elif type(exc).__name__ == "RetriesExceededError" and getattr(exc, "last_exception", None) is not None:
            exc = exc.last_exception
        else:
            break
    return exc


def _status(exc: BaseException) -> int:
    return int(getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _transient(exc: BaseException) -> bool:
    """A failure worth another try: no connection, a timeout, a cut-off answer, HTTP 5xx, "slow down"."""
    from botocore.exceptions import (ChecksumError, ClientError, ConnectionError, HTTPClientError,
                                     IncompleteReadError)

    exc = _root(exc)
    if isinstance(exc, (ConnectionError, HTTPClientError, IncompleteReadError, ChecksumError)):
        return True
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        return _status(exc) >= 500 or code in ("SlowDown", "RequestTimeout", "Throttling", "ThrottlingException")
    return False


def _short(exc: BaseException) -> str:
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:200]
