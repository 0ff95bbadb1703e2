"""Flags fixtures: a flag made through the service (the property names its rules use declared
first, as a tenant whose code sends them would); the analytics queue emptied around each test
(exposures are analytics events)."""

import pytest
from django_tenants.utils import schema_context

from apps.flags import selectors, services
from tests.analytics.conftest import _empty_queues  # noqa: F401  (autouse here too)

# The names the rule tests use, declared for tenant A (the pages' forms and API bodies name them).
NAMES = {"person": ("email", "plan", "age"), "group": ("tier", "plan")}


def declare(tenant, names=NAMES) -> None:
    with schema_context(tenant.schema_name):
        for kind, keys in names.items():
            for key in keys:
                services.property_declare(tenant=tenant, actor=None, kind=kind, key=key)


@pytest.fixture(autouse=True)
def _declared(request):
    """A module whose flags are committed by another connection sets DECLARE_NAMES = False (the
    same names inserted uncommitted here would make that connection wait on this one)."""
    if "tenant_a" in request.fixturenames and getattr(request.module, "DECLARE_NAMES", True):
        declare(request.getfixturevalue("tenant_a"))


def make_flag(tenant, key="new-checkout", actor=None, **fields):
    fields.setdefault("filters", {"groups": [{"properties": [], "rollout_percentage": 100}]})
    names: dict[str, list[str]] = {}
    for group in fields["filters"].get("groups") or []:
        for prop in group.get("properties") or []:
            if (prop.get("type") or "person") in ("person", "group"):
                names.setdefault(prop.get("type") or "person", []).append(prop["key"])
    declare(tenant, names)
    with schema_context(tenant.schema_name):
        flag = services.flag_create(tenant=tenant, actor=actor, key=key, **fields)
    selectors.forget()
    return flag
