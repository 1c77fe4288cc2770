"""The publisher contract, table-driven over every HTTP publisher whose module exists.

Each platform's fake is a ``tests.fakes.server.ContractFake`` found either as ``contract_fake()``
in ``tests/fakes/<platform>.py`` or in a ``CONTRACT_FAKES = {"<platform>": factory}`` mapping in any
module of ``tests/fakes`` (one module may serve several platforms, e.g. the Graph API ones).
The outbox has no HTTP and is covered by test_outbox.py.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timezone

import pytest

import tests.fakes

from pipeline.publish.publishers import (PUBLISHERS, AuthError, OutcomeUnknown, PublishError, get_publisher,
                                           publisher_class)
from pipeline.publish.publishers import base


def _module_exists(platform: str) -> bool:
    module = PUBLISHERS[platform].split(":")[0]
    return importlib.util.find_spec(f"pipeline.publish.publishers.{module}") is not None


def _contract_fake_factory(platform: str) -> Callable | None:
    if importlib.util.find_spec(f"tests.fakes.{platform}") is not None:
        factory = getattr(importlib.import_module(f"tests.fakes.{platform}"), "contract_fake", None)
        if factory is not None:
            return factory
    for info in pkgutil.iter_modules(tests.fakes.__path__):
        factories = getattr(importlib.import_module(f"tests.fakes.{info.name}"), "CONTRACT_FAKES", {})
        if platform in factories:
            return factories[platform]
    return None


# The outbox and the newsletter (SMTP: test_newsletter_smtp.py, against a real local SMTP server) speak no HTTP.
HTTP_PLATFORMS = [name for name in PUBLISHERS if name not in ("outbox", "newsletter") and _module_exists(name)]
FAKES = {name: factory for name in HTTP_PLATFORMS if (factory := _contract_fake_factory(name)) is not None}


@pytest.mark.parametrize("platform", HTTP_PLATFORMS)
def test_every_publisher_has_a_contract_fake(platform):
    assert platform in FAKES, (f"publisher {platform!r} exists but no contract fake does: add contract_fake() to "
                               f"tests/fakes/{platform}.py or CONTRACT_FAKES[{platform!r}] to a tests/fakes module "
                               f"(see tests.fakes.server.ContractFake)")


@pytest.fixture(params=sorted(FAKES))
def fake(request, monkeypatch):
    cls = publisher_class(request.param)
    for name in dir(cls):  # no real waiting between media-processing polls in these tests
        if name.endswith("_poll_interval") or name == "poll_first_wait":
            monkeypatch.setattr(cls, name, 0.0)
    server = FAKES[request.param]().start()
    yield server
    server.stop()
    assert server.errors == [], f"the {request.param} fake crashed: {server.errors[0]!r}"


def publish(fake, key="contract-1", **account):
    return get_publisher(fake.account(**account)).publish(fake.sample_post(key))


def test_publish_creates_exactly_one_post(fake):
    published = publish(fake)
    assert published.remote_id
    assert fake.post_count == 1


def test_republishing_the_same_post_creates_nothing_new(fake):
    post = fake.sample_post("contract-1")
    started = datetime.now(timezone.utc)
    first = get_publisher(fake.account()).publish(post)
    retry = replace(post, first_attempt_at=started)  # what the scheduler sends on a later attempt
    second = get_publisher(fake.account()).publish(retry)
    assert second == first
    assert fake.post_count == 1


def test_find_existing_before_and_after(fake):
    publisher = get_publisher(fake.account())
    post = fake.sample_post("contract-1")
    assert publisher.find_existing(post) is None
    published = publisher.publish(post)
    assert publisher.find_existing(post) == published


def test_429_is_retryable_with_retry_after(fake):
    fake.fail_next(429, path=fake.create_path, headers={"Retry-After": "7"}, json={"error": "Too Many Requests"})
    with pytest.raises(PublishError) as caught:
        publish(fake)
    error = caught.value
    assert error.retryable and error.retry_after == 7.0 and error.status == 429
    assert not isinstance(error, (AuthError, OutcomeUnknown))
    assert fake.post_count == 0
    publish(fake)  # the retry the scheduler makes later goes through
    assert fake.post_count == 1


def test_5xx_is_retryable(fake):
    fake.fail_next(503, path=fake.create_path, json={"error": "Service Unavailable"})
    with pytest.raises(PublishError) as caught:
        publish(fake)
    assert caught.value.retryable and caught.value.status == 503
    assert fake.post_count == 0


def test_wrong_credentials_are_an_auth_error_without_the_credential(fake):
    wrong = "wrong-credential-5f3a9c"
    with pytest.raises(AuthError) as caught:
        publish(fake, token=wrong)
    assert not caught.value.retryable
    assert wrong not in str(caught.value) and fake.token not in str(caught.value)
    assert fake.post_count == 0


def test_validation_error_is_final_and_carries_the_platforms_message(fake):
    with pytest.raises(PublishError) as caught:
        get_publisher(fake.account()).publish(fake.invalid_post("contract-bad"))
    error = caught.value
    assert not error.retryable and not isinstance(error, AuthError)
    assert 400 <= error.status < 500
    assert fake.invalid_message in str(error)
    assert fake.post_count == 0


def test_timeout_after_acceptance_is_unknown_then_reconciled_not_resent(fake, monkeypatch):
    monkeypatch.setattr(base, "READ_TIMEOUT", 0.5)
    fake.hang_next(path=fake.create_path, seconds=10)
    post = fake.sample_post("contract-1")
    with pytest.raises(OutcomeUnknown) as caught:
        get_publisher(fake.account()).publish(post)
    assert fake.token not in str(caught.value)
    assert fake.post_count == 1  # the platform did accept it

    found = get_publisher(fake.account()).find_existing(post)  # what the scheduler does before any retry
    assert found is not None and found.remote_id
    assert fake.post_count == 1


def test_credentials_never_appear_in_error_messages(fake, monkeypatch):
    monkeypatch.setattr(base, "READ_TIMEOUT", 0.5)
    messages = []
    for arrange in (lambda: fake.fail_next(500, path=fake.create_path, json={"error": "boom"}),
                    lambda: fake.fail_next(429, path=fake.create_path, json={"error": "slow down"}),
                    lambda: fake.hang_next(path=fake.create_path, seconds=10)):
        arrange()
        with pytest.raises(PublishError) as caught:
            publish(fake, key=f"secret-check-{len(messages)}")
        messages.append(str(caught.value))
        messages.append(repr(caught.value.__cause__))
    with pytest.raises(PublishError) as caught:
        get_publisher(fake.account()).publish(fake.invalid_post("secret-check-bad"))
    messages.append(str(caught.value))
    assert all(fake.token not in message for message in messages)


# ---------------------------------------------------------------- the fake server the contract relies on


def test_fake_server_switches_and_request_log():
    import requests

    from tests.fakes.server import FakeServer, Response

    class Echo(FakeServer):
        def __init__(self):
            super().__init__()
            self.route("POST", r"/echo/(?P<name>\w+)", lambda request, name: Response(200, {"name": name,
                                                                                            "body": request.json()}))
            self.route("GET", r"/boom", lambda request: 1 / 0)

    with Echo() as server:
        chunked = requests.post(server.url("/echo/a"), data=iter([b'{"x":', b" 1}"]), timeout=5,
                                headers={"Content-Type": "application/json"})
        assert chunked.json() == {"name": "a", "body": {"x": 1}}
        server.fail_next(429, path="/echo", headers={"Retry-After": "3"}, after=1)
        assert requests.post(server.url("/echo/b"), json={}, timeout=5).status_code == 200
        throttled = requests.post(server.url("/echo/c"), json={}, timeout=5)
        assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "3"
        assert requests.post(server.url("/echo/d"), json={}, timeout=5).status_code == 200
        assert requests.get(server.url("/boom"), timeout=5).status_code == 500
        assert len(server.errors) == 1 and isinstance(server.errors[0], ZeroDivisionError)
        assert [r.path for r in server.requests_to("POST", r"/echo/\w+")] == ["/echo/a", "/echo/b", "/echo/c", "/echo/d"]
        server.hang_next(path="/echo", seconds=30)
        started = time.monotonic()
        with pytest.raises(requests.ReadTimeout):
            requests.post(server.url("/echo/e"), json={}, timeout=(2, 0.3))
        assert time.monotonic() - started < 2
    # leaving the block stopped the server at once although an answer was still being held
