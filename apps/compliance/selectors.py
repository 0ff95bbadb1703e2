"""Compliance reads."""

from .models import GENESIS, UNFINISHED, AuditSeal, DataRequest


def audit_trail_summary() -> dict:
    """How long the chain is and its last hash (what an auditor writes down to compare later)."""
    last = AuditSeal.objects.order_by("-seq").first()
    return {
        "entries": AuditSeal.objects.count(),
        "head": last.hash if last else GENESIS,
        "last_sealed_at": last.sealed_at if last else None,
    }


def data_inventory() -> list[dict]:
    """The personal-data map as rows: every model that holds personal data, from what each app
    registers (apps.core.registry.PersonalData), in words — the record of processing activities."""
    from django.apps import apps

    from apps.core.registry import ERASURE_ACTIONS, PERSONAL_DATA_CATEGORIES, registry

    rows = []
    for area, held in registry.personal_data_map():
        model = apps.get_model(held.model)
        rows.append(
            {
                "area": area,
                "model": held.model,
                "record": str(model._meta.verbose_name_plural).capitalize(),
                "categories": "; ".join(PERSONAL_DATA_CATEGORIES[c] for c in held.categories),
                "category_codes": list(held.categories),
                "fields": ", ".join(str(model._meta.get_field(f).verbose_name) for f in held.fields),
                "field_names": list(held.fields),
                "purpose": held.purpose,
                "erasure": ERASURE_ACTIONS[held.erasure],
                "erasure_code": held.erasure,
                "note": held.note,
            }
        )
    return rows


def data_requests_unanswered() -> int:
    """How many data requests wait for an answer (unconfirmed, open or being made)."""
    return DataRequest.objects.filter(status__in=UNFINISHED).count()


def consent_purposes_with_counts():
    """The purposes, each with `granted`: how many people's latest choice for it is a grant."""
    from django.db import connection

    from .models import ConsentPurpose

    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT purpose_id, count(*) FROM (
                SELECT DISTINCT ON (purpose_id, subject) purpose_id, granted
                FROM compliance_consentrecord ORDER BY purpose_id, subject, recorded_at DESC, id DESC
            ) latest WHERE granted GROUP BY purpose_id
            """
        )
        granted = dict(cursor.fetchall())
    purposes = list(ConsentPurpose.objects.all())
    for purpose in purposes:
        purpose.granted = granted.get(purpose.pk, 0)
    return purposes


def data_request_list():
    """The organisation's data requests, newest first (the API's list, REST and GraphQL)."""
    return DataRequest.objects.order_by("-id")
