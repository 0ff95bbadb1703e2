import pytest

from apps.core.registry import STORES, EventType, NavItem, Registry, registry
from tests.conftest import client_for
from tests.factories import MembershipFactory


def test_stores_are_fixed():
    fresh = Registry()
    assert set(fresh) == set(STORES)
    with pytest.raises(TypeError):
        fresh["new_store"] = []


def test_event_types_cannot_be_registered_twice():
    fresh = Registry()
    fresh.register_event_type(EventType("a.b", "desc"))
    with pytest.raises(ValueError):
        fresh.register_event_type(EventType("a.b", "again"))


def test_nav_items_are_ordered_by_weight():
    fresh = Registry()
    fresh["nav_items"].extend([NavItem("B", "b", weight=20), NavItem("A", "a", weight=10)])
    assert [i.label for i in fresh.nav_items()] == ["A", "B"]


@pytest.mark.django_db
def test_shell_draws_navigation_from_the_registry_by_role(tenant_a, owner_a):
    extra = NavItem("Reports", "profile", permission="settings.change", weight=50)
    registry["nav_items"].append(extra)
    try:
        owner_page = client_for(tenant_a, owner_a).get("/").content.decode()
        viewer = MembershipFactory(tenant=tenant_a, role="viewer")
        viewer_page = client_for(tenant_a, viewer.user).get("/").content.decode()
    finally:
        registry["nav_items"].remove(extra)
    assert ">Reports<" in owner_page and ">Settings<" in owner_page
    assert ">Reports<" not in viewer_page and ">Settings<" not in viewer_page
    assert ">Members<" in viewer_page
