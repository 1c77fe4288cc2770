"""What a backup archive says about itself (``manifest.json``), the errors, and the results.

The manifest is the archive's last member, written once every other member is in, so it can list
each member's size and SHA-256. Format 1:

    {"format": 1, "created_at": "2026-12-06T10:30:40+00:00", "castmill_version": "0.1.0",
     "home": "/srv/castmill",                      # the home it was made of (paths in rows are rewritten)
     "database": {"kind": "sqlite" | "postgresql", "member": "database/castmill.db",
                  "alembic_revision": "0014", "server_version": 15,   # PostgreSQL only
                  "row_counts": {"clients": 3, …}},
     "files": [{"path": "home/clips/acme/…/clip.mp4", "size": 123, "sha256": "…", "mode": 420, "mtime": …}, …],
     "secret_key": {"environment": true, "fingerprint": "…", "encrypted_tokens": 2},
     "not_included": ["…"]}                        # what the home refers to but the archive does not hold
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipeline.core.errors import CastmillError

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
HOME_PREFIX = "home/"  # members that are files of the home: home/<path relative to the home>
DATABASE_MEMBERS = {"sqlite": "database/castmill.db", "postgresql": "database/castmill.pgdump"}
SECRET_KEY_ENV = "CASTMILL_SECRET_KEY"  # read here only to fingerprint it; its value is never written
_FINGERPRINT_MESSAGE = b"castmill backup: which CASTMILL_SECRET_KEY"


class BackupError(CastmillError):
    """A backup cannot be made, or a restore cannot go on."""


class ArchiveError(BackupError):
    """A backup archive is missing, truncated, corrupt, or from a newer castmill; nothing was restored."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    bytes: int  # the archive's size
    created_at: str  # ISO 8601, UTC
    database: str  # sqlite | postgresql
    alembic_revision: str | None
    files: int  # files of the home in the archive (the database not counted)
    file_bytes: int
    row_counts: dict[str, int]
    seconds: float
    warnings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {**asdict(self), "path": str(self.path), "warnings": list(self.warnings)}


@dataclass(frozen=True)
class RestoreResult:
    archive: Path
    home: Path
    database: str  # sqlite | postgresql
    database_url: str  # password masked
    alembic_revision: str | None  # as backed up
    migrated_to: str | None  # the schema now (newer when the backup was older than this castmill)
    files: int  # files restored into the home and checked
    row_counts: dict[str, int]  # checked against the manifest
    in_flight: tuple[int, ...] = ()  # posts left "publishing" in the backup: now unknown
    due: tuple[int, ...] = ()  # posts due before the restore and not published in the backup: now unknown
    seconds: float = 0.0
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict:
        return {**asdict(self), "archive": str(self.archive), "home": str(self.home), "in_flight": list(self.in_flight),
                "due": list(self.due), "warnings": list(self.warnings)}


def key_fingerprint(secret: str) -> str:
    """A short HMAC of a fixed message under the key: tells two keys apart, does not reveal one."""
    return hmac.new(secret.encode("utf-8"), _FINGERPRINT_MESSAGE, hashlib.sha256).hexdigest()[:16]


def dump_manifest(manifest: dict) -> bytes:
    return (json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def load_manifest(data: bytes, archive: Path) -> dict:
    """The manifest read from ``data``; an ArchiveError naming ``archive`` when it is unreadable or too new."""
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ArchiveError("its manifest.json is not valid JSON (corrupt archive)", source=archive) from None
    version = manifest.get("format") if isinstance(manifest, dict) else None
    if not isinstance(version, int):
        raise ArchiveError("its manifest.json has no format version (corrupt archive)", source=archive)
    if version > FORMAT_VERSION:
        raise ArchiveError(f"backup format {version} is newer than this castmill reads ({FORMAT_VERSION}); "
                           "restore it with the castmill version that made it or a newer one", source=archive)
    if version < 1 or not _well_formed(manifest):
        raise ArchiveError(f"its manifest.json (format {version}) is incomplete (corrupt archive)", source=archive)
    return manifest


def _well_formed(manifest: dict) -> bool:
    database, files = manifest.get("database"), manifest.get("files")
    return (isinstance(database, dict) and database.get("kind") in DATABASE_MEMBERS
            and isinstance(database.get("row_counts"), dict) and isinstance(files, list)
            and all(isinstance(f, dict) and {"path", "size", "sha256"} <= f.keys() for f in files))
