"""Forwarding the audit trail to a SIEM: syslog (RFC 5424) over UDP and TCP to a local socket
server, or a signed webhook to a local receiver; the settings refused with reasons."""

import json
import re
import socket
import threading

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import schema_context

from apps.compliance import services, tasks
from apps.compliance.models import AuditSeal, SiemSettings
from apps.notifications import signing
from tests.events.fixtures import eager_tasks, receiver  # noqa: F401

from .conftest import write_entries

# <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG  (RFC 5424 §6)
RFC5424 = re.compile(
    r"^<109>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z (\S+) reactdjango-hub - audit "
    r'\[audit@32473 seq="(\d+)" entry="(\d+)" action="(\w+)" actor="([^"]*)" ip="([^"]*)" about="((?:[^"\\]|\\.)*)" '
    r'hash="([0-9a-f]{64})" prev="([0-9a-f]{64})"\] \ufeff(.+)$',
    re.S,
)


class SyslogServer:
    """A local syslog collector: UDP datagrams, or TCP with RFC 6587 octet counting."""

    def __init__(self, tcp: bool):
        self.tcp = tcp
        self.messages: list[str] = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM if tcp else socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.got = threading.Condition()
        if tcp:
            self.sock.listen(5)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _add(self, data: bytes):
        with self.got:
            self.messages.append(data.decode())
            self.got.notify_all()

    def _serve(self):
        try:
            while True:
                if not self.tcp:
                    data, _ = self.sock.recvfrom(65535)
                    self._add(data)
                    continue
                conn, _ = self.sock.accept()
                with conn:
                    buffer = b""
                    while chunk := conn.recv(65536):
                        buffer += chunk
                        while b" " in buffer:
                            length, rest = buffer.split(b" ", 1)
                            if len(rest) < int(length):
                                break
                            self._add(rest[: int(length)])
                            buffer = rest[int(length) :]
        except OSError:
            return

    def wait_for(self, count: int, timeout: float = 5.0) -> list[str]:
        with self.got:
            self.got.wait_for(lambda: len(self.messages) >= count, timeout)
        return self.messages

    def close(self):
        # shutdown() wakes the thread blocked in accept()/recvfrom(); close() alone leaves a TCP
        # socket listening until accept() returns, so "nobody listens there now" would not hold.
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # a UDP socket is not connected: it is woken all the same
        self.sock.close()
        self.thread.join(timeout=5)


@pytest.fixture(params=[False, True], ids=["udp", "tcp"])
def syslog(request):
    server = SyslogServer(tcp=request.param)
    yield server
    server.close()


def _configure(tenant, owner, **fields):
    with schema_context(tenant.schema_name):
        return services.siem_settings_update(tenant=tenant, actor=owner, **fields)


def test_new_entries_go_to_syslog_as_rfc5424_with_their_seals(tenant_a, owner_a, syslog, eager_tasks):  # noqa: F811
    transport = "syslog_tcp" if syslog.tcp else "syslog_udp"
    _configure(tenant_a, owner_a, transport=transport, host="127.0.0.1", port=syslog.port)
    with schema_context(tenant_a.schema_name):
        entries = write_entries(tenant_a, 3, repr_prefix='quote " and ] bracket')
        assert tasks.siem_forward.apply().get() >= 3
        seals = {s.entry_id: s for s in AuditSeal.objects.filter(entry_id__in=[e.pk for e in entries])}
        assert SiemSettings.objects.get().last_error == ""
    messages = syslog.wait_for(3)
    parsed = [RFC5424.match(m) for m in messages]
    assert all(parsed), messages
    by_entry = {int(m.group(3)): m for m in parsed}
    for entry in entries:
        m = by_entry[entry.pk]
        assert m.group(1) == f"alpha.{'localhost'}"
        assert m.group(8) == seals[entry.pk].hash and m.group(9) == seals[entry.pk].prev_hash
        assert m.group(7).startswith('quote \\" and \\] bracket')  # SD-PARAM escaping
        assert m.group(10) == "Updated tenant"  # the audit log page's words (apps.identity.audit)
    with schema_context(tenant_a.schema_name):
        assert tasks.siem_forward.apply().get() == 0  # nothing new: nothing sent twice


def test_forwarding_starts_from_now_and_keeps_its_place_after_a_failure(tenant_a, owner_a, eager_tasks):  # noqa: F811
    with schema_context(tenant_a.schema_name):
        old = write_entries(tenant_a, 1, repr_prefix="before")[0]
    server = SyslogServer(tcp=True)
    port = server.port
    server.close()  # nobody listens there now
    _configure(tenant_a, owner_a, transport="syslog_tcp", host="127.0.0.1", port=port)
    with schema_context(tenant_a.schema_name):
        new = write_entries(tenant_a, 2, repr_prefix="after")
        assert tasks.siem_forward.apply().get() == 0
        config = SiemSettings.objects.get()
        assert "refused" in config.last_error.lower() or "connect" in config.last_error.lower()
    server = SyslogServer(tcp=True)
    try:
        _configure(tenant_a, owner_a, transport="syslog_tcp", host="127.0.0.1", port=server.port)
        with schema_context(tenant_a.schema_name):
            tasks.siem_forward.apply()
        sent = {int(RFC5424.match(m).group(3)) for m in server.wait_for(2)}
        assert {e.pk for e in new} <= sent and old.pk not in sent
    finally:
        server.close()


def test_a_webhook_gets_signed_batches(tenant_a, owner_a, receiver, eager_tasks):  # noqa: F811
    config = _configure(tenant_a, owner_a, transport="webhook", url=receiver.url("/siem"))
    assert config.secret.startswith(signing.PREFIX)
    with schema_context(tenant_a.schema_name):
        entries = write_entries(tenant_a, 2)
        tasks.siem_forward.apply()
    request = receiver.wait_for(1)[0]
    h = request.headers
    assert signing.verify(config.secret, h["webhook-id"], h["webhook-timestamp"], request.body, h["webhook-signature"])
    body = json.loads(request.body)
    assert body["type"] == "audit.entries" and body["tenant"] == "alpha"
    assert {e["entry"] for e in body["entries"]} >= {e.pk for e in entries}
    assert all(len(e["hash"]) == 64 and e["summary"] for e in body["entries"])


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"transport": "syslog_udp", "host": "", "port": 514}, "host"),
        ({"transport": "syslog_udp", "host": "siem.example.com", "port": None}, "port"),
        ({"transport": "syslog_tcp", "host": "siem.example.com", "port": 70000}, "port"),
        ({"transport": "syslog_tcp", "host": "http://siem/x", "port": 514}, "host"),
        ({"transport": "syslog_udp", "host": "169.254.169.254", "port": 514}, "host"),
        ({"transport": "webhook", "url": ""}, "url"),
        ({"transport": "webhook", "url": "ftp://example.com/x"}, "url"),
        ({"transport": "pigeon"}, "transport"),
    ],
)
def test_bad_destinations_are_refused_naming_the_field(tenant_a, owner_a, fields, field):
    with pytest.raises(ValidationError) as caught:
        _configure(tenant_a, owner_a, **fields)
    assert field in caught.value.message_dict
    with schema_context(tenant_a.schema_name):
        assert not SiemSettings.objects.exists()
