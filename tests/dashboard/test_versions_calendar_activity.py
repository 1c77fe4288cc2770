"""AppTest: the Versions, Calendar and Activity pages."""

from __future__ import annotations

from datetime import datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select

from pipeline import calendar as cal
from pipeline import review
from pipeline.store.models import AuditEvent, ScheduledPost
from tests.dashboard.conftest import run_app, texts

VERSIONS, CALENDAR, ACTIVITY = "views/versions.py", "views/calendar.py", "views/activity.py"


# --- versions ---------------------------------------------------------------------------------------

def edited_and_approved(world) -> int:
    draft_id = world.acme.draft_ids[0]
    va = world.identity("va")
    with world.db.session() as session:
        original = review.latest_version(session, draft_id).parts[0]
        review.edit(session, va, draft_id, [original.replace("Acme", "ACME <b>Live</b>")], base_version=1)
        review.approve(session, va, draft_id, version=2)
    return draft_id


def test_versions_shows_a_word_diff_authors_and_approvals(world):
    draft_id = edited_and_approved(world)
    app = run_app(world.identity("va"), page=VERSIONS, query={"draft": str(draft_id)})
    assert app.selectbox(key=f"versions_old_{draft_id}").value == 1
    assert app.selectbox(key=f"versions_new_{draft_id}").value == 2
    diff = app.html[0].value
    assert "<del" in diff and "<ins" in diff and "&lt;b&gt;Live&lt;/b&gt;" in diff and "<b>" not in diff
    captions = [c.value for c in app.caption]
    assert any(c.startswith("by castmill ·") for c in captions)
    assert any(c.startswith("by va@castmill\\.test ·") for c in captions)
    assert any(t.value.startswith("va approved by va@castmill.test") for t in app.text)


def test_versions_same_version_twice_has_no_differences(world):
    draft_id = edited_and_approved(world)
    app = run_app(world.identity("acme"), page=VERSIONS, query={"draft": str(draft_id)})
    app.selectbox(key=f"versions_old_{draft_id}").select(2).run()
    assert "No differences." in [c.value for c in app.caption]


# --- calendar -----------------------------------------------------------------------------------------

def schedule_one(world, who: str, draft_id: int, local: datetime, tz: str) -> int:
    approver = world.identity(who)
    admin = world.identity("admin")
    with world.db.session() as session:
        review.approve(session, approver, draft_id, version=1)
        post = cal.schedule(session, admin, draft_id, at=local, tz=tz)
        return post.id


def future_day() -> datetime:
    day = datetime.now(timezone.utc).date() + timedelta(days=3)
    return datetime.combine(day, time(10, 30))


def test_calendar_shows_each_viewer_their_posts_in_both_zones(world):
    local = future_day()
    budi_post = schedule_one(world, "budi", world.budi.draft_ids[0], local, "Asia/Jakarta")
    app = run_app(world.identity("budi"), page=CALENDAR)
    app.date_input(key="calendar_anchor").set_value(local.date()).run()
    table = app.dataframe[0].value
    assert list(table["post"]) == [budi_post]
    assert list(table["due (client zone)"]) == [local.strftime("%Y-%m-%d %H:%M") + " WIB"]
    assert list(table["due (UTC)"]) == [(local - timedelta(hours=7)).strftime("%Y-%m-%d %H:%M")]
    assert any("badge[scheduled]" in m.value for m in app.markdown)

    staff = run_app(world.identity("va"), page=CALENDAR)
    staff.date_input(key="calendar_anchor").set_value(local.date()).run()
    assert staff.selectbox(key="calendar_zone").value == "Asia/Jakarta"  # the VA's own zone first
    assert list(staff.dataframe[0].value["due (Asia/Jakarta)"]) == [local.strftime("%Y-%m-%d %H:%M")]


def test_calendar_month_view_and_platform_filter(world):
    local = future_day()
    schedule_one(world, "budi", world.budi.draft_ids[0], local, "Asia/Jakarta")
    app = run_app(world.identity("budi"), page=CALENDAR)
    app.date_input(key="calendar_anchor").set_value(local.date())
    app.segmented_control(key="calendar_view").set_value("Month").run()
    assert not app.exception, app.exception
    assert len(app.dataframe[0].value) == 1
    other = "x" if app.dataframe[0].value["platform"][0] != "x" else "bluesky"
    app.selectbox(key="calendar_platform").select(other).run()
    assert not app.dataframe and any(i.value.startswith("No posts between") for i in app.info)


def test_rescheduling_in_the_clients_zone_moves_the_post(world):
    local = future_day()
    post_id = schedule_one(world, "budi", world.budi.draft_ids[0], local, "Asia/Jakarta")
    app = run_app(world.identity("va"), page=CALENDAR)
    app.date_input(key="calendar_anchor").set_value(local.date()).run()
    app.selectbox(key="move_zone").select("Asia/Jakarta").run()
    new_day = local.date() + timedelta(days=1)
    app.date_input(key=f"move_day_{post_id}_Asia/Jakarta").set_value(new_day)
    app.time_input(key=f"move_time_{post_id}_Asia/Jakarta").set_value(time(18, 0))
    app.button(key="move_go").click().run()
    assert not app.exception, app.exception
    with world.db.session() as session:
        post = session.get(ScheduledPost, post_id)
        due = post.due_at.replace(tzinfo=timezone.utc) if post.due_at.tzinfo is None else post.due_at
        actions = list(session.scalars(select(AuditEvent.action).where(AuditEvent.entity_type == "post")))
    assert due == datetime.combine(new_day, time(18, 0), tzinfo=ZoneInfo("Asia/Jakarta"))
    assert "post.reschedule" in actions


def test_cancelling_needs_a_reason_and_is_recorded(world):
    local = future_day()
    post_id = schedule_one(world, "budi", world.budi.draft_ids[0], local, "Asia/Jakarta")
    app = run_app(world.identity("budi"), page=CALENDAR)
    app.date_input(key="calendar_anchor").set_value(local.date()).run()
    assert app.button(key="cancel_go").disabled
    app.text_input(key="cancel_reason").input("The guest asked us to wait.").run()
    app.button(key="cancel_go").click().run()
    assert not app.exception, app.exception
    with world.db.session() as session:
        assert session.get(ScheduledPost, post_id).status == "cancelled"


def test_a_client_calendar_never_lists_another_clients_posts(world):
    local = future_day()
    acme_draft = world.acme.draft_ids[0]
    va, acme = world.identity("va"), world.identity("acme")
    with world.db.session() as session:
        review.approve(session, va, acme_draft, version=1)
        review.approve(session, acme, acme_draft, version=1)
    admin = world.identity("admin")
    with world.db.session() as session:
        cal.schedule(session, admin, acme_draft, at=local, tz="America/New_York")
    app = run_app(world.identity("budi"), page=CALENDAR)
    app.date_input(key="calendar_anchor").set_value(local.date()).run()
    assert not app.dataframe
    assert "acme" not in texts(app).lower()


# --- activity -----------------------------------------------------------------------------------------

def test_activity_is_scoped_to_the_clients_own_items(world):
    acme, budi = world.identity("acme"), world.identity("budi")
    with world.db.session() as session:
        review.comment(session, acme, world.acme.draft_ids[0], "acme secret note")
        review.comment(session, budi, world.budi.draft_ids[0], "budi note")
    app = run_app(world.identity("budi"), page=ACTIVITY)
    table = app.dataframe[0].value
    assert world.budi.user_email in set(table["who"]) and world.acme.user_email not in set(table["who"])
    assert "budi note" in " ".join(table["after"]) and "acme" not in " ".join(table["after"]).lower()
    staff = run_app(world.identity("va"), page=ACTIVITY)
    staff.text_input(key="activity_action").input("draft.").run()
    assert set(staff.dataframe[0].value["action"]) == {"draft.comment"}
    assert {world.acme.user_email, world.budi.user_email} <= set(staff.dataframe[0].value["who"])


def test_scheduling_an_approved_draft_at_a_chosen_time(world):
    draft_id = world.budi.draft_ids[1]
    budi = world.identity("budi")
    with world.db.session() as session:
        review.approve(session, budi, draft_id, version=1)
    local = future_day()
    app = run_app(world.identity("budi"), page=CALENDAR)
    app.toggle(key="schedule_next_slot").set_value(False).run()
    app.date_input(key="schedule_day").set_value(local.date())
    app.time_input(key="schedule_time").set_value(local.time())
    app.button(key="schedule_go").click().run()
    assert not app.exception, app.exception
    assert f"Draft {draft_id} scheduled." in [s.value for s in app.success]
    with world.db.session() as session:
        post = session.scalar(select(ScheduledPost).where(ScheduledPost.draft_id == draft_id))
        due = post.due_at.replace(tzinfo=timezone.utc) if post.due_at.tzinfo is None else post.due_at
    assert due == local.replace(tzinfo=ZoneInfo("Asia/Jakarta"))
    app.button(key="schedule_go").click().run()  # a second post for the same draft is refused by the library
    assert len(app.error) == 1


def test_only_approved_drafts_are_offered_for_scheduling(world):
    app = run_app(world.identity("va"), page=CALENDAR)
    assert "schedule_draft" not in [s.key for s in app.selectbox]


def test_a_notices_link_opens_its_post_on_the_calendar_and_only_for_whom_may_see_it(world):
    local = future_day() + timedelta(days=20)  # outside this week: the calendar moves to the post's day
    post_id = schedule_one(world, "budi", world.budi.draft_ids[0], local, "Asia/Jakarta")
    with world.db.session() as session:
        post = session.get(ScheduledPost, post_id)
        post.status, post.error = "failed", "x: HTTP 401: token revoked"
    app = run_app(world.identity("va"), page=CALENDAR, query={"post": str(post_id)})
    shown = texts(app)
    assert f"Post {post_id}" in shown and "Why: x: HTTP 401: token revoked" in shown
    assert app.date_input(key="calendar_anchor").value == local.date()
    assert list(app.dataframe[0].value["post"]) == [post_id]
    assert app.selectbox(key="move_post").value == post_id

    other = run_app(world.identity("acme"), page=CALENDAR, query={"post": str(post_id)})
    assert f"Post {post_id}" not in texts(other) and f"no scheduled post {post_id}" in texts(other)
