"""The compliance page (admins): the tamper check, the export with fingerprints, the SIEM form; the
audit log page's buttons; who may see them, and tenant isolation."""

import csv
import io

import pytest
from django.db import connection
from django_tenants.utils import schema_context

from apps.compliance.models import AuditSeal, SiemSettings
from apps.core.registry import registry
from apps.events.models import Event
from tests.conftest import client_for
from tests.factories import MembershipFactory

from .conftest import triggers_off, write_entries


def _text(response) -> str:
    return b"".join(response.streaming_content).decode() if response.streaming else response.content.decode()


def test_the_page_shows_the_chain_and_the_check_finds_it_unbroken(tenant_a, owner_a):
    with schema_context(tenant_a.schema_name):
        write_entries(tenant_a, 2)
        head = AuditSeal.objects.order_by("-seq").first().hash
    client = client_for(tenant_a, owner_a)
    page = client.get("/compliance/")
    assert page.status_code == 200 and head in page.content.decode()
    answer = client.post("/compliance/audit/check/", follow=True)
    assert "The audit trail is unbroken" in answer.content.decode()
    with schema_context(tenant_a.schema_name):
        event = Event.objects.filter(type="compliance.audit_checked").latest("occurred_at")
        sentence = registry.event_sentence(event)
    assert sentence.startswith(owner_a.get_full_name()) and "entries, unbroken" in sentence


def test_the_check_names_the_entry_that_was_changed(tenant_a, owner_a):
    with schema_context(tenant_a.schema_name):
        entries = write_entries(tenant_a, 3)
        with triggers_off(), connection.cursor() as cursor:
            cursor.execute("UPDATE auditlog_logentry SET object_repr = 'forged' WHERE id = %s", [entries[1].pk])
    answer = client_for(tenant_a, owner_a).post("/compliance/audit/check/", {"back": "audit_log"}, follow=True)
    assert answer.redirect_chain[-1][0] == "/audit-log/"
    assert f"it breaks at entry {entries[1].pk} (it was changed after it was written)" in answer.content.decode()


def test_the_audit_log_page_offers_the_check_and_the_export(tenant_a, owner_a):
    page = client_for(tenant_a, owner_a).get("/audit-log/").content.decode()
    assert 'action="/compliance/audit/check/"' in page and 'href="/compliance/audit/export/"' in page


def test_the_export_holds_every_entry_with_its_fingerprints_of_this_tenant_only(tenant_a, tenant_b, owner_a):
    with schema_context(tenant_b.schema_name):
        write_entries(tenant_b, 1, repr_prefix="beta secret")
    with schema_context(tenant_a.schema_name):
        entries = write_entries(tenant_a, 2, repr_prefix="alpha row")
        seals = {s.entry_id: s for s in AuditSeal.objects.all()}
    answer = client_for(tenant_a, owner_a).get("/compliance/audit/export/")
    assert answer.status_code == 200 and answer["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(_text(answer).lstrip("\ufeff"))))
    assert rows[0][:2] == ["seq", "entry"] and rows[0][-2:] == ["prev hash", "hash"]
    body = {int(r[1]): r for r in rows[1:]}
    assert set(body) == set(seals)
    for entry in entries:
        assert body[entry.pk][-1] == seals[entry.pk].hash and body[entry.pk][5].startswith("alpha row")
    assert "beta secret" not in _text(client_for(tenant_a, owner_a).get("/compliance/audit/export/"))


def test_siem_form_refuses_bad_input_with_the_reason_then_saves(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    answer = client.post("/compliance/siem/", {"transport": "syslog_udp", "host": "", "port": "514"})
    assert answer.status_code == 400 and "Give the syslog server" in answer.content.decode()
    answer = client.post("/compliance/siem/", {"transport": "syslog_tcp", "host": "siem.example.com", "port": "99999"})
    assert answer.status_code == 400 and "65535" in answer.content.decode()
    with schema_context(tenant_a.schema_name):
        assert not SiemSettings.objects.exists()
    answer = client.post("/compliance/siem/", {"transport": "syslog_tcp", "host": "siem.example.com", "port": "6514"})
    assert answer.status_code == 302
    with schema_context(tenant_a.schema_name):
        saved = SiemSettings.objects.get()
    assert (saved.transport, saved.host, saved.port) == ("syslog_tcp", "siem.example.com", 6514)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/compliance/"),
        ("post", "/compliance/audit/check/"),
        ("get", "/compliance/audit/export/"),
        ("post", "/compliance/siem/"),
    ],
)
def test_members_and_other_tenants_owners_are_refused(tenant_a, owner_b, method, path):
    member = MembershipFactory(tenant=tenant_a, role="member").user
    for user in (member, owner_b):
        answer = getattr(client_for(tenant_a, user), method)(path, {"transport": "off"} if method == "post" else None)
        assert answer.status_code == 403, (user.email, path)
    with schema_context(tenant_a.schema_name):
        assert not SiemSettings.objects.exists()
