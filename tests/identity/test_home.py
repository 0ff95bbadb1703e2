"""The home page: a welcome by name, the registry's widgets in each member's own order (moved,
hidden, shown again, dragged), a getting-started checklist that ticks itself from real state."""

import re

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from apps.api.services import api_key_create
from apps.identity import mfa
from apps.identity.models import Membership, TOTPDevice
from apps.identity.selectors import checklist, home_widgets
from apps.identity.services import home_layout_change, invitation_create
from apps.notifications.webhooks import endpoint_create
from tests.conftest import client_for, set_mfa_state
from tests.factories import MembershipFactory

ACTIVITY, STARTED, HELLO = "notifications.activity", "identity.getting_started", "hello.latest"


def keys_on(page: str) -> list[str]:
    grid = page[page.index("data-widget-grid") : page.index("data-order-form")]
    return re.findall(r'data-widget="([^"]+)"', grid)


@pytest.fixture
def owner(tenant_a):
    return Membership.objects.select_related("user", "tenant").get(tenant=tenant_a, role="owner")


@pytest.mark.django_db
def test_welcome_says_the_name_not_the_email(tenant_a, owner_a):
    owner_a.full_name = "Jane Doe"
    owner_a.save()
    page = client_for(tenant_a, owner_a).get("/").content.decode()
    assert "<h1>Welcome, Jane</h1>" in page
    owner_a.full_name = ""
    owner_a.save()
    page = client_for(tenant_a, owner_a).get("/").content.decode()
    assert "<h1>Welcome</h1>" in page and owner_a.email not in page.split("<h1>")[1].split("</h1>")[0]
    assert "Add your name" in page


@pytest.mark.django_db
def test_widgets_come_from_the_registry_in_weight_order(tenant_a, owner_a):
    page = client_for(tenant_a, owner_a).get("/").content.decode()
    assert keys_on(page) == [STARTED, ACTIVITY, HELLO]


@pytest.mark.django_db
def test_moving_and_hiding_is_saved_per_member_without_javascript(tenant_a, owner_a):
    other = MembershipFactory(tenant=tenant_a, role="owner")
    client = client_for(tenant_a, owner_a)
    moved = client.post("/home/layout/", {"action": "down", "key": STARTED})
    assert moved.status_code == 302 and moved["Location"] == "/"
    client.post("/home/layout/", {"action": "hide", "key": HELLO})
    page = client.get("/").content.decode()
    assert keys_on(page) == [ACTIVITY, STARTED]
    assert "Hidden cards" in page and 'aria-label="Show Latest greetings"' in page
    # Another member's home is untouched.
    assert keys_on(client_for(tenant_a, other.user).get("/").content.decode()) == [STARTED, ACTIVITY, HELLO]
    client.post("/home/layout/", {"action": "show", "key": HELLO})
    client.post("/home/layout/", {"action": "up", "key": HELLO})
    assert keys_on(client.get("/").content.decode()) == [ACTIVITY, HELLO, STARTED]


@pytest.mark.django_db
def test_the_dragged_order_is_saved_and_htmx_gets_the_grid_back(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    response = client.post(
        "/home/layout/", {"action": "order", "order": [HELLO, STARTED, ACTIVITY]}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and 'id="home-widgets"' in response.content.decode()
    assert keys_on(response.content.decode()) == [HELLO, STARTED, ACTIVITY]
    assert keys_on(client.get("/").content.decode()) == [HELLO, STARTED, ACTIVITY]


@pytest.mark.django_db
def test_layout_refuses_unknown_widgets_and_incomplete_orders(owner):
    with pytest.raises(ValidationError) as unknown:
        home_layout_change(membership=owner, action="hide", key="no.such")
    assert unknown.value.message_dict == {"key": ["There is no such widget on your home page."]}
    with pytest.raises(ValidationError) as partial:
        home_layout_change(membership=owner, action="order", order=[ACTIVITY])
    assert "order" in partial.value.message_dict
    with pytest.raises(ValidationError):
        home_layout_change(membership=owner, action="explode", key=ACTIVITY)
    page = client_for(owner.tenant, owner.user).post("/home/layout/", {"action": "hide", "key": "x"}, follow=True)
    assert "There is no such widget on your home page." in page.content.decode()


@pytest.mark.django_db
def test_a_viewer_sees_only_the_widgets_and_steps_of_their_role(tenant_a):
    viewer = MembershipFactory(tenant=tenant_a, role="viewer")
    with tenant_context(tenant_a):  # as the home page runs: hello is on in this organisation
        shown, hidden = home_widgets(membership=viewer)
        assert HELLO in [w.key for w in shown]  # hello.view is a viewer's
        assert [item.key for item, _ in checklist(membership=viewer)] == ["identity.mfa"]


@pytest.mark.django_db
def test_the_checklist_ticks_itself_from_real_state(tenant_a, owner):
    def state():
        return {item.key: done for item, done in checklist(membership=owner)}

    with tenant_context(tenant_a):
        assert state() == {
            "identity.invite": False,
            "identity.mfa": False,
            "api.key": False,
            "notifications.webhook": False,
        }
        invitation_create(actor=owner, email="first@example.com", role="member")
        TOTPDevice.objects.create(user=owner.user, name="phone", confirmed=True)
        api_key_create(actor=owner, name="CI deploy", scopes=["api:read"])
        assert state() == {
            "identity.invite": True,
            "identity.mfa": True,
            "api.key": True,
            "notifications.webhook": False,
        }
        endpoint_create(url="https://hooks.example.com/in", event_types=[], created_by=owner.user)
        assert all(state().values())
    client = client_for(tenant_a, owner.user)
    set_mfa_state(client, mfa.VERIFIED)  # the factor was checked at log-in
    page = client.get("/").content.decode()
    assert page.count('class="done"') == 4 and "Dismiss" in page
    client.post("/home/layout/", {"action": "hide", "key": STARTED})
    assert STARTED not in keys_on(client.get("/").content.decode())


@pytest.mark.django_db
def test_an_unfinished_checklist_cannot_be_dismissed_but_links_to_each_step(tenant_a, owner_a):
    page = client_for(tenant_a, owner_a).get("/").content.decode()
    assert "Dismiss" not in page
    for url in ("/members/", "/security/", "/developers/keys/", "/webhooks/"):
        assert f'href="{url}"' in page


@pytest.mark.django_db
def test_the_layout_belongs_to_the_membership_of_each_tenant(tenant_a, tenant_b, owner_a):
    # The same person in two organisations keeps two layouts.
    in_b = Membership.objects.create(user=owner_a, tenant=tenant_b, role="member")
    client_for(tenant_a, owner_a).post("/home/layout/", {"action": "hide", "key": ACTIVITY})
    assert ACTIVITY not in keys_on(client_for(tenant_a, owner_a).get("/").content.decode())
    assert ACTIVITY in keys_on(client_for(tenant_b, in_b.user).get("/").content.decode())


@pytest.mark.django_db
def test_rearranging_the_home_page_is_not_an_audit_event(tenant_a, owner_a):
    from auditlog.models import LogEntry

    with tenant_context(tenant_a):
        before = LogEntry.objects.count()
    client_for(tenant_a, owner_a).post("/home/layout/", {"action": "hide", "key": ACTIVITY})
    with tenant_context(tenant_a):
        assert LogEntry.objects.count() == before
