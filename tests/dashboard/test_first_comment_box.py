"""AppTest: the review card's first-comment box — saved as part of a new version, checked live."""

from __future__ import annotations

from sqlalchemy import select

from pipeline import review
from pipeline.store.models import Draft
from tests.dashboard.conftest import run_app, texts


def x_draft(world) -> int:
    with world.db.session() as session:
        return session.scalar(select(Draft.id).where(Draft.client_id == world.budi.client_id,
                                                     Draft.platform == "x").order_by(Draft.id))


def test_a_first_comment_typed_in_the_card_is_saved_as_a_new_version(world):
    draft_id = x_draft(world)
    app = run_app(world.identity("budi"))
    app.text_area(key=f"first_comment_{draft_id}_1").input("#pricing https://example.com/ep/1").run()
    assert "Unsaved changes." in texts(app)
    app.button(key=f"save_{draft_id}").click().run()
    assert not app.exception, app.exception
    with world.db.session() as session:
        latest = review.latest_version(session, draft_id)
    assert (latest.number, latest.first_comment) == (2, "#pricing https://example.com/ep/1")
    assert app.text_area(key=f"first_comment_{draft_id}_2").value == "#pricing https://example.com/ep/1"


def test_a_first_comment_over_the_limit_is_flagged_before_saving(world):
    draft_id = x_draft(world)
    app = run_app(world.identity("budi"))
    app.text_area(key=f"first_comment_{draft_id}_1").input("word " * 80).run()
    assert any("first comment is 399 characters" in w.value and "the limit is 280" in w.value for w in app.warning)
