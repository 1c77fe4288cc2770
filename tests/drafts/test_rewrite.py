"""Optional LLM rewrite of drafts: used when it keeps the quote and the rules, else the template stays."""

from __future__ import annotations

import json

import pytest
from tenacity import wait_none

from pipeline.core import llm
from tests.helpers.cli import castmill
from tests.drafts.test_generate import json_out
from tests.fakes.openai_server import Content, FakeOpenAI


@pytest.fixture
def fake(castmill_home, monkeypatch):
    monkeypatch.setattr(llm, "RETRY_WAIT", wait_none())
    with FakeOpenAI(api_key="sk-draft") as server:
        monkeypatch.setenv("CASTMILL_LLM_API_KEY", "sk-draft")
        yield server


def enable(castmill_home, fake, rewrite: bool = True):
    (castmill_home / "castmill.toml").write_text(
        f'[highlights.llm]\nenabled = true\nbase_url = "{fake.base_url}"\nmax_retries = 0\n'
        f"[drafts]\nllm_rewrite = {'true' if rewrite else 'false'}\n")


def test_rewrite_is_used_when_it_keeps_the_quote_and_fits(mined, castmill_home, fake):
    rows = json_out("drafts", "generate", str(mined["acme"]), "--platform", "x")
    episode_draft = next(r for r in rows if r["subject"] == "episode")
    enable(castmill_home, fake)
    fake.script(Content(json.dumps({"text": "Fresh take on the new episode!"})))
    result = castmill("drafts", "generate", str(mined["acme"]), "--platform", "x", "--json")
    assert result.exit_code == 0, result.stderr
    outcome = next(o for o in json.loads(result.stdout) if o["draft_id"] == episode_draft["draft_id"])
    assert outcome["created"] and outcome["version"] == 2 and outcome["notes"] == []
    listed = next(r for r in json_out("drafts", "list", "--client", "acme") if r["id"] == episode_draft["draft_id"])
    assert listed["parts"][0].startswith("Fresh take on the new episode!") and "#podcast" in listed["parts"][0]
    request = fake.requests[0].body
    assert request["response_format"] == {"type": "json_object"} and "X" in request["messages"][0]["content"]


def test_a_rewrite_that_drops_the_quote_or_is_malformed_keeps_the_template(mined, castmill_home, fake):
    enable(castmill_home, fake)
    count = 1 + len(json.loads(castmill("highlights", str(mined["acme"]), "--format", "json").stdout)["highlights"])
    fake.script(*[Content(json.dumps({"text": "No quote here."}))] * count)
    outcomes = json_out("drafts", "generate", str(mined["acme"]), "--platform", "linkedin")
    clip_notes = [o["notes"] for o in outcomes if o["subject"] != "episode"]
    assert clip_notes and all(n == ["kept the template text: LLM rewrite dropped or changed the quote"] for n in clip_notes)
    fake.script(*[Content("not json at all")] * count)
    outcomes = json_out("drafts", "generate", str(mined["acme"]), "--platform", "bluesky")
    assert all(o["notes"] and "LLM rewriter returned something other than" in o["notes"][0] for o in outcomes)
    assert all("sk-draft" not in n for o in outcomes for n in o["notes"])


def test_rewrite_flag_needs_an_enabled_llm(mined, castmill_home, fake):
    result = castmill("drafts", "generate", str(mined["acme"]), "--rewrite")
    assert result.exit_code == 2 and "needs [highlights.llm] enabled = true" in result.stderr
