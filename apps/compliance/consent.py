"""Consent: the purposes a tenant asks people's consent for, and each grant or withdrawal as given.

Admins define the purposes (in the words people are shown; new words, new version). Consent is
recorded by the banner on the tenant's own site (with the analytics project key, from the origins
the key allows), by integrators through the API, or by an admin; each record keeps when, how, from
which page and the exact text shown. A person's consent to a purpose is their latest record.
"""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery

from apps.core.events import publish
from apps.identity.roles import has_permission

from .models import ConsentPurpose, ConsentRecord

MANAGE = "compliance.manage"
KEY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,49}$")
MAX_SUBJECT = 200


def purposes_active():
    return ConsentPurpose.objects.filter(active=True)


def purpose_save(
    *, tenant, actor, key: str, name: str, description: str, required: bool = False, active: bool = True
) -> ConsentPurpose:
    """Adds a purpose, or changes the one with `key` (new words make a new version)."""
    if actor is not None and not has_permission(actor.role, MANAGE):
        raise PermissionDenied("Your role does not allow changing consent purposes.")
    key, name, description = (key or "").strip().lower(), (name or "").strip(), (description or "").strip()
    errors = {}
    if not KEY.match(key):
        errors["key"] = ["Use 1 to 50 lower-case letters, digits, - or _ (e.g. analytics)."]
    if not name:
        errors["name"] = ["Give the purpose a name."]
    if not description:
        errors["description"] = ["Write what people consent to: they are shown these words."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        purpose = ConsentPurpose.objects.select_for_update().filter(key=key).first()
        if purpose is None:
            purpose = ConsentPurpose.objects.create(
                key=key, name=name[:100], description=description, required=required, active=active
            )
        else:
            if purpose.description != description:
                purpose.version += 1
            purpose.name, purpose.description = name[:100], description
            purpose.required, purpose.active = required, active
            purpose.save()
        payload = {"purpose_id": purpose.pk, "key": purpose.key, "name": purpose.name, "version": purpose.version}
        publish("compliance.consent_purpose_changed", payload, tenant=tenant, actor=getattr(actor, "user", None))
    return purpose


def consent_record(
    *,
    subject: str,
    choices: dict,
    method: str,
    source: str = "",
    ip_address: str | None = None,
    user_agent: str = "",
    user=None,
) -> list[ConsentRecord]:
    """Records the person's choice for each purpose key in `choices` ({key: granted}), all or none.
    Refused with the field at fault: no subject, an unknown or inactive purpose, a choice that is
    not true/false, a required purpose withdrawn."""
    subject = subject.strip() if isinstance(subject, str) else ""
    errors: dict[str, list[str]] = {}
    if not subject or len(subject) > MAX_SUBJECT:
        errors["subject"] = [f"Say who consents: 1 to {MAX_SUBJECT} characters (your id for the person)."]
    if not isinstance(choices, dict) or not choices:
        errors["choices"] = ['Give at least one choice, e.g. {"analytics": true}.']
        raise ValidationError(errors)
    shaped = [key for key in choices if isinstance(key, str) and KEY.match(key)]  # nothing odd reaches SQL
    known = {p.key: p for p in purposes_active().filter(key__in=shaped)}
    for key, granted in choices.items():
        purpose = known.get(key)
        if purpose is None:
            errors[f"choices.{key}"] = [f"No purpose “{key}” is offered by this organisation."]
        elif not isinstance(granted, bool):
            errors[f"choices.{key}"] = ["Give true (granted) or false (withdrawn)."]
        elif purpose.required and not granted:
            errors[f"choices.{key}"] = [f"“{purpose.name}” is strictly necessary: it cannot be withdrawn."]
    if method not in ConsentRecord.Method.values:
        errors["method"] = [f"Choose one of: {', '.join(ConsentRecord.Method.values)}."]
    if errors:
        raise ValidationError(errors)
    records = [
        ConsentRecord(
            purpose=known[key],
            subject=subject,
            user=user,
            granted=granted,
            method=method,
            text_shown=known[key].description,
            purpose_version=known[key].version,
            source=(source or "")[:500],
            ip_address=ip_address,
            user_agent=(user_agent or "")[:300],
        )
        for key, granted in choices.items()
    ]
    return ConsentRecord.objects.bulk_create(records)


def consent_state(*, subject: str) -> dict[str, dict]:
    """The person's consent now, per purpose key: granted or not, when, how, to which version of
    the words (and whether that is still the current one). A purpose they never answered is absent."""
    latest = ConsentRecord.objects.filter(subject=subject, purpose=OuterRef("pk")).order_by("-recorded_at", "-pk")
    purposes = ConsentPurpose.objects.annotate(record_id=Subquery(latest.values("pk")[:1])).exclude(record_id=None)
    records = ConsentRecord.objects.in_bulk([p.record_id for p in purposes])
    state = {}
    for purpose in purposes:
        record = records[purpose.record_id]
        state[purpose.key] = {
            "granted": record.granted,
            "recorded_at": record.recorded_at,
            "method": record.method,
            "purpose_version": record.purpose_version,
            "current_version": record.purpose_version == purpose.version,
        }
    return state


def consent_history(*, subject: str):
    return ConsentRecord.objects.filter(subject=subject).select_related("purpose")
