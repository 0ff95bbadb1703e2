"""Tenant isolation: nothing of tenant A is visible, writable or guessable from tenant B."""

import pytest
from auditlog.models import LogEntry
from django.urls import get_resolver
from django_tenants.utils import schema_context

from apps.identity.models import Membership
from tests.conftest import client_for

# Every page of the tenant URLconf, with sample arguments.
GET_PAGES = [
    "/",
    "/members/",
    "/audit-log/",
    "/settings/",
    "/profile/",
    "/settings/security/",
    "/organisations/new/",
    "/members/1/avatar/",
]
POST_PAGES = [
    "/members/invite/",
    "/members/1/role/",
    "/members/1/remove/",
    "/invitations/1/revoke/",
    "/settings/delete/",
    "/settings/security/",
    "/organisations/new/",
    "/profile/",
    "/home/layout/",
]


def test_the_page_lists_cover_the_tenant_urlconf():
    # Included URLconfs (the per-user account pages, djangosaml2) have tests of their own.
    names = {p.name for p in get_resolver("apps.identity.urls").url_patterns if hasattr(p, "name")}
    covered = {
        "home",
        "home_layout",
        "members",
        "audit_log",
        "organisation_settings",
        "profile",
        "member_invite",
        "member_change_role",
        "member_remove",
        "invitation_revoke",
        "organisation_delete",
        "security_settings",
        "organisation_create",
        "member_avatar",
        # Reachable without membership by design: they check their own token/membership, or
        # only offer a log-in (sso_login).
        "invitation_accept",
        "sso_login",
        "handover",
        "switch_tenant",
        "organisation_logo",  # the host's own logo only (tests/identity/test_profile_and_organisation.py)
    }
    assert names == covered


@pytest.mark.django_db
@pytest.mark.parametrize("path", GET_PAGES)
def test_member_of_other_tenant_gets_403_on_every_page(tenant_a, tenant_b, owner_a, path):
    response = client_for(tenant_b, owner_a).get(path)
    assert response.status_code == 403
    assert b"not a member" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("path", POST_PAGES)
def test_member_of_other_tenant_gets_403_on_every_action(tenant_a, tenant_b, owner_a, owner_b, path):
    before = list(Membership.objects.filter(tenant=tenant_b).values_list("pk", "role"))
    response = client_for(tenant_b, owner_a).post(
        path, {"email": "x@example.com", "role": "owner", "confirm_slug": "beta"}
    )
    assert response.status_code == 403
    assert list(Membership.objects.filter(tenant=tenant_b).values_list("pk", "role")) == before


@pytest.mark.django_db
def test_audit_rows_created_in_a_are_not_in_b(tenant_a, tenant_b, owner_a):
    member = Membership.objects.create(user=owner_a, tenant=tenant_b, role="viewer")
    # Change the membership while serving tenant A: the audit entry goes to A's schema.
    with schema_context(tenant_a.schema_name):
        member.role = "member"
        member.save()
        in_a = LogEntry.objects.filter(object_pk=str(member.pk), action=LogEntry.Action.UPDATE).count()
    with schema_context(tenant_b.schema_name):
        in_b = LogEntry.objects.filter(object_pk=str(member.pk), action=LogEntry.Action.UPDATE).count()
    assert (in_a, in_b) == (1, 0)


@pytest.mark.django_db
def test_switcher_lists_only_own_tenants(tenant_a, tenant_b, owner_a):
    page = client_for(tenant_a, owner_a).get("/")
    assert b"Alpha Ltd" in page.content
    assert b"Beta Ltd" not in page.content


@pytest.mark.django_db
def test_anonymous_is_sent_to_login_on_every_page(tenant_a):
    for path in GET_PAGES:
        assert client_for(tenant_a).get(path)["Location"].startswith("/accounts/login/")
