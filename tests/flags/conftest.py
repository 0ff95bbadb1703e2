"""Flags fixtures: a flag made through the service; the analytics queue emptied around each test
(exposures are analytics events)."""

from django_tenants.utils import schema_context

from apps.flags import selectors, services
from tests.analytics.conftest import _empty_queues  # noqa: F401  (autouse here too)


def make_flag(tenant, key="new-checkout", actor=None, **fields):
    fields.setdefault("filters", {"groups": [{"properties": [], "rollout_percentage": 100}]})
    with schema_context(tenant.schema_name):
        flag = services.flag_create(tenant=tenant, actor=actor, key=key, **fields)
    selectors.forget()
    return flag
