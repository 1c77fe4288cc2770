"""AppTest: Clients & settings — profile, slots, caption style, templates with a sandboxed live preview."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dashboard import client_settings as cs
from pipeline.drafts.generate import generate_drafts
from pipeline.store.clients import get_client
from pipeline.store.models import Draft
from tests.dashboard.conftest import run_app

PAGE = "views/clients.py"


def plain(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def client_row(world, slug: str):
    with world.db.session() as session:
        return get_client(session, slug)


def test_saving_the_profile_stores_it(world):
    app = run_app(world.identity("va"), page=PAGE)
    app.selectbox(key="settings_client").select("acme").run()
    form = app.get("form")[0]
    form.text_input[0].input("Acme Weekly")
    form.radio[0].set_value(1)
    form.multiselect[0].set_value(["x", "linkedin", "mastodon"])
    form.text_input[3].input("en id")
    form.checkbox[0].check()
    form.text_input[4].input("podcast, business growth")
    form.form_submit_button[0].click()
    app.run()
    assert not app.exception, app.exception
    client = client_row(world, "acme")
    assert client.translate_quotes
    assert (client.name, client.approval_stages, client.platforms) == ("Acme Weekly", 1, ["x", "linkedin", "mastodon"])
    assert client.hashtags == ["podcast", "business", "growth"]
    assert client.spoken_languages == ["en", "id"]
    assert "Saved acme." in [s.value for s in app.success]


@pytest.mark.parametrize("who, box, value, message", [
    ("admin", 1, "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
    ("va", 3, "en klingon", "unknown spoken language 'klingon'"),
])
def test_a_bad_field_is_refused_with_the_libraries_message(world, who, box, value, message):
    app = run_app(world.identity(who), page=PAGE)
    form = app.get("form")[0]
    form.text_input[box].input(value)
    form.form_submit_button[0].click()
    app.run()
    assert any(message in plain(e.value) for e in app.error)
    client = client_row(world, "acme")
    assert (client.timezone, client.spoken_languages) == ("America/New_York", [])


def test_posting_slots_and_caption_style_round_trip(world):
    cs.save_profile(world.identity("va"), "budi", posting_slots=[{"platform": "x", "days": ["mon", "thu"], "time": "09:15"}])
    app = run_app(world.identity("va"), page=PAGE)
    app.selectbox(key="settings_client").select("budi").run()
    slots = next(d.value for d in app.dataframe if "days" in d.value.columns)  # the slots editor
    assert list(slots["days"]) == ["mon, thu"] and list(slots["time"]) == ["09:15"]
    caption_form = app.get("form")[1]
    caption_form.checkbox[0].check()
    caption_form.form_submit_button[0].click()
    app.run()
    assert not app.exception, app.exception
    client = client_row(world, "budi")
    assert client.clip_settings["caption_style"]["uppercase"] is True
    assert client.posting_slots == [{"platform": "x", "days": ["mon", "thu"], "time": "09:15"}]


def test_template_preview_renders_the_clients_real_highlight(world):
    app = run_app(world.identity("va"), page=PAGE)
    app.selectbox(key="settings_client").select("acme").run()
    editor = next(t for t in app.text_area if t.key and t.key.startswith("template_acme_x_"))
    editor.input("{{ highlight.quote }} | {{ client.name }}").run()
    assert not app.exception, app.exception
    assert any(t.value.startswith("Quote 1 from Acme episode 1 | Acme Show") for t in app.text)


def test_a_template_escaping_the_sandbox_is_refused_and_not_saved(world, settings):
    app = run_app(world.identity("va"), page=PAGE)
    app.selectbox(key="settings_client").select("acme").run()
    editor = next(t for t in app.text_area if t.key and t.key.startswith("template_acme_x_"))
    editor.input("{{ ''.__class__.__mro__[1].__subclasses__() }}").run()
    assert any("blocked by the sandbox" in plain(e.value) for e in app.error), [e.value for e in app.error]
    assert "save_template_acme_x" not in [b.key for b in app.button]
    assert not (settings.home / "templates" / "acme").exists()


def test_saving_a_template_makes_it_the_clients_own_and_new_drafts_use_it(world, settings):
    app = run_app(world.identity("va"), page=PAGE)
    app.selectbox(key="settings_client").select("acme").run()
    editor = next(t for t in app.text_area if t.key and t.key.startswith("template_acme_x_"))
    editor.input("Listen: {{ highlight.title if highlight else episode.title }}").run()
    app.button(key="save_template_acme_x").click().run()
    assert not app.exception, app.exception
    saved = Path(client_row(world, "acme").templates_dir) / "posts" / "x.j2"
    assert saved == settings.home / "templates" / "acme" / "posts" / "x.j2"
    assert saved.read_text() == "Listen: {{ highlight.title if highlight else episode.title }}"
    assert cs.template_source(world.identity("va"), "acme", "x").own
    with world.db.session() as session:
        generate_drafts(session, world.acme.episode_ids[0], platforms=["x"])
        texts = [d.latest.parts[0] for d in session.query(Draft).filter_by(client_id=world.acme.client_id,
                                                                           platform="x")]
    assert sorted(t.split("\n")[0] for t in texts) == ["Listen: Acme episode 1", "Listen: Moment 1"]
