"""The audit trail: every tenant model audited, entries append-only at the database, chained by
hashes that verify_audit checks."""

import pytest
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django_tenants.utils import schema_context

from apps.compliance.chain import audit_chain_verify, entry_hash
from apps.compliance.models import GENESIS, AuditSeal

from .conftest import triggers_off, write_entries

# Tenant models deliberately left out of the audit trail, and why.
NOT_AUDITED = {
    "contenttypes.ContentType": "the schema's catalogue of model types, written by migrations only",
    "auditlog.LogEntry": "the audit log itself",
    "compliance.AuditSeal": "the audit log's hash chain, written by the database",
    "compliance.RetentionRun": "the retention log, itself a record (each run that acted is also an event)",
    "compliance.ConsentRecord": "the consent log, itself an append-only record of each grant and withdrawal",
    "events.Event": "the event outbox: itself the record of what happened, with its actor",
    "events.StreamEntry": "a copy of events for the live stream",
    "notifications.Notification": "made from events (each already recorded); read marks are not changes",
    "notifications.WebhookDelivery": "the webhook delivery log, itself a record",
    "notifications.WebhookAttempt": "the webhook delivery log, itself a record",
    "api.ApiKeyUsage": "request counters per key and hour, flushed every minute",
    "api.IdempotencyRecord": "cached API responses, purged after a day",
    "analytics.Person": "the tenant's own end users, ingested by its product analytics at volume",
    "analytics.PersonDistinctId": "ingested analytics identities",
    "analytics.EventUuid": "deduplication of ingested analytics events",
    "analytics.Event": "ingested analytics events (a partitioned table, not changed by members)",
    "analytics.CohortMember": "derived: recomputed from a cohort's definition",
    "content.Blob": "content-addressed bytes; who uploaded what is in the audited Version",
    "content.Upload": "a resumable upload in progress, written per chunk; the result is an audited Version",
    "content.SearchWord": "the search index, derived from documents",
    "analytics.PersonOverride": "derived from identify/alias merges of ingested persons, rebuilt from events",
    "workflow.WorkflowRun": "machine record of a run; its changes are the run log itself (and its events)",
    "workflow.StepRun": "machine record of a run's step, written by the engine on every attempt",
    "security.PostureScan": "each posture check is itself the record (score, findings, when, who), written once",
}


def _tenant_models():
    for config in apps.get_app_configs():
        if config.name in settings.TENANT_APPS:
            yield from config.get_models()


def test_every_tenant_model_is_audited_or_excluded_with_a_reason():
    missing = [m._meta.label for m in _tenant_models() if not auditlog.contains(m) and m._meta.label not in NOT_AUDITED]
    assert missing == [], f"tenant models in no audit registration: {missing} (register them, or exclude with a reason)"
    stale = set(NOT_AUDITED) - {m._meta.label for m in _tenant_models()}
    assert stale == set(), f"excluded models that no longer exist: {stale}"
    audited_anyway = [label for label in NOT_AUDITED if auditlog.contains(apps.get_model(label))]
    assert audited_anyway == []


def test_entries_are_chained_and_the_chain_verifies(tenant_a):
    with schema_context(tenant_a.schema_name):
        before = AuditSeal.objects.count()
        entries = write_entries(tenant_a, 3)
        seals = list(AuditSeal.objects.order_by("-seq")[:3])[::-1]
        assert [s.entry_id for s in seals] == [e.pk for e in entries]
        assert AuditSeal.objects.count() == before + 3
        for prev, seal in zip(seals, seals[1:], strict=False):
            assert seal.prev_hash == prev.hash
        with connection.cursor() as cursor:
            cursor.execute(
                'SELECT public.compliance_audit_canonical(to_jsonb(e), e."timestamp") FROM auditlog_logentry e '
                "WHERE id = %s",
                [entries[-1].pk],
            )
            canonical = cursor.fetchone()[0]
        assert seals[-1].hash == entry_hash(seals[-1].prev_hash, canonical)
        assert "entry 2" in canonical
        report = audit_chain_verify()
        assert report.ok and report.entries == before + 3 and report.head == seals[-1].hash


def test_the_actor_is_named_by_address_in_each_entry(tenant_a, owner_a):
    with schema_context(tenant_a.schema_name):
        entry = write_entries(tenant_a, 1)[0]
        LogEntry.objects.filter(pk=entry.pk)  # written without an address below
        other = LogEntry.objects.create(
            content_type=entry.content_type, object_pk="1", object_repr="x", action=0, actor=owner_a
        )
        other.refresh_from_db()
        assert other.actor_email == owner_a.email


@pytest.mark.parametrize("table", ["auditlog_logentry", "compliance_auditseal"])
@pytest.mark.parametrize("statement", ["UPDATE {t} SET {c} = {c}", "DELETE FROM {t}", "TRUNCATE {t}"])
def test_the_database_refuses_to_change_or_delete_the_audit_trail(tenant_a, table, statement):
    column = "object_repr" if table == "auditlog_logentry" else "hash"
    with schema_context(tenant_a.schema_name):
        write_entries(tenant_a, 1)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending key checks: TRUNCATE reaches the trigger
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(statement.format(t=table, c=column))


def test_the_orm_cannot_edit_or_delete_entries(tenant_a):
    with schema_context(tenant_a.schema_name):
        entry = write_entries(tenant_a, 1)[0]
        entry.object_repr = "rewritten"
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            entry.save()
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            LogEntry.objects.filter(pk=entry.pk).delete()
        assert LogEntry.objects.get(pk=entry.pk).object_repr == "entry 0"


def _tampered(tenant, how):
    with schema_context(tenant.schema_name):
        entries = write_entries(tenant, 4, repr_prefix="tamper")
        target = entries[1]
        with triggers_off(), connection.cursor() as cursor:
            how(cursor, target)
        return target, audit_chain_verify()


def test_a_changed_entry_breaks_the_chain_there(tenant_a):
    target, report = _tampered(
        tenant_a, lambda c, e: c.execute("UPDATE auditlog_logentry SET object_repr = 'nothing' WHERE id = %s", [e.pk])
    )
    assert not report.ok and report.broken_entry == target.pk and "changed" in report.reason


def test_a_deleted_entry_breaks_the_chain_there(tenant_a):
    target, report = _tampered(tenant_a, lambda c, e: c.execute("DELETE FROM auditlog_logentry WHERE id = %s", [e.pk]))
    assert not report.ok and report.broken_entry == target.pk and "deleted" in report.reason


def test_an_entry_deleted_with_its_seal_breaks_the_chain_at_the_next(tenant_a):
    def remove(cursor, entry):
        cursor.execute("DELETE FROM auditlog_logentry WHERE id = %s", [entry.pk])
        cursor.execute("DELETE FROM compliance_auditseal WHERE entry_id = %s", [entry.pk])

    target, report = _tampered(tenant_a, remove)
    assert not report.ok and report.broken_entry == target.pk + 1 and "removed or rewritten" in report.reason


def test_an_entry_slipped_in_without_a_seal_is_found(tenant_a):
    with schema_context(tenant_a.schema_name):
        write_entries(tenant_a, 1)
        with triggers_off("auditlog_logentry"):
            forged = write_entries(tenant_a, 1, repr_prefix="forged")[0]
        report = audit_chain_verify()
    assert not report.ok and report.broken_entry == forged.pk and "without its seal" in report.reason


def test_verify_audit_command_passes_then_fails_naming_the_first_broken_entry(tenant_a, capsys):
    with schema_context(tenant_a.schema_name):
        entries = write_entries(tenant_a, 2)
    call_command("verify_audit", tenant=tenant_a.slug)
    out = capsys.readouterr().out
    assert "unbroken" in out and "audit entries" in out  # the progress bar's line
    with schema_context(tenant_a.schema_name), triggers_off(), connection.cursor() as cursor:
        cursor.execute("UPDATE auditlog_logentry SET changes_text = 'x' WHERE id = %s", [entries[0].pk])
    with pytest.raises(CommandError, match="tampered"):
        call_command("verify_audit", tenant=tenant_a.slug)
    assert f"breaks at entry {entries[0].pk}" in capsys.readouterr().err


def test_verify_audit_refuses_an_unknown_tenant(db):
    with pytest.raises(CommandError, match="No tenant"):
        call_command("verify_audit", tenant="nobody-here")


def test_genesis_is_zeros():
    assert GENESIS == "0" * 64
