"""The BI role: a read-only PostgreSQL login per tenant for Metabase, Tableau and the like.

It may use the tenant's schema and SELECT its three analytics views, nothing else:

- `bi_events` (every event, with its person's uuid), `bi_persons`, `bi_person_distinct_ids`:
  views made here in the tenant's schema, owned by the hub's database user, so reading them
  needs no right on the tables under them;
- USAGE on the tenant's schema (to name the views) and SELECT on the views only; no right on the
  raw tables, on any other tenant's schema or on the public schema's tables; its sessions are
  read-only by default (`default_transaction_read_only`) and at most CONNECTION_LIMIT at once.

Its password is made here, shown once to the admin, stored encrypted (apps.core.crypto) and can
be rotated; PostgreSQL is sent only its SCRAM-SHA-256 verifier, never the password itself;
revoking drops the role (its open sessions are ended first). Roles are cluster-wide, so the name
holds a hash of the database's name and the schema's.

The hub's database user needs CREATEROLE (a superuser has it).
"""

import base64
import hashlib
import hmac
import secrets

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from apps.core.events import publish
from apps.identity.roles import has_permission

from . import conf, storage
from .models_reports import BiAccess

VIEWS = {
    "bi_events": """
        SELECT e."timestamp", e.uuid, e.event, e.distinct_id, p.uuid AS person_uuid, e.properties, e.received_at
        FROM {schema}.analytics_event e
        LEFT JOIN {schema}.analytics_persondistinctid d ON d.distinct_id = e.distinct_id
        LEFT JOIN {schema}.analytics_person p ON p.id = d.person_id""",
    "bi_persons": "SELECT p.uuid, p.properties, p.created FROM {schema}.analytics_person p",
    "bi_person_distinct_ids": """
        SELECT d.distinct_id, p.uuid AS person_uuid
        FROM {schema}.analytics_persondistinctid d JOIN {schema}.analytics_person p ON p.id = d.person_id""",
}
CONNECTION_LIMIT = 5


def role_name(schema: str | None = None) -> str:
    schema = schema or connection.schema_name
    digest = hashlib.sha256(f"{settings.DATABASES['default']['NAME']}/{schema}".encode()).hexdigest()[:10]
    return f"bi_{digest}_{schema[:40]}"


def scram_verifier(password: str, *, salt: bytes | None = None, iterations: int = 4096) -> str:
    """PostgreSQL's SCRAM-SHA-256 verifier of `password` (RFC 5802/7677, as `pg_authid` keeps it).
    Sent instead of the password, so the password itself never reaches the server (or its logs)."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    server_key = hmac.new(salted, b"Server Key", "sha256").digest()
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(hashlib.sha256(client_key).digest())}:{b64(server_key)}"


def _require_admin(actor) -> None:
    if actor is not None and not has_permission(actor.role, "analytics.bi.manage"):
        raise PermissionDenied("Only admins manage the BI access.")


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def views_ensure() -> None:
    """Makes (or remakes) the BI views in the current tenant's schema."""
    storage.event_table_ensure()
    schema = _q(connection.schema_name)
    with connection.cursor() as cursor:
        for view, body in VIEWS.items():
            cursor.execute(f"CREATE OR REPLACE VIEW {schema}.{_q(view)} AS {body.format(schema=schema)}")


def bi_access() -> BiAccess | None:
    return BiAccess.objects.first()


def bi_access_grant(*, tenant, actor) -> tuple[BiAccess, str]:
    """Makes the tenant's role (or, if it has one, gives it a new password): (access, password).
    The password is returned this once; later it is only shown again by rotating."""
    _require_admin(actor)
    existing = bi_access()
    if existing is not None:
        return existing, bi_access_rotate(tenant=tenant, actor=actor)
    role, password = role_name(), secrets.token_urlsafe(24)
    schema = _q(connection.schema_name)
    with transaction.atomic():
        views_ensure()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
            if cursor.fetchone() is None:  # a role left by a crash between CREATE and the row: reused
                cursor.execute(f"CREATE ROLE {_q(role)} LOGIN CONNECTION LIMIT {CONNECTION_LIMIT}")
            cursor.execute(f"ALTER ROLE {_q(role)} LOGIN PASSWORD %s", [scram_verifier(password)])
            cursor.execute(f"ALTER ROLE {_q(role)} SET default_transaction_read_only = on")
            cursor.execute(f"ALTER ROLE {_q(role)} SET search_path = {schema}")
            cursor.execute(f"GRANT USAGE ON SCHEMA {schema} TO {_q(role)}")
            views = ", ".join(f"{schema}.{_q(v)}" for v in VIEWS)
            cursor.execute(f"GRANT SELECT ON {views} TO {_q(role)}")
        access = BiAccess.objects.create(role_name=role, password=password, created_by=getattr(actor, "user", None))
        publish("analytics.bi_access_granted", {"role": role}, tenant=tenant, actor=getattr(actor, "user", None))
    return access, password


def bi_access_rotate(*, tenant, actor) -> str:
    """A new password for the role (the old one stops working at once); returned this once."""
    _require_admin(actor)
    password = secrets.token_urlsafe(24)
    with transaction.atomic():
        access = BiAccess.objects.select_for_update().get()
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER ROLE {_q(access.role_name)} PASSWORD %s", [scram_verifier(password)])
        access.password = password
        access.rotated_at = timezone.now()
        access.save(update_fields=["password", "rotated_at"])
    return password


def bi_access_revoke(*, tenant, actor) -> bool:
    """Drops the role: its sessions end, its rights go. Returns whether there was one."""
    _require_admin(actor)
    access = bi_access()
    if access is None:
        return False
    with transaction.atomic():
        role_drop(access.role_name)
        access.delete()
        publish(
            "analytics.bi_access_revoked", {"role": access.role_name}, tenant=tenant, actor=getattr(actor, "user", None)
        )
    return True


def role_drop(role: str) -> None:
    """Ends the role's sessions and drops it with its rights (nothing when there is no such role)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            return
        cursor.execute(f"ALTER ROLE {_q(role)} NOLOGIN")
        cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", [role])
        cursor.execute(f"DROP OWNED BY {_q(role)}")
        cursor.execute(f"DROP ROLE {_q(role)}")


def connection_details(access: BiAccess) -> dict:
    """What a BI tool asks for (the password aside)."""
    db = settings.DATABASES["default"]
    return {
        "host": conf.get("HUB_ANALYTICS_BI_HOST") or db.get("HOST") or "localhost",
        "port": conf.get("HUB_ANALYTICS_BI_PORT") or int(db.get("PORT") or 5432),
        "database": db["NAME"],
        "user": access.role_name,
        "schema": connection.schema_name,
        "views": list(VIEWS),
    }
