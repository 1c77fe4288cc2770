"""``erase_client`` and ``castmill client erase``: every row and file of one client goes, the other client's stay,
the erased client's people lose access, and one content-free record remains."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import ForeignKey, func, select, text

from pipeline import review
from pipeline.access import auth
from pipeline.access.permissions import PermissionDenied
from pipeline.clientdata.erase import EraseRefused, erase_client
from pipeline.clientdata.scope import NOT_OWNED, TABLES, ClientScope
from pipeline.core.errors import NotFoundError, StorageError
from pipeline.media.storage import LocalStorage, clip_key, open_storage
from pipeline.profiles.edit import import_profile
from pipeline.store.clients import build_profile
from pipeline.store.models import AuditEvent, Base, ScheduledPost
from tests.clientdata.conftest import write_file
from tests.helpers.cli import castmill


def every_row(world) -> dict[str, set]:
    """Every row of every table, as text (the whole database)."""
    with world.db.engine.connect() as connection:
        return {table.name: {json.dumps(list(row), default=str) for row in connection.execute(table.select())}
                for table in Base.metadata.sorted_tables}


def owned_counts(world, seeded) -> dict[str, int]:
    with world.db.session() as session:
        return ClientScope(seeded.client_id, seeded.slug).counts(session)


BACKENDS = ["folder", pytest.param("s3", marks=pytest.mark.slow)]


@pytest.mark.parametrize("world", BACKENDS, indirect=True)
def test_erasure_removes_every_row_and_file_of_the_client_and_nothing_of_the_other(world, tmp_path):
    acme, budi = world.acme, world.budi
    storage = open_storage(world.settings)
    orphan = storage.put(write_file(tmp_path / "old.mp4", b"an old render"), clip_key("acme", 99, "old.mp4"))
    storage.local_path(acme.stored[-1])  # a copy in this machine's cache (S3)
    budi_before = owned_counts(world, budi)
    acme_before = owned_counts(world, acme)
    assert all(acme_before.values()), acme_before  # the seed gave acme a row in every table
    rows_before = every_row(world)
    assert all(path.exists() for path in acme.files + budi.files)
    assert all(storage.exists(ref) for ref in acme.stored + budi.stored)

    result = erase_client(world.admin, world.db, world.settings, "acme", "acme")

    assert result.rows == acme_before and owned_counts(world, acme) == dict.fromkeys(acme_before, 0)
    assert owned_counts(world, budi) == budi_before
    # Every row that was not acme's is still there, unchanged; the only new row is the erasure's record.
    rows_after = every_row(world)
    for table, rows in rows_after.items():
        gone = rows_before[table] - rows
        assert len(gone) == acme_before.get(table, 0), table
        assert rows - rows_before[table] == set() or table == "audit_events", table
    assert len(rows_after["audit_events"] - rows_before["audit_events"]) == 1
    dump = json.dumps({table: sorted(rows) for table, rows in rows_after.items()})
    for trace in ("ACMEMARK", "owner@acme.test", "review link acme", *acme.secrets):
        assert trace not in dump, trace
    assert "BUDIMARK" in dump

    # Files: acme's are gone (local, in the shared media folder, outbox, cover, templates); budi's are all there.
    assert [path for path in acme.files if path.exists()] == []
    assert [path for path in budi.files if not path.exists()] == []
    for folder in ("clips", "uploads", "outbox", "templates"):
        assert not (world.home / folder / "acme").exists() and (world.home / folder / "budi").is_dir()
    assert [ref for ref in [*acme.stored, orphan] if storage.exists(ref)] == []
    if world.media_url.startswith("s3://"):  # nor this machine's cached copies of acme's objects
        assert not list(world.settings.media_cache_dir.rglob("acme"))
    else:
        assert not (Path(world.media_url) / "acme").exists()
    assert [ref for ref in budi.stored if not storage.exists(ref)] == []
    assert result.left_alone == (str(acme.original),) and acme.original.is_file()  # not Castmill's to delete
    assert result.files >= 6 and result.stored == 4  # the episode and two clips stored, and the orphan

    # The erased client's people: the session, the password and the review link no longer work.
    with world.db.session() as session:
        with pytest.raises(auth.SessionExpired, match="your account has changed"):
            auth.check_active(session, acme.user)
        with pytest.raises(auth.SessionExpired):
            review.comment(session, acme.user, acme.draft_ids[1], "still here?")
        with pytest.raises(auth.ReviewLinkInvalid, match="^this review link is not valid$"):
            auth.identity_from_review_link(session, acme.review_token, home=world.home)
    with world.db.session() as session:
        with pytest.raises(auth.AuthFailed):
            auth.login(session, acme.user_email, "correct horse battery")
    with world.db.session() as session:  # budi's are untouched
        auth.check_active(session, budi.user)
        assert auth.identity_from_review_link(session, budi.review_token, home=world.home).client_slug == "budi"

    # One record of the erasure: who, when, which slug, how much; no content, visible to staff only.
    with world.db.session() as session:
        event = session.get(AuditEvent, result.audit_event_id)
    assert (event.action, event.actor, event.client_id, event.entity_id) == \
        ("client.erase", "admin@castmill.test", None, acme.client_id)
    assert event.after["slug"] == "acme" and event.after["rows"] == acme_before
    assert "ACMEMARK" not in json.dumps([event.before, event.after]) and "Post 1" not in json.dumps(event.after)


def test_a_client_added_again_under_the_same_slug_does_not_revive_old_links_or_sessions(world):
    acme = world.acme
    erase_client(world.admin, world.db, world.settings, "acme", "acme")
    time.sleep(1.1)  # a review link's time has whole seconds
    with world.db.session() as session:
        again, _ = import_profile(session, world.admin, build_profile(slug="acme", name="Another Acme"))
    with world.db.session() as session:
        with pytest.raises(auth.ReviewLinkInvalid, match="not valid"):
            auth.identity_from_review_link(session, acme.review_token, home=world.home)
        with pytest.raises(auth.SessionExpired):
            auth.check_active(session, acme.user)
        fresh = auth.make_review_link_token(session, "acme", 1, home=world.home)
        assert auth.identity_from_review_link(session, fresh, home=world.home).client_id == again.id


def test_a_wrong_confirmation_an_unknown_client_and_anyone_but_an_admin_are_refused(world):
    before = every_row(world)
    with pytest.raises(EraseRefused) as wrong:
        erase_client(world.admin, world.db, world.settings, "acme", "acm")
    assert str(wrong.value) == "the confirmation 'acm' is not the client's slug 'acme'; nothing was erased"
    with pytest.raises(NotFoundError) as unknown:
        erase_client(world.admin, world.db, world.settings, "nobody", "nobody")
    assert str(unknown.value) == "unknown client 'nobody' (known: acme, budi)"
    for identity in (world.va, world.acme.user, world.budi.user):
        with pytest.raises(PermissionDenied, match="^only an admin can erase a client's data$"):
            erase_client(identity, world.db, world.settings, "acme", "acme")
    assert every_row(world) == before
    assert all(path.exists() for path in world.acme.files)


def test_a_post_being_published_stops_the_erasure_until_it_is_done(world):
    post_id = world.acme.post_ids[1]
    with world.db.session() as session:
        session.get(ScheduledPost, post_id).status = "publishing"
    before = every_row(world)
    with pytest.raises(EraseRefused) as refused:
        erase_client(world.admin, world.db, world.settings, "acme", "acme")
    assert str(refused.value) == (f"client acme has 1 post being published right now (post {post_id}); nothing was "
                                  "erased: run the erasure again once the scheduler has finished them")
    assert every_row(world) == before and all(path.exists() for path in world.acme.files)

    with world.db.session() as session:
        session.get(ScheduledPost, post_id).status = "published"
    assert erase_client(world.admin, world.db, world.settings, "acme", "acme").rows["scheduled_posts"] == 2


def test_a_file_that_cannot_be_removed_keeps_every_row_for_another_try(world, monkeypatch):
    before = owned_counts(world, world.acme)

    def refuse(self, ref):
        raise StorageError("delete failed: the shared folder is read-only", source=ref)

    monkeypatch.setattr(LocalStorage, "delete", refuse)
    with pytest.raises(StorageError, match="read-only"):
        erase_client(world.admin, world.db, world.settings, "acme", "acme")
    assert owned_counts(world, world.acme) == before
    monkeypatch.undo()
    erase_client(world.admin, world.db, world.settings, "acme", "acme")
    assert not any(owned_counts(world, world.acme).values())


@pytest.mark.slow
@pytest.mark.parametrize("world", ["postgres"], indirect=True)
def test_the_clients_jobs_in_the_queue_stop_the_erasure_while_they_wait_and_go_with_it(world):
    from pipeline.jobs.app import ensure_schema
    from pipeline.store.models import QueueJobError

    ensure_schema(world.settings.database_url)

    def job(args: dict, status: str) -> int:
        with world.db.session() as session:
            job_id = session.execute(text(
                "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status) "
                "VALUES ('q', 'castmill.test', CAST(:args AS jsonb), :status) RETURNING id"),
                {"args": json.dumps(args), "status": status}).scalar()
            if status != "todo":
                session.add(QueueJobError(job_id=job_id, error=f"an error of job {job_id}"))
            return job_id

    waiting = job({"client": "acme", "uri": "/ACMEMARK.mp3"}, "todo")
    done = job({"episode_id": world.acme.episode_ids[0]}, "succeeded")
    other = job({"episode_id": world.budi.episode_ids[0]}, "failed")
    before = every_row(world)
    with pytest.raises(EraseRefused) as refused:
        erase_client(world.admin, world.db, world.settings, "acme", "acme")
    assert str(refused.value).startswith(f"client acme has 1 job waiting or running in the queue (job {waiting}); "
                                         "nothing was erased")
    assert every_row(world) == before

    with world.db.session() as session:
        session.execute(text("UPDATE procrastinate_jobs SET status = 'cancelled' WHERE id = :id"), {"id": waiting})
    result = erase_client(world.admin, world.db, world.settings, "acme", "acme")
    assert result.queue_jobs == 2 and not any(owned_counts(world, world.acme).values())
    with world.db.session() as session:  # acme's finished jobs (done, waiting) and their errors are gone
        assert list(session.scalars(text("SELECT id FROM procrastinate_jobs"))) == [other]
        assert sorted(session.scalars(select(QueueJobError.job_id))) == [other]
    assert done != other


def test_every_table_that_can_hold_a_clients_rows_is_in_the_scope():
    """A new table keyed to a client's rows must be added to scope.TABLES (or to NOT_OWNED, saying why)."""
    covered = {model.__tablename__ for model in TABLES}
    for table in Base.metadata.sorted_tables:
        keys = {fk.column.table.name for fk in table.foreign_keys}
        columns = set(table.columns.keys())
        if keys & covered or columns & {"client_id", "episode_id", "draft_id", "post_id", "user_id", "email"}:
            assert table.name in covered or table.name in NOT_OWNED, table.name
    assert ForeignKey  # (imported for the reader: keys are what ties a table to a client)


def test_the_cli_erases_with_confirmation_and_fails_in_one_line(world):
    missing = castmill("client", "erase", "budi")
    assert missing.exit_code == 2 and "--confirm" in missing.stderr
    wrong = castmill("client", "erase", "budi", "--confirm", "acme")
    assert wrong.exit_code == 1
    assert wrong.stderr == "error: the confirmation 'acme' is not the client's slug 'budi'; nothing was erased\n"
    unknown = castmill("client", "erase", "nobody", "--confirm", "nobody")
    assert unknown.exit_code == 1 and unknown.stderr == "error: unknown client 'nobody' (known: acme, budi)\n"

    done = castmill("client", "erase", "budi", "--confirm", "budi")
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("erased client budi: ") and "(audit event " in done.stdout
    assert str(world.budi.original) in done.stderr  # the original outside the home is named, not deleted
    with world.db.session() as session:
        assert session.scalar(select(func.count()).select_from(text("clients"))) == 1
    assert not any(owned_counts(world, world.budi).values())
