"""Real SMTP servers on 127.0.0.1 for the email tests: aiosmtpd (a complete RFC 5321 server from PyPI)
with handlers that answer the way a real server does when it refuses, and a raw socket server for
the one fault aiosmtpd cannot play: taking the whole message and dropping the connection before
its reply.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

USER, PASSWORD = "acme-mailer", "s3cret-smtp-password"


class Recorder:
    """An aiosmtpd handler that keeps every delivered message; subclasses answer differently."""

    def __init__(self):
        self.envelopes = []
        self.data_commands = 0

    async def handle_DATA(self, server, session, envelope):
        self.data_commands += 1
        self.envelopes.append(envelope)
        return "250 2.0.0 Message accepted for delivery"

    def message(self, index: int = -1):
        return message_from_bytes(self.envelopes[index].content, policy=policy.default)


class RefusesRecipient(Recorder):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("gone@"):
            return "550 5.1.1 <gone@y.example>: mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"


class RefusesData(Recorder):
    def __init__(self, reply: str):
        super().__init__()
        self.reply = reply

    async def handle_DATA(self, server, session, envelope):
        self.data_commands += 1
        return self.reply


class ShutsDownOnMail(Recorder):
    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        return "421 4.3.2 Service shutting down"


class NeverAnswersData(Recorder):
    async def handle_DATA(self, server, session, envelope):
        self.data_commands += 1
        self.envelopes.append(envelope)
        await asyncio.sleep(30)  # longer than the publisher's timeout; the controller cancels it on stop
        return "250 too late"


class Authenticator:
    def __init__(self):
        self.seen = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        self.seen.append((auth_data.login.decode(), auth_data.password.decode()))
        valid = (auth_data.login, auth_data.password) == (USER.encode(), PASSWORD.encode())
        return AuthResult(success=valid, handled=False)  # handled=False: aiosmtpd answers 535 itself


class LocalController(Controller):
    """aiosmtpd on 127.0.0.1 on a free port (or ``port``), AUTH required over plain text (tests only)."""

    def __init__(self, handler, authenticator, port: int = 0):
        super().__init__(handler, hostname="127.0.0.1", port=port, authenticator=authenticator, auth_required=True,
                         auth_require_tls=False)
        self.authenticator = authenticator

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class DropsAfterData:
    """A raw SMTP server that closes the connection at DATA: after reading the whole message but before its
    final reply, or (``read_body=False``) before even inviting the message with 354."""

    def __init__(self, read_body: bool = True):
        self.read_body = read_body
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.bodies: list[bytes] = []
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.listener.close()
        self.thread.join(timeout=5)

    def serve(self):
        try:
            connection, _ = self.listener.accept()
        except OSError:
            return
        self.connections += 1
        with connection, connection.makefile("rb") as lines:
            connection.sendall(b"220 drops.example ESMTP\r\n")
            for line in lines:
                verb = line[:4].upper()
                if verb == b"EHLO":
                    connection.sendall(b"250-drops.example\r\n250 AUTH PLAIN\r\n")
                elif verb == b"AUTH":
                    connection.sendall(b"235 2.7.0 Authentication successful\r\n")
                elif verb == b"DATA":
                    if not self.read_body:
                        return
                    connection.sendall(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    self.bodies.append(b"".join(iter(lines.readline, b".\r\n")))
                    return  # the message is in; the connection closes before any 250
                else:
                    connection.sendall(b"250 OK\r\n")
