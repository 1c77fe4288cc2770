"""The daily backup of `castmill serve`: the job writes a real archive and keeps [backup] keep of them, records
each outcome atomically, a folder it cannot write is recorded as failed and the health check says so, and the
schedule fires at daily_at in local time (daylight saving included)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from pipeline.core.clock import utcnow
from pipeline.core.vocab import HEALTH_OK, HEALTH_WARN
from pipeline.health import checks
from pipeline.serve.daily_backup import (STATUS_FILE, DailyBackups, daily_trigger, local_zone, read_status,
                                         run_daily_backup)
from pipeline.store.backup import verify_archive

OLD_ARCHIVES = ["castmill-backup-20200101T033000Z.tar", "castmill-backup-20200102T033000Z.tar",
                "castmill-backup-20200103T033000Z.tar.gz"]


def with_backup(settings, **values):
    return settings.model_copy(update={"backup": settings.backup.model_copy(update=values)})


def test_the_daily_job_writes_an_archive_records_it_and_keeps_the_newest(settings, fresh_db, tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="castmill.backup")
    folder = tmp_path / "backups"
    folder.mkdir()
    for name in OLD_ARCHIVES:
        (folder / name).write_bytes(b"an older archive")
    settings = with_backup(settings, folder=str(folder), keep=2)

    outcome = run_daily_backup(settings)

    assert outcome.ok and outcome.error == ""
    archive = folder / outcome.path.rsplit("/", 1)[1]
    assert outcome.path == str(archive) and outcome.bytes == archive.stat().st_size > 0
    manifest, _settings_file = verify_archive(archive)
    assert manifest["database"]["kind"] == "sqlite"
    assert sorted(p.name for p in folder.iterdir()) == sorted([OLD_ARCHIVES[2], archive.name])
    assert sorted(outcome.pruned) == sorted(str(folder / name) for name in OLD_ARCHIVES[:2])

    status = read_status(settings.home)
    assert status.last == outcome and status.last_success == outcome
    on_disk = json.loads((settings.home / STATUS_FILE).read_text())
    assert on_disk["last"]["path"] == str(archive) and on_disk["last"]["ok"] is True
    assert not list(settings.home.glob(f".{STATUS_FILE}.*")), "no temporary file left beside the status"
    [line] = [r.getMessage() for r in caplog.records if r.name == "castmill.backup"]
    assert line.startswith(f"daily backup written: {archive} (") and line.endswith("; 2 older backup(s) deleted")


def test_a_folder_that_cannot_be_written_is_recorded_as_failed_and_the_health_check_warns(settings, fresh_db,
                                                                                        tmp_path, caplog):
    good = with_backup(settings, folder=str(tmp_path / "good"), keep=3)
    first = run_daily_backup(good)
    assert first.ok

    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    bad = with_backup(settings, folder=str(blocker / "backups"), keep=3)  # refused even to root
    caplog.set_level(logging.INFO, logger="castmill.backup")
    caplog.clear()  # only this run's lines (an earlier test may have left castmill's loggers at INFO)
    failed = run_daily_backup(bad, now=utcnow() + timedelta(minutes=1))

    assert not failed.ok and failed.path == "" and failed.bytes == 0
    assert failed.error.startswith(f"{blocker / 'backups'}: cannot create the backup folder: ")
    [line] = [r.getMessage() for r in caplog.records if r.name == "castmill.backup"]
    assert line == f"daily backup failed: {failed.error}" and "\n" not in line
    status = read_status(settings.home)
    assert status.last == failed and status.last_success == first, "the last success is kept"

    finding = checks.check_backups(bad, utcnow() + timedelta(minutes=2))
    assert finding.status == HEALTH_WARN
    assert f"failed: {failed.error}" in finding.detail
    assert f"`castmill backup --to {blocker / 'backups'} --keep 3`" in finding.fix
    registered = {f.name: f for f in checks.run_checks(fresh_db, bad)}[checks.BACKUPS]
    assert registered.status == HEALTH_WARN and f"failed: {failed.error}" in registered.detail

    blocker.unlink()
    again = run_daily_backup(bad, now=utcnow() + timedelta(minutes=3))
    assert again.ok
    assert checks.check_backups(bad, utcnow() + timedelta(minutes=4)).status == HEALTH_OK


def test_the_trigger_fires_at_daily_at_in_local_time_across_daylight_saving():
    new_york = ZoneInfo("America/New_York")
    trigger = daily_trigger("03:30", new_york)
    # 8 March 2026: clocks go from 02:00 EST to 03:00 EDT; 03:30 is still 03:30 on the wall.
    fire = trigger.get_next_fire_time(None, datetime(2026, 3, 7, 12, 0, tzinfo=new_york))
    assert (fire.year, fire.month, fire.day, fire.hour, fire.minute) == (2026, 3, 8, 3, 30)
    assert fire.utcoffset() == timedelta(hours=-4)
    before = trigger.get_next_fire_time(None, datetime(2026, 12, 6, 1, 0, tzinfo=new_york))
    assert (before.day, before.hour, before.minute, before.utcoffset()) == (6, 3, 30, timedelta(hours=-5))


def test_the_schedule_of_serve_runs_the_job_next_at_daily_at(settings):
    backups = DailyBackups(with_backup(settings, daily_at="23:59"))
    try:
        first = backups.start()
    finally:
        backups.close()
    now = datetime.now(local_zone())
    assert (first.hour, first.minute, first.second) == (23, 59, 0)
    assert now < first <= now + timedelta(days=1)

    with pytest.raises(ValueError, match="daily backups are off"):
        DailyBackups(with_backup(settings, daily_at=""))
