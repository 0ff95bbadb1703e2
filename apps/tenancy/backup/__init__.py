"""Backing up one tenant to a file, and restoring it as the same tenant or a new one.

A backup is a gzip'd tar whose members come in this order, so a restore reads it as a stream:

- ``manifest.json``: format and version, hub version, creation time, slug, schema, base host
  name, the schema's migration state (its ``django_migrations`` rows) and row counts;
- ``public.json``: the tenant's rows in the public schema (the tenant row and every backup part
  the apps registered: domains, memberships, pending invitations, security/SSO settings) and the
  users they, or the schema's tables, reference (email, name; the password hash of members);
- ``schema/<table>.copy``: every table of the tenant's schema in PostgreSQL's COPY text format
  (a partitioned table's rows read through it, its partitions not listed of their own).

A backup reads everything in one REPEATABLE READ snapshot. A restore runs in one transaction:
it provisions the tenant through tenant_create (an empty schema at the code's migrations),
refuses if the backup's migration state differs, lets the apps make the tables no migration
makes (BackupPart.prepare) when the backup holds tables the new schema lacks, replaces every
table's rows (content types and migration rows included: the audit log refers to content type
ids) with the backup's through COPY, moves every sequence past the restored ids, and recreates
the public rows with users matched by email. Any failure leaves nothing behind.

- archive.py: the file's format and BackupError; parts.py: the public rows (the registered
  BackupParts); catalogue.py: reading a schema's tables; progress.py: the progress bars;
  dump.py: tenant_backup; restore.py: tenant_restore.
"""

from .archive import BackupError, backup_manifest
from .dump import hub_version, tenant_backup
from .parts import RestoreContext, adjust_domain, public_not_backed_up, public_parts
from .progress import Progress
from .restore import RestoreResult, tenant_restore

__all__ = [
    "BackupError",
    "Progress",
    "RestoreContext",
    "RestoreResult",
    "adjust_domain",
    "backup_manifest",
    "hub_version",
    "public_not_backed_up",
    "public_parts",
    "tenant_backup",
    "tenant_restore",
]
