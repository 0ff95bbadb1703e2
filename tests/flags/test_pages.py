"""The flags pages: list (a data table), create and edit with the rule builder, errors re-rendered
on the form, the kill switch, history with rollback, delete; roles; tenant isolation."""

import pytest
from django_tenants.utils import schema_context

from apps.flags.models import Flag
from tests.conftest import client_for
from tests.factories import MembershipFactory

from .conftest import make_flag

pytestmark = pytest.mark.django_db


def form_data(**extra):
    data = {
        "key": "new-checkout",
        "name": "New checkout",
        "description": "",
        "active": "on",
        "bucket_by": "person",
        "variants": "",
        "payloads": "",
        "overrides": "",
        "g-TOTAL_FORMS": "2",
        "g-INITIAL_FORMS": "0",
        "g-0-rollout_percentage": "100",
        "g-0-variant": "",
        "g-1-rollout_percentage": "30",
        "g-1-variant": "",
        "c-TOTAL_FORMS": "3",
        "c-INITIAL_FORMS": "0",
        "c-0-group": "1",
        "c-0-type": "person",
        "c-0-key": "email",
        "c-0-operator": "icontains",
        "c-0-value": "@acme",
        "c-1-group": "1",
        "c-1-type": "person",
        "c-1-key": "plan",
        "c-1-operator": "exact",
        "c-1-value": "team, pro",
        "c-2-group": "2",
        "c-2-type": "person",
        "c-2-key": "",
        "c-2-operator": "exact",
        "c-2-value": "",
    }
    data.update(extra)
    return data


def test_members_create_a_flag_with_the_rule_builder_and_see_it_listed(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    response = client.post("/flags/new/", form_data(overrides="qa = true"))
    assert response.status_code == 302, response.content.decode()[:3000]
    with schema_context(tenant_a.schema_name):
        flag = Flag.objects.get(key="new-checkout")
    assert flag.filters["groups"] == [
        {
            "properties": [
                {"type": "person", "key": "email", "operator": "icontains", "value": "@acme"},
                {"type": "person", "key": "plan", "operator": "exact", "value": ["team", "pro"]},
            ],
            "rollout_percentage": 100,
        },
        {"properties": [], "rollout_percentage": 30},
    ]
    assert flag.overrides == {"qa": True}
    page = client.get("/flags/").content.decode()
    assert "new-checkout" in page and 'href="/flags/"' in page and "Switch off" in page
    detail = client.get(f"/flags/{flag.pk}/").content.decode()
    assert 'value="@acme"' in detail and "Save as a new version" in detail
    export = client.get("/flags/", {"_export": "csv"})
    assert b"new-checkout" in b"".join(export.streaming_content)


def test_bad_rules_are_shown_on_the_form(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    weights = client.post("/flags/new/", form_data(variants="control 50\ntest 40"))
    assert weights.status_code == 400
    assert "add up to 90, not 100" in weights.content.decode()
    never = client.post("/flags/new/", form_data(**{"c-1-key": "email", "c-1-operator": "is_not_set", "c-1-value": ""}))
    assert never.status_code == 400 and "can never match" in never.content.decode()
    regex = client.post("/flags/new/", form_data(**{"c-0-operator": "regex", "c-0-value": "("}))
    assert regex.status_code == 400 and "Not a regular expression" in regex.content.decode()
    with schema_context(tenant_a.schema_name):
        assert not Flag.objects.exists()


def test_more_rows_come_from_htmx_without_saving(tenant_a, owner_a):
    client = client_for(tenant_a, owner_a)
    response = client.post("/flags/new/", {**form_data(), "more": "0"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response.content.decode().count("data-condition-row") > 3
    with schema_context(tenant_a.schema_name):
        assert not Flag.objects.exists()


def test_kill_switch_history_rollback_and_delete(tenant_a, owner_a):
    flag = make_flag(tenant_a, "banner", actor=owner_a)
    client = client_for(tenant_a, owner_a)
    assert client.post(f"/flags/{flag.pk}/switch/", {"active": "off"}).status_code == 302
    with schema_context(tenant_a.schema_name):
        flag.refresh_from_db()
        assert flag.active is False and flag.version == 2
    history = client.get(f"/flags/{flag.pk}/history/").content.decode()
    assert "switched off" in history and "Roll back to this" in history and "data-confirm" in history
    assert client.post(f"/flags/{flag.pk}/rollback/1/").status_code == 302
    with schema_context(tenant_a.schema_name):
        flag.refresh_from_db()
        assert flag.active is True and flag.version == 3
    assert client.post(f"/flags/{flag.pk}/delete/").status_code == 302
    with schema_context(tenant_a.schema_name):
        assert not Flag.objects.filter(pk=flag.pk).exists()


def test_viewers_see_flags_but_cannot_change_them(tenant_a):
    flag = make_flag(tenant_a, "viewers")
    viewer = MembershipFactory(tenant=tenant_a, role="viewer")
    client = client_for(tenant_a, viewer.user)
    assert client.get("/flags/").status_code == 200
    assert client.get(f"/flags/{flag.pk}/").status_code == 200
    assert "Save as a new version" not in client.get(f"/flags/{flag.pk}/").content.decode()
    assert client.get("/flags/new/").status_code == 403
    assert client.post(f"/flags/{flag.pk}/", form_data(key="viewers")).status_code == 403
    assert client.post(f"/flags/{flag.pk}/switch/", {"active": "off"}).status_code == 403
    assert client.post(f"/flags/{flag.pk}/delete/").status_code == 403


def test_tenant_b_cannot_see_or_change_tenant_as_flags_on_any_page(tenant_a, tenant_b, owner_a, owner_b):
    flag = make_flag(tenant_a, "only-a")
    client = client_for(tenant_b, owner_b)
    assert "only-a" not in client.get("/flags/").content.decode()
    for path in (f"/flags/{flag.pk}/", f"/flags/{flag.pk}/history/"):
        assert client.get(path).status_code == 404
    for path in (f"/flags/{flag.pk}/switch/", f"/flags/{flag.pk}/rollback/1/", f"/flags/{flag.pk}/delete/"):
        assert client.post(path, {"active": "off"}).status_code == 404
    assert client.post(f"/flags/{flag.pk}/", form_data(key="stolen")).status_code == 404
    outsider = client_for(tenant_a, owner_b)  # a member of B on A's host
    assert outsider.get("/flags/").status_code == 403
    with schema_context(tenant_a.schema_name):
        flag.refresh_from_db()
        assert flag.active and flag.key == "only-a"


def test_the_list_says_who_a_flag_serves_in_words():
    from apps.flags.tables import rollout_words

    one = {"key": "plan", "operator": "exact", "value": ["pro"]}
    assert rollout_words({"groups": [{"properties": [one], "rollout_percentage": 40}]}) == "1 condition at 40%"
    assert rollout_words({"groups": [{"properties": [one, one]}, {"properties": []}]}) == (
        "2 conditions at 100%; everyone at 100%"
    )
    assert rollout_words({"groups": []}) == "nobody"
