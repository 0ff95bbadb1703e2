"""Reads: project keys, persons, insights and the queries they run."""

from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from . import storage
from .models import Cohort, CohortMember, Insight, Person, PersonDistinctId, ProjectKey
from .queries.cohorts import query_read, rule_of
from .queries.common import cohort_sql
from .queries.run import query_run
from .queries.shapes import Filter


def insight_list() -> QuerySet[Insight]:
    """The current tenant's saved insights, newest first."""
    return Insight.objects.order_by("-id")


def query_answer(*, tenant, data) -> dict:
    """Runs the query JSON `data` for `tenant` (in its schema and time zone): {"kind", "source",
    "cached", "result"}. A ValidationError names each field at fault."""
    return query_run(query=query_read(data), data=data, time_zone=tenant.time_zone or "UTC")


def project_key_list() -> QuerySet[ProjectKey]:
    """The current tenant's project keys, newest first."""
    return ProjectKey.objects.order_by("-id")


def person_of(distinct_id: str) -> Person | None:
    """The person a distinct id belongs to, if any."""
    link = PersonDistinctId.objects.select_related("person").filter(distinct_id=distinct_id).first()
    return link.person if link else None


def cohort_list() -> QuerySet[Cohort]:
    """The current tenant's cohorts, newest first."""
    return Cohort.objects.order_by("-id")


def cohort_persons(*, cohort: Cohort) -> QuerySet[Person]:
    """The persons in `cohort` now (static: one of their distinct ids is listed; by rules: they
    meet them at this moment), with their distinct ids prefetched."""
    if not storage.event_table_exists():
        storage.event_table_ensure()
    condition, params = cohort_sql(Filter("cohort", "", "in", cohort.pk, cohort=rule_of(cohort)))
    inside = RawSQL(
        "SELECT pdi.person_id FROM analytics_persondistinctid pdi "
        f"JOIN analytics_person p ON p.id = pdi.person_id WHERE {condition}",
        params,
    )
    return Person.objects.filter(pk__in=inside).prefetch_related("distinct_ids")


def cohort_listed_count(*, cohort: Cohort) -> int:
    """How many distinct ids a static cohort lists (some may have sent no event yet)."""
    return CohortMember.objects.filter(cohort=cohort).count()
