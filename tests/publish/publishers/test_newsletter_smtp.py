"""The newsletter publisher against a real SMTP server on 127.0.0.1 (aiosmtpd), with AUTH required.

Each fault is the server's own: a refused recipient, 4xx replies, a refused sign-in, and a server that
takes the whole message and then drops the connection (or never answers) before its 250.
"""

from __future__ import annotations

import socket
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from pipeline.publish.publishers import Account, AuthError, OutcomeUnknown, Post, PublishError
from pipeline.publish.publishers.newsletter import NewsletterPublisher
from tests.fakes.smtp_servers import (PASSWORD, USER, Authenticator, DropsAfterData, LocalController, NeverAnswersData,
                                      Recorder, RefusesData, RefusesRecipient, ShutsDownOnMail)

pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

DRAFT = """Subject: Harga yang jujur — “paket” untuk klien
Preheader: Dinda dan Budi tentang harga.

## Berhenti menjual waktu

Baca [panduan harga](https://acme.example/harga) atau tulis ke [Budi](mailto:budi@acme.example).
"""
POST = Post(parts=(DRAFT,), idempotency_key="sp-41",
            context={"client_name": "Podcast Acme", "language": "id", "templates_dir": ""})


@pytest.fixture
def smtp_server():
    """Start a server with a given handler: ``smtp_server(handler)`` returns the running controller."""
    started = []

    def start(handler=None):
        controller = LocalController(handler or Recorder(), Authenticator())
        controller.start()
        started.append(controller)
        return controller

    yield start
    for controller in started:
        controller.stop()


def account(port: int, **extra) -> Account:
    settings = {"from": "Podcast Acme <news@acme.example>", "to": "a@x.example, b@y.example", "starttls": "false"}
    return Account(platform="newsletter", base_url=f"smtp://127.0.0.1:{port}", handle=USER, token=PASSWORD,
                   extra={**settings, **extra})


def publisher_for(controller, **extra) -> NewsletterPublisher:
    return quick(NewsletterPublisher(account(controller.port, **extra)))


def quick(publisher: NewsletterPublisher) -> NewsletterPublisher:
    publisher.timeout = 2  # seconds: a server that never answers fails the test fast
    return publisher


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("href", "src")]


# --- delivered ------------------------------------------------------------------------------------------

def test_publish_delivers_one_multipart_message_to_the_list(smtp_server):
    server = smtp_server()
    published = publisher_for(server, reply_to="dinda@acme.example").publish(POST)

    handler = server.handler
    assert server.authenticator.seen == [(USER, PASSWORD)]
    assert len(handler.envelopes) == 1
    envelope = handler.envelopes[0]
    assert envelope.mail_from == "news@acme.example"
    assert envelope.rcpt_tos == ["a@x.example", "b@y.example"]
    message = handler.message()
    assert message["Subject"] == "Harga yang jujur — “paket” untuk klien"
    assert message["From"] == "Podcast Acme <news@acme.example>"
    assert message["To"] == "undisclosed-recipients:;"  # the list is in the envelope only
    assert message["Reply-To"] == "dinda@acme.example"
    assert message["Message-ID"] == published.remote_id
    assert published.remote_id.endswith("@acme.example>")
    assert message["List-Unsubscribe"] is None
    plain, html = list(message.iter_parts())
    assert (plain.get_content_type(), html.get_content_type()) == ("text/plain", "text/html")
    assert "panduan harga (https://acme.example/harga)" in plain.get_content()
    assert '<html lang="id">' in html.get_content()


def test_nothing_is_added_on_the_way_no_tracking_no_rewritten_links(smtp_server):
    server = smtp_server()
    publisher_for(server).publish(POST)
    links = Links()
    links.feed(server.handler.message().get_body(("html",)).get_content())
    assert links.urls == ["https://acme.example/harga", "mailto:budi@acme.example"]


def test_every_attempt_at_a_post_carries_the_same_message_id(smtp_server):
    server = smtp_server()
    first = publisher_for(server).publish(POST)
    again = publisher_for(server).publish(POST)
    other = publisher_for(server).publish(replace(POST, idempotency_key="sp-42"))
    assert first.remote_id == again.remote_id != other.remote_id
    assert [m["Message-ID"] for m in map(server.handler.message, range(3))] == [first.remote_id] * 2 + [
        other.remote_id]


def test_a_test_send_goes_only_to_the_test_address_with_its_own_message_id(smtp_server):
    server = smtp_server()
    real = publisher_for(server).publish(POST)
    test = publisher_for(server, test_to="va@acme.example").publish(POST)
    assert server.handler.envelopes[-1].rcpt_tos == ["va@acme.example"]
    assert server.handler.message()["To"] == "va@acme.example"
    assert test.remote_id != real.remote_id
    assert test.note == "test send to va@acme.example"


def test_list_unsubscribe_is_sent_when_the_account_has_one(smtp_server):
    server = smtp_server()
    publisher_for(server, list_unsubscribe="<mailto:leave@acme.example>").publish(POST)
    assert server.handler.message()["List-Unsubscribe"] == "<mailto:leave@acme.example>"


def test_check_credentials_signs_in_and_quits(smtp_server):
    server = smtp_server()
    status = publisher_for(server).check_credentials()
    assert status.ok and USER in status.message
    assert server.authenticator.seen == [(USER, PASSWORD)]
    assert server.handler.envelopes == []


# --- refused or failed -------------------------------------------------------------------------------------

def test_a_refused_recipient_stops_the_whole_send_for_good(smtp_server):
    server = smtp_server(RefusesRecipient())
    with pytest.raises(PublishError) as error:
        publisher_for(server, to="a@x.example, gone@y.example").publish(POST)
    assert not error.value.retryable and error.value.status == 550
    assert "refused the recipient gone@y.example: 550 5.1.1" in str(error.value)
    assert server.handler.data_commands == 0  # nobody on the list got it


@pytest.mark.parametrize("reply", ["451 4.3.0 Try again later", "452 4.3.1 Insufficient system storage"])
def test_a_temporary_refusal_of_the_message_is_retryable(smtp_server, reply):
    server = smtp_server(RefusesData(reply))
    with pytest.raises(PublishError) as error:
        publisher_for(server).publish(POST)
    assert error.value.retryable and not isinstance(error.value, OutcomeUnknown)
    assert reply in str(error.value)
    assert server.handler.data_commands == 1  # tried once: the scheduler decides about retries


def test_a_permanent_refusal_of_the_message_is_final(smtp_server):
    server = smtp_server(RefusesData("554 5.6.0 Message rejected as spam"))
    with pytest.raises(PublishError) as error:
        publisher_for(server).publish(POST)
    assert not error.value.retryable and "554 5.6.0 Message rejected as spam" in str(error.value)


def test_a_server_shutting_down_before_data_is_retryable(smtp_server):
    server = smtp_server(ShutsDownOnMail())
    with pytest.raises(PublishError) as error:
        publisher_for(server).publish(POST)
    assert error.value.retryable and error.value.status == 421


def test_a_refused_sign_in_is_an_auth_error_without_the_password(smtp_server):
    server = smtp_server()
    publisher = quick(NewsletterPublisher(replace(account(server.port), token="wrong-password")))
    with pytest.raises(AuthError) as error:
        publisher.publish(POST)
    assert error.value.status == 535 and not error.value.retryable
    assert "wrong-password" not in str(error.value) and PASSWORD not in str(error.value)
    assert server.handler.envelopes == []
    status = publisher.check_credentials()
    assert not status.ok and "535" in status.message


def test_no_server_listening_is_retryable_because_nothing_was_sent():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(PublishError) as error:
        NewsletterPublisher(account(port)).publish(POST)
    assert error.value.retryable and not isinstance(error.value, OutcomeUnknown)
    assert "could not connect" in str(error.value)


def test_no_answer_after_the_message_was_sent_is_outcome_unknown(smtp_server):
    server = smtp_server(NeverAnswersData())
    publisher = publisher_for(server)
    publisher.timeout = 0.5
    with pytest.raises(OutcomeUnknown, match="may have been delivered"):
        publisher.publish(POST)
    assert server.handler.data_commands == 1  # the server had the message; it was not sent again


def test_a_connection_dropped_after_the_message_was_sent_is_outcome_unknown():
    with DropsAfterData() as server:
        with pytest.raises(OutcomeUnknown, match="may have been delivered"):
            quick(NewsletterPublisher(account(server.port))).publish(POST)
    assert server.connections == 1
    assert len(server.bodies) == 1 and b"Subject: Harga yang jujur" in server.bodies[0]


def test_a_connection_dropped_before_the_message_was_sent_is_retryable():
    with DropsAfterData(read_body=False) as server:
        with pytest.raises(PublishError) as error:
            quick(NewsletterPublisher(account(server.port))).publish(POST)
    assert error.value.retryable and not isinstance(error.value, OutcomeUnknown)
    assert server.bodies == []


def test_find_existing_cannot_tell_so_the_post_stays_unknown(smtp_server):
    server = smtp_server()
    with pytest.raises(OutcomeUnknown, match="cannot tell"):
        publisher_for(server).find_existing(POST)


def test_a_layout_email_clients_break_on_is_refused_before_connecting(tmp_path, smtp_server):
    (tmp_path / "email").mkdir()
    (tmp_path / "email" / "newsletter.html.j2").write_text("<html>\n<body>\n<script>x()</script>\n{{ content }}\n"
                                                           "</body>\n</html>\n", encoding="utf-8")
    server = smtp_server()
    post = replace(POST, context={**POST.context, "templates_dir": str(tmp_path)})
    with pytest.raises(PublishError, match=r"line 3: <script> is removed by email clients") as error:
        publisher_for(server).publish(post)
    assert not error.value.retryable
    assert server.authenticator.seen == []


def test_starttls_is_the_default_and_a_server_without_it_is_refused_for_good(smtp_server):
    server = smtp_server()
    settings = dict(account(server.port).extra)
    del settings["starttls"]
    publisher = quick(NewsletterPublisher(replace(account(server.port), extra=settings)))
    with pytest.raises(PublishError, match="does not offer STARTTLS") as error:
        publisher.publish(POST)
    assert not error.value.retryable
    assert server.authenticator.seen == []  # the password never crossed a plain connection


def test_an_account_without_recipients_is_refused(smtp_server):
    server = smtp_server()
    with pytest.raises(PublishError, match="no recipients") as error:
        publisher_for(server, to="").publish(POST)
    assert not error.value.retryable
