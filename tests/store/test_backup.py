"""Backups and restores: a faithful round trip (SQLite and PostgreSQL), a snapshot taken while the scheduler
publishes, no post sent twice after a restore, and every way an archive or a target can be wrong."""

from __future__ import annotations

import errno
import io
import json
import os
import subprocess
import tarfile
import threading
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select, update

from pipeline.core.settings import load_settings
from pipeline.publish.attempts import default_publisher_factory
from pipeline.publish.options import SchedulerOptions
from pipeline.publish.scheduler import Scheduler
from pipeline.store.backup import (ArchiveError, BackupError, archive_name, create_backup, prune_backups,
                                   restore_backup)
from pipeline.store.backup import archive as archive_module
from pipeline.store.db import Database
from pipeline.store.models import PublishAttempt, ScheduledPost
from tests.helpers.backup import home_checksums, moved, seed_home, table_rows
from tests.helpers.pg_server import fresh_database
from tests.helpers.scheduler import T0, World, make_posts

SETTLED_COLUMNS = {"status", "lease_until", "next_attempt_at", "error", "updated_at"}


@pytest.fixture
def seeded(settings, fresh_db, monkeypatch):
    monkeypatch.delenv("CASTMILL_SECRET_KEY", raising=False)
    made = seed_home(settings, fresh_db)
    return load_settings(settings.home), fresh_db, made


def _restored_db(home: Path) -> Database:
    return Database(load_settings(home).database_url)


# --- the round trip -------------------------------------------------------------------------------------------

def test_a_restored_home_has_every_row_and_every_file_of_the_backed_up_one(seeded, tmp_path):
    settings, db, made = seeded
    before_rows, before_files = table_rows(settings.database_url), home_checksums(settings.home)
    backup = create_backup(settings, tmp_path / "backups")

    restored = restore_backup(backup.path, tmp_path / "restored")

    assert backup.path.name == archive_name(datetime.fromisoformat(backup.created_at))
    assert home_checksums(tmp_path / "restored") == before_files
    assert {"castmill.toml", "secret.key"} <= set(before_files)
    assert not (tmp_path / "restored" / "models").exists() and not (tmp_path / "restored" / "cache").exists()
    settled = set(made.posts["publishing"] + made.posts["scheduled-due"] + made.posts["unknown"])  # + holds released
    _assert_same_rows(before_rows, table_rows(load_settings(tmp_path / "restored").database_url),
                      str(settings.home), str(tmp_path / "restored"), settled)
    assert restored.row_counts == backup.row_counts and restored.files == backup.files == len(before_files)
    assert set(restored.in_flight) == set(made.posts["publishing"])
    assert set(restored.due) == set(made.posts["scheduled-due"])


def _assert_same_rows(before: dict, after: dict, old_home: str, new_home: str, settled: set[int]) -> None:
    assert set(before) == set(after)
    for table, rows in before.items():
        expected = [moved(row, old_home, new_home) for row in rows]
        got = after[table]
        if table == "audit_events":  # the trail is kept as it was; the restore adds its own events after it
            assert got[:len(rows)] == rows
            assert {e["actor"] for e in got[len(rows):]} == {"restore"}
            continue
        if table == "scheduled_posts":
            expected = [_without(row, SETTLED_COLUMNS) if row["id"] in settled else row for row in expected]
            got = [_without(row, SETTLED_COLUMNS) if row["id"] in settled else row for row in got]
        if table == "publish_attempts":
            expected = [_without(row, {"outcome", "finished_at", "error"}) if row["post_id"] in settled else row
                        for row in expected]
            got = [_without(row, {"outcome", "finished_at", "error"}) if row["post_id"] in settled else row
                   for row in got]
        assert got == expected, table


def _without(row: dict, columns: set[str]) -> dict:
    return {k: v for k, v in row.items() if k not in columns}


def test_a_gzipped_archive_restores_the_same_and_a_cut_one_is_refused(seeded, tmp_path):
    settings, _db, _made = seeded
    backup = create_backup(settings, tmp_path / "backups", compress=True)
    assert backup.path.name.endswith(".tar.gz")
    restore_backup(backup.path, tmp_path / "restored")
    assert home_checksums(tmp_path / "restored") == home_checksums(settings.home)
    short = tmp_path / "short.tar.gz"
    short.write_bytes(backup.path.read_bytes()[:-100])
    with pytest.raises(ArchiveError, match="truncated or corrupt archive"):
        restore_backup(short, tmp_path / "target")


def test_the_archive_says_what_it_holds_and_leaves_out_weights_caches_and_itself(seeded):
    settings, _db, _made = seeded
    backup = create_backup(settings, settings.home / "backups")  # the default folder, inside the home

    with tarfile.open(backup.path) as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert names[0] == "database/castmill.db" and names[-1] == "manifest.json"
    assert not [n for n in names if n.startswith(("home/models/", "home/cache/", "home/backups/", "home/castmill.db"))]
    assert manifest["format"] == 1 and manifest["database"]["kind"] == "sqlite"
    assert manifest["database"]["alembic_revision"] == backup.alembic_revision is not None
    assert manifest["database"]["row_counts"]["drafts"] == backup.row_counts["drafts"] > 0
    assert manifest["castmill_version"] and manifest["created_at"] == backup.created_at
    assert {f["path"] for f in manifest["files"]} == set(names) - {"manifest.json"}
    assert all(len(f["sha256"]) == 64 and f["size"] >= 0 for f in manifest["files"])
    assert os.stat(backup.path).st_mode & 0o777 == 0o600  # secret.key is inside
    assert [p.name for p in backup.path.parent.iterdir()] == [backup.path.name]  # no temporary left


def test_the_environment_key_is_never_archived_and_the_restore_says_it_is_needed(seeded, tmp_path, monkeypatch):
    settings, _db, _made = seeded
    monkeypatch.setenv("CASTMILL_SECRET_KEY", "the-old-key-" + "x" * 40)
    backup = create_backup(settings, tmp_path / "b")
    assert any("CASTMILL_SECRET_KEY is not in the backup" in w for w in backup.warnings)
    assert b"the-old-key-" not in backup.path.read_bytes()

    monkeypatch.delenv("CASTMILL_SECRET_KEY")
    unset = restore_backup(backup.path, tmp_path / "r1")
    monkeypatch.setenv("CASTMILL_SECRET_KEY", "another-key-" + "y" * 40)
    other = restore_backup(backup.path, tmp_path / "r2")
    monkeypatch.setenv("CASTMILL_SECRET_KEY", "the-old-key-" + "x" * 40)
    same = restore_backup(backup.path, tmp_path / "r3")

    assert any(w.startswith("set CASTMILL_SECRET_KEY") for w in unset.warnings)
    assert any("is not the key the backup was made with" in w for w in other.warnings)
    assert not [w for w in same.warnings if "CASTMILL_SECRET_KEY" in w]


def test_a_backup_from_an_older_schema_is_restored_then_migrated(castmill_home, tmp_path):
    from alembic import command

    from pipeline.store.db import _alembic_config, head_revision

    old = Database(load_settings(castmill_home).database_url, auto_migrate=False)
    command.upgrade(_alembic_config(old.engine), "0013")
    old.dispose()
    backup = create_backup(load_settings(castmill_home), tmp_path / "backups")

    restored = restore_backup(backup.path, tmp_path / "restored")

    assert backup.alembic_revision == restored.alembic_revision == "0013"
    assert restored.migrated_to == head_revision(old.engine) != "0013"


# --- a snapshot while the scheduler publishes --------------------------------------------------------------------

def _slowed(factory, seconds: float, sent: list | None = None):
    """The publisher factory, each publish() ``seconds`` slower; ``sent`` collects the keys published."""

    def make(session, row):
        publisher = factory(session, row)
        publish = publisher.publish

        def slow_publish(post):
            if sent is not None:
                sent.append(post.idempotency_key)
            time.sleep(seconds)
            return publish(post)

        publisher.publish = slow_publish
        return publisher

    return make


def _statuses(db) -> Counter:
    with db.session() as session:
        return Counter(session.scalars(select(ScheduledPost.status)))


def test_a_backup_taken_while_the_scheduler_publishes_is_consistent_and_sends_nothing_twice(settings, fresh_db,
                                                                                            tmp_path):
    due = datetime.now(timezone.utc) - timedelta(minutes=1)
    ids = make_posts(fresh_db, 40, due_at=due, late_minutes=24 * 60, key_prefix="live-")
    scheduler = Scheduler(fresh_db.session, _slowed(default_publisher_factory(settings.home), 0.03),
                          SchedulerOptions(worker="old:1", batch_size=100))
    loop = threading.Thread(target=_tick_until_stopped, args=(scheduler,))
    loop.start()
    try:
        _wait_for(lambda: _statuses(fresh_db)["published"] >= 5)
        backup = create_backup(settings, tmp_path / "backups")
    finally:
        scheduler.stopping.set()
        loop.join(timeout=60)

    new_home = tmp_path / "restored"
    restored = restore_backup(backup.path, new_home)
    db = _restored_db(new_home)
    outbox = new_home / "outbox" / "acme"
    archived = {p.stem for p in outbox.glob("*.json")}
    with db.session() as session:
        published_at_backup = set(session.scalars(select(ScheduledPost.idempotency_key)
                                                  .where(ScheduledPost.status == "published")))
    assert 5 <= len(published_at_backup) < len(ids) and restored.in_flight  # the backup fell mid-pass
    assert published_at_backup <= archived  # files were copied after the database: every sent post's file is in

    sent: list[str] = []
    again = Scheduler(db.session, _slowed(default_publisher_factory(new_home), 0, sent),
                      SchedulerOptions(worker="new:1"))
    again.startup()
    for _ in range(5):
        report = again.tick()
        if not (report.outcomes or report.reconciled):
            break

    assert _statuses(db) == Counter({"published": len(ids)})
    assert not set(sent) & archived  # reconciled with the outbox first: nothing it holds was sent again
    assert len(sent) == len(set(sent)) and {p.stem for p in outbox.glob("*.json")} == archived | set(sent)
    with db.session() as session:
        outcomes = Counter(session.scalars(select(PublishAttempt.outcome)))
    assert outcomes["published"] == len(published_at_backup) + len(sent)
    db.dispose()


def _tick_until_stopped(scheduler: Scheduler) -> None:
    while not scheduler.stopping.is_set():
        scheduler.tick()
        time.sleep(0.01)


def _wait_for(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# --- exactly once against one platform both homes publish to ----------------------------------------------------

@pytest.mark.parametrize("old_home_went_on", [False, True], ids=["old-home-stopped-at-backup", "old-home-went-on"])
def test_no_post_goes_out_twice_after_a_restore(settings, fresh_db, tmp_path, old_home_went_on):
    world = World()
    options = SchedulerOptions(worker="old:1")

    def old_tick(at: datetime):
        return Scheduler(fresh_db.session, world.factory(), options, clock=lambda: at).tick()

    posts = {name: make_posts(fresh_db, 1, due_at=due, late_minutes=24 * 60, key_prefix=f"{name}-")[0]
             for name, due in (("sent-before", T0 - timedelta(hours=2)), ("in-flight-landed", T0 - timedelta(hours=1)),
                               ("in-flight-lost", T0 - timedelta(hours=1)), ("due-at-backup", T0),
                               ("due-after-backup", T0 + timedelta(minutes=30)), ("future", T0 + timedelta(days=1)),
                               ("cancelled", T0))}
    keys = _keys(fresh_db)
    old_tick(T0 - timedelta(hours=2))  # sent-before goes out
    _claim_in_flight(fresh_db, [posts["in-flight-landed"], posts["in-flight-lost"]], T0 - timedelta(hours=1))
    world.posted[keys[posts["in-flight-landed"]]] += 1  # the platform took it; the answer never came back
    with fresh_db.session() as session:
        session.execute(update(ScheduledPost).where(ScheduledPost.id == posts["cancelled"]).values(status="cancelled"))

    backup = create_backup(settings, tmp_path / "backups")
    if old_home_went_on:  # the old home publishes on after the backup, then is lost
        old_tick(T0 + timedelta(minutes=1))
    restored = restore_backup(backup.path, tmp_path / "restored", now=T0 + timedelta(hours=1))
    db = _restored_db(tmp_path / "restored")
    for at in (T0 + timedelta(hours=1), T0 + timedelta(days=1, minutes=1)):  # now, then when "future" is due
        Scheduler(db.session, world.factory(), SchedulerOptions(worker="new:1"), clock=lambda at=at: at).tick()

    sent_once = [keys[posts[name]] for name in posts if name != "cancelled"]
    assert {key: world.posted[key] for key in sent_once} == {key: 1 for key in sent_once}
    assert set(restored.in_flight) == {posts["in-flight-landed"], posts["in-flight-lost"]}
    assert set(restored.due) == {posts["due-at-backup"], posts["due-after-backup"]}
    assert world.posted[keys[posts["cancelled"]]] == 0
    assert world.calls[keys[posts["sent-before"]]] == 1 and world.calls[keys[posts["in-flight-landed"]]] == 0
    assert _statuses(db) == Counter({"published": 6, "cancelled": 1})
    db.dispose()


def _keys(db) -> dict[int, str]:
    with db.session() as session:
        return {row.id: row.idempotency_key for row in session.execute(select(ScheduledPost.id,
                                                                              ScheduledPost.idempotency_key))}


def _claim_in_flight(db, ids: list[int], at: datetime) -> None:
    """As claim_due and _start_attempt leave a post whose worker is mid-call."""
    with db.session() as session:
        session.execute(update(ScheduledPost).where(ScheduledPost.id.in_(ids))
                        .values(status="publishing", worker="old:1", lease_until=at + timedelta(minutes=10),
                                attempts=1))
        session.add_all(PublishAttempt(post_id=i, worker="old:1", started_at=at, outcome="started") for i in ids)


# --- PostgreSQL -----------------------------------------------------------------------------------------------------

@pytest.fixture
def second_postgres_url(postgres_server):
    with fresh_database(postgres_server.url) as url:
        yield url


@pytest.mark.slow
def test_a_postgresql_home_round_trips_through_pg_dump_and_pg_restore(castmill_home, postgres_url,
                                                                      second_postgres_url, tmp_path, monkeypatch):
    monkeypatch.delenv("CASTMILL_SECRET_KEY", raising=False)
    monkeypatch.setenv("CASTMILL_DATABASE_URL", postgres_url)
    settings = load_settings(castmill_home)
    db = Database(settings.database_url)
    made = seed_home(settings, db)
    db.dispose()
    before_rows, before_files = table_rows(postgres_url), home_checksums(castmill_home)
    backup = create_backup(load_settings(castmill_home), tmp_path / "backups")

    monkeypatch.setenv("CASTMILL_DATABASE_URL", postgres_url)
    with pytest.raises(BackupError, match="already has tables"):  # never over a database in use
        restore_backup(backup.path, tmp_path / "refused")
    assert not (tmp_path / "refused").exists()
    monkeypatch.setenv("CASTMILL_DATABASE_URL", second_postgres_url)
    restored = restore_backup(backup.path, tmp_path / "restored")

    assert backup.database == restored.database == "postgresql"
    with tarfile.open(backup.path) as tar:
        assert tar.getnames()[0] == "database/castmill.pgdump"
    assert home_checksums(tmp_path / "restored") == before_files
    settled = set(made.posts["publishing"] + made.posts["scheduled-due"] + made.posts["unknown"])  # + holds released
    _assert_same_rows(before_rows, table_rows(second_postgres_url), str(castmill_home), str(tmp_path / "restored"),
                      settled)
    assert set(restored.in_flight) == set(made.posts["publishing"])


# --- faults -----------------------------------------------------------------------------------------------------------

@pytest.fixture
def archive(seeded, tmp_path) -> Path:
    settings, _db, _made = seeded
    return create_backup(settings, tmp_path / "backups").path


def _refused(archive: Path, home: Path, match: str) -> str:
    with pytest.raises(ArchiveError, match=match) as caught:
        restore_backup(archive, home)
    assert not home.exists()  # nothing was written
    message = str(caught.value)
    assert message.startswith(f"{archive}: ") and "\n" not in message
    return message


def test_a_truncated_archive_is_refused(archive, tmp_path):
    with tarfile.open(archive) as tar:
        manifest = tar.getmember("manifest.json")
    for cut in (archive.stat().st_size // 2, manifest.offset_data + 10, manifest.offset, 100):
        short = tmp_path / f"short-{cut}.tar"
        short.write_bytes(archive.read_bytes()[:cut])
        _refused(short, tmp_path / "target", "truncated")


def test_a_flipped_byte_is_a_checksum_mismatch(archive, tmp_path):
    with tarfile.open(archive) as tar:
        clip = next(m for m in tar.getmembers() if m.name.startswith("home/clips/"))
        database = tar.getmember("database/castmill.db")
    for member in (clip, database):
        data = bytearray(archive.read_bytes())
        data[member.offset_data + member.size // 2] ^= 0x01
        broken = tmp_path / "broken.tar"
        broken.write_bytes(bytes(data))
        _refused(broken, tmp_path / "target", f"checksum mismatch in {member.name}")


def test_an_archive_that_changes_between_the_check_and_the_write_is_caught_and_the_home_emptied(archive, tmp_path,
                                                                                                monkeypatch):
    from pipeline.store.backup import restore as restore_module

    with tarfile.open(archive) as tar:
        last_file = [m for m in tar.getmembers() if m.name.startswith("home/")][-1]
    flipped = bytearray(archive.read_bytes())
    flipped[last_file.offset_data] ^= 0x01
    checked = restore_module.verify_archive

    def check_then_swap(path):
        found = checked(path)
        path.write_bytes(bytes(flipped))  # the file changes after it was checked
        return found

    monkeypatch.setattr(restore_module, "verify_archive", check_then_swap)
    with pytest.raises(ArchiveError, match=f"{last_file.name} changed while it was restored"):
        restore_backup(archive, tmp_path / "target")
    assert not (tmp_path / "target").exists()


def test_a_missing_archive_and_a_stranger_tar_are_refused(tmp_path):
    _refused(tmp_path / "nowhere.tar", tmp_path / "target", "no such archive file")
    stranger = tmp_path / "stranger.tar"
    with tarfile.open(stranger, "w") as tar:
        info = tarfile.TarInfo("etc/passwd")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"root"))
    _refused(stranger, tmp_path / "target", "unexpected member 'etc/passwd'")


def _with_manifest(archive: Path, dest: Path, change) -> Path:
    """A copy of ``archive`` whose manifest went through ``change``."""
    with tarfile.open(archive) as source, tarfile.open(dest, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    return dest


def test_a_newer_format_or_schema_is_refused(archive, tmp_path):
    newer = _with_manifest(archive, tmp_path / "newer.tar", lambda m: m.update(format=99))
    assert "backup format 99 is newer than this castmill reads (1)" in _refused(newer, tmp_path / "target", "format 99")
    schema = _with_manifest(archive, tmp_path / "schema.tar",
                            lambda m: m["database"].update(alembic_revision="9999_from_the_future"))
    _refused(schema, tmp_path / "target", "schema revision 9999_from_the_future, which this castmill does not know")


def test_a_home_in_use_is_refused_and_left_as_it_was(archive, tmp_path, monkeypatch):
    home = tmp_path / "busy"
    home.mkdir()
    (home / "notes.txt").write_text("mine")
    with pytest.raises(BackupError, match="not an empty folder") as caught:
        restore_backup(archive, home)
    assert str(caught.value).startswith(f"{home}: ")
    assert [p.name for p in home.iterdir()] == ["notes.txt"]

    in_use = Database(f"sqlite:///{tmp_path / 'elsewhere.db'}")  # an empty home whose database has tables
    in_use.dispose()
    monkeypatch.setenv("CASTMILL_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BackupError, match="already has tables"):
        restore_backup(archive, empty)
    assert list(empty.iterdir()) == []  # castmill.toml, put in first, was taken out again


def _mount_small_tmpfs(folder: Path, megabytes: int) -> None:
    """A real file system of ``megabytes`` at ``folder``; the suite runs as root (see the README)."""
    folder.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(folder)],
                          capture_output=True, text=True)
    assert done.returncode == 0, f"mounting a {megabytes} MB tmpfs needs root: {done.stderr.strip()}"


@pytest.mark.slow
def test_a_disk_that_fills_up_mid_write_leaves_no_archive_on_a_real_tmpfs(seeded, tmp_path):
    settings, _db, made = seeded
    for n in range(4):  # media far bigger than the file system
        (settings.home / "uploads" / f"big-{n}.mp3").write_bytes(os.urandom(1024 * 1024))
    small = tmp_path / "small"
    _mount_small_tmpfs(small, 2)
    try:
        with pytest.raises(BackupError, match="no space left") as caught:
            create_backup(settings, small)
        assert str(caught.value).startswith(f"{small}: ")
        assert list(small.iterdir()) == []
    finally:
        subprocess.run(["umount", str(small)], check=False)


def test_a_write_that_fails_with_enospc_leaves_no_archive(seeded, tmp_path, monkeypatch):
    settings, _db, _made = seeded
    real_add = archive_module.ArchiveWriter.add_file
    calls = []

    def add_file(self, name, path):
        calls.append(name)
        if len(calls) == 4:  # a few members in: the disk is full
            raise OSError(errno.ENOSPC, "No space left on device", str(self.temp))
        return real_add(self, name, path)

    monkeypatch.setattr(archive_module.ArchiveWriter, "add_file", add_file)
    dest = tmp_path / "backups"
    with pytest.raises(BackupError, match="no space left"):
        create_backup(settings, dest)
    assert list(dest.iterdir()) == []
    monkeypatch.setattr(archive_module.ArchiveWriter, "add_file", real_add)
    assert create_backup(settings, dest).path.is_file()


def test_the_archive_name_is_taken_only_when_complete(seeded, tmp_path, monkeypatch):
    """While it is written the archive has a hidden temporary name; no backup name ever points at half a file."""
    settings, _db, _made = seeded
    dest = tmp_path / "backups"
    seen = []
    real_commit = archive_module.ArchiveWriter.commit

    def commit(self):
        seen.append(sorted(p.name for p in dest.iterdir()))
        return real_commit(self)

    monkeypatch.setattr(archive_module.ArchiveWriter, "commit", commit)
    backup = create_backup(settings, dest)
    assert len(seen) == 1 and all(name.startswith(".castmill-backup-") for name in seen[0])
    assert sorted(p.name for p in dest.iterdir()) == [backup.path.name]


def test_a_share_without_hard_links_gets_the_archive_by_rename(seeded, tmp_path, monkeypatch):
    settings, _db, _made = seeded

    def no_links(_source, _target):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(archive_module.os, "link", no_links)
    backup = create_backup(settings, tmp_path / "share")
    assert [p.name for p in (tmp_path / "share").iterdir()] == [backup.path.name]
    assert restore_backup(backup.path, tmp_path / "restored").files == backup.files


# --- retention ----------------------------------------------------------------------------------------------------

def test_prune_keeps_the_newest_archives_and_clears_stale_temporaries(tmp_path):
    dest = tmp_path / "backups"
    dest.mkdir()
    stamps = [datetime(2026, 12, day, 3, 0, tzinfo=timezone.utc) for day in (1, 2, 3, 4, 5)]
    for stamp in stamps:
        (dest / archive_name(stamp)).write_bytes(b"x")
    (dest / "notes.txt").write_text("not a backup")
    stale, fresh = dest / ".castmill-backup-20261130T030000Z.tar.partial", dest / ".castmill-backup-now.tar.partial"
    stale.write_bytes(b"half")
    fresh.write_bytes(b"being written")
    os.utime(stale, (time.time() - 2 * 86400,) * 2)

    deleted = prune_backups(dest, keep=2)

    assert sorted(p.name for p in dest.iterdir()) == sorted(
        [archive_name(stamps[3]), archive_name(stamps[4]), "notes.txt", fresh.name])
    assert set(deleted) == {dest / archive_name(s) for s in stamps[:3]} | {stale}
    with pytest.raises(BackupError, match="keep at least one"):
        prune_backups(dest, keep=0)


# --- the command line ---------------------------------------------------------------------------------------------

@pytest.fixture
def cli(monkeypatch):
    from pipeline.cli.backup import backup, restore
    from pipeline.cli.root import cli as root

    monkeypatch.setitem(root.commands, "backup", backup)
    monkeypatch.setitem(root.commands, "restore", restore)
    from tests.helpers.cli import castmill

    return castmill


def test_the_commands_back_up_prune_and_restore(seeded, tmp_path, cli):
    settings, _db, _made = seeded
    dest = tmp_path / "backups"
    dest.mkdir()
    (dest / archive_name(datetime(2026, 1, 1, tzinfo=timezone.utc))).write_bytes(b"old")

    made = cli("--home", str(settings.home), "backup", "--to", str(dest), "--keep", "1", "--json")
    result = json.loads(made.stdout)
    restored = cli("--home", str(tmp_path / "new"), "restore", result["path"])
    again = cli("--home", str(tmp_path / "new"), "restore", result["path"])

    assert made.exit_code == 0 and result["pruned"] == [str(dest / "castmill-backup-20260101T000000Z.tar")]
    assert [p.name for p in dest.iterdir()] == [Path(result["path"]).name]
    assert restored.exit_code == 0 and "files and" in restored.stdout and "now unknown" in restored.stdout
    assert again.exit_code == 1 and again.stderr.startswith(f"error: {tmp_path / 'new'}: not an empty folder")
