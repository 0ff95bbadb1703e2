"""A real IMAP server (pymap, its in-memory backend) on 127.0.0.1 for the tests: one mailbox,
filled by APPEND as a mail server's delivery would."""

import imaplib
import os
import socket
import sys
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from tests.processes import free_port, running

PYMAP = Path(sys.executable).parent / "pymap"


@dataclass
class Mailbox:
    port: int
    username: str = "inbox@acme.test"
    password: str = "mail-pass"

    def deliver(
        self,
        *,
        subject: str,
        sender: str = "ann@customer.test",
        body: str = "",
        folder: str = "INBOX",
        date: str = "Tue, 01 Dec 2026 09:30:00 +0000",
        attachments: dict[str, bytes] | None = None,
    ) -> int:
        """Puts a message in `folder` (unread, received at its `date`, with `attachments` by file
        name); returns its UID."""
        message = EmailMessage()
        message["From"], message["To"], message["Subject"], message["Date"] = sender, self.username, subject, date
        message.set_content(body)
        for filename, content in (attachments or {}).items():
            message.add_attachment(content, maintype="application", subtype="octet-stream", filename=filename)
        received = imaplib.Time2Internaldate(parsedate_to_datetime(date))
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        try:
            imap.login(self.username, self.password)
            if folder != "INBOX":
                imap.create(folder)
            status, data = imap.append(folder, None, received, message.as_bytes())
            assert status == "OK", data
            return int(data[0].split(b"APPENDUID ")[1].split()[1].rstrip(b"]"))
        finally:
            imap.logout()


def _greets(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            return sock.recv(64).startswith(b"* OK")
    except OSError:
        return False


@contextmanager
def imap_server():
    """Yields a Mailbox whose server listens on 127.0.0.1:mailbox.port (plain IMAP, no TLS)."""
    box = Mailbox(free_port())
    command = [PYMAP, "--host", "127.0.0.1", "--port", str(box.port), "--no-tls", "dict"]
    command += ["--demo-user", box.username, "--demo-password", box.password]
    with running(command, env=dict(os.environ), ready=lambda: _greets(box.port), what="the IMAP server"):
        yield box
