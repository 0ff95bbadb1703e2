"""The command palette's search (GET /api/v1/search/): pages and the registry's search providers
(members, webhooks, API keys), by the member's role, in the member's own tenant only."""

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_tenants.utils import schema_context

from apps.content.services import document_upload
from apps.core import search
from apps.core.registry import SearchProvider, registry
from apps.notifications.models import WebhookEndpoint
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def webhook(tenant, url, description=""):
    with schema_context(tenant.schema_name):
        return WebhookEndpoint.objects.create(url=url, description=description, secret="s3cret")


def found(client, q) -> dict:
    response = client.get("/api/v1/search/", {"q": q})
    assert response.status_code == 200, response.content
    return {g["label"]: g["results"] for g in response.json()["groups"]}


def test_an_owner_finds_members_webhooks_and_keys_by_name(tenant_a, owner_a):
    MembershipFactory(tenant=tenant_a, role="admin", user=UserFactory(email="bob@a.test", full_name="Bob Stone"))
    hook = webhook(tenant_a, "https://hooks.example.com/stone", "Stone CRM")
    key, _ = make_key(tenant_a, name="Stone sync")
    groups = found(client_for(tenant_a, owner_a), "stone")
    assert groups["Members"] == [
        {"title": "Bob Stone", "description": "bob@a.test · Admin", "url": "/members/?q=bob%40a.test"}
    ]
    assert groups["Webhooks"] == [
        {"title": "Stone CRM", "description": "https://hooks.example.com/stone", "url": f"/webhooks/{hook.pk}/"}
    ]
    assert groups["API keys"] == [
        {"title": "Stone sync", "description": f"{key.prefix}… · Active", "url": "/developers/keys/?q=Stone+sync"}
    ]
    assert "Pages" not in groups


def test_pages_come_first_and_match_by_label(tenant_a, owner_a):
    response = client_for(tenant_a, owner_a).get("/api/v1/search/", {"q": "  MEM  "})
    groups = response.json()["groups"]
    assert groups[0]["label"] == "Pages"
    assert {"title": "Members", "description": "Page", "url": "/members/"} in groups[0]["results"]


def test_empty_query_lists_the_pages_the_member_may_open_and_asks_no_provider(tenant_a, owner_a):
    asked = []
    spy = SearchProvider("spy", "Spy", lambda **kw: asked.append(kw) or [])
    with registry.registered(spy):
        response = client_for(tenant_a, owner_a).get("/api/v1/search/")
    assert response.status_code == 200
    groups = response.json()["groups"]
    assert [g["label"] for g in groups] == ["Pages"]
    titles = [r["title"] for r in groups[0]["results"]]
    assert {"Home", "Members", "Webhooks", "API keys", "Notifications"} <= set(titles)
    assert asked == []


def test_a_viewer_gets_no_admin_only_results(tenant_a):
    viewer = MembershipFactory(tenant=tenant_a, role="viewer", user=UserFactory(full_name="Vera Stone"))
    webhook(tenant_a, "https://hooks.example.com/stone", "Stone CRM")
    make_key(tenant_a, name="Stone sync")
    client = client_for(tenant_a, viewer.user)
    groups = found(client, "stone")
    assert list(groups) == ["Members"]  # viewers see members; webhooks and keys are for admins
    pages = {r["title"] for r in found(client, "")["Pages"]}
    assert "Members" in pages and not pages & {"Webhooks", "API keys", "Settings"}


def test_another_tenants_objects_are_never_returned(tenant_a, tenant_b, owner_a):
    MembershipFactory(tenant=tenant_b, user=UserFactory(email="zed@b.test", full_name="Zed Quill"))
    webhook(tenant_b, "https://hooks.example.com/quill", "Quill CRM")
    make_key(tenant_b, name="Quill sync")
    assert found(client_for(tenant_a, owner_a), "quill") == {}
    # The same search on B's own site finds them.
    assert set(found(client_for(tenant_b, tenant_b.memberships.get(role="owner").user), "quill")) == {
        "Members",
        "Webhooks",
        "API keys",
    }


def test_each_provider_gives_at_most_five_in_one_query(tenant_a, owner_a):
    for i in range(7):
        MembershipFactory(tenant=tenant_a, user=UserFactory(email=f"many{i}@a.test"))
        webhook(tenant_a, f"https://hooks.example.com/many{i}")
        make_key(tenant_a, name=f"many {i}")
        document_upload(tenant=tenant_a, actor=owner_a, fileobj=ContentFile(b"x", name="x.txt"), name=f"many {i}.txt")
    membership = tenant_a.memberships.get(user=owner_a)
    with schema_context(tenant_a.schema_name), CaptureQueriesContext(connection) as queries:
        groups = search.search(query="many", tenant=tenant_a, user=owner_a, membership=membership)
    found = [(g.label, len(g.results)) for g in groups]
    assert found == [("Members", 5), ("Webhooks", 5), ("API keys", 5), ("Files", 5)]
    selects = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    # One per provider (analytics persons found none), and the tenant's enabled plugins (read once: a
    # plugin's nav item is among the pages; then cached).
    assert len(selects) == len(found) + 2, selects
    assert sum("marketplace_plugininstall" in sql for sql in selects) == 1


def test_refusals(tenant_a, owner_a):
    anonymous = client_for(tenant_a).get("/api/v1/search/", {"q": "x"})
    assert anonymous.status_code in (401, 403) and anonymous["Content-Type"] == "application/problem+json"
    outsider = client_for(tenant_a, UserFactory()).get("/api/v1/search/", {"q": "x"})
    assert outsider.status_code == 403
    too_long = client_for(tenant_a, owner_a).get("/api/v1/search/", {"q": "x" * 101})
    assert too_long.status_code == 400
    assert too_long.json()["errors"][0]["message"] == "Search for at most 100 characters."
    _, raw = make_key(tenant_a)
    by_key = api_client(tenant_a, raw).get("/api/v1/search/", {"q": "x"})
    assert by_key.status_code == 403
    assert by_key.json()["detail"] == "Search belongs to the dashboards: API keys cannot use it."
