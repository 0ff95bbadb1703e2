"""Fast tenant schemas: migration state in one pass, and new schemas cloned from a template.

Running every migration for each new tenant costs about 1.5 s; cloning django-tenants' way costs
about 0.9 s and grows with the number of schemas, because its clone function reads the catalogue
object by object. Here a template schema (`hub_template`) is migrated once per release; its DDL is
read from the catalogue once per process and replayed for each new schema as one batch of SQL:
tables, the template's rows (migration records, content types), constraints, indexes, identity
sequences. That takes tens of milliseconds and does not grow with the number of tenants.

A template that is behind the code's migrations is never cloned: `template_ensure()` rebuilds it
first. Nor is one whose rows are not the ones its migrations wrote (a row written into it by
mistake would be copied into every new tenant): when it is built, a digest of every table's rows
is kept in the schema's comment, and a template whose rows no longer match it is rebuilt, with a
warning naming the tables. A template holding objects the clone does not know how to copy (views,
functions, free-standing sequences) makes `schema_create()` fall back to running migrations.
Triggers are copied (after the rows) when the functions they call live outside the template.
"""

import functools
import graphlib
import json
import logging
import threading

from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import schema_exists

log = logging.getLogger(__name__)

TEMPLATE_SCHEMA = "hub_template"
_lock = threading.Lock()
_clone_sql: dict[frozenset, list[str] | None] = {}  # template migration state → DDL (None: not clonable)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- Migration state ---------------------------------------------------------------------------


@functools.cache
def code_migrations() -> dict[tuple[str, str], tuple]:
    """Every migration the code has: (app, name) → the migrations it replaces (squashes).
    Read from disk once per process: the code does not change under a running process."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {key: tuple(loader.graph.nodes[key].replaces or ()) for key in loader.graph.nodes}


def pending_migrations(applied: set, expected: dict | None = None) -> set:
    """The code's migrations that `applied` lacks (a squash counts as applied with all it replaces)."""
    expected = code_migrations() if expected is None else expected
    return {
        key
        for key, replaces in expected.items()
        if key not in applied and not (replaces and all(r in applied for r in replaces))
    }


def applied_migrations(schemas: list[str], batch: int = 250) -> dict[str, set]:
    """The applied migrations of many schemas in few queries: (schema → {(app, name)})."""
    result = {schema: set() for schema in schemas}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables WHERE table_name = 'django_migrations' "
            "AND table_schema = ANY(%s)",
            [schemas],
        )
        present = [row[0] for row in cursor.fetchall()]
        for start in range(0, len(present), batch):
            chunk = present[start : start + batch]
            for schema, app, name in _union_all(cursor, "SELECT %s, app, name FROM {key}.django_migrations", chunk):
                result[schema].add((app, name))
    return result


def _union_all(cursor, select: str, keys: list[str]) -> list[tuple]:
    """Runs `select` (whose first column is `%s`, the key, and where `{key}` stands for the key as a
    quoted name) for every key, as one UNION ALL query; returns its rows."""
    if not keys:
        return []
    cursor.execute(" UNION ALL ".join(select.format(key=_quote(key)) for key in keys), keys)
    return cursor.fetchall()


def behind_schemas(schemas: list[str]) -> dict[str, set]:
    """The schemas that miss some of the code's migrations, with what they miss."""
    expected = code_migrations()
    applied = applied_migrations(schemas)
    return {s: missing for s in schemas if (missing := pending_migrations(applied[s], expected))}


# --- The template -----------------------------------------------------------------------------


def _migrate(schema_name: str) -> None:
    from django.core.management import call_command
    from django_tenants.management.commands.migrate_schemas import MigrateSchemasCommand

    call_command(MigrateSchemasCommand(), tenant=True, schema_name=schema_name, interactive=False, verbosity=0)
    connection.set_schema_to_public()


def _rows_digest() -> dict[str, list]:
    """{table: [rows, md5 of the rows]} for every table of the template."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY c.relname",
            [TEMPLATE_SCHEMA],
        )
        tables = [row[0] for row in cursor.fetchall()]
        digest = "md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
        rows = _union_all(cursor, f"SELECT %s, count(*), {digest} FROM {_quote(TEMPLATE_SCHEMA)}.{{key}} t", tables)
    return {table: [count, digest] for table, count, digest in rows}


def _recorded_digest() -> dict | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = %s", [TEMPLATE_SCHEMA]
        )
        row = cursor.fetchone()
    try:
        return json.loads(row[0]) if row and row[0] else None
    except ValueError:
        return None


def _unexpected_rows() -> str:
    """What is wrong with the template's rows, compared with what its migrations wrote ("": nothing)."""
    recorded = _recorded_digest()
    if recorded is None:
        return "has no record of the rows its migrations wrote"
    current = _rows_digest()
    changed = sorted(
        f"{table} ({current.get(table, [0])[0]} rows, {recorded.get(table, [0])[0]} expected)"
        for table in recorded.keys() | current.keys()
        if current.get(table) != recorded.get(table)
    )
    return f"holds rows its migrations did not write: {', '.join(changed)}" if changed else ""


def template_ensure() -> frozenset:
    """Makes sure the template schema exists, is at the code's migrations and holds only the rows
    they wrote (rebuilding it if not); returns its migration state."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            # One process at a time rebuilds the template.
            cursor.execute("SELECT pg_advisory_xact_lock(hashtext('hub_template'))")
        state = applied_migrations([TEMPLATE_SCHEMA])[TEMPLATE_SCHEMA] if schema_exists(TEMPLATE_SCHEMA) else set()
        if not state or pending_migrations(state):
            log.info("building the tenant template schema")
        elif problem := _unexpected_rows():
            log.warning("the tenant template schema %s %s; rebuilding it", TEMPLATE_SCHEMA, problem)
        else:
            return frozenset(state)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP SCHEMA IF EXISTS {_quote(TEMPLATE_SCHEMA)} CASCADE")
            cursor.execute(f"CREATE SCHEMA {_quote(TEMPLATE_SCHEMA)}")
        _migrate(TEMPLATE_SCHEMA)
        with connection.cursor() as cursor:
            cursor.execute(f"COMMENT ON SCHEMA {_quote(TEMPLATE_SCHEMA)} IS %s", [json.dumps(_rows_digest())])
        _clone_sql.clear()  # read again from the rebuilt template
        return frozenset(applied_migrations([TEMPLATE_SCHEMA])[TEMPLATE_SCHEMA])


def _template_ddl() -> list[str] | None:
    """Reads the template's tables from the catalogue and writes them as SQL with a {schema}
    placeholder. Returns None when the template holds objects this clone cannot copy."""
    t = TEMPLATE_SCHEMA
    with connection.cursor() as cursor:
        # Unqualified catalogue output would depend on the search_path; make every name qualified.
        cursor.execute("SHOW search_path")
        search_path = cursor.fetchone()[0]
        cursor.execute("SET LOCAL search_path = pg_catalog")
        cursor.execute(
            """
            SELECT
              (SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind NOT IN ('r', 'i', 'S'))
            + (SELECT count(*) FROM pg_class c WHERE c.relnamespace = n.oid AND c.relkind = 'S'
                 AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'i'))
            + (SELECT count(*) FROM pg_proc p WHERE p.pronamespace = n.oid)
            + (SELECT count(*) FROM pg_type ty WHERE ty.typnamespace = n.oid AND ty.typtype NOT IN ('c', 'b')
                 AND ty.typrelid = 0)
            FROM pg_namespace n WHERE n.nspname = %s
            """,
            [t],
        )
        if cursor.fetchone()[0]:
            return None
        cursor.execute(
            "SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r' ORDER BY c.relname",
            [t],
        )
        tables = cursor.fetchall()
        in_template = {oid: name for oid, name in tables}
        columns, constraints, depends_on = {}, {}, {}
        inserts, indexes, sequences, checked_keys, triggers = [], [], [], [], []
        for oid, name in tables:
            cursor.execute(
                """
                SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                       pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated
                FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
                """,
                [oid],
            )
            columns[name], identity = [], []
            for col, typ, notnull, default, ident, generated in cursor.fetchall():
                spec = f"{_quote(col)} {typ}"
                if generated:
                    spec += f" GENERATED ALWAYS AS ({default}) STORED"
                elif default is not None:
                    spec += f" DEFAULT {default}"
                if ident:
                    spec += " GENERATED " + ("ALWAYS" if ident == "a" else "BY DEFAULT") + " AS IDENTITY"
                    identity.append(col)
                if notnull:
                    spec += " NOT NULL"
                columns[name].append(spec)
            qualified = "{schema}." + _quote(name)

            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {_quote(t)}.{_quote(name)})")
            has_rows = cursor.fetchone()[0]
            if has_rows:
                inserts.append(
                    f"INSERT INTO {qualified} OVERRIDING SYSTEM VALUE SELECT * FROM {_quote(t)}.{_quote(name)}"
                )
                for col in identity:
                    sequences.append(
                        f"SELECT setval(pg_get_serial_sequence('{qualified}', '{col}'), "
                        f"(SELECT max({_quote(col)}) FROM {qualified}))"
                    )
            cursor.execute(
                "SELECT conname, pg_get_constraintdef(oid), confrelid, contype FROM pg_constraint "
                "WHERE conrelid = %s AND contype <> 't' ORDER BY contype = 'f', conname",
                [oid],
            )
            constraints[name] = []
            depends_on[name] = set()
            for conname, definition, target, contype in cursor.fetchall():
                constraints[name].append(f"CONSTRAINT {_quote(conname)} {definition}")
                if has_rows and contype == "f":
                    checked_keys.append("{schema}." + _quote(conname))
                if target in in_template and target != oid:
                    depends_on[name].add(in_template[target])
            cursor.execute(
                "SELECT pg_get_indexdef(i.indexrelid) FROM pg_index i WHERE i.indrelid = %s "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                [oid],
            )
            indexes.extend(row[0] for row in cursor.fetchall())
            # Triggers (the audit trail's, apps.compliance) call functions outside the schema (a
            # function inside it makes the template unclonable, above): recreated last, after the rows.
            cursor.execute(
                "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = %s AND NOT tgisinternal ORDER BY tgname",
                [oid],
            )
            triggers.extend(row[0] for row in cursor.fetchall())
        cursor.execute("SELECT set_config('search_path', %s, true)", [search_path])

    # Constraints go inside CREATE TABLE (far cheaper than ALTER TABLE ... ADD CONSTRAINT each),
    # so a table comes after the tables its foreign keys point at.
    try:
        order = list(graphlib.TopologicalSorter(depends_on).static_order())
        creates = [
            f"CREATE TABLE {{schema}}.{_quote(name)} ({', '.join(columns[name] + constraints[name])})" for name in order
        ]
        alters = []
    except graphlib.CycleError:  # tables that point at each other: foreign keys added afterwards
        creates = [f"CREATE TABLE {{schema}}.{_quote(name)} ({', '.join(columns[name])})" for name in columns]
        alters = sorted(
            (
                f"ALTER TABLE {{schema}}.{_quote(name)} ADD {constraint}"
                for name in columns
                for constraint in constraints[name]
            ),
            key=lambda sql: " FOREIGN KEY " in sql,  # keys first: foreign keys need them
        )
    # The catalogue qualifies the template's own names as `hub_template.`; the INSERTs' sources
    # are written `"hub_template".` and keep pointing at the template. A copied row of a table
    # with a foreign key (deferred, as Django makes them) leaves a trigger event pending until the
    # commit, and PostgreSQL refuses CREATE INDEX or TRUNCATE (a restore clears what provisioning
    # made) on a table with pending events: the keys are checked at once after the rows, then
    # deferred again (those keys only: not the caller's other pending checks). They are deferred
    # before the rows too, which go in table-name order, whatever mode the caller's transaction
    # is in (tenant_delete sets every key immediate). The rows are few: this costs nothing.
    if checked_keys:
        keys = ", ".join(checked_keys)
        inserts = [
            f"SET CONSTRAINTS {keys} DEFERRED",
            *inserts,
            f"SET CONSTRAINTS {keys} IMMEDIATE",
            f"SET CONSTRAINTS {keys} DEFERRED",
        ]
    return [s.replace(f"{t}.", "{schema}.") for s in creates + alters + inserts + indexes + sequences + triggers]


def _clone_statements() -> list[str] | None:
    state = template_ensure()
    with _lock:
        if state not in _clone_sql:
            with transaction.atomic():
                _clone_sql.clear()
                _clone_sql[state] = _template_ddl()
        return _clone_sql[state]


def schema_create(schema_name: str) -> None:
    """Creates a tenant's schema at the code's migrations: a clone of the template when it can,
    else by running every migration. Runs in the caller's transaction."""
    statements = _clone_statements()
    if statements is None:
        log.warning("the template holds objects the clone cannot copy; running migrations instead")
        with connection.cursor() as cursor:
            cursor.execute(f"CREATE SCHEMA {_quote(schema_name)}")
        _migrate(schema_name)
        return
    target = _quote(schema_name)
    sql = ";\n".join([f"CREATE SCHEMA {target}", *(s.replace("{schema}", target) for s in statements)])
    with connection.cursor() as cursor:
        cursor.execute(sql)
