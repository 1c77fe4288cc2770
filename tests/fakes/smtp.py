"""A small SMTP server on 127.0.0.1 (RFC 5321 subset) that records delivered messages.

It enforces the command order (EHLO/HELO, [AUTH], MAIL FROM, RCPT TO, DATA), requires AUTH PLAIN
with the configured credentials when ``password`` is set (530 otherwise, 535 on a wrong password),
un-dot-stuffs the DATA body, and can refuse recipients (550) to test delivery failures.
"""

from __future__ import annotations

import base64
import socketserver
import threading
from email import message_from_bytes, policy
from email.message import EmailMessage


class FakeSMTP:
    def __init__(self, *, username: str = "", password: str = "", refuse_recipients: bool = False):
        self.username = username
        self.password = password
        self.refuse_recipients = refuse_recipients
        self.messages: list[tuple[str, list[str], EmailMessage]] = []  # (sender, recipients, message)
        self.auth_seen: list[tuple[str, str]] = []
        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def __enter__(self) -> "FakeSMTP":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self):
        fake = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode("ascii") + b"\r\n")

            def handle(self) -> None:
                self.reply("220 fake.smtp ESMTP ready")
                greeted = authed = False
                sender, recipients = None, []
                while line := self.rfile.readline():
                    command = line.decode("utf-8", "replace").rstrip("\r\n")
                    verb = command.split(" ", 1)[0].upper()
                    if verb in ("EHLO", "HELO"):
                        greeted = True
                        if verb == "EHLO":
                            self.reply("250-fake.smtp" if fake.password else "250 fake.smtp")
                            if fake.password:
                                self.reply("250 AUTH PLAIN")
                        else:
                            self.reply("250 fake.smtp")
                    elif not greeted:
                        self.reply("503 5.5.1 say EHLO first")
                    elif verb == "AUTH":
                        authed = self.auth(command)
                    elif verb == "MAIL":
                        if fake.password and not authed:
                            self.reply("530 5.7.0 authentication required")
                            continue
                        sender, recipients = command[10:].strip().strip("<>"), []
                        self.reply("250 2.1.0 ok")
                    elif verb == "RCPT":
                        if sender is None:
                            self.reply("503 5.5.1 MAIL first")
                        elif fake.refuse_recipients:
                            self.reply("550 5.1.1 mailbox unavailable")
                        else:
                            recipients.append(command[8:].strip().strip("<>"))
                            self.reply("250 2.1.5 ok")
                    elif verb == "DATA":
                        if not recipients:
                            self.reply("503 5.5.1 RCPT first")
                            continue
                        self.reply("354 end with <CRLF>.<CRLF>")
                        fake.messages.append((sender, recipients, self.read_data()))
                        sender, recipients = None, []
                        self.reply("250 2.0.0 queued")
                    elif verb == "RSET":
                        sender, recipients = None, []
                        self.reply("250 ok")
                    elif verb == "NOOP":
                        self.reply("250 ok")
                    elif verb == "QUIT":
                        self.reply("221 bye")
                        return
                    else:
                        self.reply("502 5.5.2 not implemented")

            def auth(self, command: str) -> bool:
                parts = command.split()
                if len(parts) < 3 or parts[1].upper() != "PLAIN":
                    self.reply("504 5.5.4 only AUTH PLAIN with an initial response")
                    return False
                _, user, password = base64.b64decode(parts[2]).decode("utf-8").split("\0")
                fake.auth_seen.append((user, password))
                if (user, password) != (fake.username, fake.password):
                    self.reply("535 5.7.8 authentication failed")
                    return False
                self.reply("235 2.7.0 authenticated")
                return True

            def read_data(self) -> EmailMessage:
                lines = []
                while True:
                    line = self.rfile.readline()
                    if line in (b".\r\n", b".\n", b""):
                        break
                    lines.append(line[1:] if line.startswith(b"..") else line)
                return message_from_bytes(b"".join(lines), policy=policy.default)

        return Handler
