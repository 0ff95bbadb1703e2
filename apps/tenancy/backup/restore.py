"""Restoring a backup as the same tenant or a new one, in one transaction: any failure leaves
nothing behind."""

import logging
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import connection, transaction
from django_tenants.utils import schema_context
from psycopg import sql

from ..models import Domain, Tenant, tenant_restored
from ..routing import routing_changed
from ..services import tenant_create, tenant_delete
from .archive import CHUNK, BackupError, check_manifest, members, one_line, read_json
from .catalogue import TableInfo, column_list, qualified, schema_migrations, schema_tables
from .parts import RestoreContext, file_parts, model_class, part_store, public_parts, schema_preparers
from .progress import Progress

log = logging.getLogger(__name__)


@dataclass
class RestoreResult:
    tenant: Tenant
    counts: dict
    notes: list[str]


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
    entries = members(path)
    try:
        member, stream = next(entries)
    except StopIteration:
        raise BackupError(f"{path} is not a tenant backup (it is empty).") from None
    manifest = check_manifest(path, read_json(path, member, stream, "manifest.json"))
    try:
        member, stream = next(entries)
    except StopIteration:
        raise BackupError(f"{path} is not a tenant backup (public.json missing).") from None
    public = read_json(path, member, stream, "public.json")

    slug = (slug or manifest["slug"]).strip()
    existing = Tenant.objects.filter(slug=slug).first()
    if existing is not None and existing.is_public:
        raise BackupError("The public schema cannot be replaced.")
    if existing is not None and not replace:
        raise BackupError(f"A tenant with the slug “{slug}” exists; pass --replace to overwrite it.")

    written: list[tuple] = []  # (storage, name) of the files written: removed on failure
    try:
        return _restore(path, manifest, public, entries, slug, existing, progress, written)
    except BaseException:
        for store, name in written:
            store.delete(name)
        raise


def _restore(path, manifest, public, entries, slug, existing, progress, written) -> RestoreResult:
    tenant_fields = public["tenant"]["fields"]
    with transaction.atomic():
        if existing is not None:
            tenant_delete(tenant=existing)
        try:
            tenant = tenant_create(
                name=tenant_fields["name"],
                slug=slug,
                plan=tenant_fields["plan"],
                region=tenant_fields.get("region", ""),
            )
        except ValidationError as exc:
            raise BackupError("; ".join(exc.messages)) from None
        context = RestoreContext(manifest=manifest, tenant=tenant)
        schema = tenant.schema_name
        # Before the cursor below is opened: its search path must be the caller's, as the
        # statements rebuilding the indexes and foreign keys name tables in it unqualified.
        _schema_prepare(schema, manifest["tables"])
        with connection.cursor() as cursor:
            mismatch = _migration_mismatch(
                {tuple(m) for m in manifest["migrations"]},
                schema_migrations(cursor, schema),
                manifest.get("hub_version"),
            )
            if mismatch:
                raise BackupError(mismatch)
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            tables = schema_tables(cursor, schema)
            for name, entry in manifest["tables"].items():
                if name not in tables:
                    raise BackupError(f"The backup's table {name} does not exist in a new tenant schema.")
                if entry["columns"] != tables[name].columns:
                    raise BackupError(f"The columns of {name} in the backup differ from a new tenant schema's.")
            # Replace whatever provisioning put in the new schema with the backup's rows. Like
            # pg_restore, load the data first and build the indexes and foreign keys after it:
            # one pass per index and one query per key instead of a check for every row.
            triggered = _user_triggers_off(cursor, schema)
            cursor.execute(
                sql.SQL("TRUNCATE {}").format(sql.SQL(", ").join(qualified(schema, t) for t in sorted(tables)))
            )
            rebuild = _drop_indexes_and_foreign_keys(cursor, schema)

            _restore_users(public["users"], context)

            restored_tables, restored_files = {}, dict.fromkeys(manifest.get("files", {}), 0)
            for member, stream in entries:
                if member.name.startswith("files/") and member.name.split("/")[1] in restored_files:
                    _restore_file(path, member, stream, schema, written)
                    restored_files[member.name.split("/")[1]] += 1
                    continue
                name = member.name.removeprefix("schema/").removesuffix(".copy")
                if not member.name.startswith("schema/") or name not in manifest["tables"]:
                    raise BackupError(f"{path} is not a tenant backup (unexpected entry {member.name}).")
                entry = manifest["tables"][name]
                progress.start(name, member.size)
                copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    qualified(schema, name), column_list(entry["columns"])
                )
                try:
                    with cursor.copy(copy_sql) as copy:
                        while data := stream.read(CHUNK):
                            copy.write(data)
                            progress.advance(len(data))
                except (tarfile.TarError, EOFError, zlib.error) as exc:
                    raise BackupError(f"{path} is damaged ({one_line(exc)} in {member.name}).") from None
                restored_tables[name] = cursor.rowcount
                progress.finish(f"{restored_tables[name]:,} rows")
            missing = set(manifest["tables"]) - set(restored_tables)
            if missing:
                raise BackupError(f"{path} is truncated: no data for {', '.join(sorted(missing))}.")
            for label, count in manifest.get("files", {}).items():
                if restored_files[label] != count:
                    raise BackupError(f"{path} is truncated: {restored_files[label]} of {count} files of {label}.")

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
                            sql.Identifier(column), qualified(schema, name)
                        ),
                        [sequence, int(saved.get(column) or 0)],
                    )
            for name in triggered:
                cursor.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(qualified(schema, name)))

        _restore_tenant_row(tenant, tenant_fields)
        public_counts = _restore_public_rows(public["parts"], context)
        people = get_user_model().objects.filter(pk__in=context.user_map.values())
        made_at = datetime.fromisoformat(manifest["created"]) if manifest.get("created") else None
        replies = tenant_restored.send(
            sender=Tenant, tenant=tenant, slugs={manifest["slug"], slug}, users=people, made_at=made_at
        )
        context.notes.extend(note for _, note in replies if note)
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # Check every deferred reference now.

    ContentType.objects.clear_cache()
    routing_changed()
    _drop_cached(schema)
    tenant.refresh_from_db()
    return RestoreResult(
        tenant=tenant,
        counts={
            "tables": restored_tables,
            "public": public_counts,
            "users": len(context.user_map),
            "files": restored_files,
        },  # fmt: skip
        notes=context.notes,
    )


def _restore_file(path: Path, member: tarfile.TarInfo, stream, schema: str, written: list) -> None:
    """A file of a file part (BackupPart.files) written under the new tenant's prefix, in the
    part's storage. A file already there under that name is kept: the parts' names say what the
    bytes are (content's blobs are named by their SHA-256), and a failed restore must not take
    away a file of the tenant it was to replace. Only files this restore wrote are `written`."""
    _, label, name = member.name.split("/", 2)
    part = file_parts().get(label)
    if part is None or not name or any(piece in ("", ".", "..") for piece in name.split("/")):
        raise BackupError(f"{path} is not a tenant backup (unexpected entry {member.name}).")
    store, target = part_store(part, schema), f"{schema}/{name}"
    if store.exists(target):
        return
    with tempfile.TemporaryFile(prefix="hub-restore-") as copy:
        try:
            while data := stream.read(CHUNK):
                copy.write(data)
        except (tarfile.TarError, EOFError, zlib.error) as exc:
            raise BackupError(f"{path} is damaged ({one_line(exc)} in {member.name}).") from None
        copy.seek(0)
        saved = store.save(target, File(copy))
    written.append((store, saved))


def _schema_prepare(schema: str, backed_up) -> None:
    """When the backup holds tables a new schema lacks, lets the apps make theirs outside
    migrations (BackupPart.prepare: a partitioned table); what is still missing is refused after."""
    with schema_context(schema):
        with connection.cursor() as cursor:
            if set(backed_up) <= set(schema_tables(cursor, schema)):
                return
        for prepare in schema_preparers():
            prepare()


def _drop_cached(schema: str) -> None:
    """Cache entries are keyed by schema; a replaced tenant's must not outlive it."""
    try:
        with schema_context(schema):
            cache.delete_pattern("*")
    except Exception:  # Redis down: entries expire on their own; the restore stands.
        log.warning("could not drop the cache entries of %s", schema, exc_info=True)


def _user_triggers_off(cursor, schema: str) -> list[str]:
    """Takes the schema's own triggers off its tables while the backup loads (the audit trail's
    refuse TRUNCATE and UPDATE, and would seal the entries again: the backup brings their seals);
    returns the tables to turn them back on for. A trigger's pending deferred work (an entry
    written while the tenant was provisioned) is done first: PostgreSQL alters no table with some."""
    cursor.execute(
        "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = %s AND NOT t.tgisinternal ORDER BY 1",
        [schema],
    )
    names = [row[0] for row in cursor.fetchall()]
    cursor.execute(
        "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n "
        "ON n.oid = c.relnamespace WHERE n.nspname = %s AND NOT t.tgisinternal AND t.tgdeferrable",
        [schema],
    )
    names_deferred = [sql.Identifier(schema, row[0]) for row in cursor.fetchall()]
    deferred = sql.SQL(", ").join(names_deferred)
    if names_deferred:
        cursor.execute(sql.SQL("SET CONSTRAINTS {} IMMEDIATE").format(deferred))
        cursor.execute(sql.SQL("SET CONSTRAINTS {} DEFERRED").format(deferred))
    for name in names:
        cursor.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(qualified(schema, name)))
    return names


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

    Primary keys and unique constraints stay: a duplicate row in a backup then fails at once. So
    do the indexes and foreign keys of partitioned tables: their partitions' copies depend on them.
    """
    cursor.execute(
        """
        SELECT format('ALTER TABLE %%I.%%I DROP CONSTRAINT %%I', n.nspname, c.relname, k.conname),
               format('ALTER TABLE %%I.%%I ADD CONSTRAINT %%I %%s', n.nspname, c.relname, k.conname,
                      pg_get_constraintdef(k.oid))
        FROM pg_constraint k
        JOIN pg_class c ON c.oid = k.conrelid
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = %s AND k.contype = 'f' AND c.relkind = 'r' AND NOT c.relispartition
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
        WHERE n.nspname = %s AND c.relkind = 'r' AND NOT c.relispartition
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
                    t=qualified(schema, name), c=sql.Identifier(column)
                )
            )
        for column in info.tenant_columns:
            cursor.execute(
                sql.SQL("UPDATE {} SET {} = %s WHERE {} IS NOT NULL").format(
                    qualified(schema, name), sql.Identifier(column), sql.Identifier(column)
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
        model = model_class(part) if part else None
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
