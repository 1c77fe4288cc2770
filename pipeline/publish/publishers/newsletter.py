"""Newsletters by email: one SMTP transaction per post (``pipeline.longform.newsletter`` builds the message).

Account: ``base_url`` is ``smtp://host:port`` (STARTTLS unless ``extra["starttls"]`` is "false"; port 587
by default) or ``smtps://host:port`` (TLS from the start; port 465 by default); ``handle`` and ``token`` are
the SMTP username and password (no AUTH when the handle is empty). ``extra``: ``from`` (the From header and
the envelope sender), ``to`` (the client's list, "a@x.com,b@y.com": with more than one address, they go
in the SMTP envelope only and the To header reads "undisclosed-recipients:;"), ``test_to`` (when set, a test send:
the message goes there only, with a Message-ID of its own), ``reply_to`` and ``list_unsubscribe``
(the header's value, e.g. "<mailto:leave@acme.example>"; no header without it).

The draft's text is the post's caption; ``Post.context`` gives the client's name, language and templates
folder. The Message-ID comes from the post's idempotency key, so every attempt at a post carries the same
one (receiving servers such as Gmail drop a second message with a Message-ID they have already seen).

Outcomes, step by step: nothing is delivered before the server has the whole message (DATA, the body,
then the final "."). So every failure before the body is sent is a plain error: retryable for connection
failures, timeouts and 4xx replies (421, 451 …), final for 5xx replies and any refused recipient (the
whole send is refused: a newsletter must not reach part of its list and then be sent again), AuthError
for 530/534/535. Once the body has gone out, a dropped connection or a timeout before the server's reply
is OutcomeUnknown: the message may have been delivered.

SMTP cannot tell afterwards whether a message was delivered, so ``find_existing`` always raises
OutcomeUnknown: a post whose outcome is unknown stays unknown and the VA is notified, to check an inbox on
the list (or the sending service's log) before retrying or cancelling it by hand.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import parseaddr

from pipeline.core.errors import CastmillError
from pipeline.longform.newsletter import build_email
from pipeline.publish.smtp import SmtpAddressError, SmtpServer, open_smtp, smtp_server
from pipeline.publish.publishers.base import (READ_TIMEOUT, AuthError, CredentialStatus, OutcomeUnknown, Post,
                                                Published, PublishError, Publisher, caption_of)

AUTH_REFUSED = (530, 534, 535)  # authentication required, mechanism too weak, credentials invalid
RECIPIENT_ACCEPTED = (250, 251)


class NewsletterPublisher(Publisher):
    name = "newsletter"
    media_kinds = ()
    timeout: float = READ_TIMEOUT  # seconds for connecting and for each reply

    def publish(self, post: Post) -> Published:
        message = self.message_for(post)
        smtp = self._connect()
        try:
            self._envelope(smtp, parseaddr(self._sender())[1], self._recipients())
            self._send_message(smtp, message)
        finally:
            _close(smtp)
        return Published(remote_id=str(message["Message-ID"]), note=self._note())

    def find_existing(self, post: Post) -> Published | None:
        raise OutcomeUnknown("newsletter: SMTP cannot tell whether an earlier send was delivered; check an inbox "
                             "on the list before sending it again")

    def check_credentials(self) -> CredentialStatus:
        try:
            _close(self._connect())
        except PublishError as exc:
            return CredentialStatus(False, str(exc))
        who = f" as {self.account.handle}" if self.account.handle else ""
        return CredentialStatus(True, f"signed in to {self._server()}{who}")

    def message_for(self, post: Post) -> EmailMessage:
        """The email for ``post``; a draft or layout that cannot become one is refused for good."""
        extra, context = self.account.extra, post.context
        sender, recipients = self._sender(), self._recipients()
        key = post.idempotency_key + ("/test" if extra.get("test_to") else "")
        try:
            return build_email(caption_of(post), client_name=context.get("client_name", ""),
                               language=context.get("language", "en"),
                               templates_dir=context.get("templates_dir", ""), sender=sender,
                               recipients=recipients, reply_to=extra.get("reply_to", ""),
                               message_id_key=key, list_unsubscribe=extra.get("list_unsubscribe", ""))
        except (CastmillError, ValueError) as exc:  # ValueError: a header the email package refuses
            raise PublishError(f"newsletter: not sent: {exc}") from exc

    # -- the SMTP transaction ----------------------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        server = self._server()
        try:
            return open_smtp(server, username=self.account.handle, password=self.account.token, timeout=self.timeout)
        except smtplib.SMTPNotSupportedError as exc:
            raise PublishError(f"newsletter: {server} does not offer {_unsupported(exc)}") from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise self._refusal(exc.smtp_code, exc.smtp_error, f"the sign-in as {self.account.handle}") from exc
        except smtplib.SMTPResponseException as exc:
            raise self._refusal(exc.smtp_code, exc.smtp_error, "the connection") from exc
        except ssl.SSLCertVerificationError as exc:
            raise PublishError(f"newsletter: {server}'s TLS certificate is not valid: {exc.verify_message}") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise PublishError(f"newsletter: could not connect to {server}: {_reason(exc)}", retryable=True) from exc

    def _envelope(self, smtp: smtplib.SMTP, sender: str, recipients: list[str]) -> None:
        """MAIL FROM and every RCPT TO; any refusal ends the transaction before anything is sent."""
        try:
            code, reply = smtp.mail(sender)
            if code != 250:
                raise self._refusal(code, reply, f"the sender {sender}")
            for recipient in recipients:
                code, reply = smtp.rcpt(recipient)
                if code not in RECIPIENT_ACCEPTED:
                    raise self._refusal(code, reply, f"the recipient {recipient}")
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise self._lost_before_sending(exc) from exc

    def _send_message(self, smtp: smtplib.SMTP, message: EmailMessage) -> None:
        try:
            code, reply = smtp.docmd("DATA")
            if code != 354:
                raise self._refusal(code, reply, "DATA")
            # A server delivers only after the final "."; if sending fails, that line never left.
            smtp.send(wire_bytes(message))
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise self._lost_before_sending(exc) from exc
        try:
            code, reply = smtp.getreply()
        except (smtplib.SMTPServerDisconnected, OSError) as exc:
            raise OutcomeUnknown(f"newsletter: {self._server()} took the message but gave no answer "
                                 f"({_reason(exc)}); it may have been delivered") from exc
        if code != 250:
            raise self._refusal(code, reply, "the message")

    def _refusal(self, code: int, reply, what: str) -> PublishError:
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        message = f"newsletter: {self._server()} refused {what}: {code} {' '.join(text.split())}"
        if code in AUTH_REFUSED:
            return AuthError(message, status=code)
        return PublishError(message, retryable=400 <= code < 500, status=code)

    def _lost_before_sending(self, exc: BaseException) -> PublishError:
        return PublishError(f"newsletter: lost {self._server()} before the message was sent: {_reason(exc)}",
                            retryable=True)

    # -- the account -------------------------------------------------------------------------------

    def _server(self) -> SmtpServer:
        try:
            return smtp_server(self.account.base_url, self.account.extra.get("starttls", ""))
        except SmtpAddressError as exc:
            raise PublishError(f"newsletter: {exc}") from exc

    def _sender(self) -> str:
        sender = self.account.extra.get("from", "")
        if not parseaddr(sender)[1]:
            raise PublishError("newsletter: the account has no 'from' address")
        return sender

    def _recipients(self) -> list[str]:
        extra = self.account.extra
        listed = extra.get("test_to") or extra.get("to") or ""
        addresses = listed if isinstance(listed, (list, tuple)) else str(listed).split(",")
        recipients = [address.strip() for address in addresses if address.strip()]
        if not recipients:
            raise PublishError("newsletter: the account lists no recipients ('to')")
        return recipients

    def _note(self) -> str:
        test_to = self.account.extra.get("test_to")
        return f"test send to {test_to}" if test_to else ""


def wire_bytes(message: EmailMessage) -> bytes:
    """The message as DATA carries it: CRLF lines, leading dots doubled, ending with "." (RFC 5321 4.5.2)."""
    data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    data = re.sub(rb"(?m)^\.", b"..", data)
    if not data.endswith(b"\r\n"):
        data += b"\r\n"
    return data + b".\r\n"


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc)[:200]}" if str(exc) else type(exc).__name__


def _unsupported(exc: smtplib.SMTPNotSupportedError) -> str:
    return "STARTTLS" if "STARTTLS" in str(exc).upper() else "AUTH (sign-in)"
