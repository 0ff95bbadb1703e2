"""The BI role, tried with a real connection as that role: it reads its tenant's analytics views
and nothing else (no raw table, no other tenant's schema, no public table), writes nothing; its
password is encrypted at rest, rotatable; revoking drops the role. Only admins manage it."""

import base64

import psycopg
import pytest
from django.db import connection, transaction
from django_tenants.utils import schema_context

from apps.analytics import bi, services
from apps.analytics.models import BiAccess
from tests.conftest import client_for, committed, owner_of
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

ROW = ["2026-03-05T15:00:00+00:00", "00000000-0000-4000-8000-0000000b1001", "view", "bi-d1", '{"k": 1}',
       "2026-03-05T15:00:00+00:00", None]  # fmt: skip


def _owner_membership(tenant):
    from apps.identity.models import Membership

    return Membership.objects.get(tenant=tenant, role="owner")


@pytest.fixture(autouse=True)
def _no_bi_events_left(tenant_a):
    """Granting and revoking are committed here (a role is outside any transaction): so are their
    events; delete them after each test, so later tests find tenant A's outbox as it was."""
    yield

    def forget():
        from apps.events.models import Event as DomainEvent

        with schema_context(tenant_a.schema_name):
            DomainEvent.objects.filter(type__startswith="analytics.bi_access_").delete()

    committed(forget)


@pytest.fixture
def granted(tenant_a):
    """Tenant A's role, committed (a connection of its own must see it), one event; removed after."""

    def grant():
        with schema_context(tenant_a.schema_name):
            with transaction.atomic():
                services.rows_write([ROW])
            return bi.bi_access_grant(tenant=tenant_a, actor=_owner_membership(tenant_a))

    access, password = committed(grant)
    yield access, password

    def clean():
        with schema_context(tenant_a.schema_name):
            bi.bi_access_revoke(tenant=tenant_a, actor=None)
            from apps.analytics.models import Event, EventUuid, Person, PersonDistinctId

            Event.objects.filter(distinct_id="bi-d1").delete()
            EventUuid.objects.filter(uuid=ROW[1]).delete()
            Person.objects.filter(pk__in=PersonDistinctId.objects.filter(distinct_id="bi-d1").values("person")).delete()
            services.rollups_rebuild()  # the writer counted the event in the rollups too

    committed(clean)


def _connect(user, password):
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, dbname=db["NAME"], user=user, password=password,
        autocommit=True, connect_timeout=5,
    )  # fmt: skip


def _refused(conn, sql) -> str:
    with pytest.raises(psycopg.Error) as caught:
        conn.execute(sql)
    return type(caught.value).__name__


def test_the_role_reads_its_views_and_nothing_else(granted, tenant_a, tenant_b):
    access, password = granted
    with _connect(access.role_name, password) as conn:
        rows = conn.execute(
            "SELECT event, distinct_id, properties FROM bi_events WHERE distinct_id = 'bi-d1'"
        ).fetchall()
        assert rows == [("view", "bi-d1", {"k": 1})]
        assert conn.execute("SELECT count(*) FROM bi_persons").fetchone()[0] >= 1
        assert conn.execute("SELECT count(*) FROM bi_person_distinct_ids WHERE distinct_id = 'bi-d1'").fetchone() == (
            1,
        )
        schema = tenant_a.schema_name
        assert _refused(conn, f"SELECT * FROM {schema}.analytics_event") == "InsufficientPrivilege"
        assert _refused(conn, f"SELECT * FROM {schema}.analytics_person") == "InsufficientPrivilege"
        assert _refused(conn, f"SELECT * FROM {schema}.analytics_bireport") in (
            "UndefinedTable",
            "InsufficientPrivilege",
        )
        assert _refused(conn, f"SELECT * FROM {tenant_b.schema_name}.analytics_event") == "InsufficientPrivilege"
        assert _refused(conn, "SELECT * FROM public.tenancy_tenant") == "InsufficientPrivilege"
        assert _refused(conn, "SELECT * FROM public.identity_user") == "InsufficientPrivilege"
        assert _refused(conn, "INSERT INTO bi_persons (uuid) VALUES (gen_random_uuid())") == "InsufficientPrivilege"
        assert _refused(conn, f"CREATE TABLE {schema}.mine (x int)") == "ReadOnlySqlTransaction"
        assert _refused(conn, "CREATE TEMP TABLE mine (x int)") == "ReadOnlySqlTransaction"
        conn.execute("SET default_transaction_read_only = off")  # even so, it has no right to write
        assert _refused(conn, f"CREATE TABLE {schema}.mine (x int)") == "InsufficientPrivilege"
        assert _refused(conn, "CREATE TABLE public.mine (x int)") == "InsufficientPrivilege"


def test_the_password_is_stored_encrypted_and_rotating_changes_it(granted, tenant_a):
    access, password = granted
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT password FROM {tenant_a.schema_name}.analytics_biaccess")
        stored = cursor.fetchone()[0]
        assert password not in stored and stored.startswith("gAAAA")  # a Fernet token

        def secret():
            cursor.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", [access.role_name])
            return cursor.fetchone()[0]

        before = secret()
        assert before.startswith("SCRAM-SHA-256$")

        def rotate():  # committed: the fixture's clean-up (another connection) alters the role next
            with schema_context(tenant_a.schema_name):
                return bi.bi_access_rotate(tenant=tenant_a, actor=_owner_membership(tenant_a))

        new = committed(rotate)
        with schema_context(tenant_a.schema_name):
            assert new != password and BiAccess.objects.get().password == new
        assert secret() != before


def test_revoking_drops_the_role(tenant_a):
    def grant_then_revoke():
        with schema_context(tenant_a.schema_name):
            access, _ = bi.bi_access_grant(tenant=tenant_a, actor=None)
            assert bi.bi_access_revoke(tenant=tenant_a, actor=None) is True
            return access.role_name

    role = committed(grant_then_revoke)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", [role])
        assert cursor.fetchone()[0] == 0
    with pytest.raises(psycopg.OperationalError):
        _connect(role, "anything").close()


def test_deleting_a_tenant_drops_its_role():
    from apps.identity.services import organisation_provision
    from apps.tenancy.services import tenant_delete

    tenant, _ = organisation_provision(name="Leaving", slug="leaving", owner_email="leaving@example.com")
    with schema_context(tenant.schema_name):
        role = bi.bi_access_grant(tenant=tenant, actor=None)[0].role_name

    def roles():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s", [role])
            return cursor.fetchone()[0]

    assert roles() == 1
    tenant_delete(tenant=tenant)
    assert roles() == 0  # roles are cluster-wide: nothing else would have dropped it


def test_roles_of_two_tenants_differ(tenant_a, tenant_b):
    with schema_context(tenant_a.schema_name):
        a = bi.role_name()
    with schema_context(tenant_b.schema_name):
        b = bi.role_name()
    assert a != b and a.endswith("_t_alpha") and len(a) <= 63


def test_bi_page_is_for_admins_and_shows_the_password_once(tenant_a, tenant_b):
    member = MembershipFactory(tenant=tenant_a, role="member")
    assert client_for(tenant_a, member.user).get("/analytics/bi/").status_code == 403
    owner = client_for(tenant_a, owner_of(tenant_a))
    page = owner.get("/analytics/bi/")
    assert page.status_code == 200 and b"Make a BI login" in page.content
    made = owner.post("/analytics/bi/", {"action": "grant"})
    assert made.status_code == 200 and b'id="bi-password"' in made.content and made["Cache-Control"] == "no-store"
    with schema_context(tenant_a.schema_name):
        access = BiAccess.objects.get()
        assert access.password.encode() in made.content
    again = owner.get("/analytics/bi/").content
    assert access.password.encode() not in again and access.role_name.encode() in again
    assert b"Make a BI login" in client_for(tenant_b, owner_of(tenant_b)).get("/analytics/bi/").content
    owner.post("/analytics/bi/", {"action": "revoke"})  # (in the test's transaction: rolled back with it)
    with schema_context(tenant_a.schema_name):
        assert not BiAccess.objects.exists()


def test_the_audit_log_records_the_login_never_its_password(tenant_a):
    from auditlog.models import LogEntry

    with schema_context(tenant_a.schema_name):
        access, password = bi.bi_access_grant(tenant=tenant_a, actor=_owner_membership(tenant_a))
        entry = LogEntry.objects.get_for_object(access).get()
    assert access.role_name in str(entry.changes) and password not in str(entry.changes)
    assert "password" not in entry.changes_dict


def test_postgresql_is_sent_the_scram_verifier_it_would_make_itself():
    """The verifier bi.py computes equals the one PostgreSQL makes from the same password and salt,
    and PostgreSQL keeps a verifier it is sent as it is (so it never sees the password)."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE ROLE bi_scram_probe NOLOGIN")  # in the test's transaction: rolled back
        cursor.execute("SET LOCAL password_encryption = 'scram-sha-256'")
        cursor.execute("ALTER ROLE bi_scram_probe PASSWORD 'correct horse'")
        cursor.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'bi_scram_probe'")
        made_by_postgres = cursor.fetchone()[0]
        iterations, salt = made_by_postgres.split("$")[1].split(":")
        ours = bi.scram_verifier("correct horse", salt=base64.b64decode(salt), iterations=int(iterations))
        assert ours == made_by_postgres
        sent = bi.scram_verifier("another one")
        cursor.execute("ALTER ROLE bi_scram_probe PASSWORD %s", [sent])
        cursor.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'bi_scram_probe'")
        assert cursor.fetchone()[0] == sent


def test_deleting_a_tenant_whose_schema_has_no_tables_yet_still_works():
    """A provisioning that failed before the migrations left an empty schema: its deletion reads
    no store choice and drops it all the same."""
    from django_tenants.utils import schema_exists

    from apps.tenancy.models import Tenant
    from apps.tenancy.services import tenant_delete

    tenant = Tenant.objects.create(name="Half made", slug="half-made", schema_name="t_half_made")
    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA t_half_made")
    tenant_delete(tenant=tenant)
    assert not schema_exists("t_half_made") and not Tenant.objects.filter(slug="half-made").exists()
