import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_tenants.utils import schema_exists

from apps.identity.models import Membership, User
from apps.identity.services import organisation_provision
from apps.tenancy.models import Domain, Tenant
from apps.tenancy.services import tenant_delete


def _tables_in(schema):
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = %s", [schema])
        return cursor.fetchone()[0]


@pytest.mark.django_db
def test_provisioning_creates_schema_domain_and_owner():
    tenant, owner = organisation_provision(name="Acme Inc", slug="acme-1", owner_email="Boss@Acme.example")
    assert tenant.schema_name == "t_acme_1"
    assert schema_exists("t_acme_1")
    assert _tables_in("t_acme_1") > 0
    assert Domain.objects.get(tenant=tenant).domain == "acme-1.localhost"
    assert owner.email == "boss@acme.example"
    assert Membership.objects.get(tenant=tenant, user=owner).role == "owner"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "slug, message",
    [
        ("ab", "3 to 40"),
        ("Acme", "lowercase"),
        ("acme_inc", "lowercase"),
        ("-acme", "starting and ending"),
        ("a" * 41, "3 to 40"),
        ("www", "reserved"),
        ("admin", "reserved"),
        ("api", "reserved"),
        ("public", "reserved"),
        ("static", "reserved"),
    ],
)
def test_bad_slugs_are_refused_with_a_clear_message(slug, message):
    with pytest.raises(ValidationError) as exc:
        organisation_provision(name="X", slug=slug, owner_email="someone@example.com")
    assert message in " ".join(exc.value.message_dict["slug"])
    assert not User.objects.filter(email="someone@example.com").exists()
    assert not Tenant.objects.filter(slug=slug).exclude(schema_name="public").exists()


@pytest.mark.django_db
def test_duplicate_slug_is_refused(tenant_a):
    with pytest.raises(ValidationError) as exc:
        organisation_provision(name="Again", slug="alpha", owner_email="new@example.com")
    assert "already taken" in " ".join(exc.value.message_dict["slug"])
    assert not User.objects.filter(email="new@example.com").exists()


@pytest.mark.django_db
def test_failed_provisioning_leaves_nothing_behind(monkeypatch):
    """A failure after the schema was migrated rolls back the schema, the row and the domain."""
    from apps.identity import services

    def explode(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services.Membership.objects, "create", explode)
    with pytest.raises(RuntimeError):
        organisation_provision(name="Doomed", slug="doomed", owner_email="doomed@example.com")
    assert not Tenant.objects.filter(slug="doomed").exists()
    assert not Domain.objects.filter(domain="doomed.localhost").exists()
    assert not schema_exists("t_doomed")
    assert not User.objects.filter(email="doomed@example.com").exists()


@pytest.mark.django_db
def test_delete_drops_schema_and_rows():
    tenant, owner = organisation_provision(name="Gone", slug="gone", owner_email="gone@example.com")
    tenant_delete(tenant=tenant)
    assert not schema_exists("t_gone")
    assert not Tenant.objects.filter(slug="gone").exists()
    assert not Membership.objects.filter(user=owner).exists()
    assert not Domain.objects.filter(domain="gone.localhost").exists()


@pytest.mark.django_db
def test_public_schema_cannot_be_deleted():
    with pytest.raises(ValidationError):
        tenant_delete(tenant=Tenant.objects.get(schema_name="public"))


@pytest.mark.django_db
def test_slug_taken_in_a_race_is_a_validation_error(monkeypatch, tenant_a):
    """The check passes (as if alpha were free) but the insert hits the unique index."""
    monkeypatch.setattr("apps.tenancy.services.validate_slug", lambda slug: slug)
    with pytest.raises(ValidationError) as exc:
        organisation_provision(name="Racer", slug="alpha", owner_email="racer@example.com")
    assert "already taken" in " ".join(exc.value.message_dict["slug"])
    assert not User.objects.filter(email="racer@example.com").exists()
