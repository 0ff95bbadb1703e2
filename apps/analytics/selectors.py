"""Reads: project keys, persons, insights and the queries they run."""

from django.db.models import QuerySet

from .models import Insight, Person, PersonDistinctId, ProjectKey
from .queries.run import query_run
from .queries.shapes import query_parse
from .stores import store_current


def insight_list() -> QuerySet[Insight]:
    """The current tenant's saved insights, newest first."""
    return Insight.objects.order_by("-id")


def query_answer(*, tenant, data) -> dict:
    """Runs the query JSON `data` for `tenant` (in its schema and time zone): {"kind", "source",
    "cached", "result"}. A ValidationError names each field at fault."""
    query = query_parse(data)
    return query_run(query=query, data=data, time_zone=tenant.time_zone or "UTC", store=store_current())


def project_key_list() -> QuerySet[ProjectKey]:
    """The current tenant's project keys, newest first."""
    return ProjectKey.objects.order_by("-id")


def person_of(distinct_id: str) -> Person | None:
    """The person a distinct id belongs to, if any."""
    link = PersonDistinctId.objects.select_related("person").filter(distinct_id=distinct_id).first()
    return link.person if link else None
