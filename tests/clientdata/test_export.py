"""``export_client`` and ``castmill client export``: one zip with all of a client's data and nothing of another's."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

import pytest
from sqlalchemy import func, select

from pipeline.access.permissions import PermissionDenied
from pipeline.clientdata import export as export_module
from pipeline.clientdata.export import ExportError, export_client
from pipeline.clientdata.scope import scope_of
from pipeline.core.errors import NotFoundError
from pipeline.store.models import (Approval, AuditEvent, Client, Clip, Comment, Draft, DraftVersion, Episode,
                                   HighlightFeedback, Highlight, Metric, PublishAttempt, ScheduledPost, Transcript)
from tests.helpers.cli import castmill

REQUIRED = {"profile.json", "episodes.json", "highlights.json", "drafts.json", "approvals.csv", "calendar.json",
            "audit.csv", "clips.json", "README.txt", "manifest.json"}


def count(world, model, slug: str = "acme") -> int:
    with world.db.session() as session:
        client = session.scalar(select(Client).where(Client.slug == slug))
        return session.scalar(select(func.count()).select_from(model).where(scope_of(client).where(model)))


def read(zf: zipfile.ZipFile, name: str):
    data = zf.read(name)
    return json.loads(data) if name.endswith(".json") else list(csv.DictReader(io.StringIO(data.decode())))


@pytest.mark.parametrize("world", ["folder", pytest.param("s3", marks=pytest.mark.slow)], indirect=True)
def test_the_export_holds_every_file_every_row_and_nothing_of_another_client(world, tmp_path):
    audit_before = count(world, AuditEvent)
    result = export_client(world.admin, world.db, world.settings, "acme", tmp_path / "exports")

    assert result.path.parent == tmp_path / "exports" and result.path.name.startswith("acme-export-")
    assert [p.name for p in result.path.parent.iterdir()] == [result.path.name]  # no temporary file left
    assert result.sha256 == hashlib.sha256(result.path.read_bytes()).hexdigest()
    with zipfile.ZipFile(result.path) as zf:
        names = set(zf.namelist())
        assert REQUIRED <= names and names == set(result.files)
        assert {f"transcripts/episode-{e}.json" for e in world.acme.episode_ids} <= names
        assert "templates/posts/x.j2" in names
        for name in names:
            if name.endswith(".json"):
                json.loads(zf.read(name))

        # Counts match the database.
        assert len(read(zf, "episodes.json")) == count(world, Episode) == 2
        assert all(e["stages"] for e in read(zf, "episodes.json"))
        transcripts = [read(zf, f"transcripts/episode-{e}.json") for e in world.acme.episode_ids]
        assert sum(len(t["transcripts"]) for t in transcripts) == count(world, Transcript)
        assert transcripts[0]["transcripts"][0]["segments"][0]["words"][1]["word"] == "ACMEMARK"
        highlights = read(zf, "highlights.json")
        assert len(highlights["highlights"]) == count(world, Highlight)
        assert len(highlights["feedback"]) == count(world, HighlightFeedback) == 2
        drafts = read(zf, "drafts.json")
        assert len(drafts) == count(world, Draft) == 3
        assert sum(len(d["versions"]) for d in drafts) == count(world, DraftVersion) == 4
        assert sum(len(d["comments"]) for d in drafts) == count(world, Comment) == 1
        approvals = read(zf, "approvals.csv")
        assert sum(len(d["approvals"]) for d in drafts) == len(approvals) == count(world, Approval) == 5
        assert {a["decision"] for a in approvals} == {"approved", "changes_requested"}
        edited = next(d for d in drafts if len(d["versions"]) == 2)
        assert edited["versions"][1]["parts"] == ["Edited post about ACMEMARK"]
        posts = read(zf, "calendar.json")["posts"]
        assert len(posts) == count(world, ScheduledPost) == 2
        assert sum(len(p["attempt_log"]) for p in posts) == count(world, PublishAttempt) == 1
        assert sum(len(p["metrics"]) for p in posts) == count(world, Metric) == 1
        assert {p["status"] for p in posts} == {"published", "scheduled"}
        audit_rows = read(zf, "audit.csv")
        assert len(audit_rows) == audit_before and {"draft.approve", "draft.comment", "post.schedule",
                                                    "user.login", "client.create"} <= {r["action"] for r in audit_rows}
        clips = read(zf, "clips.json")
        assert len(clips) == count(world, Clip) == 2 and result.clip_files == 2 and not result.missing
        for clip in clips:  # the one on this machine, and the one fetched from the media storage
            assert zf.read(clip["file"]) == world.acme.clip_bytes[clip["file"].rsplit("/", 1)[1]]
        profile = read(zf, "profile.json")
        assert profile["client"]["slug"] == "acme" and profile["client"]["brand_voice"] == "warm, like ACMEMARK"
        assert [u["email"] for u in profile["users"]] == ["owner@acme.test"]
        assert len(profile["sign_in_attempts"]) == 2
        (account,) = profile["accounts"]
        assert account["token"] == "stored encrypted" and account["extra"]["secret"].startswith("(withheld")
        assert account["extra"]["lookup_url"] == "https://hooks.test/acme"

        # The manifest: every other file, with its size and checksum.
        manifest = read(zf, "manifest.json")
        assert manifest["client"] == "acme" and manifest["exported_by"] == "admin@castmill.test"
        listed = {entry["name"]: entry for entry in manifest["files"]}
        assert set(listed) == names - {"manifest.json"}
        for name, entry in listed.items():
            data = zf.read(name)
            assert (len(data), hashlib.sha256(data).hexdigest()) == (entry["bytes"], entry["sha256"])

        # Nothing of the other client, no secret, no password hash.
        everything = b"\n".join(zf.read(name) for name in names)
    for forbidden in ("BUDIMARK", "budi", *world.acme.secrets, *world.budi.secrets, "$argon2", "password_hash",
                      "token_encrypted"):
        assert forbidden.encode() not in everything, forbidden
    assert b"ACMEMARK" in everything

    with world.db.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "client.export")).one()
    assert (event.client_id, event.actor, event.after["file"], event.after["sha256"]) == \
        (world.acme.client_id, "admin@castmill.test", result.path.name, result.sha256)


def test_only_an_admin_may_export(world, tmp_path):
    for who, identity in (("va", world.va), ("client", world.acme.user)):
        with pytest.raises(PermissionDenied, match="^only an admin can export a client's data$"):
            export_client(identity, world.db, world.settings, "acme", tmp_path / who)
        assert not (tmp_path / who).exists()
    with world.db.session() as session:
        assert session.scalar(select(func.count()).where(AuditEvent.action == "client.export")) == 0


def test_an_unknown_client_is_one_line(world, tmp_path):
    with pytest.raises(NotFoundError) as caught:
        export_client(world.admin, world.db, world.settings, "nobody", tmp_path / "exports")
    assert str(caught.value) == "unknown client 'nobody' (known: acme, budi)"
    assert not (tmp_path / "exports").exists()


def test_a_failed_export_leaves_no_file_and_no_record(world, tmp_path, monkeypatch):
    def broken(archive, *args):
        archive.add_json("profile.json", {"half": "written"})
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_module, "_write_everything", broken)
    with pytest.raises(ExportError, match="cannot write the export: No space left on device"):
        export_client(world.admin, world.db, world.settings, "acme", tmp_path)
    assert list(tmp_path.glob("*.zip")) == [] and list(tmp_path.glob(".*.part")) == []
    with world.db.session() as session:
        assert session.scalar(select(func.count()).where(AuditEvent.action == "client.export")) == 0


def test_the_cli_exports_as_an_admin_and_fails_in_one_line(world, tmp_path):
    result = castmill("client", "export", "budi", "--to", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    (zip_path,) = (tmp_path / "out").glob("budi-export-*.zip")
    assert f"exported client budi to {zip_path}" in result.stdout
    with zipfile.ZipFile(zip_path) as zf:
        assert REQUIRED <= set(zf.namelist())
        assert not any(b"ACMEMARK" in zf.read(name) for name in zf.namelist())

    unknown = castmill("client", "export", "nobody", "--to", str(tmp_path))
    assert unknown.exit_code == 1
    assert unknown.stderr == "error: unknown client 'nobody' (known: acme, budi)\n"
