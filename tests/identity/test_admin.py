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
