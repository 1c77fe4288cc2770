"""Erasing a client: its rows, its files, its people's access, leaving one record that it happened.

``erase_client`` removes, in one transaction:

- every row of the client (``scope.TABLES``): the client, its episodes and everything under them (stages,
  transcripts, highlights, clips), feedback, drafts with their versions, comments and approvals, scheduled
  posts with their attempts and metrics, platform accounts and their credentials;
- the client's users (a client user belongs to one client only; staff belong to none and stay), their
  sign-in attempts, and with them every session: the dashboard re-checks its user at each action
  (``auth.check_active``), and a review link stops working once its client is gone (``auth`` also refuses a
  link signed before its client was created, for a client added again under the same slug);
- the client's audit trail. The events' before/after hold the content being erased (draft texts, comments,
  emails), so they go too. What stays is one new event, "client.erase": who erased, when, the slug, the
  client's old id and how many rows of each table and files went; no content. It has no ``client_id``, so
  only staff see it (a client added later, even one given the same id, never does);
- the jobs of the client in the PostgreSQL job queue (their arguments name its files), when there is one;
- its files: episode media and rendered clips under Castmill's home (``media/``, ``clips/``, ``uploads/``,
  ``outbox/``, ``templates/``, ``covers/``), stored copies in the media storage (the shared folder or the
  S3 bucket, and this machine's cache of them), then everything else stored under the client's keys
  (``<slug>/…``: copies of old renders no row names any more), and the outbox files of its posts. A file
  that another client's rows also name is kept. Files outside the home that the default storage left where
  the user gave them (an episode's original file) are not Castmill's to delete: they are listed in the result.

Files are removed before the transaction commits: when one cannot be removed (the bucket does not
answer), every row stays and the erasure can simply be run again.

What is refused, with nothing erased:
- a post of the client being published right now ("publishing": a worker holds a claim and may be talking to
  the platform). Its outcome must be recorded, so the erasure does not wait or break the claim: the admin runs
  it again once the scheduler has finished (within the claim's lease);
- a job of the client waiting or running in the queue: cancel it (``castmill jobs``) or let it finish.

Published posts stay on the platforms: Castmill does not delete them there (the export lists their links).
Admin only, with ``confirm`` repeating the slug.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import delete, inspect, not_, select, text, update
from sqlalchemy.orm import Session

from pipeline.access import audit
from pipeline.access.auth import check_active
from pipeline.access.identity import Identity
from pipeline.access.permissions import require_admin
from pipeline.clientdata.scope import TABLES, ClientScope, find_client, scope_of
from pipeline.clips.cover import feed_cover_path
from pipeline.core.errors import CastmillError, StorageError
from pipeline.core.settings import Settings
from pipeline.core.vocab import OUTBOX, PUBLISHING
from pipeline.media.storage import MediaStorage, is_remote, open_storage
from pipeline.profiles.templates import CLIENT_TEMPLATES
from pipeline.publish.publishers.outbox import file_stem, outbox_folder
from pipeline.store.db import Database
from pipeline.store.models import Account, Client, Clip, DraftVersion, Episode, QueueJobError, ScheduledPost

# The folders under the home that hold a client's files, each in a sub-folder named by its slug; files the
# client's rows name are removed only inside these (never the database, the secret key or the settings).
UPLOADS = "uploads"  # dashboard/data.UPLOADS: files sent through the Episodes page
CLIENT_FOLDERS = ("media", "clips", UPLOADS, OUTBOX, CLIENT_TEMPLATES)
HOME_FOLDERS = (*CLIENT_FOLDERS, "covers")
# Queue jobs that are waiting or running ("aborting" is procrastinate's legacy name for a running job being
# aborted).
_QUEUE_BUSY = ("todo", "doing", "aborting")


class EraseRefused(CastmillError):
    """The erasure was refused; nothing was erased."""


@dataclass(frozen=True)
class EraseResult:
    slug: str
    client_id: int
    rows: dict[str, int]  # rows removed, by table
    files: int  # local files removed
    stored: int  # stored copies removed from the media storage (shared folder or bucket)
    queue_jobs: int  # finished jobs of the client removed from the job queue
    left_alone: tuple[str, ...]  # files the client's rows named outside Castmill's home: not removed
    audit_event_id: int  # the "client.erase" record


def erase_client(identity: Identity, db: Database, settings: Settings, slug: str, confirm: str) -> EraseResult:
    """Erase client ``slug`` (see the module's docstring). ``confirm`` must be the slug again."""
    require_admin(identity, "erase a client's data")
    if confirm != slug:
        raise EraseRefused(f"the confirmation {confirm!r} is not the client's slug {slug!r}; nothing was erased")
    storage = open_storage(settings)
    with db.session() as session:
        check_active(session, identity)
        client = find_client(session, slug)
        scope = scope_of(client)
        _lock(session, scope)
        _refuse_posts_in_flight(session, scope)
        jobs = _queue_jobs(session, scope)
        _refuse_busy_jobs(scope, jobs)
        files = _FilePlan.of(session, settings, client, scope)
        queue_jobs = _delete_queue_jobs(session, [job_id for job_id, _status in jobs])
        rows = {}
        for model in TABLES:
            result = session.execute(delete(model).where(scope.where(model)),
                                     execution_options={"synchronize_session": False})
            rows[model.__tablename__] = result.rowcount
        removed = files.remove(storage)
        event = audit.record(session, actor=identity.email, action="client.erase", entity_type="client",
                             entity_id=scope.client_id, client_id=None, user_id=identity.user_id,
                             after={"slug": slug, "rows": rows, "files": removed.files, "stored": removed.stored,
                                    "queue_jobs": queue_jobs, "left_alone": len(removed.left_alone)})
        session.flush()
        event_id = event.id
    return EraseResult(slug, scope.client_id, rows, removed.files, removed.stored, queue_jobs,
                       tuple(removed.left_alone), event_id)


# --- refusals -------------------------------------------------------------------------------------------------

def _lock(session: Session, scope: ClientScope) -> None:
    """Take the write locks first. On PostgreSQL: the client's row FOR UPDATE (a row being added under the client
    waits, then fails, as its client is gone) and its posts' rows (which the scheduler's claim then skips); on
    SQLite, where FOR UPDATE is not written, the no-op updates take the database's write lock. A claim that won
    the race shows up as "publishing" in the check that follows."""
    session.execute(select(Client.id).where(Client.id == scope.client_id).with_for_update())
    session.execute(update(Client).where(Client.id == scope.client_id).values(name=Client.name)
                    .execution_options(synchronize_session=False))
    session.execute(update(ScheduledPost).where(scope.where(ScheduledPost))
                    .values(updated_at=ScheduledPost.updated_at).execution_options(synchronize_session=False))


def _refuse_posts_in_flight(session: Session, scope: ClientScope) -> None:
    busy = list(session.scalars(select(ScheduledPost.id).where(scope.where(ScheduledPost),
                                                               ScheduledPost.status == PUBLISHING)
                                .order_by(ScheduledPost.id)))
    if busy:
        ids = ", ".join(str(post_id) for post_id in busy[:10]) + (" …" if len(busy) > 10 else "")
        raise EraseRefused(f"client {scope.slug} has {len(busy)} post{'s' if len(busy) != 1 else ''} being published "
                           f"right now (post {ids}); nothing was erased: run the erasure again once the scheduler "
                           "has finished them")


def _queue_jobs(session: Session, scope: ClientScope) -> list[tuple[int, str]]:
    """(id, status) of the client's jobs in the PostgreSQL job queue (an ingest job names the client's slug, a
    stage job one of its episodes); none without the queue's tables."""
    connection = session.connection()
    if connection.dialect.name != "postgresql" or not inspect(connection).has_table("procrastinate_jobs"):
        return []
    rows = session.execute(text(
        "SELECT id, status::text FROM procrastinate_jobs WHERE args->>'client' = :slug "
        "OR args->>'episode_id' IN (SELECT CAST(id AS TEXT) FROM episodes WHERE client_id = :client_id) ORDER BY id"),
        {"slug": scope.slug, "client_id": scope.client_id})
    return [(int(job_id), status) for job_id, status in rows]


def _refuse_busy_jobs(scope: ClientScope, jobs: list[tuple[int, str]]) -> None:
    busy = [job_id for job_id, status in jobs if status in _QUEUE_BUSY]
    if busy:
        ids = ", ".join(str(job_id) for job_id in busy[:10]) + (" …" if len(busy) > 10 else "")
        raise EraseRefused(f"client {scope.slug} has {len(busy)} job{'s' if len(busy) != 1 else ''} waiting or "
                           f"running in the queue (job {ids}); nothing was erased: cancel them with "
                           "`castmill jobs cancel` or let them finish, then erase again")


def _delete_queue_jobs(session: Session, job_ids: list[int]) -> int:
    """Remove the client's finished jobs (their events go with them) and the errors kept for them."""
    if not job_ids:
        return 0
    session.execute(delete(QueueJobError).where(QueueJobError.job_id.in_(job_ids)),
                    execution_options={"synchronize_session": False})
    if inspect(session.connection()).has_table("procrastinate_periodic_defers"):
        session.execute(text("UPDATE procrastinate_periodic_defers SET job_id = NULL WHERE job_id = ANY(:ids)"),
                        {"ids": job_ids})
    return session.execute(text("DELETE FROM procrastinate_jobs WHERE id = ANY(:ids)"), {"ids": job_ids}).rowcount


# --- files ----------------------------------------------------------------------------------------------------

@dataclass
class _Removed:
    files: int = 0
    stored: int = 0
    left_alone: list[str] = field(default_factory=list)


@dataclass
class _FilePlan:
    """The client's files, gathered from its rows before they are deleted."""

    home: Path
    slug: str
    refs: list[str]  # episode media, clip files and their stored copies, media of draft versions
    covers: list[Path]  # feed artwork its episodes used
    outbox: list[Path]  # its posts' files in outbox folders (<key>.json and <key>.media/)
    folders: list[Path]  # <home>/<folder>/<slug> and its templates folder
    kept: set[str]  # paths and refs that another client's rows name too

    @classmethod
    def of(cls, session: Session, settings: Settings, client: Client, scope: ClientScope) -> "_FilePlan":
        home = Path(settings.home).expanduser().absolute()
        refs: list[str] = []
        episodes = list(session.execute(select(Episode.media_path, Episode.feed_meta).where(scope.where(Episode))))
        refs += [media for media, _meta in episodes if media]
        for path, probe in session.execute(select(Clip.path, Clip.probe).where(scope.where(Clip))):
            refs += [ref for ref in (path, (probe or {}).get("stored")) if ref]
        for media in session.scalars(select(DraftVersion.media).where(scope.where(DraftVersion))):
            for item in media or []:
                if isinstance(item, dict):
                    refs += [str(item[key]) for key in ("path", "stored") if item.get(key)]
        urls = {str((meta or {}).get("image")) for _media, meta in episodes if (meta or {}).get("image")}
        other_urls = {str((meta or {}).get("image")) for meta in session.scalars(
            select(Episode.feed_meta).where(not_(scope.where(Episode)))) if (meta or {}).get("image")}
        covers = [feed_cover_path(settings, url) for url in sorted(urls - other_urls)]
        folders = [home / name / client.slug for name in CLIENT_FOLDERS]
        if client.templates_dir:
            folders.append(Path(client.templates_dir))
        return cls(home, client.slug, list(dict.fromkeys(refs)), covers, _outbox_files(session, home, client, scope),
                   folders, _kept(session, home, scope))

    def remove(self, storage: MediaStorage) -> _Removed:
        """Delete the files; a StorageError propagates (the transaction then rolls back, and can be run again)."""
        removed = _Removed()
        for ref in self.refs:
            if ref in self.kept or _key(ref) in self.kept:
                continue
            if is_remote(ref):
                storage.delete(ref)  # the object, and this machine's cached copy of it
                removed.stored += 1
                continue
            path = Path(ref)
            existed = path.is_file()
            if storage.keeps_copies:
                storage.delete(ref)  # a copy in the shared media folder; anything else is left to the next lines
                if existed and not path.exists():
                    removed.stored += 1
                    continue
            if self._ours(path):
                removed.files += _unlink(path)
            elif existed:
                removed.left_alone.append(ref)
        if storage.keeps_copies:  # what is left under the client's keys: copies no row names any more
            removed.stored += storage.delete_under(self.slug)
        for path in [*self.covers, *self.outbox]:
            removed.files += _remove_tree(path, self.kept)
        for folder in self.folders:
            if self._ours(folder):
                removed.files += _remove_tree(folder, self.kept)
            elif folder.is_dir() and _key(str(folder)) not in self.kept:
                removed.left_alone.append(str(folder))  # a templates folder of the client's own, outside the home
        return removed

    def _ours(self, path: Path) -> bool:
        """Whether ``path`` lies inside one of Castmill's folders under the home."""
        path = Path(os.path.abspath(path))
        return any(path.is_relative_to(self.home / name) and path != self.home / name for name in HOME_FOLDERS)


def _outbox_files(session: Session, home: Path, client: Client, scope: ClientScope) -> list[Path]:
    """The files the outbox wrote for the client's posts: ``<key>.json`` and ``<key>.media/`` in the folder of the
    post's outbox account (``<home>/outbox/<handle>`` without a base_url, as the scheduler writes it)."""
    accounts = {a.id: a for a in session.scalars(select(Account).where(scope.where(Account)))}
    files = []
    for post in session.scalars(select(ScheduledPost).where(scope.where(ScheduledPost))):
        account = accounts.get(post.account_id)
        if account is None:
            if post.platform != OUTBOX:
                continue
            folder = home / OUTBOX / client.slug
        elif account.platform == OUTBOX:
            folder = (outbox_folder(account.base_url) if account.base_url
                      else home / OUTBOX / (account.handle or client.slug))
        else:
            continue
        stem = file_stem(post.idempotency_key)
        files += [folder / f"{stem}.json", folder / f"{stem}.media"]
    return files


def _kept(session: Session, home: Path, scope: ClientScope) -> set[str]:
    """Paths and refs that rows of other clients name: never removed with this client."""
    kept: set[str] = set()
    kept.update(m for m in session.scalars(select(Episode.media_path).where(not_(scope.where(Episode)))) if m)
    for path, probe in session.execute(select(Clip.path, Clip.probe).where(not_(scope.where(Clip)))):
        kept.update(ref for ref in (path, (probe or {}).get("stored")) if ref)
    for templates_dir in session.scalars(select(Client.templates_dir).where(Client.id != scope.client_id)):
        if templates_dir:
            kept.add(templates_dir)
    others = select(Account, Client.slug).join(Client, Client.id == Account.client_id)
    for account, slug in session.execute(others.where(not_(scope.where(Account)), Account.platform == OUTBOX)):
        kept.add(str(outbox_folder(account.base_url) if account.base_url else home / OUTBOX / (account.handle or slug)))
    return {_key(ref) for ref in kept} | kept


def _key(ref: str) -> str:
    """A plain path made absolute and normal, so that two spellings of one file match; refs kept as they are."""
    return ref if is_remote(ref) else os.path.abspath(ref)


def _unlink(path: Path) -> int:
    try:
        path.unlink()
        return 1
    except FileNotFoundError:
        return 0
    except OSError as exc:
        raise StorageError(f"cannot remove: {exc.strerror or exc}", source=path) from exc


def _remove_tree(path: Path, kept: set[str]) -> int:
    """Remove the file or folder ``path`` and count the files removed; files and folders in ``kept`` (and folders
    holding one) stay. Symbolic links are removed, never followed."""
    if path.is_symlink() or path.is_file():
        return 0 if _key(str(path)) in kept else _unlink(path)
    if not path.is_dir():
        return 0
    root = _key(str(path))
    if root in kept:
        return 0
    if any(not is_remote(k) and Path(k).is_relative_to(root) and k != root for k in kept):
        return sum(_remove_tree(child, kept) for child in path.iterdir()) + _rmdir_if_empty(path)
    count = 0
    for folder, dirs, names in os.walk(path, topdown=False):
        for name in names:
            count += _unlink(Path(folder) / name)
        for name in dirs:
            child = Path(folder) / name
            if child.is_symlink():
                count += _unlink(child)
            else:
                _rmdir_if_empty(child)
    _rmdir_if_empty(path)
    return count


def _rmdir_if_empty(path: Path) -> int:
    try:
        path.rmdir()
    except OSError:
        pass
    return 0
