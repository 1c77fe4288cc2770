"""Two clients with drafts waiting for their approval, their users and the staff, and a real SMTP server
(aiosmtpd on 127.0.0.1, AUTH required) that the notices are sent through."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from pipeline import review
from pipeline.access import auth
from pipeline.core.clock import utcnow
from pipeline.core.settings import NotifySettings, Settings
from pipeline.publish.notices import NoticeService
from pipeline.publish.options import NoticeOptions
from pipeline.store.db import Database
from tests.fakes.server import FakeServer, Request, Response
from tests.fakes.smtp_servers import PASSWORD as SMTP_PASSWORD, USER as SMTP_USER, Authenticator, LocalController, Recorder
from tests.review.conftest import PASSWORD, add_client, add_draft, add_episode, cheap_hashing  # noqa: F401
from tests.helpers.processes import free_port

PUBLIC_URL = "https://review.example.test"
SENDER = "Castmill <castmill@example.test>"



class MailServer:
    """aiosmtpd on a fixed port of 127.0.0.1 that can be down (nothing listening) and brought up again."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.recorder = Recorder()
        self.controller: LocalController | None = None

    def start(self) -> "MailServer":
        self.controller = LocalController(self.recorder, Authenticator(), port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self) -> list:
        return [self.recorder.message(i) for i in range(len(self.recorder.envelopes))]

    def to(self, address: str) -> list:
        return [self.recorder.message(i) for i, envelope in enumerate(self.recorder.envelopes)
                if address in envelope.rcpt_tos]


def smtp_settings(port: int) -> NotifySettings:
    """[notify]'s SMTP server for the tests: aiosmtpd on ``port`` with its test account."""
    return NotifySettings(smtp_host="127.0.0.1", smtp_port=port, email_from=SENDER, smtp_username=SMTP_USER,
                          smtp_password=SMTP_PASSWORD)


class Hook(FakeServer):
    """A user's (or the team's) webhook: takes JSON with a ``text`` and answers 200, keeping what it got."""

    def __init__(self):
        super().__init__()
        self.received: list[Request] = []
        self.route("POST", r"/hook/(?P<name>\w+)", self.catch)

    def catch(self, request: Request, name: str) -> Response:
        payload = request.json()
        if not isinstance(payload.get("text"), str):
            return Response(400, {"error": "text is required"})
        self.received.append(request)
        return Response(200, body=b"ok", content_type="text/plain")

    def payloads(self, name: str) -> list[dict]:
        return [r.json() for r in self.received if r.path.endswith(f"/hook/{name}")]


@dataclass
class World:
    db: Database
    settings: Settings
    mail: MailServer
    acme: int  # two approval stages
    budi: int  # one stage: its drafts wait for the client as soon as they are made
    acme_drafts: list[int]
    budi_drafts: list[int]
    va_email: str = "va@castmill.test"
    acme_email: str = "ceo@acme.test"
    budi_email: str = "budi@budi.test"
    t0: datetime = field(default_factory=utcnow)  # when the drafts reached their clients (within a second)

    def service(self, worker: str = "w1", **changes) -> NoticeService:
        values = dict(email=smtp_settings(self.mail.port), options=NoticeOptions(), public_url=PUBLIC_URL, home=self.settings.home, worker=worker)
        values.update(changes)
        return NoticeService(self.db.session, **values)

    def run(self, hours: float, **changes):
        return self.service(**changes).run(now=self.t0 + timedelta(hours=hours))


def draft_ids_in(message) -> set[int]:
    """The drafts a message points at (``?draft=ID`` / ``&draft=ID`` in its links)."""
    return {int(n) for n in re.findall(r"[?&]draft=(\d+)", message.get_content())}


def review_token_in(message) -> str:
    [token] = set(re.findall(r"[?&]token=([A-Za-z0-9_.\-]+)", message.get_content()))
    return token


@pytest.fixture
def mail():
    server = MailServer().start()
    yield server
    server.stop()


def build_world(db: Database, settings: Settings, mail: MailServer) -> World:
    with db.session() as session:
        acme, budi = add_client(session, "acme"), add_client(session, "budi", stages=1, timezone="Asia/Jakarta")
        acme_episode, budi_episode = add_episode(session, acme.id, "Pricing with Acme"), add_episode(session, budi.id)
        auth.add_user(session, "va@castmill.test", PASSWORD, "va")
        auth.add_user(session, "ceo@acme.test", PASSWORD, "client", client_slug="acme", timezone="America/New_York")
        auth.add_user(session, "budi@budi.test", PASSWORD, "client", client_slug="budi")
        acme_id, budi_id, acme_ep, budi_ep = acme.id, budi.id, acme_episode.id, budi_episode.id
    t0 = utcnow()
    acme_drafts = [add_draft(db, acme_id, acme_ep, platform=p) for p in ("x", "linkedin")]
    budi_drafts = [add_draft(db, budi_id, budi_ep)]
    va = auth.system_identity("demo VA")
    with db.session() as session:
        for draft_id in acme_drafts:
            review.approve(session, va, draft_id, version=1)  # the VA's stage: now the client's turn
    return World(db, settings, mail, acme_id, budi_id, acme_drafts, budi_drafts, t0=t0)


@pytest.fixture
def world(fresh_db, settings, mail) -> World:
    return build_world(fresh_db, settings, mail)
