"""restore_tenant with backups that are damaged, foreign or from another hub: one line saying why
and nothing left behind; and what a restore does on a hub that lacks the backup's users."""

import gzip
import io
import json
import tarfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django_tenants.utils import schema_exists

from apps.identity.models import Membership, User
from apps.tenancy import backup as backups
from apps.tenancy.models import Domain, Tenant
from tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db
NEW = "alpha-copy"


@pytest.fixture
def alpha_backup(tenant_a, tmp_path) -> Path:
    path = tmp_path / "alpha.tar.gz"
    call_command("backup_tenant", tenant_a.slug, "--output", str(path), stdout=StringIO())
    return path


def members_of(path: Path) -> list[tuple[tarfile.TarInfo, bytes]]:
    with tarfile.open(path, "r:gz") as tar:
        return [(member, tar.extractfile(member).read() if member.isfile() else b"") for member in tar]


def write(target: Path, members: list[tuple[tarfile.TarInfo, bytes]]) -> Path:
    with tarfile.open(target, "w:gz") as tar:
        for member, data in members:
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data) if member.isfile() else None)
    return target


def entry(name: str, data: bytes = b"") -> tuple[tarfile.TarInfo, bytes]:
    return tarfile.TarInfo(name), data


def rewritten(path: Path, target: Path, *, manifest=None, public=None, drop=(), add=()) -> Path:
    """A copy of the backup with its JSON members changed, members dropped or added at the end."""
    out = []
    for member, data in members_of(path):
        if member.name in drop:
            continue
        if member.name == "manifest.json" and manifest:
            doc = json.loads(data)
            manifest(doc)
            data = json.dumps(doc).encode()
        if member.name == "public.json" and public:
            doc = json.loads(data)
            public(doc)
            data = json.dumps(doc).encode()
        out.append((member, data))
    return write(target, out + list(add))


def refused(path: Path, *args) -> str:
    with pytest.raises(CommandError) as exc:
        call_command("restore_tenant", str(path), *args, stdout=StringIO())
    message = str(exc.value)
    assert "\n" not in message
    return message


def nothing_left(slug=NEW):
    assert not Tenant.objects.filter(slug=slug).exists()
    assert not schema_exists(f"t_{slug.replace('-', '_')}")


# --- Files that are not (whole) backups ---------------------------------------------------------


def test_files_that_are_not_backups_are_named_as_such(tmp_path):
    empty = write(tmp_path / "empty.tar.gz", [])
    (folder_member := tarfile.TarInfo("schema")).type = tarfile.DIRTYPE
    with_folder = write(tmp_path / "dir.tar.gz", [(folder_member, b"")])
    not_json = write(tmp_path / "notjson.tar.gz", [entry("manifest.json", b"{not json")])
    assert "is not a tenant backup (it is empty)." in refused(empty, "--slug", NEW)
    assert "is not a tenant backup (unexpected entry schema)." in refused(with_folder, "--slug", NEW)
    assert "is not a tenant backup (manifest.json is not JSON)." in refused(not_json, "--slug", NEW)
    nothing_left()


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda m: m.update(format_version=2), "has backup format version 2; this hub reads version 1."),
        (lambda m: m.pop("tables"), "is not a tenant backup (the manifest lacks tables)."),
    ],
)
def test_a_manifest_of_another_format_is_refused(alpha_backup, tmp_path, change, message):
    assert message in refused(rewritten(alpha_backup, tmp_path / "m.tar.gz", manifest=change), "--slug", NEW)
    nothing_left()


def test_a_backup_without_its_public_rows_is_refused(alpha_backup, tmp_path):
    names = [m.name for m, _ in members_of(alpha_backup)]
    only_manifest = rewritten(alpha_backup, tmp_path / "p.tar.gz", drop=names[1:])
    assert "is not a tenant backup (public.json missing)." in refused(only_manifest, "--slug", NEW)
    nothing_left()


def test_a_backup_missing_a_tables_data_is_truncated(alpha_backup, tmp_path):
    truncated = rewritten(alpha_backup, tmp_path / "t.tar.gz", drop=["schema/auditlog_logentry.copy"])
    assert "is truncated: no data for auditlog_logentry." in refused(truncated, "--slug", NEW)
    nothing_left()


def test_an_unexpected_table_file_is_refused(alpha_backup, tmp_path):
    extra = rewritten(alpha_backup, tmp_path / "x.tar.gz", add=[entry("schema/intruder.copy", b"1\n")])
    assert "is not a tenant backup (unexpected entry schema/intruder.copy)." in refused(extra, "--slug", NEW)
    nothing_left()


# --- Backups whose schema does not fit this hub ---------------------------------------------------


def test_a_table_this_hub_does_not_have_is_refused(alpha_backup, tmp_path):
    def add_table(manifest):
        manifest["tables"]["legacy_things"] = {"columns": ["id"], "rows": 0, "sequences": {}}

    path = rewritten(alpha_backup, tmp_path / "l.tar.gz", manifest=add_table)
    assert "The backup's table legacy_things does not exist in a new tenant schema." in refused(path, "--slug", NEW)
    nothing_left()


def test_a_table_with_other_columns_is_refused(alpha_backup, tmp_path):
    def add_column(manifest):
        manifest["tables"]["events_event"]["columns"].append("legacy_column")

    path = rewritten(alpha_backup, tmp_path / "c.tar.gz", manifest=add_column)
    message = refused(path, "--slug", NEW)
    assert "The columns of events_event in the backup differ from a new tenant schema's." in message
    nothing_left()


def test_migrations_both_ahead_and_behind_are_named(alpha_backup, tmp_path):
    def swap(manifest):
        manifest["migrations"].remove(max(m for m in manifest["migrations"] if m[0] == "events"))
        manifest["migrations"].append(["events", "9999_elsewhere"])

    path = rewritten(alpha_backup, tmp_path / "s.tar.gz", manifest=swap)
    message = refused(path, "--slug", NEW)
    assert "The backup's migrations differ from this hub's: it has events.9999_elsewhere that the code lacks" in message
    nothing_left()


def test_public_rows_of_a_model_this_hub_lacks_are_refused(alpha_backup, tmp_path):
    def add_part(public):
        public["parts"]["billing.Invoice"] = [{"model": "billing.invoice", "pk": 1, "fields": {}}]

    path = rewritten(alpha_backup, tmp_path / "b.tar.gz", public=add_part)
    assert "The backup has billing.Invoice rows, which this hub does not know." in refused(path, "--slug", NEW)
    nothing_left()


def test_the_public_schema_is_neither_backed_up_nor_replaced(alpha_backup, tmp_path):
    public = Tenant.objects.get(schema_name="public")
    with pytest.raises(backups.BackupError, match="The public schema is not a tenant"):
        backups.tenant_backup(tenant=public, output=tmp_path / "public.tar.gz")
    assert "The public schema cannot be replaced." in refused(alpha_backup, "--slug", "public", "--replace")
    assert Tenant.objects.filter(schema_name="public").exists()


# --- Restoring on a hub that lacks the backup's users ------------------------------------------


def test_users_missing_here_are_created_members_able_to_log_in_others_not(alpha_backup, tmp_path):
    def elsewhere(public):
        for user in public["users"]:
            user["email"] = "moved-" + user["email"]
        public["users"].append(
            {"id": 999999, "email": "historic@example.com", "full_name": "Old Actor", "is_active": True,
             "date_joined": "2020-01-01T00:00:00Z", "password": None}
        )  # fmt: skip
        public["parts"]["tenancy.Domain"] = []  # and no domain at all: the restore gives it its address

    path = rewritten(alpha_backup, tmp_path / "e.tar.gz", public=elsewhere)
    out = StringIO()
    call_command("restore_tenant", str(path), "--slug", NEW, stdout=out)
    assert "note: user moved-owner@alpha.example.com created" in out.getvalue()
    assert "note: user historic@example.com created" in out.getvalue()
    tenant = Tenant.objects.get(slug=NEW)
    owner = Membership.objects.get(tenant=tenant, role="owner").user
    assert owner.email == "moved-owner@alpha.example.com"
    assert owner.check_password(PASSWORD) and owner.is_active  # a member's password hash travels
    historic = User.objects.get(email="historic@example.com")
    assert not historic.is_active and not historic.has_usable_password()
    assert Domain.objects.get(tenant=tenant, is_primary=True).domain == f"{NEW}.localhost"


# --- Details an operator sees ----------------------------------------------------------------------


def test_the_hub_version_comes_from_the_environment_or_git(monkeypatch, settings):
    monkeypatch.setenv("HUB_VERSION", "2026.11-rc1")
    assert backups.hub_version() == "2026.11-rc1"
    monkeypatch.delenv("HUB_VERSION")
    settings.BASE_DIR = Path("/nonexistent-folder")  # git cannot run there
    assert backups.hub_version() == "unknown"


def test_progress_on_a_terminal_redraws_one_line_per_table():
    class Terminal(StringIO):
        def isatty(self):
            return True

    screen = Terminal()
    progress = backups.Progress(screen, width=10)
    progress.start("events_event", 200)
    progress.advance(100)
    progress.finish("2 rows")
    frames = screen.getvalue().split("\r")[1:]
    assert "[-----" in frames[0] and "0%" in frames[0]
    assert "[#####-----]  50%" in frames[1]
    assert frames[-1].endswith("[##########] 100%  2 rows\n")


def test_a_backup_cut_short_inside_its_public_rows_is_named_damaged(alpha_backup, tmp_path):
    raw = gzip.decompress(alpha_backup.read_bytes())
    cut = raw.index(b"public.json") + 512 + 40  # past public.json's header, inside its data
    damaged = tmp_path / "cut.tar.gz"
    damaged.write_bytes(gzip.compress(raw[:cut]))
    assert "cut.tar.gz is damaged (unexpected end of data in public.json)." in refused(damaged, "--slug", NEW)
    nothing_left()


def test_a_schema_without_migration_state_is_not_backed_up(tenant_a, tmp_path):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE t_alpha.django_migrations")  # rolled back with the test
    message = one_line_backup_error(tenant_a, tmp_path / "alpha.tar.gz")
    assert message == "The schema t_alpha of alpha has no migration state."
    assert not (tmp_path / "alpha.tar.gz").exists()


def one_line_backup_error(tenant, output: Path) -> str:
    with pytest.raises(CommandError) as exc:
        call_command("backup_tenant", tenant.slug, "--output", str(output), stdout=StringIO())
    return str(exc.value)


def test_an_app_this_hub_lacks_is_ignored_when_the_backup_has_no_rows_of_it(alpha_backup, tmp_path):
    def add_empty_part(public):
        public["parts"]["billing.Invoice"] = []

    call_command("restore_tenant", str(rewritten(alpha_backup, tmp_path / "e.tar.gz", public=add_empty_part)),
                 "--slug", NEW, stdout=StringIO())  # fmt: skip
    assert Tenant.objects.filter(slug=NEW).exists()
