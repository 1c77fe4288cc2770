"""One zip with everything Castmill holds about a client, for the client to keep or take elsewhere.

``export_client`` reads the client's rows (``scope``: the same list erasure removes) in one transaction and
writes them as JSON and CSV, with the rendered clip files and a ``README.txt`` saying what each file is,
into ``<dest>/<slug>-export-<UTC time>.zip``. The zip is written under a temporary name and renamed once
complete, so a half-written export never carries the final name. ``manifest.json`` lists every other file
with its size and sha256. Secrets are left out: no password hashes, no platform tokens (an account says only
where its token is kept), and account settings whose names suggest a secret are withheld.

Admin only; the export is recorded in the audit trail as "client.export" (visible to the client too).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import uuid
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from pipeline.access import audit
from pipeline.access.auth import check_active
from pipeline.access.identity import Identity
from pipeline.access.permissions import require_admin
from pipeline.clientdata.scope import ClientScope, find_client, scope_of
from pipeline.core.clock import as_utc, utcnow
from pipeline.core.errors import CastmillError, StorageError
from pipeline.core.settings import Settings
from pipeline.media.download import CHUNK_BYTES
from pipeline.media.storage import local_media
from pipeline.store.db import Database
from pipeline.store.models import (Account, Approval, AuditEvent, Client, Clip, Comment, Draft, DraftVersion, Episode,
                                   EpisodeStage, FeedEntry, FeedSubscription, Highlight, HighlightFeedback, LoginAttempt,
                                   Metric, PublishAttempt, ScheduledPost, Transcript, User)

FORMAT = 1  # bump when a file's layout changes
WITHHELD = "(withheld: a secret)"
_URL_WITHHELD = "withheld"  # the same, inside a URL
# Account settings (and URL query parameters) whose name contains one of these are secrets.
_SECRET_NAME = re.compile(r"secret|passw|token|key|auth|credential|signature|cookie", re.IGNORECASE)
# Media is stored in the zip as it is (already compressed); everything else deflated.
_STORED_SUFFIXES = {".mp4", ".m4a", ".mp3", ".jpg", ".jpeg", ".png", ".webm", ".mov", ".gif", ".webp"}
# A spreadsheet runs a cell that starts with one of these as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ExportError(CastmillError):
    """The export could not be written."""


@dataclass(frozen=True)
class ExportResult:
    path: Path  # the zip
    sha256: str  # of the zip
    bytes: int
    files: tuple[str, ...]  # every name in the zip
    rows: dict[str, int]  # the client's rows exported, by table
    clip_files: int  # rendered clip files included
    missing: tuple[str, ...] = field(default=())  # clip files neither on this machine nor in the media storage


def export_client(identity: Identity, db: Database, settings: Settings, slug: str, dest: Path) -> ExportResult:
    """Write all of client ``slug``'s data into a new zip in the folder ``dest`` (made if missing)."""
    require_admin(identity, "export a client's data")
    dest = Path(dest).expanduser()
    final: Path | None = None
    try:
        with db.session() as session:
            check_active(session, identity)
            client = find_client(session, slug)
            _make_folder(dest)
            now = utcnow()
            target = _free_name(dest, f"{client.slug}-export-{now:%Y%m%dT%H%M%SZ}")
            archive = _write_zip(target, lambda writer: _write_everything(writer, session, settings, client, identity,
                                                                            now))
            final = target
            digest, size = _sha256_and_size(final)
            rows = scope_of(client).counts(session)
            audit.record(session, actor=identity.email, action="client.export", entity_type="client",
                         entity_id=client.id, client_id=client.id, user_id=identity.user_id,
                         after={"file": final.name, "sha256": digest, "bytes": size, "files": len(archive.names)})
    except BaseException:
        if final is not None:  # written, but the audit entry did not commit: no unrecorded export is left
            final.unlink(missing_ok=True)
        raise
    return ExportResult(final, digest, size, tuple(archive.names), rows, archive.clip_files, tuple(archive.missing))


# --- the zip ----------------------------------------------------------------------------------------------

class _Archive:
    """Adds files to the zip, keeping each one's size and sha256 for the manifest."""

    def __init__(self, zf: zipfile.ZipFile, stamp: datetime):
        self.zf = zf
        self.date_time = stamp.timetuple()[:6]
        self.names: list[str] = []
        self.entries: list[dict] = []
        self.missing: list[str] = []
        self.clip_files = 0

    def _info(self, name: str, compress: bool) -> zipfile.ZipInfo:
        if name in self.names:
            raise ExportError(f"two files named {name} in one export")
        info = zipfile.ZipInfo(name, date_time=self.date_time)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        return info

    def add_bytes(self, name: str, data: bytes, *, listed: bool = True) -> None:
        self.zf.writestr(self._info(name, True), data)
        self._note(name, len(data), hashlib.sha256(data).hexdigest(), listed)

    def add_json(self, name: str, value, *, listed: bool = True) -> None:
        self.add_bytes(name, (json.dumps(value, indent=2, ensure_ascii=False, default=_plain) + "\n").encode(),
                       listed=listed)

    def add_csv(self, name: str, header: list[str], rows: list[list]) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows([[_cell(value) for value in row] for row in rows])
        self.add_bytes(name, buffer.getvalue().encode("utf-8"))

    def add_file(self, name: str, source: Path) -> None:
        digest, size = hashlib.sha256(), 0
        with source.open("rb") as handle, self.zf.open(self._info(name, source.suffix.lower() not in _STORED_SUFFIXES),
                                                        "w", force_zip64=True) as out:
            while block := handle.read(CHUNK_BYTES):
                digest.update(block)
                out.write(block)
                size += len(block)
        self._note(name, size, digest.hexdigest(), True)

    def _note(self, name: str, size: int, digest: str, listed: bool) -> None:
        self.names.append(name)
        if listed:
            self.entries.append({"name": name, "bytes": size, "sha256": digest})


def _write_zip(target: Path, fill) -> _Archive:
    """``fill(archive)`` into a temporary file beside ``target``, flushed to disk, then renamed to ``target``."""
    part = target.with_name(f".{target.name}.{uuid.uuid4().hex[:12]}.part")
    try:
        with part.open("wb") as raw:
            with zipfile.ZipFile(raw, "w") as zf:
                archive = _Archive(zf, utcnow())
                fill(archive)
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(part, target)
    except OSError as exc:
        raise ExportError(f"cannot write the export: {exc.strerror or exc}", source=target) from exc
    finally:
        part.unlink(missing_ok=True)
    return archive


def _make_folder(dest: Path) -> None:
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot make the folder for the export: {exc.strerror or exc}", source=dest) from exc
    if not dest.is_dir():
        raise ExportError("is not a folder", source=dest)


def _free_name(folder: Path, stem: str) -> Path:
    path, n = folder / f"{stem}.zip", 1
    while path.exists():
        n += 1
        path = folder / f"{stem}-{n}.zip"
    return path


def _sha256_and_size(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK_BYTES):
            digest.update(block)
    return digest.hexdigest(), path.stat().st_size


# --- what goes in -------------------------------------------------------------------------------------------

def _write_everything(archive: _Archive, session: Session, settings: Settings, client: Client, identity: Identity,
                      now: datetime) -> None:
    scope = scope_of(client)
    archive.add_json("profile.json", _profile(session, client, scope))
    episodes = list(session.scalars(select(Episode).where(scope.where(Episode)).order_by(Episode.id)))
    archive.add_json("episodes.json", _episodes(session, scope, episodes))
    for episode in episodes:
        transcripts = list(session.scalars(select(Transcript).where(Transcript.episode_id == episode.id)
                                           .order_by(Transcript.id)))
        if transcripts:
            archive.add_json(f"transcripts/episode-{episode.id}.json",
                             {"episode_id": episode.id, "title": episode.title,
                              "transcripts": [_columns(t, drop=("episode_id",)) for t in transcripts]})
    archive.add_json("highlights.json", _highlights(session, scope))
    drafts = _drafts(session, scope)
    archive.add_json("drafts.json", drafts)
    archive.add_csv("approvals.csv", APPROVAL_COLUMNS, _approval_rows(drafts))
    archive.add_json("calendar.json", _calendar(session, scope))
    archive.add_json("feeds.json", _feeds(session, scope))
    archive.add_csv("audit.csv", AUDIT_COLUMNS, _audit_rows(session, scope))
    archive.add_json("clips.json", _clips(archive, session, settings, scope))
    _templates(archive, settings, client)
    archive.add_bytes("README.txt", README.format(slug=client.slug, name=client.name).encode())
    archive.add_json("manifest.json", {
        "format": FORMAT, "client": client.slug, "exported_at": now, "exported_by": identity.email,
        "files": archive.entries, "missing_clip_files": archive.missing,
    }, listed=False)


def _profile(session: Session, client: Client, scope: ClientScope) -> dict:
    accounts = session.scalars(select(Account).where(scope.where(Account)).order_by(Account.id))
    users = session.scalars(select(User).where(scope.where(User)).order_by(User.id))
    sign_ins = session.scalars(select(LoginAttempt).where(scope.where(LoginAttempt)).order_by(LoginAttempt.id))
    return {
        "format": FORMAT,
        "client": _columns(client),
        "accounts": [_account(account) for account in accounts],
        "users": [_columns(user, drop=("password_hash",)) for user in users],
        "sign_in_attempts": [_columns(attempt) for attempt in sign_ins],
    }


def _account(account: Account) -> dict:
    row = _columns(account, drop=("token_env", "token_encrypted", "client_id"))
    row["base_url"] = _clean_url(account.base_url or "")
    row["extra"] = _withhold(account.extra or {})
    row["token"] = ("kept in an environment variable" if account.token_env else
                    "stored encrypted" if account.token_encrypted else "none")  # never the token itself
    return row


def _episodes(session: Session, scope: ClientScope, episodes: list[Episode]) -> list[dict]:
    stages: dict[int, list[dict]] = {}
    for stage in session.scalars(select(EpisodeStage).where(scope.where(EpisodeStage)).order_by(EpisodeStage.id)):
        stages.setdefault(stage.episode_id, []).append(_columns(stage, drop=("episode_id",)))
    return [{**_columns(episode), "stages": stages.get(episode.id, [])} for episode in episodes]


def _feeds(session: Session, scope: ClientScope) -> list[dict]:
    """Watched feeds with the entries seen in them; URLs without secret-looking parameters (private feeds)."""
    entries: dict[int, list[dict]] = {}
    for entry in session.scalars(select(FeedEntry).where(scope.where(FeedEntry)).order_by(FeedEntry.id)):
        row = _columns(entry, drop=("subscription_id", "client_id"))
        entries.setdefault(entry.subscription_id, []).append({**row, "enclosure_url": _clean_url(entry.enclosure_url)})
    return [{**_columns(feed, drop=("client_id", "etag", "last_modified")), "url": _clean_url(feed.url),
             "entries": entries.get(feed.id, [])}
            for feed in session.scalars(select(FeedSubscription).where(scope.where(FeedSubscription))
                                        .order_by(FeedSubscription.id))]


def _highlights(session: Session, scope: ClientScope) -> dict:
    highlights = session.scalars(select(Highlight).where(scope.where(Highlight))
                                 .order_by(Highlight.episode_id, Highlight.rank, Highlight.id))
    feedback = session.scalars(select(HighlightFeedback).where(scope.where(HighlightFeedback))
                               .order_by(HighlightFeedback.id))
    return {"highlights": [_columns(h) for h in highlights], "feedback": [_columns(f) for f in feedback]}


def _drafts(session: Session, scope: ClientScope) -> list[dict]:
    numbers: dict[int, int] = {}  # version id -> its number
    versions: dict[int, list[dict]] = {}
    for version in session.scalars(select(DraftVersion).where(scope.where(DraftVersion))
                                   .order_by(DraftVersion.draft_id, DraftVersion.number)):
        numbers[version.id] = version.number
        versions.setdefault(version.draft_id, []).append(_columns(version, drop=("draft_id",)))
    comments: dict[int, list[dict]] = {}
    for note in session.scalars(select(Comment).where(scope.where(Comment)).order_by(Comment.id)):
        comments.setdefault(note.draft_id, []).append(
            {**_columns(note, drop=("draft_id",)), "version": numbers.get(note.version_id)})
    approvals: dict[int, list[dict]] = {}
    for approval in session.scalars(select(Approval).where(scope.where(Approval)).order_by(Approval.id)):
        approvals.setdefault(approval.draft_id, []).append(
            {**_columns(approval, drop=("draft_id",)), "version": numbers.get(approval.version_id)})
    return [{**_columns(draft), "versions": versions.get(draft.id, []), "comments": comments.get(draft.id, []),
             "approvals": approvals.get(draft.id, [])}
            for draft in session.scalars(select(Draft).where(scope.where(Draft)).order_by(Draft.id))]


APPROVAL_COLUMNS = ["approval_id", "draft_id", "platform", "version", "stage", "decision", "actor", "reason",
                    "override_reason", "at", "voided_at", "version_hash"]


def _approval_rows(drafts: list[dict]) -> list[list]:
    rows = [[a["id"], d["id"], d["platform"], a["version"], a["stage"], a["decision"], a["actor"], a["reason"],
             a["override_reason"], a["at"], a["voided_at"], a["version_hash"]]
            for d in drafts for a in d["approvals"]]
    return sorted(rows, key=lambda row: row[0])


def _calendar(session: Session, scope: ClientScope) -> dict:
    numbers = dict(session.execute(select(DraftVersion.id, DraftVersion.number).where(scope.where(DraftVersion))).all())
    accounts = {a.id: a for a in session.scalars(select(Account).where(scope.where(Account)))}
    attempts: dict[int, list[dict]] = {}
    for attempt in session.scalars(select(PublishAttempt).where(scope.where(PublishAttempt))
                                   .order_by(PublishAttempt.id)):
        attempts.setdefault(attempt.post_id, []).append(_columns(attempt, drop=("post_id",)))
    metrics: dict[int, list[dict]] = {}
    for metric in session.scalars(select(Metric).where(scope.where(Metric)).order_by(Metric.id)):
        metrics.setdefault(metric.post_id, []).append(_columns(metric, drop=("post_id",)))
    posts = []
    for post in session.scalars(select(ScheduledPost).where(scope.where(ScheduledPost)).order_by(ScheduledPost.due_at,
                                                                                                 ScheduledPost.id)):
        account = accounts.get(post.account_id)
        posts.append({**_columns(post), "version": numbers.get(post.version_id),
                      "account": f"{account.platform}/{account.name}" if account else None,
                      "attempt_log": attempts.get(post.id, []), "metrics": metrics.get(post.id, [])})
    return {"posts": posts}


AUDIT_COLUMNS = ["id", "at", "actor", "action", "entity_type", "entity_id", "user_id", "before", "after"]


def _audit_rows(session: Session, scope: ClientScope) -> list[list]:
    events = session.scalars(select(AuditEvent).where(scope.where(AuditEvent)).order_by(AuditEvent.at, AuditEvent.id))
    return [[e.id, e.at, e.actor, e.action, e.entity_type, e.entity_id, e.user_id, _compact(e.before),
             _compact(e.after)] for e in events]


def _clips(archive: _Archive, session: Session, settings: Settings, scope: ClientScope) -> list[dict]:
    """Every clip row; each ready clip's file goes in as ``clips/episode-<id>/<name>`` (fetched from the media
    storage when it is not on this machine). A file found nowhere is listed as missing, not fatal."""
    rows = []
    for clip in session.scalars(select(Clip).where(scope.where(Clip)).order_by(Clip.episode_id, Clip.id)):
        row = _columns(clip)
        row["file"] = None
        if clip.status == "ready":
            source, why = _clip_source(settings, clip)
            if source is None:
                archive.missing.append(f"clip {clip.id} ({Path(clip.path).name}): {why}")
                row["missing"] = why
            else:
                name = f"clips/episode-{clip.episode_id}/{Path(clip.path).name}"
                if name in archive.names:
                    name = f"clips/episode-{clip.episode_id}/{clip.id}-{Path(clip.path).name}"
                archive.add_file(name, source)
                archive.clip_files += 1
                row["file"] = name
        rows.append(row)
    return rows


def _clip_source(settings: Settings, clip: Clip) -> tuple[Path | None, str]:
    local = Path(clip.path)
    if local.is_file():
        return local, ""
    stored = (clip.probe or {}).get("stored")
    if not stored:
        return None, "not on this machine, and no stored copy"
    try:
        path = local_media(settings, stored)
    except StorageError as exc:
        return None, exc.reason
    return (path, "") if path.is_file() else (None, "not in the media storage")


def _templates(archive: _Archive, settings: Settings, client: Client) -> None:
    """The client's own post templates (its ``templates_dir``), as ``templates/<path>``."""
    folder = Path(client.templates_dir) if client.templates_dir else None
    if folder is None or not folder.is_dir():
        return
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        archive.add_file(f"templates/{path.relative_to(folder).as_posix()}", path)


# --- values -------------------------------------------------------------------------------------------------

def _columns(row, drop: tuple[str, ...] = ()) -> dict:
    """Every column of ``row`` but ``drop``: a column added later is exported without a change here."""
    return {column.key: getattr(row, column.key) for column in row.__table__.columns if column.key not in drop}


def _plain(value):
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (set, tuple)):
        return list(value)
    return str(value)


def _compact(value) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=_plain)


def _cell(value) -> str:
    """A CSV cell: times in ISO 8601 UTC; text that a spreadsheet would run as a formula starts with a quote."""
    if value is None:
        return ""
    text = _plain(value) if isinstance(value, (datetime, date)) else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _withhold(value):
    """``value`` with every setting whose name suggests a secret replaced by WITHHELD (nested dicts too)."""
    if isinstance(value, dict):
        return {k: WITHHELD if _SECRET_NAME.search(str(k)) else _withhold(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_withhold(v) for v in value]
    return value


def _clean_url(url: str) -> str:
    """``url`` without a password in it or secret-looking query parameters."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
        if parts.password is not None:
            netloc = f"{parts.username or ''}:{_URL_WITHHELD}@{parts.hostname or ''}" + (f":{parts.port}" if parts.port
                                                                                        else "")
        query = urlencode([(k, _URL_WITHHELD if _SECRET_NAME.search(k) else v)
                           for k, v in parse_qsl(parts.query, keep_blank_values=True)])
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
    except ValueError:
        return _URL_WITHHELD


README = """\
Castmill export of client {slug} ({name})
==========================================

Everything Castmill holds about this client, as of the time in manifest.json.
Times are ISO 8601 in UTC. JSON files are UTF-8; CSV files are UTF-8 with a header row
(a cell that a spreadsheet would run as a formula, one starting with = + - or @, begins with an
extra ' so that it is shown as text; the JSON files hold every value exactly).

profile.json      The client's settings (name, time zone, languages, brand voice, hashtags, platforms,
                  posting slots, highlight and clip settings), its platform accounts (never a token or
                  password: "token" says only where it is kept; secret-looking settings are withheld),
                  its dashboard users (never a password) and their sign-in attempts.
episodes.json     Every episode with its metadata (title, source, duration, feed details, speaker names)
                  and the state of each processing stage.
transcripts/      One file per transcribed episode (episode-<id>.json): every transcript made of it,
                  oldest first, with its segments, each segment's words and their timings and speakers.
highlights.json   The mined highlights of every episode (cut points, score, reasons, quote, translation)
                  and the good/bad feedback given on them.
drafts.json       Every draft post with every version (text parts, hashtags, media, author), the comments
                  and the approvals, rejections and requests for changes on them.
approvals.csv     The same review decisions as one table: draft, version, stage, decision, who, when, why,
                  and when a decision was voided by a later edit.
calendar.json     Every scheduled post: draft and version, account, due time, state (scheduled,
                  publishing, published, unknown, failed, missed, cancelled), each publishing attempt and
                  its outcome, the link of the published post, and engagement metrics.
feeds.json        The feeds watched for new episodes (address, when added, last poll and its result) and
                  every entry seen in them (title, enclosure, date, whether and how it was processed).
audit.csv         The client's audit trail: who did what and when, with the state before and after.
clips.json        Every rendered clip (kind, aspect, format, checksum) and its file in clips/, if any.
clips/            The rendered clip files, in clips/episode-<id>/. Clips whose file could not be found
                  are listed in clips.json and manifest.json ("missing_clip_files").
templates/        The client's own post templates, when it has any.
manifest.json     Every other file of this export with its size and SHA-256 checksum
                  (check one with: sha256sum <file>).
README.txt        This file.

The episodes' original audio and video files are not included: they are the files the client sent.
"""
