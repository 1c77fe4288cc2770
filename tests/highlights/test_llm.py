"""The optional LLM re-ranker against a local fake chat-completions server (never the network)."""

from __future__ import annotations

import json
import logging

import pytest
import requests
from tenacity import wait_none

from pipeline.core.settings import LLMSettings
from pipeline.core import llm
from pipeline.highlights.llm import LLMCandidate, LLMScorerError, LLMVerdict, rerank
from tests.fakes.openai_server import Content, Delay, Error, FakeOpenAI

KEY = "sk-test-0123456789abcdef"

FIRST = "Nobody tells you that the first podcast episode is always the worst."
HABIT = "Here is the one habit that doubled our downloads in a single month."
CANDIDATES = [
    LLMCandidate(id=1, text=FIRST, start=12.0, end=31.5, score=0.9),
    LLMCandidate(id=2, text="So yeah, anyway.", start=40.0, end=42.0, score=0.7),
    LLMCandidate(id=3, text=HABIT, start=95.25, end=120.0, score=0.6),
]


@pytest.fixture(autouse=True)
def no_retry_wait(monkeypatch):
    """Keep tenacity's retries but drop its back-off sleeps."""
    monkeypatch.setattr(llm, "RETRY_WAIT", wait_none())


@pytest.fixture
def fake():
    with FakeOpenAI(api_key=KEY) as server:
        yield server


@pytest.fixture
def session():
    with requests.Session() as s:
        s.trust_env = False  # no proxy from the environment: 127.0.0.1 only
        yield s


def settings_for(server: FakeOpenAI, **overrides) -> LLMSettings:
    values = dict(enabled=True, base_url=server.base_url, api_key=KEY, model="fake-mini", timeout=2, max_retries=2)
    return LLMSettings(**(values | overrides))


def answer(*rankings: dict) -> Content:
    return Content(json.dumps({"rankings": list(rankings)}))


def ranked(id: int, score: float = 0.5, title: str = "A title", reason: str = "why") -> dict:
    return {"id": id, "score": score, "title": title, "reason": reason}


# -- good answers --


def test_good_answer_gives_verdicts_best_first(fake, session):
    fake.script(answer(ranked(1, 0.4, "First episodes"), ranked(3, 0.95, "  One habit,\n double downloads  ", "")))
    verdicts = rerank(CANDIDATES, settings_for(fake), session=session)
    assert verdicts == [
        LLMVerdict(id=3, score=0.95, title="One habit, double downloads", reason=""),
        LLMVerdict(id=1, score=0.4, title="First episodes", reason="why"),
    ]


def test_default_fake_answer_scores_every_candidate(fake, session):
    verdicts = rerank(CANDIDATES, settings_for(fake), session=session)
    assert {v.id for v in verdicts} == {1, 2, 3}
    assert verdicts[-1].id == 2  # the shortest text scores lowest
    assert all(0 <= v.score <= 1 and v.title for v in verdicts)


def test_request_body_follows_the_contract(fake, session):
    rerank(CANDIDATES, settings_for(fake, max_candidates=2), language="id", session=session)
    (request,) = fake.requests
    body = request.body
    assert request.method == "POST" and request.path == "/v1/chat/completions"
    assert body["model"] == "fake-mini"
    assert body["temperature"] == 0
    assert body["response_format"] == {"type": "json_object"}
    system, user = body["messages"]
    assert system["role"] == "system" and "json" in system["content"].lower()
    assert "(id)" in system["content"] and "70 characters" in system["content"]
    assert user["role"] == "user"
    sent = json.loads(user["content"])
    assert sent == [
        {"id": 1, "start": 12.0, "end": 31.5, "text": CANDIDATES[0].text},
        {"id": 2, "start": 40.0, "end": 42.0, "text": CANDIDATES[1].text},
    ]


def test_key_is_sent_as_bearer(fake, session):
    rerank(CANDIDATES, settings_for(fake), session=session)
    assert fake.requests[0].headers["Authorization"] == f"Bearer {KEY}"


def test_empty_key_sends_no_authorization_header(session):
    with FakeOpenAI(api_key=None) as server:
        rerank(CANDIDATES, settings_for(server, api_key=""), session=session)
        assert "Authorization" not in server.requests[0].headers


def test_works_without_a_given_session(fake):
    assert len(rerank(CANDIDATES[:1], settings_for(fake))) == 1


def test_no_candidates_makes_no_request(fake, session):
    assert rerank([], settings_for(fake), session=session) == []
    assert fake.requests == []


def test_missing_candidates_are_allowed_and_long_titles_truncated(fake, session):
    fake.script(answer(ranked(2, 1, "x" * 150)))
    (verdict,) = rerank(CANDIDATES, settings_for(fake), session=session)
    assert verdict.id == 2 and verdict.score == 1.0 and verdict.title == "x" * 100


# -- malformed answers --


@pytest.mark.parametrize(
    "content, expected",
    [
        ("Sure! Here are my rankings: 1, 3, 2", "returned content that is not JSON"),
        (json.dumps({"ranking": []}), "does not match the schema: rankings: Field required"),
        (json.dumps({"rankings": [ranked(1, "high")]}), "does not match the schema: rankings.0.score"),
        (json.dumps({"rankings": [ranked(1, 1.7)]}), "rankings.0.score: Input should be less than or equal to 1"),
        (json.dumps({"rankings": [ranked(1, -0.1)]}), "rankings.0.score"),
        (json.dumps({"rankings": [ranked(99)]}), "returned unknown candidate id 99"),
        (json.dumps({"rankings": [ranked(1, title="   ")]}), "rankings.0.title"),
        (json.dumps({"rankings": [ranked(1), ranked(1)]}), "returned candidate id 1 twice"),
        ("", "returned an empty message"),
    ],
    ids=["not-json", "missing-rankings", "score-as-string", "score-1.7", "score-negative", "unknown-id",
         "blank-title", "duplicate-id", "empty-content"],
)
def test_malformed_answer_raises(fake, session, content, expected):
    settings = settings_for(fake)
    fake.script(Content(content))
    with pytest.raises(LLMScorerError) as info:
        rerank(CANDIDATES, settings, session=session)
    message = str(info.value)
    assert expected in message
    assert message.startswith(f"{settings.base_url}: LLM scorer ")
    assert "\n" not in message
    assert len(fake.requests) == 1  # a bad answer is not retried


def test_id_of_a_candidate_not_sent_is_unknown(fake, session):
    fake.script(answer(ranked(3)))
    with pytest.raises(LLMScorerError, match="unknown candidate id 3"):
        rerank(CANDIDATES, settings_for(fake, max_candidates=2), session=session)


def test_truncated_answer_is_reported(fake, session):
    fake.script(Content('{"rankings": [{"id": 1, "sco', finish_reason="length"))
    with pytest.raises(LLMScorerError, match="finish_reason=length"):
        rerank(CANDIDATES, settings_for(fake), session=session)


def test_markdown_fenced_json_is_accepted(fake, session):
    fake.script(Content('```json\n{"rankings": [{"id": 1, "score": 0.8, "title": "Hi", "reason": ""}]}\n```'))
    assert rerank(CANDIDATES, settings_for(fake), session=session)[0].id == 1


# -- retries and HTTP errors --


def test_two_500s_then_success_is_retried(fake, session):
    fake.script(Error(500), Error(500))
    verdicts = rerank(CANDIDATES, settings_for(fake, max_retries=2), session=session)
    assert len(verdicts) == 3
    assert len(fake.requests) == 3


def test_429_is_retryable(fake, session):
    fake.script(Error(429, "Rate limit reached for requests"))
    assert len(rerank(CANDIDATES, settings_for(fake), session=session)) == 3
    assert len(fake.requests) == 2


def test_persistent_503_fails_after_all_attempts(fake, session):
    fake.script(*[Error(503, "The engine is currently overloaded")] * 10)
    with pytest.raises(LLMScorerError) as info:
        rerank(CANDIDATES, settings_for(fake, max_retries=2), session=session)
    assert len(fake.requests) == 3
    assert "HTTP 503: The engine is currently overloaded after 3 attempt(s)" in str(info.value)


def test_zero_retries_means_one_attempt(fake, session):
    fake.script(Error(502, body="<html>bad gateway</html>"), Error(502))
    with pytest.raises(LLMScorerError, match=r"HTTP 502 after 1 attempt\(s\)"):
        rerank(CANDIDATES, settings_for(fake, max_retries=0), session=session)
    assert len(fake.requests) == 1


def test_401_fails_at_once_without_leaking_the_key(fake, session, caplog):
    wrong = "sk-wrong-key-987654321"
    settings = settings_for(fake, api_key=wrong)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(LLMScorerError) as info:
        rerank(CANDIDATES, settings, session=session)
    message = str(info.value)
    assert len(fake.requests) == 1
    assert "HTTP 401 (check the API key): Incorrect API key provided: ***" in message
    for text in (message, repr(info.value), repr(settings), caplog.text):
        assert wrong not in text
    assert KEY not in message


def test_masked_key_echo_is_redacted(fake, session):
    fake.script(Error(401, "Incorrect API key provided: sk-test**************cdef. You can find your API key at x."))
    with pytest.raises(LLMScorerError) as info:
        rerank(CANDIDATES, settings_for(fake), session=session)
    assert "cdef" not in str(info.value) and "provided: ***" in str(info.value)


@pytest.mark.parametrize("status, hint", [(400, "HTTP 400: bad things"), (404, "HTTP 404 (check base_url and model)")])
def test_other_4xx_fail_at_once(fake, session, status, hint):
    fake.script(Error(status, "bad things"))
    with pytest.raises(LLMScorerError, match=hint.replace("(", r"\(").replace(")", r"\)")):
        rerank(CANDIDATES, settings_for(fake), session=session)
    assert len(fake.requests) == 1


def test_wrong_path_is_404(session):
    with FakeOpenAI(api_key=KEY) as server:
        settings = settings_for(server, base_url=server.base_url.removesuffix("/v1") + "/v2/")
        with pytest.raises(LLMScorerError, match="HTTP 404"):
            rerank(CANDIDATES, settings, session=session)


def test_timeout_fails_after_retries(fake, session):
    fake.script(Delay(2), Delay(2))
    with pytest.raises(LLMScorerError, match=r"timed out after 0.3 s \(2 attempt\(s\)\)"):
        rerank(CANDIDATES, settings_for(fake, timeout=0.3, max_retries=1), session=session)
    assert len(fake.requests) == 2


def test_timeout_then_success(fake, session):
    fake.script(Delay(2))
    assert len(rerank(CANDIDATES, settings_for(fake, timeout=0.3, max_retries=1), session=session)) == 3


def test_unreachable_server_fails_after_retries(session):
    server = FakeOpenAI(api_key=KEY).start()
    settings = settings_for(server, max_retries=1)
    server.stop()  # the port is closed now
    with pytest.raises(LLMScorerError, match=r"cannot be reached \(2 attempt\(s\)\)"):
        rerank(CANDIDATES, settings, session=session)


# -- the fake itself enforces the contract --


def test_fake_rejects_bad_requests(fake, session):
    url = fake.base_url + "/chat/completions"
    auth = {"Authorization": f"Bearer {KEY}"}
    assert session.post(url, data="{", headers=auth).status_code == 400
    assert session.post(url, json={"messages": [{"role": "user", "content": "hi"}]}, headers=auth).status_code == 400
    assert session.post(url, json={"model": "m", "messages": []}, headers=auth).status_code == 400
    bad_role = {"model": "m", "messages": [{"role": "robot", "content": "hi"}]}
    assert session.post(url, json=bad_role, headers=auth).status_code == 400
    hi = [{"role": "user", "content": "hi"}]
    no_json_word = {"model": "m", "messages": hi, "response_format": {"type": "json_object"}}
    assert "json" in session.post(url, json=no_json_word, headers=auth).json()["error"]["message"]
    assert session.post(url, json={"model": "m", "messages": [{"role": "user", "content": "hi"}]}).status_code == 401
    assert session.get(url, headers=auth).status_code == 405
    reply = session.post(url, json={"model": "m", "messages": [{"role": "user", "content": "[]"}]}, headers=auth)
    assert reply.status_code == 200
    assert reply.json()["object"] == "chat.completion"
    assert reply.json()["choices"][0]["message"]["role"] == "assistant"
