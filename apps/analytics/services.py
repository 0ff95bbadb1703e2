"""Writes: project keys, capture (validate and enqueue), the writer, persons, partitions."""

import csv
import io
import logging
import secrets
from datetime import UTC, datetime
from typing import Protocol

import orjson
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from django_tenants.utils import schema_context
from redis.exceptions import RedisError

from apps.core import realtime
from apps.core.events import publish
from apps.core.taskref import TaskRef
from apps.events.queue import task_enqueue_once, task_started
from apps.identity.roles import has_permission

from . import bi, conf, dashboards, defaults, keys, queue, rollups, sharing, storage, stores
from .capture import Checked, Payload, events_check
from .models import (
    KEY_PREFIX,
    Cohort,
    CohortMember,
    Dashboard,
    DashboardTile,
    EventStoreChoice,
    Insight,
    PageViewSettings,
    Person,
    PersonDistinctId,
    PersonOverride,
    ProjectKey,
)
from .queries.cohorts import cohort_ids_in, query_read, rules_check
from .queries.run import version_bump
from .stores.chclient import ClickHouseError

logger = logging.getLogger(__name__)

WRITE_EVENTS = TaskRef("apps.analytics.tasks.write_events")
WRITER_KEY = "analytics-writer"
MAX_KEYS_PER_TENANT = 50
DEAD_LETTERS = "hub:analytics:dead:{schema}"


# --- Project keys --------------------------------------------------------------------------------


def _clean_origins(origins) -> list[str]:
    if origins is None:
        return []
    if not isinstance(origins, list | tuple) or not all(isinstance(o, str) for o in origins):
        raise ValidationError({"allowed_origins": ["Give a list of origins, e.g. https://www.example.com."]})
    cleaned = []
    for origin in origins:
        origin = origin.strip().rstrip("/")
        scheme, sep, host = origin.partition("://")
        if origin != "*" and (scheme not in ("http", "https") or not sep or not host or "/" in host):
            raise ValidationError(
                {"allowed_origins": [f"{origin or '(empty)'} is not an origin: write it as https://www.example.com."]}
            )
        cleaned.append(origin)
    return list(dict.fromkeys(cleaned))


def _check_role(actor) -> None:
    if actor is not None and not has_permission(actor.role, "analytics.keys.manage"):
        raise PermissionDenied("Your role does not allow managing project keys.")


def _key_new(*, name: str, origins: list[str], user=None, builtin: bool = False) -> tuple[ProjectKey, str]:
    """A new key row and its secret (the only time the secret exists outside the caller)."""
    prefix = KEY_PREFIX + secrets.token_hex(4)
    while ProjectKey.objects.filter(prefix=prefix).exists():
        prefix = KEY_PREFIX + secrets.token_hex(4)
    raw = f"{prefix}_{secrets.token_urlsafe(24)}"
    key = ProjectKey.objects.create(
        name=name, prefix=prefix, key_hash=keys.hash_key(raw), allowed_origins=origins, created_by=user, builtin=builtin
    )
    return key, raw


def project_key_create(*, tenant, actor, name: str, allowed_origins=None) -> tuple[ProjectKey, str]:
    """Creates a capture key in `tenant`'s schema; returns it and its secret (shown once)."""
    _check_role(actor)
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the key a name, e.g. the site that will send events."]
    elif len(name) > 100:
        errors["name"] = ["Use at most 100 characters."]
    try:
        origins = _clean_origins(allowed_origins)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    active = ProjectKey.objects.filter(revoked_at__isnull=True, builtin=False)  # the built-in one is the platform's
    if not errors and active.count() >= MAX_KEYS_PER_TENANT:
        errors["name"] = [f"An organisation can have at most {MAX_KEYS_PER_TENANT} active project keys."]
    if errors:
        raise ValidationError(errors)
    user = getattr(actor, "user", None)
    with transaction.atomic():
        key, raw = _key_new(name=name, origins=origins, user=user)
        publish(
            "analytics.project_key_created",
            {"key_id": key.pk, "name": key.name, "prefix": key.prefix},
            tenant=tenant,
            actor=user,
        )
    keys.forget()
    return key, raw


def project_key_revoke(*, tenant, actor, key: ProjectKey) -> ProjectKey:
    """Revokes at once in this process, within a second in every other. The dashboards'
    built-in key is not revoked this way: page views are switched off instead."""
    _check_role(actor)
    if key.builtin:
        raise ValidationError(
            {"key": ["This is the dashboards' built-in key: switch page views off instead of revoking it."]}
        )
    if key.revoked_at is None:
        with transaction.atomic():
            key.revoked_at = timezone.now()
            key.save(update_fields=["revoked_at"])
            publish(
                "analytics.project_key_revoked",
                {"key_id": key.pk, "name": key.name, "prefix": key.prefix},
                tenant=tenant,
                actor=getattr(actor, "user", None),
            )
    keys.forget()
    return key


# --- The dashboards' own page views ------------------------------------------------------------

BUILTIN_KEY_NAME = "Dashboards (built-in)"


def page_view_key_ensure(*, origin: str) -> str | None:
    """The built-in key the dashboards' page-view snippet sends with, in the current tenant's
    schema: made on first need, and allowing `origin` (the scheme and host the member's browser
    uses). None when the organisation switched page views off."""
    row = PageViewSettings.objects.filter(pk=1).first()
    if row is not None and (not row.enabled or (row.raw_key and origin in row.key.allowed_origins)):
        return row.raw_key if row.enabled else None
    origin = _clean_origins([origin])[0]
    with transaction.atomic():
        row, _ = PageViewSettings.objects.select_for_update().get_or_create(pk=1)
        if not row.enabled:
            return None
        key = row.key
        if key is None or key.revoked_at is not None or not row.raw_key:
            key, row.raw_key = _key_new(name=BUILTIN_KEY_NAME, origins=[origin], builtin=True)
            row.key = key
            row.save()
        elif origin not in key.allowed_origins:
            key.allowed_origins = [*key.allowed_origins, origin]
            key.save(update_fields=["allowed_origins"])
    keys.forget()
    return row.raw_key


def page_views_switch(*, tenant, actor, enabled: bool) -> PageViewSettings:
    """Switches the dashboards' own page views on or off. Off also revokes the built-in key, so
    nothing more is accepted with it; on again makes a new one when a page next needs it."""
    _check_role(actor)
    with transaction.atomic():
        row, _ = PageViewSettings.objects.select_for_update().get_or_create(pk=1)
        changed = row.enabled != enabled
        row.enabled = enabled
        if not enabled and row.key is not None:
            ProjectKey.objects.filter(pk=row.key_id, revoked_at__isnull=True).update(revoked_at=timezone.now())
            row.key, row.raw_key = None, ""
        row.save()
        if changed:
            publish(
                "analytics.page_views_switched", {"enabled": enabled}, tenant=tenant, actor=getattr(actor, "user", None)
            )
    keys.forget()
    return row


# --- Insights ------------------------------------------------------------------------------------


def _insight_check(actor, name: str, query) -> str:
    if actor is not None and not has_permission(actor.role, "analytics.insights.build"):
        raise PermissionDenied("Your role does not allow building insights.")
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = ["Give the insight a name."]
    elif len(name) > 100:
        errors["name"] = ["Use at most 100 characters."]
    try:
        query_read(query)
    except ValidationError as exc:
        errors.update(exc.message_dict)  # named query.<path>
    if errors:
        raise ValidationError(errors)
    return name


def _insight_published(what: str, insight: Insight, actor, tenant) -> None:
    payload = {"insight_id": insight.pk, "name": insight.name, "kind": insight.query.get("kind", "")}
    publish(f"analytics.insight_{what}", payload, tenant=tenant, actor=getattr(actor, "user", None))


def insight_create(*, tenant, actor, name: str, query: dict, description: str = "") -> Insight:
    """Saves a query (checked: a ValidationError names each field at fault, as query.<path>)."""
    name = _insight_check(actor, name, query)
    with transaction.atomic():
        insight = Insight.objects.create(
            name=name, description=description or "", query=query, created_by=getattr(actor, "user", None)
        )
        _insight_published("created", insight, actor, tenant)
    return insight


def insight_update(*, tenant, actor, insight: Insight, name=None, query=None, description=None) -> Insight:
    name = _insight_check(actor, insight.name if name is None else name, insight.query if query is None else query)
    insight.name = name
    if query is not None:
        insight.query = query
    if description is not None:
        insight.description = description
    with transaction.atomic():
        insight.save()
        _insight_published("updated", insight, actor, tenant)
    return insight


def insight_delete(*, tenant, actor, insight: Insight) -> None:
    if actor is not None and not has_permission(actor.role, "analytics.insights.build"):
        raise PermissionDenied("Your role does not allow building insights.")
    with transaction.atomic():
        _insight_published("deleted", insight, actor, tenant)
        insight.delete()


# --- Cohorts -------------------------------------------------------------------------------------

MAX_MEMBERS_PER_CALL = 10_000
MAX_UPLOAD_BYTES = 5 * 1024 * 1024


def _cohort_check_role(actor) -> None:
    if actor is not None and not has_permission(actor.role, "analytics.cohorts.build"):
        raise PermissionDenied("Your role does not allow building cohorts.")


def _cohort_changed(what: str, cohort: Cohort, actor, tenant) -> None:
    """Publishes the change and, once committed, retires cached answers (a cohort filter's
    persons may have changed)."""
    payload = {"cohort_id": cohort.pk, "name": cohort.name, "kind": cohort.kind}
    publish(f"analytics.cohort_{what}", payload, tenant=tenant, actor=getattr(actor, "user", None))
    schema = connection.schema_name
    transaction.on_commit(lambda: version_bump(schema))


def _cohort_fields(*, name, description, kind, filters, behaviours) -> dict:
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = ["Give the cohort a name."]
    elif len(name) > 100:
        errors["name"] = ["Use at most 100 characters."]
    if kind not in (Cohort.STATIC, Cohort.RULES):
        errors["kind"] = ["Choose one of: static, rules."]
    if kind == Cohort.RULES:
        try:
            rules_check(filters=filters, behaviours=behaviours)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    elif filters or behaviours:
        errors["kind"] = ["A static cohort lists its members: it has no rules (choose kind rules)."]
    if errors:
        raise ValidationError(errors)
    return {
        "name": name,
        "description": description or "",
        "kind": kind,
        "filters": (filters or []) if kind == Cohort.RULES else [],
        "behaviours": (behaviours or []) if kind == Cohort.RULES else [],
    }


def cohort_create(
    *, tenant, actor, name: str, kind: str, description: str = "", filters=None, behaviours=None
) -> Cohort:
    """A cohort: static (members added by distinct id) or by rules (checked: a ValidationError
    names each field at fault, filters.0.op, behaviours.1.days)."""
    _cohort_check_role(actor)
    fields = _cohort_fields(name=name, description=description, kind=kind, filters=filters, behaviours=behaviours)
    with transaction.atomic():
        cohort = Cohort.objects.create(**fields, created_by=getattr(actor, "user", None))
        _cohort_changed("created", cohort, actor, tenant)
    return cohort


def cohort_update(
    *, tenant, actor, cohort: Cohort, name=None, description=None, filters=None, behaviours=None
) -> Cohort:
    """Changes a cohort's name, description or rules (its kind stays)."""
    _cohort_check_role(actor)
    fields = _cohort_fields(
        name=cohort.name if name is None else name,
        description=cohort.description if description is None else description,
        kind=cohort.kind,
        filters=cohort.filters if filters is None else filters,
        behaviours=cohort.behaviours if behaviours is None else behaviours,
    )
    for key, value in fields.items():
        setattr(cohort, key, value)
    with transaction.atomic():
        cohort.save()
        _cohort_changed("updated", cohort, actor, tenant)
    return cohort


def cohort_delete(*, tenant, actor, cohort: Cohort) -> None:
    """Deletes a cohort no saved insight uses (else a ValidationError names them)."""
    _cohort_check_role(actor)
    users = [i.name for i in Insight.objects.order_by("name") if cohort.pk in cohort_ids_in(i.query)]
    if users:
        names = ", ".join(f"“{n}”" for n in users[:5]) + (" and more" if len(users) > 5 else "")
        raise ValidationError({"cohort": [f"Saved insights filter on this cohort: {names}. Change them first."]})
    with transaction.atomic():
        _cohort_changed("deleted", cohort, actor, tenant)
        cohort.delete()


def _distinct_ids(values) -> list[str]:
    if not isinstance(values, list | tuple) or not values:
        raise ValidationError({"distinct_ids": ["Give a list of distinct ids."]})
    if len(values) > MAX_MEMBERS_PER_CALL:
        raise ValidationError({"distinct_ids": [f"Give at most {MAX_MEMBERS_PER_CALL:,} distinct ids at a time."]})
    cleaned = []
    for i, value in enumerate(values):
        if not isinstance(value, str) or not value.strip() or len(value.strip()) > 200 or "\x00" in value:
            raise ValidationError({f"distinct_ids.{i}": ["A distinct id is a text of 1 to 200 characters."]})
        cleaned.append(value.strip())
    return list(dict.fromkeys(cleaned))


def _static(cohort: Cohort) -> None:
    if cohort.kind != Cohort.STATIC:
        raise ValidationError({"cohort": ["Only a static cohort's members are listed by hand; this one is by rules."]})


def cohort_members_add(*, tenant, actor, cohort: Cohort, distinct_ids) -> int:
    """Lists distinct ids in a static cohort (ids not seen yet count once their events come);
    returns how many were new to it."""
    _cohort_check_role(actor)
    _static(cohort)
    wanted = _distinct_ids(distinct_ids)
    before = CohortMember.objects.filter(cohort=cohort, distinct_id__in=wanted).count()
    with transaction.atomic():
        CohortMember.objects.bulk_create(
            [CohortMember(cohort=cohort, distinct_id=d) for d in wanted], ignore_conflicts=True
        )
        _cohort_changed("updated", cohort, actor, tenant)
    return len(wanted) - before


def cohort_members_remove(*, tenant, actor, cohort: Cohort, distinct_ids) -> int:
    """Takes persons out of a static cohort: each given distinct id, and every other distinct id
    of its person (so the person is out, not just one of their ids). Returns the rows removed."""
    _cohort_check_role(actor)
    _static(cohort)
    given = _distinct_ids(distinct_ids)
    persons = PersonDistinctId.objects.filter(distinct_id__in=given).values("person_id")
    linked = PersonDistinctId.objects.filter(person_id__in=persons).values_list("distinct_id", flat=True)
    with transaction.atomic():
        removed, _ = CohortMember.objects.filter(cohort=cohort, distinct_id__in=[*given, *linked]).delete()
        _cohort_changed("updated", cohort, actor, tenant)
    return removed


def cohort_members_upload(*, tenant, actor, cohort: Cohort, content: bytes) -> int:
    """Adds the distinct ids of a CSV file (the first column; a first row `distinct_id` is a
    header). ValidationError naming `file` for a file that is too big, not UTF-8 or empty."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise ValidationError({"file": [f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."]})
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"file": ["The file is not UTF-8 text: save it as CSV (UTF-8)."]}) from None
    ids = []
    for line, row in enumerate(csv.reader(io.StringIO(text)), start=1):
        value = row[0].strip() if row else ""
        if not value or (line == 1 and value.lower() in ("distinct_id", "distinct id")):
            continue
        if len(value) > 200 or "\x00" in value:
            raise ValidationError({"file": [f"Line {line}: a distinct id is a text of at most 200 characters."]})
        ids.append(value)
    if not ids:
        raise ValidationError({"file": ["The file lists no distinct ids (one per line, in the first column)."]})
    if len(ids) > MAX_MEMBERS_PER_CALL:
        raise ValidationError({"file": [f"The file lists more than {MAX_MEMBERS_PER_CALL:,} distinct ids: split it."]})
    return cohort_members_add(tenant=tenant, actor=actor, cohort=cohort, distinct_ids=ids)


# --- Dashboards ----------------------------------------------------------------------------------


def _dashboard_builder(actor) -> None:
    if actor is not None and not has_permission(actor.role, "analytics.dashboards.build"):
        raise PermissionDenied("Your role does not allow building dashboards.")


def _dashboard_published(what: str, dashboard: Dashboard, actor, tenant) -> None:
    payload = {"dashboard_id": dashboard.pk, "name": dashboard.name}
    publish(f"analytics.dashboard_{what}", payload, tenant=tenant, actor=getattr(actor, "user", None))


def _dashboard_fields(*, name, description, date_range, filters) -> dict:
    errors, fields = {}, {}
    if name is not None:
        name = (name or "").strip()
        if not name:
            errors["name"] = ["Give the dashboard a name."]
        elif len(name) > 100:
            errors["name"] = ["Use at most 100 characters."]
        fields["name"] = name
    if description is not None:
        if len(description) > 2000:
            errors["description"] = ["Use at most 2000 characters."]
        fields["description"] = description
    for key, check, value in (
        ("date_range", dashboards.range_check, date_range),
        ("filters", dashboards.filters_check, filters),
    ):
        if value is not None:
            try:
                fields[key] = check(value)
            except ValidationError as exc:
                errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return fields


def dashboard_create(
    *, tenant, actor, name: str, description: str = "", date_range: str = "30d", filters=None
) -> Dashboard:
    _dashboard_builder(actor)
    fields = _dashboard_fields(name=name, description=description, date_range=date_range, filters=filters or [])
    with transaction.atomic():
        dashboard = Dashboard.objects.create(**fields, created_by=getattr(actor, "user", None))
        _dashboard_published("created", dashboard, actor, tenant)
    return dashboard


def dashboard_update(
    *, tenant, actor, dashboard: Dashboard, name=None, description=None, date_range=None, filters=None
) -> Dashboard:
    """Changes the fields given (None: unchanged)."""
    _dashboard_builder(actor)
    fields = _dashboard_fields(name=name, description=description, date_range=date_range, filters=filters)
    for key, value in fields.items():
        setattr(dashboard, key, value)
    with transaction.atomic():
        dashboard.save()
        _dashboard_published("updated", dashboard, actor, tenant)
    return dashboard


def dashboard_delete(*, tenant, actor, dashboard: Dashboard) -> None:
    _dashboard_builder(actor)
    with transaction.atomic():
        _dashboard_published("deleted", dashboard, actor, tenant)
        dashboard.delete()


def dashboard_share(*, tenant, actor, dashboard: Dashboard, rotate: bool = False) -> str:
    """Turns the read-only link on (or, with `rotate`, gives it a new secret, so links given out
    before stop working) and returns the link's token."""
    _dashboard_builder(actor)
    with transaction.atomic():
        dashboard = Dashboard.objects.select_for_update().get(pk=dashboard.pk)
        was_shared = dashboard.shared
        if rotate or not dashboard.share_secret:
            dashboard.share_secret = sharing.new_secret()
        dashboard.shared = True
        dashboard.save(update_fields=["shared", "share_secret", "updated"])
        if rotate and was_shared:
            _dashboard_published("share_revoked", dashboard, actor, tenant)
        _dashboard_published("shared", dashboard, actor, tenant)
    return sharing.token_for(schema=connection.schema_name, dashboard_id=dashboard.pk, secret=dashboard.share_secret)


def dashboard_unshare(*, tenant, actor, dashboard: Dashboard) -> Dashboard:
    """Turns the read-only link off: every link given out stops working (and stays dead if it is
    turned on again, with a new secret)."""
    _dashboard_builder(actor)
    with transaction.atomic():
        was_shared = dashboard.shared
        dashboard.shared, dashboard.share_secret = False, ""
        dashboard.save(update_fields=["shared", "share_secret", "updated"])
        if was_shared:
            _dashboard_published("share_revoked", dashboard, actor, tenant)
    return dashboard


def tile_add(
    *, tenant, actor, dashboard: Dashboard, insight: Insight, title: str = "", w: int = 6, h: int = 3
) -> DashboardTile:
    """Adds the insight to the dashboard, in the first free place of its grid."""
    _dashboard_builder(actor)
    title = (title or "").strip()
    if len(title) > 100:
        raise ValidationError({"title": ["Use at most 100 characters."]})
    dashboards.layout_check([{"id": 0, "x": 0, "y": 0, "w": w, "h": h}], {0})  # w, h in bounds
    with transaction.atomic():
        dashboard = Dashboard.objects.select_for_update().get(pk=dashboard.pk)
        boxes = list(dashboard.tiles.values_list("x", "y", "w", "h"))
        if len(boxes) >= dashboards.MAX_TILES:
            raise ValidationError({"insight": [f"A dashboard holds at most {dashboards.MAX_TILES} tiles."]})
        x, y = dashboards.free_spot(boxes, w, h)
        tile = DashboardTile.objects.create(dashboard=dashboard, insight=insight, title=title, x=x, y=y, w=w, h=h)
        _dashboard_published("updated", dashboard, actor, tenant)
    return tile


def tile_update(*, tenant, actor, tile: DashboardTile, title: str) -> DashboardTile:
    _dashboard_builder(actor)
    title = (title or "").strip()
    if len(title) > 100:
        raise ValidationError({"title": ["Use at most 100 characters."]})
    tile.title = title
    tile.save(update_fields=["title"])
    return tile


def tile_remove(*, tenant, actor, tile: DashboardTile) -> None:
    _dashboard_builder(actor)
    with transaction.atomic():
        dashboard = tile.dashboard
        tile.delete()
        _dashboard_published("updated", dashboard, actor, tenant)


def dashboard_layout_save(*, tenant, actor, dashboard: Dashboard, layout) -> list[DashboardTile]:
    """Places the tiles named in `layout` ([{"id", "x", "y", "w", "h"}]; tiles it leaves out keep
    their place). Nothing may overlap; a ValidationError names the entry at fault. No event: a
    layout changes at every drag."""
    _dashboard_builder(actor)
    with transaction.atomic():
        tiles = {t.pk: t for t in DashboardTile.objects.select_for_update().filter(dashboard=dashboard)}
        placed = dashboards.layout_check(layout, set(tiles))
        for tile in tiles.values():
            if tile.pk not in placed:
                placed[tile.pk] = (tile.x, tile.y, tile.w, tile.h)
        dashboards.layout_check(
            [{"id": k, "x": x, "y": y, "w": w, "h": h} for k, (x, y, w, h) in placed.items()], set(tiles)
        )
        for pk, (x, y, w, h) in placed.items():
            tiles[pk].x, tiles[pk].y, tiles[pk].w, tiles[pk].h = x, y, w, h
        DashboardTile.objects.bulk_update(list(tiles.values()), ["x", "y", "w", "h"])
    return sorted(tiles.values(), key=lambda t: (t.y, t.x, t.pk))


def dashboard_default_ensure(*, today=None) -> Dashboard | None:
    """The current tenant's default dashboard, made when it has no dashboard at all (a schema the
    data migration missed); None when it has dashboards but no default (it was deleted: kept so)."""
    found = Dashboard.objects.filter(is_default=True).first()
    if found is not None or Dashboard.objects.exists():
        return found
    with transaction.atomic():
        return defaults.default_dashboard_make(Dashboard, Insight, DashboardTile, today=today or timezone.localdate())


# --- Capture -------------------------------------------------------------------------------------


class QueueUnavailable(Exception):
    """The events cannot be queued now (Redis is down, or the queue is full): try again later."""


def events_capture(*, schema: str, payload: Payload, now: datetime | None = None) -> Checked:
    """Checks the payload's events and queues the good ones for the writer (the caller has
    checked its key). Returns what was accepted and refused; QueueUnavailable when they cannot
    be queued (nothing is taken then)."""
    checked = events_check(payload, now=now)
    if checked.rows:
        try:
            if queue.length(schema) >= conf.get("HUB_ANALYTICS_MAX_QUEUED"):
                raise QueueUnavailable("The events queue of this organisation is full; send them again later.")
            queue.push(schema, orjson.dumps(checked.rows))
        except RedisError:
            logger.warning("analytics: the queue is unreachable", exc_info=True)
            raise QueueUnavailable("Events cannot be queued right now; send them again later.") from None
        writer_enqueue(schema=schema)
    return checked


def writer_enqueue(*, schema: str) -> None:
    """Sends a writer task to the tenant, unless one is queued and has not started."""
    task_enqueue_once(WRITE_EVENTS, schema_name=schema, key=WRITER_KEY)


# --- The writer ----------------------------------------------------------------------------------


def events_write_queued(*, max_rounds: int = 50) -> int:
    """Writes the current tenant's queued events, up to HUB_ANALYTICS_WRITER_TAKE request
    batches per transaction, until the queue is empty (or `max_rounds`, then it sends another
    task). Returns how many events were new. See queue.py for what happens if it dies."""
    schema = connection.schema_name
    task_started(schema_name=schema, key=WRITER_KEY)
    queue.recover(schema)
    claim = queue.Claim(schema, conf.get("HUB_ANALYTICS_WRITER_LEASE_SECONDS"))
    written = 0
    for _ in range(max_rounds):
        if stores.store_choice()[1]:
            break  # the tenant's history is moving to another store: events wait in the queue
        blobs = claim.take(conf.get("HUB_ANALYTICS_WRITER_TAKE"))
        if not blobs:
            break
        try:
            written += blobs_write(blobs)
        except Exception:
            written += _write_one_by_one(claim, blobs)
        claim.done()
    else:
        writer_enqueue(schema=schema)
    claim.release()
    return written


def blobs_write(blobs: list[bytes]) -> int:
    """Writes the events of queued blobs in one transaction: the new ones into the event table,
    their persons' changes into persons. Returns how many events were new."""
    rows = [row for blob in blobs for row in orjson.loads(blob)]
    with transaction.atomic():
        return rows_write(rows)


def rows_write(rows: list[list]) -> int:
    """Writes queue rows (see capture.event_check) in the current transaction, into the
    tenant's event store (stores/), each event with its distinct id's person (made first when
    new); persons are kept in PostgreSQL, and the store is told which changed."""
    changes = any(row[6] for row in rows)
    store = stores.store_current()
    person_of, made = persons_resolve({row[3] for row in rows})
    count, fresh = store.rows_write([row[:6] for row in rows], returning=changes, person_of=person_of)
    store.persons_changed(made | persons_update(rows, fresh=fresh, person_of=person_of))
    rollups.fresh_apply()  # after the merges: the events count for their persons as they are now (PostgreSQL)
    if count:
        schema = connection.schema_name
        transaction.on_commit(lambda: _data_changed(schema, count))
    return count


def _data_changed(schema: str, count: int) -> None:
    version_bump(schema)  # cached query answers are stale now
    events_announce(schema=schema, count=count)


def events_announce(*, schema: str, count: int) -> None:
    """Tells the tenant's open pages, in one message per commit, that `count` new events are
    stored: the live events page asks for them (topic, count), open dashboards re-fetch their
    charts (name; at most every 2 seconds, analytics/dashboard.js). Only a count travels: each
    page reads what its viewer may see over HTTP."""
    realtime.group_send(
        realtime.tenant_group(schema),
        {"type": "hub.signal", "name": "analytics.data_changed", "topic": "analytics.events", "count": count},
    )


def _write_one_by_one(claim, blobs: list[bytes]) -> int:
    """After a failed batch: each blob on its own; one that fails alone is set aside (a dead
    letter, logged) so it cannot block the queue, unless the database itself (or the tenant's
    ClickHouse) is failing."""
    written = 0
    client = queue._redis()
    for blob in blobs:
        try:
            written += blobs_write([blob])
        except Exception as exc:
            if isinstance(exc, ClickHouseError) or not _database_answers():
                claim.give_back()  # the store is down, not the blob at fault: a later writer retries
                raise
            logger.exception("analytics: a batch of events could not be written; kept aside")
            client.lpush(DEAD_LETTERS.format(schema=claim.schema), blob)
    return written


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception:  # noqa: BLE001
        return False


# --- Persons -------------------------------------------------------------------------------------


def persons_resolve(distinct_ids: set[str]) -> tuple[dict[str, int], set[str]]:
    """({distinct id: person id}, the distinct ids given a new person): a person for each of
    `distinct_ids`, made for those without one. Writers of one tenant take turns from here to
    their commit (an advisory lock), so two never make a person for one id, nor cross merges."""
    with connection.cursor() as cursor:
        storage.lock(cursor, "persons")
    if not distinct_ids:
        return {}, set()
    person_of = dict(
        PersonDistinctId.objects.filter(distinct_id__in=distinct_ids).values_list("distinct_id", "person_id")
    )
    missing = sorted(distinct_ids - person_of.keys())
    if missing:
        people = Person.objects.bulk_create([Person() for _ in missing])
        PersonDistinctId.objects.bulk_create(
            [PersonDistinctId(distinct_id=d, person=p) for d, p in zip(missing, people, strict=True)]
        )
        person_of.update({d: p.pk for d, p in zip(missing, people, strict=True)})
    return person_of, set(missing)


def persons_update(rows: list[list], *, fresh: set[str], person_of: dict[str, int]) -> set[str]:
    """Applies the person changes of the events stored just now (uuids in `fresh`) in time order:
    merges ($identify, $create_alias), $set and $set_once; `person_of` has the person of every
    distinct id of `rows` (persons_resolve). Returns the distinct ids whose person is new or
    changed."""
    changes = sorted((row for row in rows if row[6] and row[1] in fresh), key=lambda row: row[0])
    if not changes:
        return set()
    targets, made = persons_resolve({row[6]["merge"] for row in changes if "merge" in row[6]} - person_of.keys())
    person_of = {**person_of, **targets}
    involved = {d for row in changes for d in (row[3], row[6].get("merge")) if d is not None}
    persons = Person.objects.in_bulk({person_of[d] for d in involved})
    touched, gone = set(), set()
    for _, _, _, distinct_id, _, _, change in changes:
        person = persons[person_of[distinct_id]]
        other_id = change.get("merge")
        if other_id is not None and person_of[other_id] != person.pk:
            other = persons[person_of[other_id]]
            person.properties = {**other.properties, **person.properties}
            person_merge(into=person.pk, gone=other.pk)
            person_of = {d: (person.pk if p == other.pk else p) for d, p in person_of.items()}
            gone.add(other.pk)
            touched.add(person.pk)
        if change.get("set"):
            person.properties.update(change["set"])
            touched.add(person.pk)
        for name, value in change.get("set_once", {}).items():
            if name not in person.properties:
                person.properties[name] = value
                touched.add(person.pk)
    Person.objects.bulk_update([persons[pk] for pk in touched - gone], ["properties"])
    Person.objects.filter(pk__in=gone).delete()
    return made | involved


def person_merge(*, into: int, gone: int) -> None:
    """Person `gone` becomes part of person `into` (the caller merges the properties and deletes
    `gone`): its distinct ids and rollup rows move to `into`, and its events, which keep the id
    they were written with, are `into`'s through an override (flat: what pointed at `gone` now
    points at `into`)."""
    PersonDistinctId.objects.filter(person_id=gone).update(person_id=into)
    rollups.person_merged(into=into, gone=gone)
    PersonOverride.objects.filter(override_person_id=gone).update(override_person_id=into)
    PersonOverride.objects.update_or_create(old_person_id=gone, defaults={"override_person_id": into})


# --- The platform's own events -------------------------------------------------------------------


def domain_events_record(events) -> int:
    """Records domain events (apps.events) as analytics events, in the dispatcher's transaction:
    the event's type as its name, the actor's id as distinct_id ("system" without one), the
    payload as properties. The outbox id is the uuid, so a re-dispatch records nothing twice.

    Recording never holds up the event spine: if the write fails it is logged and left out (in
    a savepoint), so webhooks and notifications of the event still go."""
    received = datetime.now(UTC).isoformat()
    rows = []
    for event in events:
        properties = orjson.dumps({**event.payload, "$source": "server"}, default=str)
        rows.append(
            [
                event.occurred_at.isoformat(),
                str(event.id),
                event.type,
                str(event.actor_id) if event.actor_id is not None else "system",
                properties.decode(),
                received,
                None,
            ]
        )
    try:
        with transaction.atomic():
            return rows_write(rows)
    except DatabaseError:
        logger.exception("analytics: %d domain events could not be recorded", len(rows))
        return 0


# --- Moving a tenant's events to another store ---------------------------------------------------


class MoveProgress(Protocol):
    def start(self, label: str, total: int) -> None: ...

    def advance(self, amount: int) -> None: ...

    def finish(self, text: str) -> None: ...


def event_store_move(*, to: str, progress: MoveProgress | None = None, wait_seconds: float | None = None) -> int:
    """Moves the current tenant's event history to the store `to` (only "clickhouse" for now),
    then makes it the tenant's store. Returns how many events were copied.

    1. The tenant is marked as moving: writers stop after their current round and leave new
       events queued in Redis (capture goes on; queries are still answered from the old store).
    2. It waits until no writer holds a live claim (at most the writer lease), so every event
       taken from the queue is committed in the old store.
    3. It empties the target (a failed move may have left part of the history there), copies
       every event and every person's distinct ids, a chunk at a time.
    4. It flips the tenant to the new store and sends a writer for the events that waited.

    If it fails, the tenant stays on its old store (step 1 is undone) and nothing is lost."""
    if to not in stores.NAMES:
        raise ValidationError({"to": [f"Choose one of: {', '.join(stores.NAMES)}."]})
    current, moving = stores.store_choice()
    if to == current and not moving:
        raise ValidationError({"to": [f"This organisation's events are already in {to}."]})
    if to != stores.CLICKHOUSE:
        raise ValidationError({"to": ["Moving events back to PostgreSQL is not built yet."]})
    from .stores import clickhouse

    schema = connection.schema_name
    EventStoreChoice.objects.update_or_create(pk=1, defaults={"store": current, "moving": True})
    try:
        lease = conf.get("HUB_ANALYTICS_WRITER_LEASE_SECONDS")
        queue.claims_wait(schema, timeout=lease + 5 if wait_seconds is None else wait_seconds)
        clickhouse.tables_drop(schema)
        target = stores.store_named(to, schema)
        target.ensure()
        copied = 0
        with transaction.atomic():  # one snapshot of the events and persons
            if progress:
                progress.start("events", storage.events_count())
            for rows in storage.events_read():
                clickhouse.events_insert(schema, rows, deduplicate=False)
                copied += len(rows)
                if progress:
                    progress.advance(len(rows))
            if progress:
                progress.finish(f"{copied:,} events")
            persons = 0
            for rows in clickhouse.persons_all():
                clickhouse.persons_copy(schema, rows)
                persons += len(rows)
            if progress:
                progress.start("persons", persons)
                progress.finish(f"{persons:,} distinct ids")
    except BaseException:
        EventStoreChoice.objects.filter(pk=1).update(moving=False)
        raise
    EventStoreChoice.objects.filter(pk=1).update(store=to, moving=False)
    writer_enqueue(schema=schema)
    return copied


# --- Upkeep --------------------------------------------------------------------------------------


def partitions_maintain() -> list[str]:
    """The current tenant's event table and the partitions of the months around this one; also
    forgets event uuids too old to come again, and rebuilds the rollups when they need it."""
    with transaction.atomic():
        storage.event_table_ensure()
        storage.indexes_ensure()
        made = storage.partitions_ensure()
        storage.uuids_prune()
    if rollups_stale():
        rollups_rebuild()
    return made


def person_ids_backfill(*, progress=None) -> int:
    """Gives the current tenant's events stored before events kept their person that person
    (storage.person_ids_backfill); returns how many. No answer changes: the cache stays."""
    if not storage.event_table_exists():
        return 0
    return storage.person_ids_backfill(progress=progress)


def rollups_stale() -> bool:
    """Whether the current tenant's rollups need a rebuild: never built (events stored before
    rollups existed), or built in another time zone than the tenant's now."""
    storage.rollup_tables_ensure(built=not storage.event_table_exists())
    zone, built_at = storage.rollup_state()
    return built_at is None or zone != rollups.tenant_time_zone()


def rollups_rebuild(*, progress=None) -> int:
    """Makes the current tenant's rollups again from its events (see rollups.py); returns the
    events counted. The cached query answers are stale afterwards."""
    with transaction.atomic():
        counted = rollups.rollups_rebuild(progress=progress)
        schema = connection.schema_name
        transaction.on_commit(lambda: version_bump(schema))
    if not connection.in_atomic_block:
        rollups.tables_vacuum()  # so queries read the rollups' indexes alone (index-only scans)
    return counted


def queue_sweep() -> int:
    """The registered sweeper: gives back what dead writers took, and sends a writer when
    events are waiting (a lost task). Returns how many request batches it gave back."""
    schema = connection.schema_name
    recovered = queue.recover(schema)
    if recovered or queue.length(schema):
        writer_enqueue(schema=schema)
    return recovered


# --- A tenant's deletion -------------------------------------------------------------------------


def tenant_dropping(sender, tenant, **kwargs) -> None:
    """What a deleted tenant keeps outside its schema goes with it (connected to
    apps.tenancy.models.schema_dropping in AnalyticsConfig.ready): its BI role (roles are
    cluster-wide) at once, in the deletion's transaction; its ClickHouse database, if its events
    are (or were moving) there, once the deletion has committed (ClickHouse has no transaction to
    join: a deletion rolled back keeps its events)."""
    schema = tenant.schema_name
    bi.role_drop(bi.role_name(schema))
    try:
        with schema_context(schema), transaction.atomic():
            store, moving = stores.store_choice()
    except DatabaseError:  # a schema whose provisioning failed before analytics' tables
        store, moving = stores.POSTGRES, False
    if store == stores.CLICKHOUSE or moving:

        def drop() -> None:
            from .stores import clickhouse

            try:
                clickhouse.tables_drop(schema)
            except ClickHouseError:
                logger.exception("analytics: the ClickHouse database of the deleted %s was not dropped", schema)

        transaction.on_commit(drop)
