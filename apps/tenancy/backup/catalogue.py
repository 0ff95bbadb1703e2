"""Reading a tenant schema's catalogue: its tables, columns, sequences, references to the
public schema's users and tenants, and its migration state.

A partitioned table counts as one table, its partitions as none: its rows are read through it,
and written back through it, which puts each row into the partition that takes it (see
docs/operations/backups.md)."""

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from psycopg import sql

from ..models import Tenant


@dataclass
class TableInfo:
    name: str
    columns: list[str]
    sequences: dict[str, str] = field(default_factory=dict)  # column → qualified sequence name
    user_columns: list[str] = field(default_factory=list)  # columns with a FK to the user table
    tenant_columns: list[str] = field(default_factory=list)  # columns with a FK to the tenant table
    partitioned: bool = False


def schema_tables(cursor, schema: str) -> dict[str, TableInfo]:
    cursor.execute(
        """
        SELECT c.relname, a.attname, pg_get_serial_sequence(format('%%I.%%I', n.nspname, c.relname), a.attname),
               c.relkind = 'p'
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
        WHERE n.nspname = %s AND c.relkind IN ('r', 'p') AND NOT c.relispartition
        ORDER BY c.relname, a.attnum
        """,
        [schema],
    )
    tables: dict[str, TableInfo] = {}
    for table, column, sequence, partitioned in cursor.fetchall():
        info = tables.setdefault(table, TableInfo(table, [], partitioned=partitioned))
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


def schema_migrations(cursor, schema: str) -> set[tuple[str, str]]:
    cursor.execute(sql.SQL("SELECT app, name FROM {}.django_migrations").format(sql.Identifier(schema)))
    return {(app, name) for app, name in cursor.fetchall()}


def qualified(schema: str, table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))


def column_list(columns: list[str]) -> sql.Composed:
    return sql.SQL(", ").join(sql.Identifier(c) for c in columns)
