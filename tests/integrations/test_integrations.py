"""Integrations: its page and navigation item, its API, its service, event and task, and what it
declares in the registry."""

from django_tenants.utils import tenant_context

from apps.core.registry import registry
from apps.events.models import Event
from apps.integrations import selectors, services
from apps.integrations.tasks import item_create_task
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for
from tests.factories import MembershipFactory


def test_members_add_items_on_the_page_and_see_its_navigation_item(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    response = client.post("/integrations/add/", {"name": "First item"})
    assert response.status_code == 302
    page = client.get("/integrations/").content.decode()
    assert "First item" in page
    assert 'href="/integrations/"' in page  # the navigation item
    export = client.get("/integrations/", {"_export": "csv", "q": "first"})
    assert b"First item" in b"".join(export.streaming_content)


def test_a_blank_name_is_refused_with_a_message(tenant_a, owner_a):
    response = client_for(tenant_a, owner_a).post("/integrations/add/", {"name": "  "})
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_viewers_see_the_page_but_cannot_add(tenant_a):
    viewer = MembershipFactory(tenant=tenant_a, role="viewer")
    client = client_for(tenant_a, viewer.user)
    assert client.get("/integrations/").status_code == 200
    assert client.post("/integrations/add/", {"name": "Nope"}).status_code == 403


def test_the_api_adds_and_lists_items_of_its_own_tenant_only(tenant_a, tenant_b):
    _, raw = make_key(tenant_a, scope_list=["integrations:write"])
    client = api_client(tenant_a, raw)
    created = client.post("/api/v1/integrations/items/", {"name": "Via the API"}, content_type="application/json")
    assert created.status_code == 201, created.content
    assert [item["name"] for item in client.get("/api/v1/integrations/items/").json()["results"]] == ["Via the API"]
    _, raw_b = make_key(tenant_b, scope_list=["integrations:read"])
    assert api_client(tenant_b, raw_b).get("/api/v1/integrations/items/").json()["results"] == []


def test_adding_an_item_publishes_its_event(tenant_a, owner_a):
    item = services.item_create(tenant=tenant_a, name="Announced", actor=owner_a)
    with tenant_context(tenant_a):
        [event] = Event.objects.filter(type="integrations.item_created")
        assert event.payload == {"item_id": item.pk, "name": "Announced"}
        assert event.actor_id == owner_a.pk


def test_the_task_adds_an_item_in_the_senders_tenant(tenant_a):
    with tenant_context(tenant_a):
        item_id = item_create_task.apply(kwargs={"name": "Later"}).get()
        assert [item.pk for item in selectors.item_list(tenant=tenant_a)] == [item_id]


def test_the_app_declares_itself_in_the_registry():
    assert registry.app_of("nav_items", "integrations:index") == "integrations"
    assert registry.app_of("api_scopes", "integrations") == "integrations"
    assert registry["event_types"]["integrations.item_created"].label == "Integrations item added"
    assert {"integrations.view", "integrations.edit"} <= set(registry["permissions"])
