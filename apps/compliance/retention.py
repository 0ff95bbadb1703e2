"""Retention policies: how long a tenant keeps each kind of record (the registry's RetentionType
items, declared by the apps that own them) and what happens after — delete, anonymise, or archive
to storage then delete — skipping every record under a standing legal hold. Applied by Celery
beat every hour (`retention_apply_all`), previewed as a dry run on the page, each application
logged as a RetentionRun.

Rows are handled in batches of BATCH primary keys, each batch in its own transaction, so a large
backlog neither holds long locks nor is lost half-way: a run that fails leaves what it did done,
logs the error, and the next run goes on."""

import gzip
import json
import logging
from datetime import timedelta

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.core.events import publish
from apps.core.personal_data import email_fields, user_references
from apps.core.registry import RETENTION_ACTIONS, RetentionType, registry
from apps.tenancy.regions import region_storage

from .models import LegalHold, RetentionPolicy, RetentionRun

log = logging.getLogger(__name__)
BATCH = 1000
MAX_AGE_DAYS = 36_500


DONE = {"delete": "deleted", "anonymise": "anonymised", "archive": "archived"}  # what a policy did, in words


def retention_types():
    """The kinds of record the apps declared, by key (the registry's store: a mapping)."""
    return registry["retention_types"]


def label_of(record_type: str) -> str:
    """How people name a kind of record (its key, if no app declares it any more)."""
    kind = retention_types().get(record_type)
    return kind.label if kind else record_type


def _checked(record_type: str, age_days, action: str) -> RetentionType:
    kind = retention_types().get(record_type)
    errors = {}
    if kind is None:
        errors["record_type"] = ["Choose a kind of record from the list."]
    elif action not in kind.actions:
        words = ", ".join(RETENTION_ACTIONS[a].split(" (")[0].lower() for a in kind.actions)
        errors["action"] = [f"{kind.label} can be: {words}."]
    if not isinstance(age_days, int) or not 1 <= age_days <= MAX_AGE_DAYS:
        errors["age_days"] = [f"Keep records between 1 and {MAX_AGE_DAYS:,} days."]
    if errors:
        raise ValidationError(errors)
    return kind


def _payload(policy: RetentionPolicy) -> dict:
    return {
        "policy_id": policy.pk,
        "record_type": policy.record_type,
        "label": label_of(policy.record_type),
        "age_days": policy.age_days,
        "action": policy.action,
    }


def policy_save(*, tenant, actor=None, record_type: str, age_days: int, action: str, enabled: bool = True):
    """Adds the policy of `record_type`, or changes it (one per kind of record)."""
    _checked(record_type, age_days, action)
    with transaction.atomic():
        policy, created = RetentionPolicy.objects.select_for_update().get_or_create(
            record_type=record_type,
            defaults={"age_days": age_days, "action": action, "enabled": enabled, "created_by": _user(actor)},
        )
        if not created:
            policy.age_days, policy.action, policy.enabled = age_days, action, enabled
            policy.save(update_fields=["age_days", "action", "enabled", "updated"])
        publish("compliance.retention_changed", _payload(policy), tenant=tenant, actor=actor)
    return policy


def policy_delete(*, tenant, actor=None, policy: RetentionPolicy) -> None:
    payload = {**_payload(policy), "deleted": True}
    with transaction.atomic():
        policy.delete()
        publish("compliance.retention_changed", payload, tenant=tenant, actor=actor)


def hold_place(*, tenant, actor=None, record_type: str, object_id: str, reason: str) -> LegalHold:
    """Keeps one record from every retention policy until the hold is released."""
    kind = retention_types().get(record_type)
    object_id, reason = str(object_id).strip(), (reason or "").strip()
    errors = {}
    if kind is None:
        errors["record_type"] = ["Choose a kind of record from the list."]
    elif not object_id or not _exists(kind, object_id):
        errors["object_id"] = [f"There is no record with the id “{object_id}” among {kind.label.lower()}."]
    elif LegalHold.objects.filter(record_type=record_type, object_id=object_id, released_at=None).exists():
        errors["object_id"] = ["This record is under a legal hold already."]
    if not reason:
        errors["reason"] = ["Say why the record is held (a dispute, an inquiry…)."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        hold = LegalHold.objects.create(
            record_type=record_type, object_id=object_id, reason=reason, placed_by=_user(actor)
        )
        publish("compliance.legal_hold_placed", _hold_payload(hold), tenant=tenant, actor=actor)
    return hold


def hold_release(*, tenant, actor=None, hold: LegalHold) -> LegalHold:
    if hold.released_at is not None:
        raise ValidationError("This hold was released already.")
    with transaction.atomic():
        hold.released_at, hold.released_by = timezone.now(), _user(actor)
        hold.save(update_fields=["released_at", "released_by"])
        publish("compliance.legal_hold_released", _hold_payload(hold), tenant=tenant, actor=actor)
    return hold


def _hold_payload(hold: LegalHold) -> dict:
    return {
        "hold_id": hold.pk,
        "record_type": hold.record_type,
        "label": label_of(hold.record_type),
        "object_id": hold.object_id,
        "reason": hold.reason,
    }


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _exists(kind: RetentionType, object_id: str) -> bool:
    model = apps.get_model(kind.model)
    try:
        return model.objects.filter(pk=model._meta.pk.to_python(object_id)).exists()
    except ValidationError:
        return False


# --- applying ------------------------------------------------------------------------------------


def _due(kind: RetentionType, age_days: int):
    model = apps.get_model(kind.model)
    cutoff = timezone.now() - timedelta(days=age_days)
    return model, model.objects.filter(**{f"{kind.date_field}__lt": cutoff})


def _held_ids(kind: RetentionType, model) -> list:
    raw = LegalHold.objects.filter(record_type=kind.key, released_at=None).values_list("object_id", flat=True)
    ids = []
    for value in raw:
        try:
            ids.append(model._meta.pk.to_python(value))
        except ValidationError:
            continue
    return ids


def policy_apply(*, tenant, policy: RetentionPolicy, dry_run: bool = False, actor=None) -> RetentionRun:
    """Applies the policy now (or, with `dry_run`, counts what it would do): a RetentionRun."""
    kind = retention_types().get(policy.record_type)
    run = RetentionRun.objects.create(
        policy=policy,
        record_type=policy.record_type,
        action=policy.action,
        age_days=policy.age_days,
        dry_run=dry_run,
        started_by=_user(actor),
    )
    try:
        if kind is None:
            raise RuntimeError(f"No app declares the kind of record “{policy.record_type}” any more.")
        model, due = _due(kind, policy.age_days)
        held = _held_ids(kind, model)
        run.matched = due.count()
        run.held = due.filter(pk__in=held).count() if held else 0
        if not dry_run:
            targets = due.exclude(pk__in=held) if held else due
            if policy.action == "archive":
                run.archive = f"retention/{connection.schema_name}/{kind.key}/{timezone.now():%Y%m%dT%H%M%S}"
            batches = _anonymised(model, targets) if policy.action == "anonymise" else _removed(model, targets, run)
            for count in batches:  # each batch is committed: counted even when a later one fails
                run.acted += count
    except Exception as exc:  # noqa: BLE001 - logged on the run, shown on the page; the next run goes on
        log.exception("retention: %s failed", policy.record_type)
        run.error = f"{type(exc).__name__}: {exc}"[:2000]
    run.archive = run.archive if run.acted else ""
    run.finished_at = timezone.now()
    run.save()
    if not dry_run and run.acted:
        payload = {**_payload(policy), "run_id": run.pk, "acted": run.acted, "held": run.held}
        publish("compliance.retention_applied", payload, tenant=tenant, actor=actor)
    return run


def _removed(model, targets, run: RetentionRun):
    """Deletes `targets` batch by batch (archived first to run.archive when set); yields each
    batch's size once it is committed."""
    part = 0
    while ids := list(targets.order_by("pk").values_list("pk", flat=True)[:BATCH]):
        with transaction.atomic():
            batch = model.objects.filter(pk__in=ids)
            if run.archive:  # written before the rows go: a storage failure deletes nothing
                part += 1
                lines = "\n".join(json.dumps(row, cls=DjangoJSONEncoder) for row in batch.values())
                region_storage().save(
                    f"{run.archive}/part-{part:05}.jsonl.gz", ContentFile(gzip.compress(lines.encode()))
                )
            batch.delete()
        yield len(ids)


def _anonymised(model, targets):
    """Sets every reference to a person to nothing and blanks e-mail addresses, in the rows that
    still have one (rows anonymised by an earlier run are not counted again); yields each batch's
    size once it is committed."""
    references = [model._meta.get_field(name) for name in user_references(model)]
    emails = email_fields(model)
    someone = Q(pk__in=[])
    for field in references:
        someone |= Q(**{f"{field.name}__isnull": False})
    for name in emails:
        someone |= ~Q(**{name: ""})
    targets = targets.filter(someone).distinct()
    while ids := list(targets.order_by("pk").values_list("pk", flat=True)[:BATCH]):
        with transaction.atomic():
            batch = model.objects.filter(pk__in=ids)
            for field in references:
                if field.many_to_many:
                    field.remote_field.through.objects.filter(**{f"{field.m2m_field_name()}__in": ids}).delete()
                else:
                    batch.update(**{field.name: None})
            if emails:
                batch.update(**dict.fromkeys(emails, ""))
        yield len(ids)


def retention_apply_all(*, tenant) -> int:
    """Every enabled policy of the current tenant (the beat task's work): records acted on."""
    return sum(policy_apply(tenant=tenant, policy=p).acted for p in RetentionPolicy.objects.filter(enabled=True))
