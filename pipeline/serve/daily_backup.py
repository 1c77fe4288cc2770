"""The daily backup of ``castmill serve``: one backup plus retention (``run_daily_backup``), its outcome kept in
``<home>/backups-status.json`` for ``castmill doctor``, and the APScheduler job that runs it every day at
[backup] daily_at, this machine's local time (``DailyBackups``).

The status file holds the last outcome and the last success, written whole or not at all:

    {"last": {"at": "2026-12-07T03:30:00+00:00", "ok": false, "folder": "/mnt/backups", "path": "", "bytes": 0,
              "seconds": 0.2, "pruned": [], "error": "/mnt/backups: no space left: …"},
     "last_success": {"at": "2026-12-06T03:30:00+00:00", "ok": true, "path": "/mnt/backups/castmill-backup-…", …}}
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone, tzinfo
from pathlib import Path

from pipeline.core.clock import as_utc, utcnow
from pipeline.core.settings import Settings
from pipeline.store.backup import create_backup, default_folder, prune_backups
from pipeline.store.backup.create import ARCHIVE

log = logging.getLogger("castmill.backup")

STATUS_FILE = "backups-status.json"
JOB_ID = "daily-backup"
# A machine asleep or a clock set back at the backup's minute still backs up when it wakes within this long.
MISFIRE_GRACE_SECONDS = 3600


@dataclass(frozen=True)
class BackupOutcome:
    at: str  # when it began, ISO 8601 UTC
    ok: bool
    folder: str
    path: str = ""  # the archive written ("" when none was)
    bytes: int = 0  # its size
    seconds: float = 0.0
    pruned: tuple[str, ...] = ()  # older archives deleted to keep [backup] keep
    error: str = ""  # why it failed, one line

    @property
    def began(self) -> datetime:
        return as_utc(datetime.fromisoformat(self.at))

    def to_dict(self) -> dict:
        return {**asdict(self), "pruned": list(self.pruned)}

    @classmethod
    def from_dict(cls, data: dict) -> BackupOutcome:
        return cls(**{**data, "pruned": tuple(data.get("pruned", ()))})


@dataclass(frozen=True)
class BackupStatus:
    last: BackupOutcome | None = None
    last_success: BackupOutcome | None = None


@dataclass(frozen=True)
class NewestBackup:
    at: datetime  # UTC
    where: str  # the archive's path


def backup_folder(settings: Settings) -> Path:
    """[backup] folder, or <home>/backups."""
    folder = settings.backup.folder
    return Path(folder).expanduser() if folder else default_folder(settings)


# --- one backup ----------------------------------------------------------------------------------------

def run_daily_backup(settings: Settings, now: datetime | None = None) -> BackupOutcome:
    """One backup into ``backup_folder`` and retention to [backup] keep, logged in one line and recorded in
    the status file. Never raises: a failure is the outcome."""
    now = as_utc(now or utcnow())
    folder = backup_folder(settings)
    began = time.perf_counter()
    outcome = _backed_up(settings, folder, now, began)
    _log(outcome)
    try:
        record_outcome(settings.home, outcome)
    except OSError as exc:
        log.error("the daily backup's outcome could not be recorded in %s: %s", settings.home / STATUS_FILE,
                  exc.strerror or exc)
    return outcome


def _backed_up(settings: Settings, folder: Path, now: datetime, began: float) -> BackupOutcome:
    at, written = now.isoformat(timespec="seconds"), None
    try:
        written = create_backup(settings, folder, now=now)
        pruned = prune_backups(written.path.parent, settings.backup.keep)
    except Exception as exc:  # noqa: BLE001 - the job records any failure; the service goes on
        return BackupOutcome(at, False, str(folder), str(written.path) if written else "",
                             written.bytes if written else 0, _since(began), error=_one_line(exc, written))
    return BackupOutcome(at, True, str(folder), str(written.path), written.bytes, _since(began),
                         tuple(str(path) for path in pruned))


def _one_line(exc: Exception, written) -> str:
    lines = str(exc).strip().splitlines()
    message = lines[0] if lines else type(exc).__name__
    if written is not None:
        return f"{written.path} was written, but older backups could not be deleted: {message}"
    return message


def _since(began: float) -> float:
    return round(time.perf_counter() - began, 3)


def _log(outcome: BackupOutcome) -> None:
    if not outcome.ok:
        log.error("daily backup failed: %s", outcome.error)
        return
    pruned = f"; {len(outcome.pruned)} older backup(s) deleted" if outcome.pruned else ""
    log.info("daily backup written: %s (%.1f MB) in %.1f s%s", outcome.path, outcome.bytes / 1024**2,
             outcome.seconds, pruned)


# --- the status file -----------------------------------------------------------------------------------

def status_path(home: Path) -> Path:
    return Path(home) / STATUS_FILE


def read_status(home: Path) -> BackupStatus:
    """The recorded outcomes; empty when no daily backup ran yet."""
    try:
        data = json.loads(status_path(home).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return BackupStatus()
    return BackupStatus(*(BackupOutcome.from_dict(data[key]) if data.get(key) else None
                          for key in ("last", "last_success")))


def record_outcome(home: Path, outcome: BackupOutcome) -> BackupStatus:
    try:
        previous = read_status(home).last_success
    except (ValueError, TypeError, KeyError):
        previous = None  # an unreadable file is replaced
    status = BackupStatus(outcome, outcome if outcome.ok else previous)
    _write_atomically(status_path(home), json.dumps(
        {key: value.to_dict() if value else None for key, value in
         (("last", status.last), ("last_success", status.last_success))}, indent=2) + "\n")
    return status


def _write_atomically(path: Path, text: str) -> None:
    """The whole file or the old one: a temporary file beside it, flushed to disk, renamed over it."""
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=f".{path.name}.",
                                         suffix=".tmp", delete=False)
    try:
        with handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def newest_backup(settings: Settings, status: BackupStatus | None = None) -> NewestBackup | None:
    """The newest successful backup: the newest archive in the folder (whoever wrote it: the daily job,
    `castmill backup`, a timer) or the status file's last success, whichever is newer."""
    status = status if status is not None else read_status(settings.home)
    found = [*_archives(backup_folder(settings))]
    if status.last_success is not None:
        found.append(NewestBackup(status.last_success.began, status.last_success.path))
    return max(found, key=lambda backup: backup.at, default=None)


def _archives(folder: Path) -> list[NewestBackup]:
    if not folder.is_dir():
        return []
    return [NewestBackup(datetime.strptime(match.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=timezone.utc), str(path))
            for path in folder.iterdir() if (match := ARCHIVE.match(path.name)) and path.is_file()]


# --- the schedule --------------------------------------------------------------------------------------

def local_zone() -> tzinfo:
    from tzlocal import get_localzone

    return get_localzone()


def daily_trigger(daily_at: str, zone: tzinfo | None = None):
    """APScheduler's cron trigger for HH:MM every day in ``zone`` (default: this machine's)."""
    from apscheduler.triggers.cron import CronTrigger

    hour, minute = (int(part) for part in daily_at.split(":"))
    return CronTrigger(hour=hour, minute=minute, timezone=zone or local_zone())


class DailyBackups:
    """``run_daily_backup`` at [backup] daily_at, on a background thread of this process."""

    def __init__(self, settings: Settings, zone: tzinfo | None = None):
        from apscheduler.executors.debug import DebugExecutor
        from apscheduler.schedulers.background import BackgroundScheduler

        if not settings.backup.daily_at:
            raise ValueError("daily backups are off ([backup] daily_at is empty)")
        self.settings = settings
        self.running = threading.Event()  # set while a backup is being taken
        zone = zone or local_zone()
        # The job runs on the scheduler's own daemon thread, not in a pool: a pool's threads are waited for at
        # exit, and a stop must not wait for a backup (an unfinished one leaves no archive behind).
        self._scheduler = BackgroundScheduler(executors={"default": DebugExecutor()}, timezone=zone)
        self._scheduler.add_job(self.run_once, daily_trigger(settings.backup.daily_at, zone), id=JOB_ID,
                                name="daily backup", max_instances=1, coalesce=True,
                                misfire_grace_time=MISFIRE_GRACE_SECONDS)

    def start(self) -> datetime:
        """Start the schedule; returns the first backup's time."""
        self._scheduler.start()
        return self.next_run()

    def next_run(self) -> datetime:
        return self._scheduler.get_job(JOB_ID).next_run_time

    def run_once(self) -> BackupOutcome:
        self.running.set()
        try:
            return run_daily_backup(self.settings)
        finally:
            self.running.clear()

    def close(self) -> None:
        """Stop the schedule, waiting for a backup being taken (at exit, leave it be: the thread is a daemon)."""
        self._scheduler.shutdown(wait=False)
