"""A real SMTP server (aiosmtpd) on 127.0.0.1 for the tests, keeping what it receives."""

import threading
from contextlib import contextmanager

from aiosmtpd.controller import Controller

from tests.processes import free_port


class Inbox:
    def __init__(self):
        self.messages = []  # (mail from, [recipients], raw message bytes)
        self.arrived = threading.Event()
        self.port = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        self.arrived.set()
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server():
    """Yields an Inbox whose server listens on 127.0.0.1:inbox.port."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    try:
        yield inbox
    finally:
        controller.stop()
