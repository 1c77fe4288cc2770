"""The archive file: written under a hidden temporary name and published only when complete; read member
by member with every byte hashed.

Writing: ``.castmill-backup-<stamp>.tar.partial`` (mode 0600: the archive may hold ``secret.key``) in
the destination; every member is hashed as it is copied in. ``commit`` closes the tar, fsyncs the file,
hard-links it to its final name (which fails rather than replace an archive of the same name), removes the
temporary name and fsyncs the folder. Any error before that (a full disk, a file that shrank while read)
removes the temporary file: a final name always holds a complete archive.

Reading: member by member, in order (a plain tar read in place, a gzipped one streamed), every byte hashed,
so a truncated file or a flipped byte shows up as a tar error or a checksum mismatch, never as a partial
restore.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os
import re
import tarfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.store.backup.manifest import (ArchiveError, BackupError, DATABASE_MEMBERS, HOME_PREFIX, MANIFEST)

CHUNK = 1024 * 1024
TEMP_PREFIX = ".castmill-backup-"  # the temporary archive and work folder; never counted as backups
_READ_ERRORS = (tarfile.TarError, EOFError, zlib.error, OSError)


class _Hashing:
    """A file object for ``TarFile.addfile`` that hashes what tarfile reads from it."""

    def __init__(self, handle):
        self.handle, self.digest = handle, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        self.digest.update(data)
        return data


class ArchiveWriter:
    """One archive being written; use ``commit`` on success and ``abort`` on any error."""

    def __init__(self, final: Path, *, compress: bool = False):
        self.final = Path(final)
        self.temp = self.final.with_name(f"{TEMP_PREFIX}{self.final.name.removeprefix('castmill-backup-')}.partial")
        self.entries: list[dict] = []
        fd = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._raw = os.fdopen(fd, "wb")
        try:
            self._tar = tarfile.open(fileobj=self._raw, mode="w:gz" if compress else "w", format=tarfile.PAX_FORMAT,
                                     **({"compresslevel": 6} if compress else {}))
        except BaseException:
            self.abort()
            raise

    def add_file(self, name: str, path: Path) -> dict:
        """Copy the regular file ``path`` in as member ``name``; returns its manifest entry."""
        with open(path, "rb") as handle:
            stat = os.fstat(handle.fileno())
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = stat.st_size, stat.st_mode & 0o777, int(stat.st_mtime)
            reader = _Hashing(handle)
            try:
                self._tar.addfile(info, reader)
            except OSError as exc:
                if exc.errno is None:  # tarfile's "unexpected end of data": the file shrank while it was read
                    raise BackupError("it changed while it was being backed up; run the backup again",
                                      source=path) from None
                raise
        return self._entry(name, info, reader.digest.hexdigest())

    def add_bytes(self, name: str, data: bytes) -> None:
        """A member that the manifest does not list (the manifest itself)."""
        info = tarfile.TarInfo(name)
        info.size, info.mode = len(data), 0o600
        self._tar.addfile(info, io.BytesIO(data))

    def _entry(self, name: str, info: tarfile.TarInfo, sha256: str) -> dict:
        entry = {"path": name, "size": info.size, "sha256": sha256, "mode": info.mode, "mtime": info.mtime}
        self.entries.append(entry)
        return entry

    def commit(self) -> Path:
        self._tar.close()
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()
        try:
            _publish(self.temp, self.final)
        finally:
            self.temp.unlink(missing_ok=True)
        fsync_folder(self.final.parent)
        return self.final

    def abort(self) -> None:
        for close in (getattr(self, "_tar", None), self._raw):
            try:
                if close is not None:
                    close.close()
            except (OSError, tarfile.TarError, ValueError):
                pass  # a full disk also fails the close; the file goes anyway
        self.temp.unlink(missing_ok=True)


def _publish(temp: Path, final: Path) -> None:
    """``temp`` under the name ``final``, never replacing a file of that name."""
    try:
        os.link(temp, final)
    except FileExistsError:
        raise BackupError("an archive of that name exists already; try again in a second", source=final) from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        if final.exists():  # no hard links on this file system (some network shares): check, then rename
            raise BackupError("an archive of that name exists already; try again in a second",
                              source=final) from None
        os.rename(temp, final)


def fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.EINVAL:  # file systems that cannot sync a folder (some network shares)
            raise
    finally:
        os.close(fd)


def no_space(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


# --- reading ------------------------------------------------------------------------------------------

_SAFE_PART = re.compile(r"[^/\x00]+")


def check_member(member: tarfile.TarInfo, archive: Path) -> str:
    """The member's name when it is a regular file this format writes (no links, devices, "..", absolute paths)."""
    name = member.name
    known = name == MANIFEST or name in DATABASE_MEMBERS.values() or name.startswith(HOME_PREFIX)
    parts = name.split("/")
    if (not member.isreg() or not known or name.startswith("/")
            or any(p in ("", ".", "..") or not _SAFE_PART.fullmatch(p) for p in parts)):
        raise ArchiveError(f"unexpected member {name!r} (not a castmill backup, or a tampered one)", source=archive)
    return name


@contextmanager
def reading(archive: Path) -> Iterator[Iterator[tuple[str, tarfile.TarFile, tarfile.TarInfo]]]:
    """Stream the archive's members as (name, tar, member); every read problem becomes an ArchiveError."""
    archive = Path(archive)
    if not archive.is_file():
        raise ArchiveError("no such archive file", source=archive)
    try:
        with tarfile.open(archive, mode=_read_mode(archive), bufsize=CHUNK) as tar:
            yield ((check_member(member, archive), tar, member) for member in tar)
    except ArchiveError:
        raise
    except _READ_ERRORS as exc:
        raise ArchiveError(f"truncated or corrupt archive ({_reason(exc)})", source=archive) from None


def _read_mode(archive: Path) -> str:
    """A plain tar is read in place (member data straight from the file, several times faster than tarfile's
    stream mode); a gzipped one is streamed through the decompressor. Members are taken in order either way."""
    with open(archive, "rb") as handle:
        return "r|gz" if handle.read(2) == b"\x1f\x8b" else "r:"


def copy_member(tar: tarfile.TarFile, member: tarfile.TarInfo,
                sink: Callable[[bytes], object] | None) -> tuple[int, str]:
    """Read one member to its end, passing each chunk to ``sink``; returns (bytes, sha256)."""
    handle = tar.extractfile(member)
    digest, size = hashlib.sha256(), 0
    while block := handle.read(CHUNK):
        digest.update(block)
        size += len(block)
        if sink is not None:
            sink(block)
    return size, digest.hexdigest()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
