import pytest

from tests.conftest import client_for
from tests.factories import UserFactory


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/admin/",
        "/admin/tenancy/tenant/",
        "/admin/identity/user/",
        "/admin/identity/membership/",
        "/admin/identity/invitation/",
    ],
)
def test_platform_staff_use_the_admin_on_the_public_domain(tenant_a, path):
    staff = UserFactory(is_staff=True, is_superuser=True)
    response = client_for(None, staff).get(path)
    assert response.status_code == 200


@pytest.mark.django_db
def test_admin_suspends_tenant_through_the_service(tenant_a):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client_for(None, staff).post("/admin/tenancy/tenant/", {"action": "suspend", "_selected_action": [tenant_a.pk]})
    tenant_a.refresh_from_db()
    assert tenant_a.status == "suspended"


@pytest.mark.django_db
def test_admin_is_not_served_on_tenant_domains(tenant_a):
    staff = UserFactory(is_staff=True, is_superuser=True)
    assert client_for(tenant_a, staff).get("/admin/").status_code == 404


@pytest.mark.django_db
def test_non_staff_cannot_use_the_admin(tenant_a, owner_a):
    assert client_for(None, owner_a).get("/admin/")["Location"].startswith("/admin/login/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/admin/identity/totpdevice/",
        "/admin/identity/emaildevice/",
        "/admin/identity/smsdevice/",
        "/admin/identity/recoverycodedevice/",
        "/admin/identity/tenantsecurity/",
        "/admin/identity/usersession/",
    ],
)
def test_operators_see_factors_policies_and_sessions(tenant_a, path):
    staff = UserFactory(is_staff=True, is_superuser=True)
    assert client_for(None, staff).get(path).status_code == 200


@pytest.mark.django_db
def test_an_operator_removes_a_lost_factor_and_it_is_audited(tenant_a, owner_a):
    from auditlog.models import LogEntry

    from apps.identity.models import TOTPDevice

    device = TOTPDevice.objects.create(user=owner_a, name="lost phone", key="ab" * 20)
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = client_for(None, staff)
    page = client.get(f"/admin/identity/totpdevice/{device.pk}/change/").content.decode()
    assert "ab" * 20 not in page and "lost phone" in page
    client.post(f"/admin/identity/totpdevice/{device.pk}/delete/", {"post": "yes"})
    assert not TOTPDevice.objects.filter(pk=device.pk).exists()
    entry = LogEntry.objects.filter(additional_data__event="mfa.factor_removed").latest("timestamp")
    assert entry.additional_data["by"] == "operator" and entry.actor == staff


@pytest.mark.django_db
def test_an_operator_ends_a_session(tenant_a, owner_a):
    from apps.identity.models import UserSession
    from tests.conftest import PASSWORD

    user_client = client_for(tenant_a)
    user_client.post("/accounts/login/", {"login": owner_a.email, "password": PASSWORD})
    row = UserSession.objects.get(session_key=user_client.session.session_key)
    staff = UserFactory(is_staff=True, is_superuser=True)
    client_for(None, staff).post(
        "/admin/identity/usersession/", {"action": "end_sessions", "_selected_action": [row.pk]}
    )
    assert user_client.get("/")["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_users_are_deactivated_not_deleted_in_the_admin(tenant_a, owner_a):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client = client_for(None, staff)
    assert client.get(f"/admin/identity/user/{owner_a.pk}/delete/").status_code == 403
    client.post("/admin/identity/user/", {"action": "deactivate", "_selected_action": [owner_a.pk]})
    owner_a.refresh_from_db()
    assert not owner_a.is_active
