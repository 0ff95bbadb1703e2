"""Writes: project keys, capture (validate and enqueue), the writer, persons, partitions."""

import logging
import secrets
from datetime import UTC, datetime

import orjson
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from redis.exceptions import RedisError

from apps.core.events import publish
from apps.core.taskref import TaskRef
from apps.events.queue import task_enqueue_once, task_started
from apps.identity.roles import has_permission

from . import conf, keys, queue, rollups, storage
from .capture import Checked, Payload, events_check
from .models import KEY_PREFIX, Insight, Person, PersonDistinctId, ProjectKey
from .queries.run import version_bump
from .queries.shapes import query_parse

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
    if not errors and ProjectKey.objects.filter(revoked_at__isnull=True).count() >= MAX_KEYS_PER_TENANT:
        errors["name"] = [f"An organisation can have at most {MAX_KEYS_PER_TENANT} active project keys."]
    if errors:
        raise ValidationError(errors)
    prefix = KEY_PREFIX + secrets.token_hex(4)
    while ProjectKey.objects.filter(prefix=prefix).exists():
        prefix = KEY_PREFIX + secrets.token_hex(4)
    raw = f"{prefix}_{secrets.token_urlsafe(24)}"
    user = getattr(actor, "user", None)
    with transaction.atomic():
        key = ProjectKey.objects.create(
            name=name, prefix=prefix, key_hash=keys.hash_key(raw), allowed_origins=origins, created_by=user
        )
        publish(
            "analytics.project_key_created",
            {"key_id": key.pk, "name": key.name, "prefix": key.prefix},
            tenant=tenant,
            actor=user,
        )
    keys.forget()
    return key, raw


def project_key_revoke(*, tenant, actor, key: ProjectKey) -> ProjectKey:
    """Revokes at once in this process, within a second in every other."""
    _check_role(actor)
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
        query_parse(query)
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
    """Writes queue rows (see capture.event_check) in the current transaction."""
    changes = any(row[6] for row in rows)
    count, fresh = storage.rows_write([row[:6] for row in rows], returning=changes)
    persons_update(rows, fresh=fresh)
    rollups.fresh_apply()  # after the merges: the events count for their persons as they are now
    if count:
        schema = connection.schema_name
        transaction.on_commit(lambda: version_bump(schema))  # cached query answers are stale now
    return count


def _write_one_by_one(claim, blobs: list[bytes]) -> int:
    """After a failed batch: each blob on its own; one that fails alone is set aside (a dead
    letter, logged) so it cannot block the queue, unless the database itself is failing."""
    written = 0
    client = queue._redis()
    for blob in blobs:
        try:
            written += blobs_write([blob])
        except Exception:
            if not _database_answers():
                claim.give_back()
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


def persons_update(rows: list[list], *, fresh: set[str]) -> None:
    """Gives every distinct id of `rows` a person, then applies the person changes of the events
    stored just now (uuids in `fresh`) in time order: merges ($identify, $create_alias), $set
    and $set_once. Writers of one tenant take turns here (an advisory lock), so two merges never
    cross."""
    if not rows:
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{connection.schema_name}:analytics:persons"])
    changes = sorted((row for row in rows if row[6] and row[1] in fresh), key=lambda row: row[0])
    wanted = {row[3] for row in rows} | {row[6]["merge"] for row in changes if "merge" in row[6]}
    person_of = dict(PersonDistinctId.objects.filter(distinct_id__in=wanted).values_list("distinct_id", "person_id"))
    missing = sorted(wanted - person_of.keys())
    if missing:
        people = Person.objects.bulk_create([Person() for _ in missing])
        PersonDistinctId.objects.bulk_create(
            [PersonDistinctId(distinct_id=d, person=p) for d, p in zip(missing, people, strict=True)]
        )
        person_of.update({d: p.pk for d, p in zip(missing, people, strict=True)})
    if not changes:
        return
    involved = {d for row in changes for d in (row[3], row[6].get("merge")) if d is not None}
    persons = Person.objects.in_bulk({person_of[d] for d in involved})
    touched, gone = set(), set()
    for _, _, _, distinct_id, _, _, change in changes:
        person = persons[person_of[distinct_id]]
        other_id = change.get("merge")
        if other_id is not None and person_of[other_id] != person.pk:
            other = persons[person_of[other_id]]
            person.properties = {**other.properties, **person.properties}
            PersonDistinctId.objects.filter(person_id=other.pk).update(person_id=person.pk)
            rollups.person_merged(into=person.pk, gone=other.pk)
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
