"""backup_tenant / restore_tenant: every row of the schema and the tenant's public rows come back."""

import gzip
import io
import json
import tarfile
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.core.cache import cache
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django_tenants.utils import schema_context, schema_exists
from psycopg import sql

from apps.compliance.chain import audit_chain_verify
from apps.identity.models import Invitation, Membership, User
from apps.identity.services import invitation_create, membership_change_role, organisation_provision
from apps.tenancy.backup import public_not_backed_up, public_parts
from apps.tenancy.backup.catalogue import schema_tables
from apps.tenancy.models import Domain, Tenant
from apps.tenancy.services import tenant_delete, tenant_set_status
from tests.conftest import PASSWORD, client_for, manage

pytestmark = pytest.mark.django_db
SLUG = "bak-co"


# --- What "every row" means -------------------------------------------------------------------


def schema_rows(schema: str) -> dict[str, list[tuple]]:
    """Every row of every table of the schema, in a stable order."""
    with connection.cursor() as cursor:
        tables = schema_tables(cursor, schema)
        rows = {}
        for name in sorted(tables):
            cursor.execute(
                sql.SQL("SELECT * FROM {}.{} AS t ORDER BY t::text").format(
                    sql.Identifier(schema), sql.Identifier(name)
                )
            )
            rows[name] = cursor.fetchall()
    return rows


def security_model():
    try:
        return apps.get_model("identity.TenantSecurity")
    except LookupError:
        return None


def public_rows(tenant: Tenant, *, slug: str | None = None) -> dict:
    """The tenant's public rows with ids replaced by what they stand for (the slug written as SLUG)."""
    tenant = Tenant.objects.get(pk=tenant.pk)
    slug = slug or tenant.slug
    rows = {
        "tenant": (tenant.name, tenant.plan, tenant.status, tenant.created),
        "domains": sorted((d.domain.replace(slug, "SLUG"), d.is_primary) for d in Domain.objects.filter(tenant=tenant)),
        "memberships": sorted(
            (m.user.email, m.user.full_name, m.user.password, m.role, m.created)
            for m in Membership.objects.filter(tenant=tenant).select_related("user")
        ),
        "invitations": sorted(
            (i.email, i.role, i.invited_by.email, i.created, i.expires_at)
            for i in Invitation.objects.pending().filter(tenant=tenant)
        ),
    }
    model = security_model()
    if model is not None:
        rows["security"] = [
            {f.name: getattr(s, f.name) for f in model._meta.concrete_fields if f.name not in ("id", "tenant")}
            for s in model.objects.filter(tenant=tenant)
        ]
    return rows


@pytest.fixture
def rich_tenant(tenant_b):
    """A tenant with data in its schema (audit log entries) and in public (members, domains, invitation…)."""
    tenant, owner = organisation_provision(
        name="Backup Co", slug=SLUG, owner_email="owner@bak.example.com", owner_password=PASSWORD, plan="team"
    )
    member = User.objects.create_user(email="member@bak.example.com", password=PASSWORD, full_name="Mia Member")
    beta_owner = tenant_b.memberships.get(role="owner").user  # Users are shared between tenants.
    with schema_context(tenant.schema_name):
        actor = Membership.objects.get(tenant=tenant, user=owner)
        for user in (member, beta_owner):
            membership = Membership.objects.create(tenant=tenant, user=user, role="member")
            membership_change_role(actor=actor, membership=membership, role="admin")  # audit rows in its schema
        invitation_create(actor=actor, email="invitee@bak.example.com", role="viewer")
        tenant_set_status(tenant=tenant, status="suspended")
    Domain.objects.create(domain="backup-co.example.com", tenant=tenant, is_primary=False)
    model = security_model()
    if model is not None:
        settings = {
            "idp_entity_id": "https://idp.bak.example/",
            "sso_domains": ["bak.example"],
            "sso_default_role": "viewer",
        }
        model.objects.update_or_create(tenant=tenant, defaults=settings)
    tenant.refresh_from_db()
    with connection.cursor() as cursor:  # what a commit does: the audit entries get their seals (apps.compliance)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    rows = schema_rows(tenant.schema_name)
    assert len(rows["compliance_auditseal"]) == len(rows["auditlog_logentry"])
    assert len(rows["auditlog_logentry"]) >= 3, "the fixture should leave audit entries in the tenant's schema"
    return tenant


def backup(tenant, tmp_path, name="bak.tar.gz") -> tuple[Path, str]:
    path = tmp_path / name
    out = StringIO()
    call_command("backup_tenant", tenant.slug, "--output", str(path), stdout=out)
    return path, out.getvalue()


def restore(path, *args) -> str:
    out = StringIO()
    call_command("restore_tenant", str(path), *args, stdout=out)
    return out.getvalue()


# --- Round trips ---------------------------------------------------------------------------------


def test_round_trip_brings_every_row_back(rich_tenant, tmp_path):
    before_schema = schema_rows(rich_tenant.schema_name)
    before_public = public_rows(rich_tenant)
    users_before = User.objects.count()

    path, out = backup(rich_tenant, tmp_path)
    for table in before_schema:  # One progress line per table, finished.
        assert any(line.strip().startswith(table) and "100%" in line for line in out.splitlines()), (table, out)
    assert f"Wrote {path}" in out
    assert path.stat().st_mode & 0o777 == 0o600  # it holds password hashes

    tenant_delete(tenant=rich_tenant)
    assert not schema_exists(rich_tenant.schema_name)

    out = restore(path)
    assert "auditlog_logentry" in out and "100%" in out
    restored = Tenant.objects.get(slug=SLUG)
    assert restored.pk != rich_tenant.pk
    assert schema_rows(restored.schema_name) == before_schema
    assert public_rows(restored) == before_public
    assert User.objects.count() == users_before  # existing users reused by email, none duplicated
    with schema_context(restored.schema_name):  # the audit trail's hash chain came back whole
        assert audit_chain_verify().ok

    # Sequences are past the restored ids: new rows in the schema and in public just work.
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT max(id) FROM {restored.schema_name}.auditlog_logentry")
        top = cursor.fetchone()[0]
        cursor.execute(f"SELECT nextval(pg_get_serial_sequence('{restored.schema_name}.auditlog_logentry', 'id'))")
        assert cursor.fetchone()[0] > top
    restored.status = "active"
    restored.save()
    owner = User.objects.get(email="owner@bak.example.com")
    page = client_for(restored, owner).get("/members/")
    assert page.status_code == 200
    assert b"member@bak.example.com" in page.content


def test_restore_as_a_new_slug_alongside_the_original(rich_tenant, tmp_path):
    path, _ = backup(rich_tenant, tmp_path)
    users_before = User.objects.count()

    out = restore(path, "--slug", "bak-copy")

    copy = Tenant.objects.get(slug="bak-copy")
    original = Tenant.objects.get(slug=SLUG)
    assert copy.schema_name == "t_bak_copy"
    assert schema_rows(copy.schema_name) == schema_rows(original.schema_name)
    assert set(Domain.objects.filter(tenant=copy).values_list("domain", "is_primary")) == {("bak-copy.localhost", True)}
    assert "domain backup-co.example.com not restored: it is served by bak-co" in out
    assert "invitation of invitee@bak.example.com gets a new link" in out
    copied, kept = public_rows(copy), public_rows(original)
    assert copied["memberships"] == kept["memberships"] and copied["tenant"] == kept["tenant"]
    assert copied["invitations"] == kept["invitations"]
    assert User.objects.count() == users_before
    # The original is untouched.
    assert Domain.objects.get(domain="backup-co.example.com").tenant == original


def test_restore_over_an_existing_slug_needs_replace(rich_tenant, tmp_path):
    path, _ = backup(rich_tenant, tmp_path)
    before = schema_rows(rich_tenant.schema_name)
    Membership.objects.filter(tenant=rich_tenant, user__email="member@bak.example.com").delete()  # a change since

    with pytest.raises(CommandError, match="exists; pass --replace") as exc:
        restore(path)
    assert "\n" not in str(exc.value)
    assert Tenant.objects.get(slug=SLUG).pk == rich_tenant.pk  # nothing touched

    with schema_context(rich_tenant.schema_name):
        cache.set("members-widget", "cached for the tenant being replaced")
    restore(path, "--replace")
    replaced = Tenant.objects.get(slug=SLUG)
    with schema_context(replaced.schema_name):
        assert cache.get("members-widget") is None
    assert replaced.pk != rich_tenant.pk
    assert schema_rows(replaced.schema_name) == before
    assert Membership.objects.filter(tenant=replaced, user__email="member@bak.example.com").exists()


def test_a_failed_restore_leaves_nothing(rich_tenant, tmp_path):
    path, _ = backup(rich_tenant, tmp_path)
    broken = tmp_path / "broken.tar.gz"
    raw = gzip.decompress(path.read_bytes())
    broken.write_bytes(gzip.compress(raw[: len(raw) // 2 + 7]))  # cut short in the middle of the tables

    with pytest.raises(CommandError) as exc:
        restore(broken, "--slug", "bak-broken")
    assert "\n" not in str(exc.value)
    assert not Tenant.objects.filter(slug="bak-broken").exists()
    assert not schema_exists("t_bak_broken")
    assert not Domain.objects.filter(domain="bak-broken.localhost").exists()


# --- Refusals ------------------------------------------------------------------------------------


def rewrite_manifest(path: Path, target: Path, change) -> Path:
    with tarfile.open(path, "r:gz") as src, tarfile.open(target, "w:gz") as dst:
        for member in src:
            data = src.extractfile(member).read()
            if member.name == "manifest.json":
                manifest = json.loads(data)
                change(manifest)
                data = json.dumps(manifest).encode()
                member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    return target


def test_restore_refuses_a_backup_with_other_migrations(rich_tenant, tmp_path):
    path, _ = backup(rich_tenant, tmp_path)
    ahead = rewrite_manifest(
        path, tmp_path / "ahead.tar.gz", lambda m: m["migrations"].append(["auditlog", "9999_from_the_future"])
    )
    behind = rewrite_manifest(
        path,
        tmp_path / "behind.tar.gz",
        lambda m: m["migrations"].remove(max(x for x in m["migrations"] if x[0] == "auditlog")),
    )
    with pytest.raises(CommandError, match="backup is ahead of this hub.*auditlog.9999_from_the_future"):
        restore(ahead, "--slug", "bak-ahead")
    with pytest.raises(CommandError, match="backup is behind this hub.*auditlog"):
        restore(behind, "--slug", "bak-behind")
    assert not Tenant.objects.filter(slug__in=["bak-ahead", "bak-behind"]).exists()


def test_corrupt_or_foreign_files_give_one_line(tenant_a, tmp_path):
    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"\x00not a backup at all" * 50)
    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        data = json.dumps({"format": "something-else"}).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    other = tmp_path / "other.tar.gz"
    with tarfile.open(other, "w:gz") as tar:
        info = tarfile.TarInfo("README")
        info.size = 5
        tar.addfile(info, io.BytesIO(b"hello"))
    cases = [
        (garbage, "is not a tenant backup"),
        (foreign, "is not a ReactDjango-Hub tenant backup"),
        (other, "manifest.json missing"),
        (tmp_path / "missing.tar.gz", "no such file"),
        (tmp_path, "is a directory"),
    ]
    for path, message in cases:
        with pytest.raises(CommandError) as exc:
            restore(path, "--slug", "bak-never")
        assert message in str(exc.value), (path, str(exc.value))
        assert "\n" not in str(exc.value)
    assert not Tenant.objects.filter(slug="bak-never").exists()

    path, _ = backup(tenant_a, tmp_path)
    for slug, message in [("Not A Slug", "lowercase letters"), ("www", "reserved")]:
        with pytest.raises(CommandError, match=message) as exc:
            restore(path, "--slug", slug)
        assert "\n" not in str(exc.value)

    with pytest.raises(CommandError, match="No tenant with the slug"):
        call_command("backup_tenant", "no-such-tenant", "--output", str(tmp_path / "x.tar.gz"))
    existing = tmp_path / "exists.tar.gz"
    existing.write_bytes(b"")
    with pytest.raises(CommandError, match="exists; choose another --output"):
        call_command("backup_tenant", "alpha", "--output", str(existing))


def test_every_public_model_that_refers_to_a_tenant_is_backed_up_or_excluded_on_purpose():
    covered = {part.model for part in public_parts()} | set(public_not_backed_up())
    for model in apps.get_models():
        if any(f.is_relation and f.related_model is Tenant for f in model._meta.concrete_fields):
            label = model._meta.label
            assert label in covered, f"{label} refers to a tenant: register a BackupPart (skip_reason if left out)"


# --- Through manage.py ---------------------------------------------------------------------------


def test_through_manage_py_exit_codes(tenant_a, tmp_path):
    path = tmp_path / "alpha.tar.gz"
    result = manage("backup_tenant", "alpha", "--output", str(path))
    assert result.returncode == 0, result.stderr
    assert "auditlog_logentry" in result.stdout and "100%" in result.stdout
    manifest = json.loads(tarfile.open(path, "r:gz").extractfile("manifest.json").read())
    assert manifest["slug"] == "alpha" and manifest["format_version"] == 1
    assert manifest["counts"]["public"]["identity.Membership"] == 1

    garbage = tmp_path / "garbage.tar.gz"
    garbage.write_bytes(b"garbage")
    for args, message in [
        (["restore_tenant", str(path)], "exists; pass --replace"),
        (["restore_tenant", str(garbage)], "not a tenant backup"),
        (["restore_tenant"], "the following arguments are required"),
        (["backup_tenant", "no-such-tenant"], "No tenant"),
    ]:
        result = manage(*args)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert message in result.stderr
