"""Reads: the tenant's flags, their versions, and the compiled flags the evaluation endpoints
use.

Compiled flags are kept per process and schema, so evaluating costs no query in the common case.
A change (apps.flags.services) drops this process's copy at once and bumps the schema's version in
Redis when it commits; every other process compares versions at most once per RECHECK_SECONDS and
compiles again when they moved (and at least every MAX_AGE_SECONDS, for a change made around the
services, such as a restored backup). While Redis cannot answer, a copy lasts CACHE_SECONDS."""

import logging
import time

from django.db import connection, transaction
from django.db.models import QuerySet
from django_redis import get_redis_connection

from apps.analytics import selectors as analytics_selectors

from . import engine
from .definitions import definition_of
from .models import DeclaredProperty, Flag, FlagVersion

log = logging.getLogger(__name__)
CACHE_SECONDS = 1.0
RECHECK_SECONDS = 0.25
MAX_AGE_SECONDS = 60.0
_compiled: dict = {}  # schema -> (compiled at, version, {key: engine.Flag})
_versions: dict = {}  # schema -> (read at, version in Redis, None when Redis did not answer)


def version_key(schema: str) -> str:
    return f"hub:flags:version:{schema}"


def forget() -> None:
    """Drops this process's compiled flags (all schemas)."""
    _compiled.clear()
    _versions.clear()


def flags_changed(schema: str) -> None:
    """Every process compiles the schema's flags again: this one now, the others once this commits."""
    forget()

    def bump():
        forget()  # and whatever this process compiled again before the commit
        try:
            get_redis_connection("default").incr(version_key(schema))
        except Exception:  # Redis down: the other processes' copies last CACHE_SECONDS meanwhile
            log.warning("could not publish a flag change", exc_info=True)

    transaction.on_commit(bump)


def _version(schema: str, now: float) -> bytes | None:
    read_at, version = _versions.get(schema, (None, None))
    if read_at is None or now - read_at >= RECHECK_SECONDS:
        try:
            version = get_redis_connection("default").get(version_key(schema)) or b"0"
        except Exception:
            log.warning("flag versions unavailable (Redis); compiling flags every second", exc_info=True)
            version = None
        _versions[schema] = (now, version)
    return version


def flag_list() -> QuerySet[Flag]:
    """The current tenant's flags by key (the schema being served holds only its own)."""
    return Flag.objects.order_by("key")


def declared_properties() -> QuerySet[DeclaredProperty]:
    return DeclaredProperty.objects.order_by("kind", "key")


def flag_versions(*, flag: Flag) -> QuerySet[FlagVersion]:
    return FlagVersion.objects.filter(flag=flag).select_related("created_by").order_by("-version")


def definitions() -> dict[str, dict]:
    return {flag.key: definition_of(flag) for flag in flag_list()}


def compiled_flags(*, schema: str | None = None, cached_only: bool = False) -> dict[str, engine.Flag] | None:
    """The schema's (by default the current one's) flags compiled, as cached (module docstring);
    with `cached_only`, None when this process holds no current copy (no database query)."""
    schema = schema or connection.schema_name
    now = time.monotonic()
    version = _version(schema, now)
    compiled_at, seen, flags = _compiled.get(schema, (None, None, None))
    lasts = CACHE_SECONDS if version is None else MAX_AGE_SECONDS
    if compiled_at is None or seen != version or now - compiled_at > lasts:
        if cached_only:
            return None
        flags = {key: engine.compile_flag(d) for key, d in definitions().items()}
        _compiled[schema] = (now, version, flags)
    return flags


def cohorts_named(flags: dict) -> set[int]:
    """The ids of the cohorts the flags' conditions name."""
    return {c.cohort for f in flags.values() for g in f.groups for c in g.conditions if c.kind == "cohort"}


def cohorts_of(*, distinct_id: str, cohort_ids: set[int]) -> frozenset:
    """The ids among `cohort_ids` of the cohorts `distinct_id`'s person is in now."""
    if not cohort_ids:
        return frozenset()
    person = analytics_selectors.person_of(distinct_id)
    if person is None:
        return frozenset()
    inside = set()
    for cohort in analytics_selectors.cohort_list().filter(pk__in=cohort_ids):
        if analytics_selectors.cohort_persons(cohort=cohort).filter(pk=person.pk).exists():
            inside.add(cohort.pk)
    return frozenset(inside)


def evaluate(
    *,
    distinct_id: str,
    properties=None,
    groups=None,
    group_properties=None,
    keys=None,
    now: float | None = None,
    flags: dict | None = None,
) -> dict[str, engine.Result]:
    """Every flag's (or those in `keys`) result for one person, among `flags` (by default the
    current schema's compiled flags)."""
    flags = compiled_flags() if flags is None else flags
    chosen = flags if not keys else {k: f for k, f in flags.items() if k in keys}
    needed = cohorts_named(flags)
    context = engine.Context(
        distinct_id=distinct_id,
        properties=properties or {},
        groups=groups or {},
        group_properties=group_properties or {},
        cohorts=cohorts_of(distinct_id=distinct_id, cohort_ids=needed),
    )
    now = time.time() if now is None else now
    return {key: engine.evaluate(flag, context, now=now, flags=flags) for key, flag in chosen.items()}


def local_definitions(*, now: float | None = None) -> dict:
    """PostHog's local-evaluation answer: the flags as its SDKs evaluate them."""
    flags = compiled_flags()
    raw = {key: flag.definition for key, flag in flags.items()}
    now = time.time() if now is None else now
    needed = cohorts_named(flags)
    rules = analytics_selectors.cohort_property_rules(needed) if needed else {}
    return {
        "flags": [engine.posthog_definition(flag, now=now, definitions=raw) for flag in flags.values()],
        "group_type_mapping": dict(engine.GROUP_TYPES),
        # Cohorts of person-property rules only: an SDK decides them from the properties it is
        # given. A static or behavioural cohort is left out, so the SDK asks remotely for a flag
        # that needs it (PostHog's SDKs do that when a cohort is missing).
        "cohorts": {str(pk): engine.posthog_cohort(r) for pk, r in rules.items() if r is not None},
    }
