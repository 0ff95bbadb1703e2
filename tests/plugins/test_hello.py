"""The example plugin, end to end: declared by its PluginConfig (metadata, supported hub versions,
required settings), mounted at /plugins/hello/ and /api/v1/plugins/hello/, with its navigation
item, home widget, permission, API scope, event handler and tenant-schema model."""

from django_tenants.utils import tenant_context

from apps.core.registry import Plugin, registry
from apps.events.services import events_dispatch_new
from apps.identity import services as identity
from apps.identity.models import Invitation, User
from plugins.hello.models import Greeting
from tests.api.conftest import api_client, make_key
from tests.conftest import client_for
from tests.factories import MembershipFactory


def test_the_plugin_is_registered_with_its_metadata():
    assert registry["plugins"]["hello"] == Plugin(
        label="hello",
        name="Hello",
        version="1.0.0",
        author="ReactDjango-Hub",
        description="Greets each new member of the organisation.",
        min_hub_version="0.7",
        max_hub_version="0",
        asks_for=("members.read", "data.store", "pages", "home.widgets", "api"),
        default_enabled=True,
    )
    for store, key in [
        ("plugins", "hello"),
        ("nav_items", "hello:index"),
        ("widgets", "hello.latest"),
        ("permissions", "hello.view"),
        ("api_scopes", "hello"),
    ]:
        assert registry.app_of(store, key) == "hello", (store, key)


def test_a_joining_member_is_greeted_in_the_tenants_own_schema(tenant_a, tenant_b, owner_a):
    actor = tenant_a.memberships.get(user=owner_a)
    invitation, _ = identity.invitation_create(actor=actor, email="newcomer@example.com", role="member")
    user = User.objects.create_user(email="newcomer@example.com", password="x-pass-12345")
    identity.invitation_accept(invitation=Invitation.objects.get(pk=invitation.pk), user=user)
    with tenant_context(tenant_a):
        events_dispatch_new()  # what the outbox task does after the commit
        assert list(Greeting.objects.values_list("user_id", "message")) == [(user.pk, "Welcome, newcomer@example.com!")]
    with tenant_context(tenant_b):
        assert not Greeting.objects.exists()


def test_the_page_nav_item_and_widget_are_served_under_plugins(tenant_a, owner_a):
    with tenant_context(tenant_a):
        Greeting.objects.create(user=owner_a, message="Welcome, owner!")
    client = client_for(tenant_a, owner_a)
    page = client.get("/plugins/hello/")
    assert page.status_code == 200
    assert "Welcome, owner!" in page.content.decode()
    home = client.get("/").content.decode()
    assert 'href="/plugins/hello/"' in home and ">Greetings<" in home
    assert '<h2 id="widget-hellolatest">Latest greetings</h2>' in home


def test_the_page_needs_membership(tenant_a, tenant_b, owner_b):
    assert client_for(tenant_a, owner_b).get("/plugins/hello/").status_code == 403
    assert client_for(tenant_a).get("/plugins/hello/").status_code == 302


def test_the_api_lists_greetings_with_a_key_of_the_hello_scope(tenant_a, owner_a):
    with tenant_context(tenant_a):
        greeting = Greeting.objects.create(user=owner_a, message="Welcome, owner!")
    _, raw = make_key(tenant_a, scope_list=["hello:read"])
    response = api_client(tenant_a, raw).get("/api/v1/plugins/hello/greetings/")
    assert response.status_code == 200, response.content
    assert [g["message"] for g in response.json()["results"]] == ["Welcome, owner!"]
    detail = api_client(tenant_a, raw).get(f"/api/v1/plugins/hello/greetings/{greeting.pk}/")
    assert detail.json()["user_id"] == owner_a.pk

    _, other = make_key(tenant_a, scope_list=["identity:read"])
    refused = api_client(tenant_a, other).get("/api/v1/plugins/hello/greetings/")
    assert refused.status_code == 403 and "hello:read" in refused.json()["detail"]


def test_viewers_see_greetings_through_the_registered_permission(tenant_a):
    viewer = MembershipFactory(tenant=tenant_a, role="viewer")
    assert client_for(tenant_a, viewer.user).get("/plugins/hello/").status_code == 200
