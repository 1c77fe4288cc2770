"""Every button the dashboard hides is a call the library refuses.

The dashboard asks ``permissions.may_approve`` and ``permissions.may_send_back`` whether to draw
a button. Here the library is called directly, with the same identity, at every approval
stage. Where the predicate says no, the call must be refused; where it says yes, the call must
go through. Client-settings and episode actions (pages a client never sees) are called as a
client and must be refused too.
"""

from __future__ import annotations

import pytest

from pipeline import batch, review
from pipeline.access.permissions import PermissionDenied, may_approve, may_send_back
from pipeline.core.errors import CastmillError
from pipeline.core.settings import ClientProfile, load_settings
from pipeline.profiles import edit, templates
from tests.review.conftest import add_draft

ROLES = ("va", "admin", "acme_user")


def _card(world, draft_id: int):
    with world.db.session() as session:
        return review.draft_detail(session, world.admin, draft_id)


def _at_stage(world, stage: str) -> int:
    """An acme draft waiting at ``stage``: "va" (new) or "client" (the VA approved it)."""
    draft_id = add_draft(world.db, world.acme, world.acme_episode)
    if stage == "client":
        with world.db.session() as session:
            review.approve(session, world.va, draft_id, version=1)
    return draft_id


def _allowed(action) -> bool:
    try:
        action()
    except CastmillError:
        return False
    return True


@pytest.mark.parametrize("stage", ["va", "client"])
@pytest.mark.parametrize("who", ROLES)
def test_approve_is_refused_exactly_where_the_button_is_hidden(world, who, stage):
    draft_id = _at_stage(world, stage)
    identity = getattr(world, who)
    card = _card(world, draft_id)
    shown = may_approve(identity, card.needs_action_by)
    with world.db.session() as session:
        done = _allowed(lambda: review.approve(session, identity, draft_id, version=card.version_number))
    assert done == shown, f"{who} at the {stage} stage: button {'shown' if shown else 'hidden'}"


@pytest.mark.parametrize("stage", ["va", "client"])
@pytest.mark.parametrize("who", ROLES)
def test_sending_back_is_refused_exactly_where_the_buttons_are_hidden(world, who, stage):
    draft_id = _at_stage(world, stage)
    identity = getattr(world, who)
    card = _card(world, draft_id)
    shown = may_send_back(identity, card.status, card.needs_action_by)
    with world.db.session() as session:
        done = _allowed(lambda: review.request_changes(session, identity, draft_id, "shorter, please"))
    assert done == shown, f"{who} at the {stage} stage: buttons {'shown' if shown else 'hidden'}"


def test_the_expected_turns(world):
    """The table the two tests above check against, spelled out."""
    assert (may_approve(world.va, "va"), may_approve(world.va, "client")) == (True, False)
    assert (may_approve(world.acme_user, "va"), may_approve(world.acme_user, "client")) == (False, True)
    assert (may_approve(world.admin, "va"), may_approve(world.admin, "client")) == (True, True)
    assert not may_approve(world.admin, None)
    assert not may_send_back(world.acme_user, "rejected", None)


def test_a_client_cannot_change_client_settings_through_the_library(world):
    profile = ClientProfile(slug="acme", name="Acme, renamed by its client")
    with world.db.session() as session:
        with pytest.raises(PermissionDenied, match="only a VA or an admin can change client settings"):
            edit.import_profile(session, world.acme_user, profile)
        with pytest.raises(PermissionDenied):
            edit.save_profile(session, world.acme_user, "acme", name="Renamed")
        with pytest.raises(PermissionDenied):
            edit.load_profile(session, world.acme_user, "acme")
        with pytest.raises(PermissionDenied):
            templates.template_source(session, world.acme_user, "acme", "x")


def test_a_client_cannot_save_a_template_or_run_episodes(world, tmp_path, castmill_home):
    with world.db.session() as session:
        with pytest.raises(PermissionDenied):
            templates.save_template(session, world.acme_user, tmp_path, "acme", "x", "x.j2", "{{ episode.title }}")
    assert not list(tmp_path.rglob("*.j2"))
    settings = load_settings(castmill_home)
    with pytest.raises(PermissionDenied, match="process episodes"):
        batch.process_for(world.acme_user, world.db, settings, "acme", [str(tmp_path / "x.mp3")])
    with pytest.raises(PermissionDenied, match="re-run a stage"):
        batch.rerun_stage(world.acme_user, world.db, settings, world.acme_episode, "drafts")


def test_staff_may_change_client_settings_and_it_is_audited(world):
    from pipeline.access import audit

    with world.db.session() as session:
        saved = edit.save_profile(session, world.va, "acme", name="Acme Podcast")
        assert saved.name == "Acme Podcast"
        actions = [e.action for e in audit.events(session, world.admin, client_slug="acme")]
    assert "client.update" in actions
