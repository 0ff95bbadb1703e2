"""Reads."""

from django.db.models import QuerySet

from .models import Person, PersonDistinctId, ProjectKey


def project_key_list() -> QuerySet[ProjectKey]:
    """The current tenant's project keys, newest first."""
    return ProjectKey.objects.order_by("-id")


def person_of(distinct_id: str) -> Person | None:
    """The person a distinct id belongs to, if any."""
    link = PersonDistinctId.objects.select_related("person").filter(distinct_id=distinct_id).first()
    return link.person if link else None
