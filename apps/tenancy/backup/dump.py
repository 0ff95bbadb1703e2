"""Backing up one tenant: its schema's tables through COPY, its public rows and the users they
refer to, in one REPEATABLE READ snapshot, written to a file readable by its owner only."""

import json
import os
import subprocess
import tarfile
import tempfile
from datetime import UTC, datetime, time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import serializers
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from psycopg import sql

from ..models import Tenant
from .archive import FORMAT, FORMAT_VERSION, BackupError, add_bytes
from .catalogue import column_list, qualified, schema_migrations, schema_tables
from .parts import USER_FIELDS, file_parts, model_class, part_store, public_parts
from .progress import Progress


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
            tables = schema_tables(cursor, schema)
            if "django_migrations" not in tables:
                raise BackupError(f"The schema {schema} of {tenant.slug} has no migration state.")
            migrations = sorted(schema_migrations(cursor, schema))
            table_manifest = {}
            user_ids: set[int] = set()
            for name, info in tables.items():
                cursor.execute(
                    "SELECT sum(greatest(reltuples, 0)) FROM pg_class WHERE oid = %s::regclass "
                    "OR oid IN (SELECT inhrelid FROM pg_inherits WHERE inhparent = %s::regclass)",
                    [f'"{schema}"."{name}"'] * 2,
                )
                progress.start(name, int(cursor.fetchone()[0] or 0))
                rows = 0
                with open(Path(workdir) / f"{name}.copy", "wb") as out:
                    # A partitioned table is read through a query (COPY reads plain tables only).
                    source = sql.SQL("(SELECT {} FROM {})" if info.partitioned else "{1} ({0})").format(
                        column_list(info.columns), qualified(schema, name)
                    )
                    copy_sql = sql.SQL("COPY {} TO STDOUT").format(source)
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
                            sql.Identifier(column), qualified(schema, name), sql.Identifier(column)
                        )
                    )
                    user_ids.update(row[0] for row in cursor.fetchall())
                table_manifest[name] = {"columns": info.columns, "rows": rows, "sequences": sequences}

        public, member_ids, public_counts = {}, set(), {}
        for part in public_parts():
            model = model_class(part)
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

        files = _files_listed(schema)  # in the snapshot: the files its rows refer to
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
            "files": {label: len(listed) for label, listed in files.items()},
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
                add_bytes(tar, "manifest.json", json.dumps(manifest, indent=1, cls=_Encoder).encode())
                add_bytes(tar, "public.json", json.dumps(public_doc, cls=_Encoder).encode())
                for name in table_manifest:
                    tar.add(Path(workdir) / f"{name}.copy", arcname=f"schema/{name}.copy")
                _add_files(tar, schema, files, progress)
            partial.replace(output)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return manifest


def _files_listed(schema: str) -> dict[str, list[tuple[str, int]]]:
    """Each file part's files (BackupPart.files: names under the schema's prefix) with their sizes;
    a file listed but gone from the store (purged since the snapshot) is left out."""
    listed = {}
    for label, part in file_parts().items():
        store = part_store(part, schema)
        listed[label] = []
        for name in part.files(schema):
            try:
                listed[label].append((name, store.size(f"{schema}/{name}")))
            except FileNotFoundError:
                continue
    return listed


def _add_files(tar: tarfile.TarFile, schema: str, files: dict, progress: Progress) -> None:
    for label, listed in files.items():
        store = part_store(file_parts()[label], schema)
        progress.start(f"files of {label}", sum(size for _, size in listed))
        for name, size in listed:
            info = tarfile.TarInfo(f"files/{label}/{name}")
            info.size, info.mode, info.mtime = size, 0o600, int(datetime.now(UTC).timestamp())
            with store.open(f"{schema}/{name}", "rb") as handle:
                tar.addfile(info, handle)
            progress.advance(size)
        progress.finish(f"{len(listed):,} files")


def _in_outer_atomic() -> bool:
    """True when the caller (a test, another service) already opened the transaction."""
    return len(connection.atomic_blocks) > 1
