"""Backing up one tenant to a file, and restoring it as the same tenant or a new one.

A backup is a gzip'd tar whose members come in this order, so a restore reads it as a stream:

- ``manifest.json``: format and version, hub version, creation time, slug, schema, base host
  name, the schema's migration state (its ``django_migrations`` rows) and row counts;
- ``public.json``: the tenant's rows in the public schema (the tenant row and every backup part
  the apps registered: domains, memberships, pending invitations, security/SSO settings) and the
  users they, or the schema's tables, reference (email, name; the password hash of members);
- ``schema/<table>.copy``: every table of the tenant's schema in PostgreSQL's COPY text format.

A backup reads everything in one REPEATABLE READ snapshot. A restore runs in one transaction:
it provisions the tenant through tenant_create (an empty schema at the code's migrations),
refuses if the backup's migration state differs, replaces every table's rows (content types
and migration rows included: the audit log refers to content type ids) with the backup's
through COPY, moves every sequence past the restored ids, and recreates the public rows with
users matched by email. Any failure leaves nothing behind.
"""

import io
import json
import logging
import os
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path
from typing import IO

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django_tenants.utils import schema_context
from psycopg import sql

from apps.core.registry import BackupPart, registry

from .models import Domain, Tenant
from .routing import routing_changed
from .services import tenant_create, tenant_delete

log = logging.getLogger(__name__)
FORMAT = "reactdjango-hub-tenant-backup"
FORMAT_VERSION = 1
CHUNK = 1 << 16


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message is one line an operator can act on."""


# --- The tenant's rows in the public schema ----------------------------------------------------


def public_parts() -> list[BackupPart]:
    """The public rows that belong to a tenant's backup, as the apps registered them."""
    return [part for part in registry["backup_parts"].values() if not part.skip_reason]


def public_not_backed_up() -> dict[str, str]:
    """Public models that refer to a tenant but are deliberately not backed up, and why.
    tests/tenancy/test_backup.py fails when such a model is registered neither way."""
    return {part.model: part.skip_reason for part in registry["backup_parts"].values() if part.skip_reason}


def _model_class(part: BackupPart) -> type[models.Model] | None:
    """The part's model, or None when its app is not installed (the part is skipped)."""
    try:
        return apps.get_model(part.model)
    except LookupError:
        return None


def adjust_domain(domain: Domain, context: "RestoreContext") -> Domain | None:
    old_default = f"{context.manifest['slug']}.{context.manifest['base_hostname']}"
    if domain.domain == old_default:
        domain.domain = f"{context.tenant.slug}.{settings.HUB_BASE_HOSTNAME}"
    holder = Domain.objects.filter(domain=domain.domain).exclude(tenant=context.tenant).first()
    if holder is not None:
        context.notes.append(f"domain {domain.domain} not restored: it is served by {holder.tenant.slug}")
        return None
    return domain


# The fields of a user kept in a backup. Operator flags (is_staff, is_superuser) never are.
USER_FIELDS = ("email", "full_name", "is_active", "date_joined")


# --- Progress -----------------------------------------------------------------------------------


class Progress:
    """One bar per table: ``  auditlog_logentry        [##########] 100%  1,234 rows``.

    On a terminal the bar is redrawn as data moves; elsewhere (logs, tests) only the finished
    line is written, once per table.
    """

    def __init__(self, stream: IO[str] | None, width: int = 24):
        self.stream = stream
        self.width = width
        self.tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
        self.label = ""
        self.total = 0
        self.done = 0

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self.done = label, max(total, 0), 0
        self._draw(final=False)

    def advance(self, amount: int) -> None:
        self.done += amount
        if self.tty:
            self._draw(final=False)

    def finish(self, text: str) -> None:
        self.done = self.total
        self._draw(final=True, text=text)

    def _draw(self, *, final: bool, text: str = "") -> None:
        if self.stream is None or (not final and not self.tty):
            return
        fraction = 1.0 if final or not self.total else min(self.done / self.total, 0.99)
        filled = int(round(fraction * self.width))
        bar = "#" * filled + "-" * (self.width - filled)
        line = f"  {self.label:<32} [{bar}] {fraction:4.0%}  {text}"
        self.stream.write(("\r" + line + ("\n" if final else "")) if self.tty else line + "\n")
        self.stream.flush()


# --- Reading a schema's catalogue ----------------------------------------------------------------


@dataclass
class TableInfo:
    name: str
    columns: list[str]
    sequences: dict[str, str] = field(default_factory=dict)  # column → qualified sequence name
    user_columns: list[str] = field(default_factory=list)  # columns with a FK to the user table
    tenant_columns: list[str] = field(default_factory=list)  # columns with a FK to the tenant table


def _schema_tables(cursor, schema: str) -> dict[str, TableInfo]:
    cursor.execute(
        """
        SELECT c.relname, a.attname, pg_get_serial_sequence(format('%%I.%%I', n.nspname, c.relname), a.attname)
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
        WHERE n.nspname = %s AND c.relkind = 'r'
        ORDER BY c.relname, a.attnum
        """,
        [schema],
    )
    tables: dict[str, TableInfo] = {}
    for table, column, sequence in cursor.fetchall():
        info = tables.setdefault(table, TableInfo(table, []))
        info.columns.append(column)
        if sequence:
            info.sequences[column] = sequence
    user_table = get_user_model()._meta.db_table
    cursor.execute(
        """
        SELECT c.relname, a.attname, rn.nspname, r.relname
        FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = k.conkey[1]
        JOIN pg_class r ON r.oid = k.confrelid
        JOIN pg_namespace rn ON rn.oid = r.relnamespace
        WHERE k.contype = 'f' AND n.nspname = %s AND cardinality(k.conkey) = 1 AND rn.nspname = 'public'
          AND r.relname IN (%s, %s)
        """,
        [schema, user_table, Tenant._meta.db_table],
    )
    for table, column, _, target in cursor.fetchall():
        if table in tables:
            (tables[table].user_columns if target == user_table else tables[table].tenant_columns).append(column)
    return tables


def _migrations(cursor, schema: str) -> set[tuple[str, str]]:
    cursor.execute(sql.SQL("SELECT app, name FROM {}.django_migrations").format(sql.Identifier(schema)))
    return {(app, name) for app, name in cursor.fetchall()}


def _qualified(schema: str, table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


def _columns(columns: list[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(c) for c in columns)


def hub_version() -> str:
    """HUB_VERSION from the environment (set by the image build), else the git commit, else unknown."""
    version = os.environ.get("HUB_VERSION") or getattr(settings, "HUB_VERSION", "")
    if version:
        return version
    try:
        result = subprocess.run(
            ["git", "describe", "--always", "--dirty"],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return result.stdout.strip() or "unknown"


# --- Backup -------------------------------------------------------------------------------------


class _Encoder(DjangoJSONEncoder):
    """DjangoJSONEncoder, but times keep their microseconds (it cuts them to milliseconds)."""

    def default(self, o):
        if isinstance(o, datetime | time):
            return o.isoformat()
        return super().default(o)


def _serialize(queryset) -> list[dict]:
    return serializers.serialize("python", queryset)


def tenant_backup(*, tenant: Tenant, output: Path, progress: Progress | None = None) -> dict:
    """Writes the tenant to `output` (a .tar.gz) and returns the manifest."""
    if tenant.is_public:
        raise BackupError("The public schema is not a tenant; back up the database instead.")
    progress = progress or Progress(None)
    schema = tenant.schema_name
    output = Path(output)
    with tempfile.TemporaryDirectory(prefix="hub-backup-") as workdir, transaction.atomic():
        with connection.cursor() as cursor:
            if not _in_outer_atomic():
                # One snapshot for every table and the public rows.
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            tenant = Tenant.objects.get(pk=tenant.pk)  # the row as of the snapshot
            tables = _schema_tables(cursor, schema)
            if "django_migrations" not in tables:
                raise BackupError(f"The schema {schema} of {tenant.slug} has no migration state.")
            migrations = sorted(_migrations(cursor, schema))
            table_manifest = {}
            user_ids: set[int] = set()
            for name, info in tables.items():
                cursor.execute("SELECT reltuples FROM pg_class WHERE oid = %s::regclass", [f'"{schema}"."{name}"'])
                estimate = int(max(cursor.fetchone()[0], 0))
                progress.start(name, estimate)
                rows = 0
                with open(Path(workdir) / f"{name}.copy", "wb") as out:
                    copy_sql = sql.SQL("COPY {} ({}) TO STDOUT").format(
                        _qualified(schema, name), _columns(info.columns)
                    )
                    with cursor.copy(copy_sql) as copy:
                        for data in copy:
                            out.write(data)
                            lines = bytes(data).count(b"\n")
                            rows += lines
                            progress.advance(lines)
                progress.finish(f"{rows:,} rows")
                sequences = {}
                for column, sequence in info.sequences.items():
                    cursor.execute(sql.SQL("SELECT last_value, is_called FROM {}").format(sql.SQL(sequence)))
                    last_value, is_called = cursor.fetchone()
                    sequences[column] = last_value if is_called else last_value - 1
                for column in info.user_columns:
                    cursor.execute(
                        sql.SQL("SELECT DISTINCT {} FROM {} WHERE {} IS NOT NULL").format(
                            sql.Identifier(column), _qualified(schema, name), sql.Identifier(column)
                        )
                    )
                    user_ids.update(row[0] for row in cursor.fetchall())
                table_manifest[name] = {"columns": info.columns, "rows": rows, "sequences": sequences}

        public, member_ids, public_counts = {}, set(), {}
        for part in public_parts():
            model = _model_class(part)
            if model is None:
                continue
            objects = list(part.rows(model, tenant))
            public[part.model] = _serialize(objects)
            public_counts[part.model] = len(objects)
            for obj in objects:
                for f in model._meta.concrete_fields:
                    if f.is_relation and f.related_model is get_user_model():
                        value = getattr(obj, f.attname)
                        if value is not None:
                            user_ids.add(value)
                            if part.members:
                                member_ids.add(value)
        users = []
        for user in get_user_model().objects.filter(pk__in=user_ids).order_by("pk"):
            entry = {"id": user.pk, **{name: getattr(user, name) for name in USER_FIELDS}}
            # Only members' password hashes travel: others are restored unable to log in.
            entry["password"] = user.password if user.pk in member_ids else None
            users.append(entry)

        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "hub_version": hub_version(),
            "created": datetime.now(UTC).isoformat(),
            "slug": tenant.slug,
            "schema": schema,
            "base_hostname": settings.HUB_BASE_HOSTNAME,
            "migrations": [list(m) for m in migrations],
            "tables": table_manifest,
            "counts": {
                "tables": {name: t["rows"] for name, t in table_manifest.items()},
                "public": public_counts,
                "users": len(users),
            },
        }
        public_doc = {"tenant": _serialize([tenant])[0], "parts": public, "users": users}

        output.parent.mkdir(parents=True, exist_ok=True)
        partial = output.with_name(output.name + ".partial")
        # Readable by its owner only: the file holds password hashes and all the tenant's data.
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
                _add_bytes(tar, "manifest.json", json.dumps(manifest, indent=1, cls=_Encoder).encode())
                _add_bytes(tar, "public.json", json.dumps(public_doc, cls=_Encoder).encode())
                for name in table_manifest:
                    tar.add(Path(workdir) / f"{name}.copy", arcname=f"schema/{name}.copy")
            partial.replace(output)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return manifest


def _in_outer_atomic() -> bool:
    """True when the caller (a test, another service) already opened the transaction."""
    return len(connection.atomic_blocks) > 1


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


# --- Restore ------------------------------------------------------------------------------------


@dataclass
class RestoreContext:
    manifest: dict
    tenant: Tenant
    user_map: dict[int, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass
class RestoreResult:
    tenant: Tenant
    counts: dict
    notes: list[str]


def _members(path: Path) -> Iterator[tuple[tarfile.TarInfo, IO[bytes]]]:
    try:
        tar = tarfile.open(path, "r|gz")
    except FileNotFoundError:
        raise BackupError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise BackupError(f"{path} is a directory, not a backup file.") from None
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise BackupError(f"{path} is not a tenant backup ({_one_line(exc)}).") from None
    with tar:
        try:
            for member in tar:
                if not member.isfile():
                    raise BackupError(f"{path} is not a tenant backup (unexpected entry {member.name}).")
                yield member, tar.extractfile(member)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise BackupError(f"{path} is damaged ({_one_line(exc)}).") from None


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _read_json(path: Path, member: tarfile.TarInfo, stream: IO[bytes], expected: str):
    if member.name != expected:
        raise BackupError(f"{path} is not a tenant backup ({expected} missing).")
    try:
        data = stream.read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise BackupError(f"{path} is damaged ({_one_line(exc)} in {expected}).") from None
    try:
        return json.loads(data)
    except ValueError:
        raise BackupError(f"{path} is not a tenant backup ({expected} is not JSON).") from None


def backup_manifest(path: Path) -> dict:
    """The manifest of a backup file (BackupError when the file is not one)."""
    for member, stream in _members(Path(path)):
        return _check_manifest(Path(path), _read_json(Path(path), member, stream, "manifest.json"))
    raise BackupError(f"{path} is not a tenant backup (it is empty).")


def _check_manifest(path: Path, manifest) -> dict:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a ReactDjango-Hub tenant backup.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{path} has backup format version {manifest.get('format_version')}; "
            f"this hub reads version {FORMAT_VERSION}."
        )
    for key in ("slug", "schema", "base_hostname", "migrations", "tables"):
        if key not in manifest:
            raise BackupError(f"{path} is not a tenant backup (the manifest lacks {key}).")
    return manifest


def _migration_mismatch(backup: set, current: set, hub_version_of_backup: str) -> str | None:
    ahead, behind = sorted(backup - current), sorted(current - backup)

    def names(items):
        shown = ", ".join(f"{app}.{name}" for app, name in items[:3])
        return shown + (f" and {len(items) - 3} more" if len(items) > 3 else "")

    if ahead and not behind:
        return (
            f"The backup is ahead of this hub: it has {len(ahead)} migration(s) the code does not "
            f"({names(ahead)}). Deploy the code it was made with ({hub_version_of_backup}) or later, "
            "run migrate_schemas, then restore."
        )
    if behind and not ahead:
        return (
            f"The backup is behind this hub: it lacks {len(behind)} migration(s) ({names(behind)}). "
            f"Restore it on the hub version it was made with ({hub_version_of_backup}), run "
            "migrate_schemas there, and back it up again."
        )
    if ahead or behind:
        return (
            f"The backup's migrations differ from this hub's: it has {names(ahead)} that the code lacks "
            f"and lacks {names(behind)}."
        )
    return None


def tenant_restore(
    *, path: Path, slug: str | None = None, replace: bool = False, progress: Progress | None = None
) -> RestoreResult:
    """Restores a backup as the tenant `slug` (default: the backup's own), all or nothing.

    Refuses when the slug is taken unless `replace` (the existing tenant is then deleted in the
    same transaction), and when the backup's migration state differs from the code's.
    """
    path = Path(path)
    progress = progress or Progress(None)
    members = _members(path)
    try:
        member, stream = next(members)
    except StopIteration:
        raise BackupError(f"{path} is not a tenant backup (it is empty).") from None
    manifest = _check_manifest(path, _read_json(path, member, stream, "manifest.json"))
    try:
        member, stream = next(members)
    except StopIteration:
        raise BackupError(f"{path} is not a tenant backup (public.json missing).") from None
    public = _read_json(path, member, stream, "public.json")

    slug = (slug or manifest["slug"]).strip()
    existing = Tenant.objects.filter(slug=slug).first()
    if existing is not None and existing.is_public:
        raise BackupError("The public schema cannot be replaced.")
    if existing is not None and not replace:
        raise BackupError(f"A tenant with the slug “{slug}” exists; pass --replace to overwrite it.")

    tenant_fields = public["tenant"]["fields"]
    with transaction.atomic():
        if existing is not None:
            tenant_delete(tenant=existing)
        try:
            tenant = tenant_create(name=tenant_fields["name"], slug=slug, plan=tenant_fields["plan"])
        except ValidationError as exc:
            raise BackupError("; ".join(exc.messages)) from None
        context = RestoreContext(manifest=manifest, tenant=tenant)
        schema = tenant.schema_name
        with connection.cursor() as cursor:
            mismatch = _migration_mismatch(
                {tuple(m) for m in manifest["migrations"]}, _migrations(cursor, schema), manifest.get("hub_version")
            )
            if mismatch:
                raise BackupError(mismatch)
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            tables = _schema_tables(cursor, schema)
            for name, entry in manifest["tables"].items():
                if name not in tables:
                    raise BackupError(f"The backup's table {name} does not exist in a new tenant schema.")
                if entry["columns"] != tables[name].columns:
                    raise BackupError(f"The columns of {name} in the backup differ from a new tenant schema's.")
            # Replace whatever provisioning put in the new schema with the backup's rows. Like
            # pg_restore, load the data first and build the indexes and foreign keys after it:
            # one pass per index and one query per key instead of a check for every row.
            cursor.execute(
                sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(_qualified(schema, t) for t in sorted(tables)))
            )
            rebuild = _drop_indexes_and_foreign_keys(cursor, schema)

            _restore_users(public["users"], context)

            restored_tables = {}
            for member, stream in members:
                name = member.name.removeprefix("schema/").removesuffix(".copy")
                if not member.name.startswith("schema/") or name not in manifest["tables"]:
                    raise BackupError(f"{path} is not a tenant backup (unexpected entry {member.name}).")
                entry = manifest["tables"][name]
                progress.start(name, member.size)
                copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    _qualified(schema, name), _columns(entry["columns"])
                )
                try:
                    with cursor.copy(copy_sql) as copy:
                        while data := stream.read(CHUNK):
                            copy.write(data)
                            progress.advance(len(data))
                except (tarfile.TarError, EOFError, zlib.error) as exc:
                    raise BackupError(f"{path} is damaged ({_one_line(exc)} in {member.name}).") from None
                restored_tables[name] = cursor.rowcount
                progress.finish(f"{restored_tables[name]:,} rows")
            missing = set(manifest["tables"]) - set(restored_tables)
            if missing:
                raise BackupError(f"{path} is truncated: no data for {', '.join(sorted(missing))}.")

            _remap_schema_references(cursor, schema, tables, context)
            progress.start("indexes and foreign keys", len(rebuild))
            for statement in rebuild:
                cursor.execute(statement)
                progress.advance(1)
            progress.finish(f"{len(rebuild)} rebuilt")
            for name, info in tables.items():
                saved = manifest["tables"].get(name, {}).get("sequences", {})
                for column, sequence in info.sequences.items():
                    cursor.execute(
                        sql.SQL("SELECT setval(%s, greatest(coalesce(max({}), 0), %s, 1), true) FROM {}").format(
                            sql.Identifier(column), _qualified(schema, name)
                        ),
                        [sequence, int(saved.get(column) or 0)],
                    )

        _restore_tenant_row(tenant, tenant_fields)
        public_counts = _restore_public_rows(public["parts"], context)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # Check every deferred reference now.

    ContentType.objects.clear_cache()
    routing_changed()
    _drop_cached(schema)
    tenant.refresh_from_db()
    return RestoreResult(
        tenant=tenant,
        counts={"tables": restored_tables, "public": public_counts, "users": len(context.user_map)},
        notes=context.notes,
    )


def _drop_cached(schema: str) -> None:
    """Cache entries are keyed by schema; a replaced tenant's must not outlive it."""
    try:
        with schema_context(schema):
            cache.delete_pattern("*")
    except Exception:  # Redis down: entries expire on their own; the restore stands.
        log.warning("could not drop the cache entries of %s", schema, exc_info=True)


def _restore_users(users: list[dict], context: RestoreContext) -> None:
    """Users are shared: one with the same email is reused as it is; a missing one is created."""
    User = get_user_model()
    for entry in users:
        user = User.objects.filter(email__iexact=entry["email"]).first()
        if user is None:
            user = User(email=entry["email"].lower(), full_name=entry.get("full_name") or "")
            user.date_joined = User._meta.get_field("date_joined").to_python(entry["date_joined"])
            if entry.get("password"):
                user.password = entry["password"]
                user.is_active = bool(entry.get("is_active", True))
            else:  # Referred to by the tenant's history only: kept as a name, cannot log in.
                user.set_unusable_password()
                user.is_active = False
            user.save()
            context.notes.append(f"user {user.email} created")
        context.user_map[int(entry["id"])] = user.pk


def _drop_indexes_and_foreign_keys(cursor, schema: str) -> list[str]:
    """Drops the schema's foreign keys and plain indexes; returns the statements that rebuild them.

    Primary keys and unique constraints stay: a duplicate row in a backup then fails at once.
    """
    cursor.execute(
        """
        SELECT format('ALTER TABLE %%I.%%I DROP CONSTRAINT %%I', n.nspname, c.relname, k.conname),
               format('ALTER TABLE %%I.%%I ADD CONSTRAINT %%I %%s', n.nspname, c.relname, k.conname,
                      pg_get_constraintdef(k.oid))
        FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND k.contype = 'f'
        ORDER BY c.relname, k.conname
        """,
        [schema],
    )
    foreign_keys = cursor.fetchall()
    cursor.execute(
        """
        SELECT format('DROP INDEX %%I.%%I', n.nspname, i.relname), pg_get_indexdef(i.oid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class c ON c.oid = x.indrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND c.relkind = 'r'
          AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid AND k.contype IN ('p', 'u', 'x'))
        ORDER BY c.relname, i.relname
        """,
        [schema],
    )
    indexes = cursor.fetchall()
    for drop, _ in foreign_keys + indexes:
        cursor.execute(drop)
    return [create for _, create in indexes] + [create for _, create in foreign_keys]


def _remap_schema_references(cursor, schema: str, tables: dict[str, TableInfo], context: RestoreContext) -> None:
    """Points the restored rows at the new tenant row and at the users' ids in this database."""
    pairs = [(old, new) for old, new in context.user_map.items() if old != new]
    if pairs:
        cursor.execute("CREATE TEMPORARY TABLE hub_restore_user_map (old_id bigint PRIMARY KEY, new_id bigint)")
        with cursor.copy("COPY hub_restore_user_map (old_id, new_id) FROM STDIN") as copy:
            for pair in pairs:
                copy.write_row(pair)
    for name, info in tables.items():
        for column in info.user_columns if pairs else []:
            cursor.execute(
                sql.SQL("UPDATE {t} SET {c} = m.new_id FROM hub_restore_user_map m WHERE {t}.{c} = m.old_id").format(
                    t=_qualified(schema, name), c=sql.Identifier(column)
                )
            )
        for column in info.tenant_columns:
            cursor.execute(
                sql.SQL("UPDATE {} SET {} = %s WHERE {} IS NOT NULL").format(
                    _qualified(schema, name), sql.Identifier(column), sql.Identifier(column)
                ),
                [context.tenant.pk],
            )
    if pairs:
        cursor.execute("DROP TABLE hub_restore_user_map")


# Fields of the tenant row a restore takes from the new tenant, not from the backup.
_TENANT_OWN_FIELDS = {"id", "slug", "schema_name", "name", "plan"}


def _restore_tenant_row(tenant: Tenant, fields: dict) -> None:
    values = {}
    for f in Tenant._meta.concrete_fields:
        if f.name in _TENANT_OWN_FIELDS or f.is_relation or f.name not in fields:
            continue
        values[f.attname] = f.to_python(fields[f.name])
    if values:
        Tenant.objects.filter(pk=tenant.pk).update(**values)


def _restore_public_rows(parts: dict, context: RestoreContext) -> dict[str, int]:
    User = get_user_model()
    counts = {}
    known = {part.model: part for part in public_parts()}
    for label, rows in parts.items():
        part = known.get(label)
        model = _model_class(part) if part else None
        if model is None:
            if rows:
                raise BackupError(f"The backup has {label} rows, which this hub does not know.")
            continue
        part.rows(model, context.tenant).delete()  # What provisioning made for the new tenant.
        counts[label] = 0
        for deserialized in serializers.deserialize("python", rows):
            obj = deserialized.object
            original = {f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields}
            obj.pk = None
            for f in model._meta.concrete_fields:
                if not f.is_relation or f.primary_key:
                    continue
                value = getattr(obj, f.attname)
                if f.related_model is Tenant:
                    setattr(obj, f.attname, context.tenant.pk)
                elif f.related_model is User and value is not None:
                    setattr(obj, f.attname, context.user_map.get(value))
            if part.adjust is not None:
                obj = part.adjust(obj, context)
                if obj is None:
                    continue
            obj._state.adding = True
            obj.save(force_insert=True)
            # auto_now(_add) fields were just set to now: put the backup's times back.
            stamped = {
                f.attname: original[f.attname]
                for f in model._meta.concrete_fields
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
            }
            if stamped:
                model.objects.filter(pk=obj.pk).update(**stamped)
            counts[label] += 1
    if not Domain.objects.filter(tenant=context.tenant, is_primary=True).exists():
        Domain.objects.update_or_create(
            domain=f"{context.tenant.slug}.{settings.HUB_BASE_HOSTNAME}",
            defaults={"tenant": context.tenant, "is_primary": True},
        )
    return counts
