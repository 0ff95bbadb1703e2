"""Writes: a tenant's flags, each change a new FlagVersion (the whole definition, who, when) with
its event on the spine and its audit entry; rollback; exposures recorded as analytics events."""

import logging

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils.dateparse import parse_datetime

from apps.analytics import selectors as analytics_selectors
from apps.analytics import services as analytics_services
from apps.analytics.capture import Payload
from apps.core.events import publish

from . import engine, selectors
from .definitions import definition_of
from .models import DeclaredProperty, Flag, FlagVersion

logger = logging.getLogger(__name__)

EDITABLE = ("key", "name", "description", "active", "starts_at", "ends_at", "filters", "overrides")


def _check_role(actor, tenant) -> None:
    if actor is not None and not getattr(actor, "is_authenticated", False):
        raise ValidationError({"actor": ["Sign in to change flags."]})


BUILT_IN = {"person": {"distinct_id"}, "group": {"$group_key"}}


def _property_keys(definition: dict | None) -> dict[tuple[str, str], list[str]]:
    """(kind, key) → the paths of the person and group conditions naming it."""
    found: dict[tuple[str, str], list[str]] = {}
    for i, group in enumerate(((definition or {}).get("filters") or {}).get("groups") or []):
        for j, prop in enumerate((group or {}).get("properties") or []):
            kind = (prop or {}).get("type") or "person"
            if kind in ("person", "group") and isinstance(prop.get("key"), str):
                found.setdefault((kind, prop["key"]), []).append(f"filters.groups.{i}.properties.{j}.key")
    return found


def properties_unknown(definition: dict, *, before: dict | None = None) -> dict[str, list[str]]:
    """The conditions naming a property the tenant has never seen nor declared, by path. Known:
    PostHog's own ($…) and built-in names, names some analytics person has among their
    properties (person conditions), names declared (DeclaredProperty). Names the flag already
    used before this change are left alone (a kill switch or rollback is never refused for them)."""
    wanted = {k: paths for k, paths in _property_keys(definition).items() if k not in _property_keys(before)}
    wanted = {
        (kind, key): p for (kind, key), p in wanted.items() if not key.startswith("$") and key not in BUILT_IN[kind]
    }
    if not wanted:
        return {}
    declared = set(DeclaredProperty.objects.values_list("kind", "key"))
    seen = analytics_selectors.person_properties_seen(key for kind, key in wanted if kind == "person")
    errors = {}
    for (kind, key), paths in wanted.items():
        if (kind, key) in declared or (kind == "person" and key in seen):
            continue
        noun, where = ("person", "no person has it") if kind == "person" else ("organisation", "none are stored")
        for path in paths:
            errors[path] = [
                f"“{key}” is not a known {noun} property ({where} and it is not declared): declare it under "
                "Feature flags → Properties if your code sends it."
            ]
    return errors


def _validated(definition: dict, *, exclude_pk=None, before: dict | None = None) -> None:
    others = {f.key: definition_of(f) for f in Flag.objects.exclude(pk=exclude_pk)}
    errors = engine.validate(definition, others=others)
    if not errors:
        errors = properties_unknown(definition, before=before)
    cohort_ids = {
        int(prop["value"])
        for group in (definition.get("filters") or {}).get("groups") or []
        for prop in group.get("properties") or []
        if prop.get("type") == "cohort"
    }
    if cohort_ids and not errors:
        known = set(analytics_selectors.cohort_list().filter(pk__in=cohort_ids).values_list("pk", flat=True))
        for missing in sorted(cohort_ids - known):
            errors.setdefault("filters.groups", []).append(f"There is no cohort with id {missing}.")
    if errors:
        raise ValidationError(errors)


def _clean(fields: dict) -> dict:
    cleaned = dict(fields)
    for name in ("starts_at", "ends_at"):
        if isinstance(cleaned.get(name), str):
            value = cleaned[name].strip()
            parsed = parse_datetime(value) if value else None
            if value and parsed is None:
                raise ValidationError({name: [f"“{value}” is not a date and time."]})
            cleaned[name] = parsed
    cleaned["filters"] = cleaned.get("filters") or {}
    cleaned["overrides"] = cleaned.get("overrides") or {}
    for name in ("name", "description", "key"):
        cleaned[name] = (cleaned.get(name) or "").strip()
    return cleaned


def _version_save(flag: Flag, actor, note: str) -> FlagVersion:
    return FlagVersion.objects.create(
        flag=flag, version=flag.version, definition=definition_of(flag), note=note, created_by=actor
    )


def _changed(what: str, flag: Flag, actor, tenant, note: str) -> None:
    publish(
        f"flags.flag_{what}",
        {"flag_id": flag.pk, "key": flag.key, "version": flag.version, "note": note},
        tenant=tenant,
        actor=actor,
    )
    selectors.flags_changed(connection.schema_name)


def flag_create(
    *,
    tenant,
    actor,
    key: str,
    name: str = "",
    description: str = "",
    active: bool = True,
    starts_at=None,
    ends_at=None,
    filters=None,
    overrides=None,
) -> Flag:
    """Adds a flag (version 1), after engine.validate() finds nothing to refuse."""
    _check_role(actor, tenant)
    fields = _clean(
        dict(
            key=key,
            name=name,
            description=description,
            active=active,
            starts_at=starts_at,
            ends_at=ends_at,
            filters=filters,
            overrides=overrides,
        )
    )
    flag = Flag(**fields, created_by=actor if getattr(actor, "pk", None) else None)
    with transaction.atomic():
        if Flag.objects.filter(key=flag.key).exists():
            raise ValidationError({"key": [f"There is already a flag “{flag.key}”."]})
        _validated(definition_of(flag))
        flag.save()
        _version_save(flag, flag.created_by, "created")
        _changed("created", flag, actor, tenant, "created")
    return flag


def flag_update(*, tenant, actor, flag: Flag, note: str = "edited", **changes) -> Flag:
    """Changes some of the flag's fields (EDITABLE): a new version, or nothing when nothing
    changes. The key cannot change while another flag depends on it."""
    _check_role(actor, tenant)
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed."] for name in sorted(unknown)})
    fields = _clean({**{name: getattr(flag, name) for name in EDITABLE}, **changes})
    with transaction.atomic():
        flag = Flag.objects.select_for_update().get(pk=flag.pk)
        before = definition_of(flag)
        for name, value in fields.items():
            setattr(flag, name, value)
        after = definition_of(flag)
        if after == before:
            return flag
        if flag.key != before["key"]:
            if Flag.objects.filter(key=flag.key).exclude(pk=flag.pk).exists():
                raise ValidationError({"key": [f"There is already a flag “{flag.key}”."]})
            users = [
                f.key
                for f in Flag.objects.exclude(pk=flag.pk)
                if before["key"] in engine.dependencies_of(definition_of(f))
            ]
            if users:
                raise ValidationError({"key": [f"Flags depend on this key: {', '.join(users)}."]})
        _validated(after, exclude_pk=flag.pk, before=before)
        flag.version += 1
        flag.save()
        _version_save(flag, actor if getattr(actor, "pk", None) else None, note)
        _changed("changed", flag, actor, tenant, note)
    return flag


def flag_switch(*, tenant, actor, flag: Flag, active: bool) -> Flag:
    """The kill switch: off serves false to everyone at once; on serves the rules again."""
    return flag_update(
        tenant=tenant, actor=actor, flag=flag, active=active, note="switched on" if active else "switched off"
    )


def flag_rollback(*, tenant, actor, flag: Flag, version: int) -> Flag:
    """Makes the definition of `version` current again, as a new version."""
    old = FlagVersion.objects.filter(flag=flag, version=version).first()
    if old is None:
        raise ValidationError({"version": [f"This flag has no version {version}."]})
    changes = {name: old.definition.get(name) for name in EDITABLE}
    return flag_update(tenant=tenant, actor=actor, flag=flag, note=f"rolled back to version {version}", **changes)


def flag_delete(*, tenant, actor, flag: Flag) -> None:
    _check_role(actor, tenant)
    users = [f.key for f in Flag.objects.exclude(pk=flag.pk) if flag.key in engine.dependencies_of(definition_of(f))]
    if users:
        raise ValidationError({"key": [f"Flags depend on this one: {', '.join(users)}. Change them first."]})
    with transaction.atomic():
        publish(
            "flags.flag_deleted",
            {"flag_id": flag.pk, "key": flag.key, "version": flag.version, "note": "deleted"},
            tenant=tenant,
            actor=actor,
        )
        flag.delete()
        selectors.flags_changed(connection.schema_name)


# --- Declared properties -------------------------------------------------------------------------


def property_declare(*, tenant, actor, key: str, kind: str = "person") -> DeclaredProperty:
    """Says the tenant's code sends `key` (a person or organisation property) when it evaluates."""
    _check_role(actor, tenant)
    key = (key or "").strip()
    if kind not in dict(DeclaredProperty.KINDS):
        raise ValidationError({"kind": ["Choose person or group."]})
    if not key or len(key) > 200:
        raise ValidationError({"key": ["Name the property (at most 200 characters)."]})
    row, _ = DeclaredProperty.objects.get_or_create(
        kind=kind, key=key, defaults={"created_by": actor if getattr(actor, "pk", None) else None}
    )
    return row


def property_forget(*, tenant, actor, declared: DeclaredProperty) -> None:
    """Rules already naming it stay as they are; new ones are refused until a person has it."""
    _check_role(actor, tenant)
    declared.delete()


# --- Exposures -----------------------------------------------------------------------------------


def exposures_record(*, schema: str, distinct_id: str, results: dict, groups: dict | None = None) -> bool:
    """`$feature_flag_called` events for each result, through analytics' capture path (the
    writer stores them like any captured event), with the caller's `groups` as `$groups` (an
    experiment on an organisation flag counts organisations by it), as PostHog's SDKs send them.
    False when the queue refused them (the answer is still served: an exposure lost is better
    than a flag not answered)."""
    context = {"$groups": groups} if groups else {}
    events = [
        {
            "event": "$feature_flag_called",
            "distinct_id": distinct_id,
            "properties": {
                "$feature_flag": key,
                "$feature_flag_response": result.value,
                "$feature_flag_reason": result.reason,
                "$lib": "hub-flags",
                **context,
            },
        }
        for key, result in results.items()
    ]
    if not events:
        return True
    try:
        analytics_services.events_capture(schema=schema, payload=Payload(events=events, api_key=None))
    except analytics_services.QueueUnavailable:
        logger.warning("flags: exposures not recorded", exc_info=True)
        return False
    return True
